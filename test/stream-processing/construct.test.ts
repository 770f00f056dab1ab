import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { StreamProcessor, StreamProcessorProps } from '../../lib';
import { allowedPermissions, expectExactly, actionsOn } from '../helpers/iam';
import { nagFindings } from '../helpers/nag';

interface Built { stack: Stack; processor: StreamProcessor; template: Template }

function build(props?: StreamProcessorProps, extra?: (stack: Stack) => StreamProcessorProps): Built {
  const stack = new Stack(new App(), 'Test');
  const processor = new StreamProcessor(stack, 'Telemetry', { ...props, ...extra?.(stack) });
  return { stack, processor, template: Template.fromStack(stack) };
}

const inlineCode = lambda.Code.fromInline('exports.main = async () => ({ batchItemFailures: [] })');

describe('StreamProcessor defaults', () => {
  const { stack, processor, template } = build();

  test('creates an on-demand stream encrypted with the AWS-managed key, 24 h retention', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      RetentionPeriodHours: 24,
    });
  });

  test('maps the stream to the handler with explicit, finite failure handling', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('TelemetryStream'), 'Arn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('TelemetryHandler') },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 21600,
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('TelemetryFailureQueue'), 'Arn'] } } },
    });
  });

  test('creates encrypted, TLS-only failure and rejected-records queues that keep messages 14 days', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    template.resourcePropertiesCountIs('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    }, 2);
  });

  test('creates the reference handler with the table, queue and write concurrency in its environment, 60 s timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 60,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          TABLE_NAME: { Ref: Match.stringLikeRegexp('TelemetryTable') },
          REJECTED_QUEUE_URL: { Ref: Match.stringLikeRegexp('TelemetryRejectedRecordsQueue') },
          MAX_PARALLEL_WRITES: '10',
          POWERTOOLS_SERVICE_NAME: 'stream-processor',
        },
      },
    });
  });

  test('grants the handler exactly its table actions, send on the rejected queue, read on the stream', () => {
    const granted = allowedPermissions(template, /^TelemetryHandlerRole/);
    const arnOf = (prefix: RegExp) => ({ 'Fn::GetAtt': [expect.stringMatching(prefix), 'Arn'] });
    expectExactly(
      granted.filter((p) => p.action.startsWith('dynamodb:')),
      actionsOn(arnOf(/^TelemetryTable/), 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'),
    );
    expect(granted).toEqual(expect.arrayContaining([
      ...actionsOn(arnOf(/^TelemetryRejectedRecordsQueue/), 'sqs:SendMessage'),
      ...actionsOn(arnOf(/^TelemetryStream/), 'kinesis:GetRecords', 'kinesis:GetShardIterator'),
    ]));
  });

  test('alarms on stream and handler iterator age, errors, throttles, both queues and table throttles', () => {
    expect(processor.alarms).toHaveLength(7);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Kinesis',
      MetricName: 'GetRecords.IteratorAgeMilliseconds',
      Statistic: 'Maximum',
      Threshold: 60_000,
      EvaluationPeriods: 3,
      Dimensions: [{ Name: 'StreamName', Value: { Ref: Match.stringLikeRegexp('TelemetryStream') } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Threshold: 60_000,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('TelemetryHandler') } }],
    });
    for (const queue of ['TelemetryFailureQueue', 'TelemetryRejectedRecordsQueue']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(queue), 'QueueName'] } }],
      });
    }
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('StreamProcessor options', () => {
  test('event source options override the defaults, reporting partial failures stays on', () => {
    const { template } = build({
      eventSource: {
        batchSize: 500,
        maxBatchingWindow: Duration.seconds(5),
        parallelizationFactor: 4,
        bisectBatchOnError: false,
        retryAttempts: 2,
        maxRecordAge: Duration.hours(1),
        startingPosition: lambda.StartingPosition.LATEST,
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 5,
      ParallelizationFactor: 4,
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 3600,
      StartingPosition: 'LATEST',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('streamProps make a provisioned stream', () => {
    const { template } = build({ streamProps: { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: 4, retentionPeriod: Duration.days(7) } });
    template.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'PROVISIONED' }, ShardCount: 4, RetentionPeriodHours: 168 });
  });

  test('enhancedFanOut reads through a dedicated consumer and alarms on its lag', () => {
    const { template } = build({ enhancedFanOut: true });
    template.resourceCountIs('AWS::Kinesis::StreamConsumer', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('TelemetryConsumer'), 'ConsumerARN'] } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SubscribeToShardEvent.MillisBehindLatest' });
  });

  test('onFailure replaces the created failure queue', () => {
    const { template, processor } = build(undefined, (s) => ({ onFailure: new sources.SqsDlq(new sqs.Queue(s, 'Mine', { enforceSSL: true })) }));
    expect(processor.failureQueue).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('Mine'), 'Arn'] } } },
    });
  });

  test('existingStream and existingTable are used instead of new ones', () => {
    const { template } = build(undefined, (s) => ({
      existingStream: kinesis.Stream.fromStreamArn(s, 'S', 'arn:aws:kinesis:us-east-1:123456789012:stream/telemetry'),
      existingTable: dynamodb.TableV2.fromTableName(s, 'T', 'telemetry'),
    }));
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/telemetry' });
  });

  test('existingFunction becomes the consumer and gets the environment; own code gets read/write on the table', () => {
    const existing = build(undefined, (s) => ({
      existingFunction: new lambda.Function(s, 'Mine', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.main', code: inlineCode }),
    }));
    existing.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: Match.stringLikeRegexp('Mine') } });
    existing.template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ REJECTED_QUEUE_URL: Match.anyValue() }) } });

    const own = build({ code: inlineCode, handler: 'index.main', maxParallelWrites: 25 });
    own.template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.main', Environment: { Variables: Match.objectLike({ MAX_PARALLEL_WRITES: '25' }) } });
    own.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['dynamodb:BatchWriteItem']) })]) },
    });
  });

  test('alarmTopic, iteratorAgeThreshold and dashboard', () => {
    const { template } = build(undefined, (s) => ({ alarmTopic: new sns.Topic(s, 'Topic'), iteratorAgeThreshold: Duration.minutes(10), dashboard: true }));
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: Match.stringLikeRegexp('Topic') }] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 600_000 });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('StreamProcessor invalid props', () => {
  test.each<[string, (stack: Stack) => StreamProcessorProps, RegExp]>([
    ['existingStream and streamProps are both given', (s) => ({
      existingStream: kinesis.Stream.fromStreamArn(s, 'S', 'arn:aws:kinesis:us-east-1:123456789012:stream/x'), streamProps: { shardCount: 1 },
    }), /existingStream and streamProps are mutually exclusive/],
    ['existingFunction and code are both given', (s) => ({ existingFunction: lambda.Function.fromFunctionName(s, 'F', 'f'), code: inlineCode }), /existingFunction and code/],
    ['handler is given without code', () => ({ handler: 'index.main' }), /pass code too/],
    ['batchSize is 0', () => ({ eventSource: { batchSize: 0 } }), /eventSource.batchSize must be an integer in 1\.\.10000, got 0/],
    ['parallelizationFactor is 11', () => ({ eventSource: { parallelizationFactor: 11 } }), /parallelizationFactor must be an integer in 1\.\.10, got 11/],
    ['retryAttempts is negative', () => ({ eventSource: { retryAttempts: -1 } }), /retryAttempts must be an integer in 0\.\.10000, got -1/],
    ['maxRecordAge is beyond 7 days', () => ({ eventSource: { maxRecordAge: Duration.days(8) } }), /maxRecordAge must be 1 minute\.\.7 days.*got 691200 seconds/],
    ['maxBatchingWindow is beyond 5 minutes', () => ({ eventSource: { maxBatchingWindow: Duration.minutes(6) } }), /maxBatchingWindow must be at most 5 minutes/],
    ['startingPosition is AT_TIMESTAMP', () => ({ eventSource: { startingPosition: lambda.StartingPosition.AT_TIMESTAMP } }), /AT_TIMESTAMP/],
    ['maxParallelWrites is 0', () => ({ maxParallelWrites: 0 }), /maxParallelWrites must be an integer in 1\.\.100, got 0/],
    ['tableProps change the key schema', () => ({ tableProps: { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } } }), /must keep the key schema/],
  ])('fails when %s', (_name, props, message) => {
    const stack = new Stack(new App(), 'Test');
    expect(() => new StreamProcessor(stack, 'Telemetry', props(stack))).toThrow(message);
  });
});
