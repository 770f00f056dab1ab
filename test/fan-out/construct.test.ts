import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FanOut, FanOutConsumerCode, FanOutProps, FanOutSubscriber } from '../../lib';
import { allowedPermissions, expectExactly, actionsOn } from '../helpers/iam';
import { nagFindings } from '../helpers/nag';

interface Built { stack: Stack; fanOut: FanOut; template: Template }

const orderSubscribers = (): FanOutSubscriber[] => [
  { name: 'audit', consumer: { code: FanOutConsumerCode.audit() } },
  {
    name: 'high-value',
    filterPolicy: { amount: sns.SubscriptionFilter.numericFilter({ greaterThanOrEqualTo: 100 }) },
    consumer: { code: FanOutConsumerCode.highValue() },
  },
  { name: 'projection', rawMessageDelivery: true, consumer: { code: FanOutConsumerCode.projection() } },
  { name: 'external', filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: ['cancelled'] }) } },
];

function build(props: Partial<FanOutProps> = {}, extra?: (stack: Stack) => Partial<FanOutProps>): Built {
  const stack = new Stack(new App(), 'Test');
  const fanOut = new FanOut(stack, 'Orders', { subscribers: orderSubscribers(), ...props, ...extra?.(stack) });
  return { stack, fanOut, template: Template.fromStack(stack) };
}

describe('FanOut with the order subscribers', () => {
  const { stack, fanOut, template } = build();

  test('creates a KMS-encrypted, TLS-only standard topic', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrdersTopicKey'), 'Arn'] }, FifoTopic: Match.absent() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('gives every subscriber a queue with a DLQ (maxReceiveCount 5) and a subscription DLQ', () => {
    // 4 subscribers x (queue, DLQ, subscription DLQ)
    template.resourceCountIs('AWS::SQS::Queue', 12);
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 } }, 4);
    template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'sqs', RedrivePolicy: { deadLetterTargetArn: Match.anyValue() } }, 4);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  test('derives the visibility timeout from the consumer timeout (6 x 30 s)', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrdersAuditDeadLetterQueue'), 'Arn'] }, maxReceiveCount: 5 },
    });
  });

  test('applies filter policies and raw delivery per subscriber', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { FilterPolicy: { amount: [{ numeric: ['>=', 100] }] }, RawMessageDelivery: false });
    template.hasResourceProperties('AWS::SNS::Subscription', { FilterPolicy: { type: ['cancelled'] } });
    template.resourcePropertiesCountIs('AWS::SNS::Subscription', { RawMessageDelivery: true }, 1);
  });

  test('lets only this topic send to each queue', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'sqs:SendMessage',
          Principal: { Service: 'sns.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('OrdersTopic') } } },
        })]),
      },
    });
  });

  test('consumers report partial batch failures with a maximum concurrency; the queue-only subscriber has none', () => {
    template.resourcePropertiesCountIs('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 5 },
    }, 3);
    expect(fanOut.subscriptions.find((s) => s.name === 'external')!.consumer).toBeUndefined();
  });

  test('grants each reference consumer exactly its table actions', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('OrdersAuditConsumerRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'dynamodb:PutItem' })]) },
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('OrdersHighValueConsumerRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'dynamodb:UpdateItem' })]) },
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('OrdersProjectionConsumerRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] })]) },
    });
  });

  test('the publisher may publish to the topic and use its key, nothing more', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TOPIC_ARN: { Ref: Match.stringLikeRegexp('OrdersTopic') }, FIFO: 'false' }) },
    });
    const topic = stack.resolve(fanOut.topic.topicArn);
    const key = { 'Fn::GetAtt': [expect.stringMatching(/^OrdersTopicKey/), 'Arn'] };
    expectExactly(allowedPermissions(template, /^OrdersPublisherRole/).filter((p) => /^(sns|kms):/.test(p.action)), [
      ...actionsOn(topic, 'sns:Publish'),
      ...actionsOn(key, 'kms:GenerateDataKey', 'kms:Decrypt'),
    ]);
  });

  test('the redrive function knows every DLQ/queue pair and may move messages between them only', () => {
    const redrive = Object.values(template.findResources('AWS::Lambda::Function'))
      .find((f) => JSON.stringify(f).includes('REDRIVE_TARGETS'))!;
    const targets = JSON.stringify(redrive.Properties.Environment.Variables.REDRIVE_TARGETS);
    for (const name of ['audit', 'high-value', 'projection', 'external']) expect(targets).toContain(`\\"${name}\\":`);
    const auditDeadLetterQueue = { 'Fn::GetAtt': [expect.stringMatching(/^OrdersAuditDeadLetterQueue/), 'Arn'] };
    expect(allowedPermissions(template, /^OrdersRedriveRole/)).toEqual(expect.arrayContaining(
      actionsOn(auditDeadLetterQueue, 'sqs:StartMessageMoveTask', 'sqs:ReceiveMessage'),
    ));
  });

  test('alarms per subscriber on DLQ depth, subscription DLQ depth, oldest message age, consumer errors', () => {
    // 4 subscribers x 3 queue alarms + 3 consumers x 1
    expect(fanOut.alarms).toHaveLength(15);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 900,
      EvaluationPeriods: 3,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrdersAuditQueue'), 'QueueName'] } }],
    });
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('FanOut options', () => {
  test('fifo makes the topic and every queue FIFO with content-based deduplication', () => {
    const { template, stack } = build({ fifo: true });
    template.hasResourceProperties('AWS::SNS::Topic', { FifoTopic: true, ContentBasedDeduplication: true });
    template.allResourcesProperties('AWS::SQS::Queue', { FifoQueue: true });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ FIFO: 'true' }) } });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('custom consumer code gets read/write on the table; consumer options reach the mapping', () => {
    const { template } = build({
      subscribers: [{
        name: 'mine',
        maxReceiveCount: 3,
        consumer: {
          code: FanOutConsumerCode.fromCode(lambda.Code.fromInline('exports.main = async () => ({ batchItemFailures: [] })'), 'index.main'),
          batchSize: 100,
          maxBatchingWindow: Duration.seconds(10),
          maxConcurrency: 20,
          functionProps: { timeout: Duration.seconds(60) },
        },
      }],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 100, MaximumBatchingWindowInSeconds: 10, ScalingConfig: { MaximumConcurrency: 20 } });
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 370, RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }) });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['dynamodb:BatchWriteItem']) })]) },
    });
  });

  test('queue-only subscribers need no table; publisher: false leaves the publisher out', () => {
    const { template, fanOut } = build({ subscribers: [{ name: 'external' }], publisher: false });
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    expect(fanOut.publisher).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::Function', 1); // the redrive function
  });

  test('filterPolicyWithMessageBody filters on the body', () => {
    const { template } = build({
      subscribers: [{ name: 'paid', filterPolicyWithMessageBody: { type: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['paid'] })) } }],
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { FilterPolicyScope: 'MessageBody', FilterPolicy: { type: ['paid'] } });
  });

  test('existingTopic is subscribed instead of a new topic', () => {
    const { template } = build(undefined, (s) => ({ existingTopic: sns.Topic.fromTopicArn(s, 'T', 'arn:aws:sns:us-east-1:123456789012:orders') }));
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.hasResourceProperties('AWS::SNS::Subscription', { TopicArn: 'arn:aws:sns:us-east-1:123456789012:orders' });
  });
});

describe('FanOut invalid props', () => {
  const code = () => FanOutConsumerCode.fromCode(lambda.Code.fromInline('x'));
  test.each<[string, (stack: Stack) => Partial<FanOutProps>, RegExp]>([
    ['a FIFO topic meets standard queues (existing standard topic, fifo: true)', (s) => ({ fifo: true, existingTopic: new sns.Topic(s, 'Std') }), /fifo is true but existingTopic is a standard topic/],
    ['a standard fan-out gets an existing FIFO topic', (s) => ({ existingTopic: new sns.Topic(s, 'Fifo', { fifo: true }) }), /fifo is false but existingTopic is a FIFO topic/],
    ['topicProps.fifo contradicts fifo', () => ({ topicProps: { fifo: true } }), /topicProps.fifo \(true\) contradicts fifo \(false\)/],
    ['there are no subscribers', () => ({ subscribers: [] }), /at least one subscriber/],
    ['a subscriber name is not lowercase', () => ({ subscribers: [{ name: 'Audit' }] }), /got 'Audit'/],
    ['two subscribers share a name', () => ({ subscribers: [{ name: 'a' }, { name: 'a' }] }), /unique, got 'a' twice/],
    ['both filter scopes are given', () => ({
      subscribers: [{
        name: 'a',
        filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: ['x'] }) },
        filterPolicyWithMessageBody: { type: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['x'] })) },
      }],
    }), /mutually exclusive/],
    ['a FIFO consumer has batchSize 20', () => ({ fifo: true, subscribers: [{ name: 'a', consumer: { code: code(), batchSize: 20 } }] }), /batchSize must be an integer in 1\.\.10, got 20/],
    ['a FIFO consumer has a batching window', () => ({ fifo: true, subscribers: [{ name: 'a', consumer: { code: code(), maxBatchingWindow: Duration.seconds(1) } }] }), /FIFO queues take no maxBatchingWindow/],
    ['a standard consumer batches over 10 without a window', () => ({ subscribers: [{ name: 'a', consumer: { code: code(), batchSize: 50 } }] }), /needs maxBatchingWindow/],
    ['maxConcurrency is 1', () => ({ subscribers: [{ name: 'a', consumer: { code: code(), maxConcurrency: 1 } }] }), /maxConcurrency must be an integer in 2\.\.1000, got 1/],
  ])('fails when %s', (_name, props, message) => {
    const stack = new Stack(new App(), 'Test');
    expect(() => new FanOut(stack, 'Orders', { subscribers: orderSubscribers(), ...props(stack) })).toThrow(message);
  });
});
