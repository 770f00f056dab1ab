import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { EventAuditDestination, EventDrivenMicroservice, EventDrivenMicroserviceProps, EventSubscriberTarget } from '../../lib';
import { actionsOn, allowedPermissions, expectExactly } from '../helpers/iam';
import { nagFindings } from '../helpers/nag';

interface Built { stack: Stack; service: EventDrivenMicroservice; template: Template }

function build(props: EventDrivenMicroserviceProps = {}, extra?: (stack: Stack) => EventDrivenMicroserviceProps): Built {
  const stack = new Stack(new App(), 'Test');
  const service = new EventDrivenMicroservice(stack, 'Orders', { ...props, ...extra?.(stack) });
  return { stack, service, template: Template.fromStack(stack) };
}

/** `Fn::GetAtt` of the resource whose logical id starts with `prefix`: for template assertions, and for jest's. */
const getAtt = (prefix: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), attribute] });
const attOf = (prefix: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${prefix}`)), attribute] });

describe('EventDrivenMicroservice with its defaults', () => {
  const { stack, service, template } = build();

  test('the table streams new and old images', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    });
  });

  test('creates a bus encrypted with the pattern key, which EventBridge may use for this bus only', () => {
    template.hasResourceProperties('AWS::Events::EventBus', {
      KmsKeyIdentifier: getAtt('OrdersEncryptionKey'),
      Name: Match.stringLikeRegexp('^Test-Orders-[0-9A-F]{8}$'),
      DeadLetterConfig: { Arn: getAtt('OrdersEventBusDeadLetterQueue') },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: Match.stringLikeRegexp('OrdersEventBusDeadLetterQueue') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: Match.anyValue() } })]) },
    });
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0];
    expect(key.Properties.KeyPolicy.Statement).toEqual(expect.arrayContaining([expect.objectContaining({
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      Condition: { StringEquals: expect.objectContaining({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }) },
    })]));
    expect(service.source).toBe('app.item');
    expect(service.detailTypes).toEqual(['item.created.v1', 'item.updated.v1', 'item.deleted.v1']);
  });

  test('archives every event of its bus for 30 days, encrypted with the pattern key', () => {
    template.hasResourceProperties('AWS::Events::Archive', {
      RetentionDays: 30,
      EventPattern: { account: [{ Ref: 'AWS::AccountId' }] },
      KmsKeyIdentifier: getAtt('OrdersEncryptionKey'),
    });
  });

  test('audits every event into an /aws/events/ log group that only the audit rule may write, with a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { account: [{ Ref: 'AWS::AccountId' }] },
      Targets: [Match.objectLike({
        Arn: { 'Fn::Join': Match.arrayWith([Match.arrayWith([':log-group:', { Ref: Match.stringLikeRegexp('OrdersAuditLogGroup') }])]) },
        DeadLetterConfig: { Arn: Match.anyValue() },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      })],
    });
    const logGroup = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) => id.startsWith('OrdersAuditLogGroup'))![1];
    expect(JSON.stringify(logGroup.Properties.LogGroupName)).toContain('/aws/events/Test-Orders-');
    expect(logGroup.Properties.KmsKeyId).toEqual(attOf('OrdersEncryptionKey'));
    const policy = JSON.stringify(Object.values(template.findResources('AWS::Logs::ResourcePolicy'))[0].Properties.PolicyDocument);
    expect(policy).toMatch(/aws:SourceArn.*OrdersAuditRule/);
    expect(service.auditQueue).toBeUndefined();
  });

  test('registers a draft-4 JSON Schema per detail type', () => {
    template.resourceCountIs('AWS::EventSchemas::Registry', 1);
    for (const change of ['created', 'updated', 'deleted']) {
      const content = readFileSync(join(__dirname, '..', '..', 'lib', 'event-driven', 'schemas', `entity-${change}.v1.json`), 'utf8');
      expect(JSON.parse(content).$schema).toBe('http://json-schema.org/draft-04/schema#');
      template.hasResourceProperties('AWS::EventSchemas::Schema', {
        Type: 'JSONSchemaDraft4',
        Content: content,
        Description: `The detail of item.${change}.v1 events from app.item`,
      });
    }
  });

  test('the stream mapping reports partial failures, bisects, reads from the start and has an on-failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt('OrdersTable', 'StreamArn'),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      StartingPosition: 'TRIM_HORIZON',
      ParallelizationFactor: 1,
      MaximumRecordAgeInSeconds: 86400,
      DestinationConfig: { OnFailure: { Destination: getAtt('OrdersFailureQueue') } },
    });
  });

  test('the publisher gets its configuration, and may put events on the bus and read the stream, nothing more', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp('OrdersEventBus') },
          EVENT_SOURCE: 'app.item',
          ENTITY_NAME: 'item',
          POWERTOOLS_METRICS_NAMESPACE: 'ServerlessReferenceArchitectures',
        }),
      },
    });
    const granted = allowedPermissions(template, /^OrdersHandlerRole/).filter((p) => !/^(logs|xray):/.test(p.action));
    const stream = attOf('OrdersTable', 'StreamArn');
    expectExactly(granted, [
      ...actionsOn(attOf('OrdersEventBus'), 'events:PutEvents'),
      ...actionsOn(stream, 'dynamodb:ListStreams', 'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'),
      ...actionsOn(attOf('OrdersFailureQueue'), 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'),
    ]);
  });

  test('one projection subscriber: a rule on this source, retries and a DLQ on the target, Lambda\'s own retries to a failure queue', () => {
    expect(service.subscriptions.map((s) => s.name)).toEqual(['projection']);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['app.item'] },
      Targets: [Match.objectLike({
        Arn: getAtt('OrdersProjectionConsumer'),
        DeadLetterConfig: { Arn: getAtt('OrdersProjectionDeadLetterQueue') },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: getAtt('OrdersProjectionConsumerFailureQueue') } },
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
    // Tombstones outlive the archive's 30 days, so a replayed old update cannot revive a deleted item.
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ TOMBSTONE_RETENTION_DAYS: '31' }) } });
    expectExactly(allowedPermissions(template, /^OrdersProjectionConsumerRole/).filter((p) => p.action.startsWith('dynamodb:')),
      actionsOn(attOf('OrdersProjectionTable'), 'dynamodb:PutItem', 'dynamodb:GetItem'));
  });

  test('only the rule may invoke the consumer, and only EventBridge for that rule may send to the DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'events.amazonaws.com',
      SourceArn: getAtt('OrdersProjectionRule'),
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: Match.stringLikeRegexp('OrdersProjectionDeadLetterQueue') }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'sqs:SendMessage',
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': getAtt('OrdersProjectionRule') } },
        })]),
      },
    });
  });

  test('alarms: iterator age, errors, throttles, failed entries, unpublished changes, failure queue, audit DLQ, and per rule', () => {
    expect(service.alarms.map((a) => a.node.id)).toEqual([
      'PublisherIteratorAgeAlarm', 'PublisherErrorsAlarm', 'PublisherThrottlesAlarm', 'FailedPutEventsEntriesAlarm', 'UnpublishedChangesAlarm',
      'FailureQueueDepthAlarm', 'EventBusDeadLetterQueueAlarm', 'AuditDeadLetterQueueAlarm',
      'ProjectionConsumerErrorsAlarm', 'ProjectionConsumerFailureQueueAlarm',
      'ProjectionFailedInvocationsAlarm', 'ProjectionThrottledRuleAlarm', 'ProjectionDeadLetterQueueAlarm',
    ]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ServerlessReferenceArchitectures',
      MetricName: 'FailedPutEventsEntries',
      Dimensions: [{ Name: 'EventBusName', Value: { Ref: Match.stringLikeRegexp('OrdersEventBus') } }],
    });
    // A custom bus's rule is referenced as `<bus>|<rule>`; its metrics carry the rule name alone.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Events',
      MetricName: 'FailedInvocations',
      Dimensions: Match.arrayWith([{ Name: 'RuleName', Value: { 'Fn::Select': [1, { 'Fn::Split': ['|', { Ref: Match.stringLikeRegexp('OrdersProjectionRule') }] }] } }]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 60000, EvaluationPeriods: 3 });
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('EventDrivenMicroservice options', () => {
  test('subscribers filter on content; queue targets get their own DLQ, and input transformation', () => {
    const { template, service, stack } = build({
      entityName: 'order',
      source: 'example.orders',
      subscribers: [
        {
          name: 'large',
          eventPattern: { detailType: events.Match.prefix('order.'), detail: { item: { total: events.Match.greaterThanOrEqual(1000) } } },
          target: EventSubscriberTarget.queue(),
          input: events.RuleTargetInput.fromEventPath('$.detail'),
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        },
      ],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['example.orders'], 'detail-type': [{ prefix: 'order.' }], 'detail': { item: { total: [{ numeric: ['>=', 1000] }] } } },
      Targets: [Match.objectLike({
        Arn: getAtt('OrdersLargeQueue'),
        InputPath: '$.detail',
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3 },
        DeadLetterConfig: { Arn: getAtt('OrdersLargeDeadLetterQueue') },
      })],
    });
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { deadLetterTargetArn: getAtt('OrdersLargeQueueDeadLetterQueue'), maxReceiveCount: 5 } });
    expect(service.subscriptions[0].queueDeadLetterQueue).toBeDefined();
    expect(service.alarms.map((a) => a.node.id)).toContain('LargeQueueDeadLetterQueueAlarm');
    expect(service.projectionTable).toBeUndefined();
    expect(service.detailTypes).toEqual(['order.created.v1', 'order.updated.v1', 'order.deleted.v1']);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('a function target is invoked by its rule with a DLQ; an existing queue is the target as given', () => {
    const { template } = build({}, (s) => ({
      subscribers: [
        { name: 'mine', target: EventSubscriberTarget.function(new lambda.Function(s, 'Mine', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('x') })) },
        { name: 'theirs', target: EventSubscriberTarget.queue(sqs.Queue.fromQueueArn(s, 'Theirs', 'arn:aws:sqs:us-east-1:123456789012:theirs')) },
      ],
    }));
    template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Arn: getAtt('Mine'), DeadLetterConfig: Match.anyValue() })] });
    template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Arn: 'arn:aws:sqs:us-east-1:123456789012:theirs' })] });
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
  });

  test('existingEventBus: no bus is created; archive and audit cover this pattern\'s source only', () => {
    const { template } = build({}, (s) => ({ existingEventBus: events.EventBus.fromEventBusName(s, 'Shared', 'shared') }));
    template.resourceCountIs('AWS::Events::EventBus', 0);
    template.hasResourceProperties('AWS::Events::Archive', { EventPattern: { source: ['app.item'] } });
    template.hasResourceProperties('AWS::Events::Rule', { EventBusName: 'shared', Description: Match.stringLikeRegexp('audit') });
  });

  test('audit to a queue, no archive, no schema registry', () => {
    const { template, service } = build({ audit: EventAuditDestination.QUEUE, archive: false, schemaRegistry: false });
    template.resourceCountIs('AWS::Events::Archive', 0);
    template.resourceCountIs('AWS::EventSchemas::Registry', 0);
    template.resourceCountIs('AWS::Logs::ResourcePolicy', 0);
    expect(service.auditQueue).toBeDefined();
    template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Arn: getAtt('OrdersAuditQueue'), DeadLetterConfig: Match.anyValue() })] });
  });

  test('audit NONE leaves the audit rule out; archiveRetention of 0 days keeps events, and tombstones, for good', () => {
    const { template, service } = build({ audit: EventAuditDestination.NONE, archiveRetention: Duration.days(0) });
    expect(service.auditRule).toBeUndefined();
    template.resourcePropertiesCountIs('AWS::Events::Rule', { Description: Match.stringLikeRegexp('audit') }, 0);
    template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 0 });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ TOMBSTONE_RETENTION_DAYS: '3650' }) } });
  });

  test.each<[string, EventDrivenMicroserviceProps, string]>([
    ['no archive', { archive: false }, '30'],
    ['a 90-day archive', { archiveRetention: Duration.days(90) }, '91'],
    ['a 7-day archive', { archiveRetention: Duration.days(7) }, '30'],
  ])('tombstones outlive the archive: %s', (_name, props, days) => {
    const { template } = build(props);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ TOMBSTONE_RETENTION_DAYS: days }) } });
  });

  test('a dead-letter queue of yours for the bus gets the policy and the alarm', () => {
    const { template, service } = build({}, (s) => ({ eventBusProps: { deadLetterQueue: new sqs.Queue(s, 'MyBusDlq', { enforceSSL: true }) } }));
    template.hasResourceProperties('AWS::Events::EventBus', { DeadLetterConfig: { Arn: getAtt('MyBusDlq') } });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: Match.stringLikeRegexp('MyBusDlq') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' })]) },
    });
    expect(service.alarms.map((a) => a.node.id)).toContain('EventBusDeadLetterQueueAlarm');
    expect(Object.keys(template.findResources('AWS::SQS::Queue')).filter((id) => id.startsWith('OrdersEventBusDeadLetterQueue'))).toEqual([]);
  });

  test('existingProjectionTable is the projection consumer\'s table', () => {
    const { template } = build({}, (s) => ({ existingProjectionTable: dynamodb.Table.fromTableName(s, 'Projection', 'projection') }));
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ TABLE_NAME: 'projection' }) } });
  });

  test('an existing table with a stream is read; eventSource options reach the mapping', () => {
    const { template } = build({ eventSource: { batchSize: 10, retryAttempts: 2, maxRecordAge: Duration.hours(1) } }, (s) => ({
      existingTable: dynamodb.Table.fromTableAttributes(s, 'Existing', {
        tableName: 'orders', tableStreamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000',
      }),
    }));
    template.resourcePropertiesCountIs('AWS::DynamoDB::GlobalTable', { StreamSpecification: Match.anyValue() }, 0);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000',
      BatchSize: 10,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 3600,
    });
  });
});

describe('EventDrivenMicroservice invalid props', () => {
  const code = lambda.Code.fromInline('x');
  test.each<[string, (stack: Stack) => EventDrivenMicroserviceProps, RegExp]>([
    ['existingEventBus and eventBusProps are both given', (s) => ({ existingEventBus: events.EventBus.fromEventBusName(s, 'B', 'b'), eventBusProps: {} }), /existingEventBus and eventBusProps are mutually exclusive/],
    ['existingTable and tableProps are both given', (s) => ({ existingTable: new dynamodb.TableV2(s, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } }), tableProps: { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } } }), /mutually exclusive/],
    ['the existing table has no stream', (s) => ({ existingTable: dynamodb.Table.fromTableName(s, 'T', 'orders') }), /existingTable has no stream/],
    ['tableProps turns the stream into KEYS_ONLY', () => ({ tableProps: { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, dynamoStream: dynamodb.StreamViewType.KEYS_ONLY } }), /dynamoStream must be NEW_AND_OLD_IMAGES .*got KEYS_ONLY/],
    ['entityName is not lowercase', () => ({ entityName: 'Order' }), /entityName must be .* got 'Order'/],
    ['source starts with aws.', () => ({ source: 'aws.orders' }), /not starting with 'aws\.'/],
    ['archiveRetention is given with archive: false', () => ({ archive: false, archiveRetention: Duration.days(7) }), /archive: false turns off/],
    ['archiveRetention is not whole days', () => ({ archiveRetention: Duration.hours(36) }), /whole days/],
    ['a subscriber name is not lowercase', () => ({ subscribers: [{ name: 'Audit', target: EventSubscriberTarget.queue() }] }), /got 'Audit'/],
    ['two subscribers share a name', () => ({ subscribers: [{ name: 'a', target: EventSubscriberTarget.queue() }, { name: 'a', target: EventSubscriberTarget.queue() }] }), /unique, got 'a' twice/],
    ['a subscriber pattern sets source', () => ({ subscribers: [{ name: 'a', eventPattern: { source: ['other'] }, target: EventSubscriberTarget.queue() }] }), /must not set source/],
    ['retryAttempts is over 185', () => ({ subscribers: [{ name: 'a', target: EventSubscriberTarget.queue(), retryAttempts: 200 }] }), /retryAttempts must be an integer in 0\.\.185, got 200/],
    ['maxEventAge is over 24 hours', () => ({ subscribers: [{ name: 'a', target: EventSubscriberTarget.queue(), maxEventAge: Duration.hours(25) }] }), /maxEventAge must be 1 minute\.\.24 hours, got 90000 seconds/],
    ['the projection target gets an input transformation', () => ({ subscribers: [{ name: 'a', target: EventSubscriberTarget.projection(), input: events.RuleTargetInput.fromText('x') }] }), /needs the whole event/],
    ['two subscribers use the projection', () => ({ subscribers: [{ name: 'a', target: EventSubscriberTarget.projection() }, { name: 'b', target: EventSubscriberTarget.projection() }] }), /at most one subscriber/],
    ['a target queue is FIFO', (s) => ({ subscribers: [{ name: 'a', target: EventSubscriberTarget.queue(new sqs.Queue(s, 'Fifo', { fifo: true })) }] }), /FIFO queue/],
    ['existingProjectionTable and projectionTableProps are both given', (s) => ({
      existingProjectionTable: dynamodb.Table.fromTableName(s, 'P', 'p'), projectionTableProps: { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } },
    }), /mutually exclusive/],
    ['projectionTableProps without a projection subscriber', () => ({ subscribers: [{ name: 'a', target: EventSubscriberTarget.queue() }], projectionTableProps: { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } } }), /no subscriber uses/],
    ['eventSource.batchSize is 0', () => ({ eventSource: { batchSize: 0 } }), /eventSource\.batchSize must be an integer in 1\.\.10000, got 0/],
    ['handler is given without code', () => ({ handler: 'index.main' }), /pass code too/],
    ['existingFunction and code are both given', (s) => ({ code, existingFunction: lambda.Function.fromFunctionName(s, 'F', 'f') }), /mutually exclusive/],
  ])('fails when %s', (_name, props, message) => {
    const stack = new Stack(new App(), 'Test');
    expect(() => new EventDrivenMicroservice(stack, 'Orders', props(stack))).toThrow(message);
  });
});
