/**
 * The local SNS engine (local/engines/sns.ts) driven by the real `SNSClient` over the AWS Query
 * protocol: the notification SQS subscriptions receive, raw message delivery, the Lambda event record,
 * per-protocol messages, filter policies choosing subscriptions, PublishBatch, FIFO topics, SNS's
 * errors and failed deliveries ending in the redrive dead-letter queue. Every test starts its own
 * engine; the clock is fixed, and nothing waits for time to pass.
 */
import { createHash } from 'node:crypto';
import {
  GetTopicAttributesCommand, ListSubscriptionsByTopicCommand, ListTopicsCommand, PublishBatchCommand, PublishCommand, SNSClient,
  type MessageAttributeValue, type PublishBatchRequestEntry,
} from '@aws-sdk/client-sns';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import fc from 'fast-check';
import {
  SnsClientSideError, SnsError, snsEvent, startLocalSns, type LocalSns, type SnsDelivery, type SnsLambdaDelivery,
} from '../../local/engines/sns';
import { InvalidFilterPolicyError } from '../../local/engines/sns-filter-policy';

const START = Date.parse('2026-01-02T03:04:05.678Z');
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:orders-queue';
const FIFO_QUEUE = 'arn:aws:sqs:us-east-1:123456789012:orders-queue.fifo';
const DLQ = 'arn:aws:sqs:us-east-1:123456789012:orders-dlq';
const FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:on-order';

let sns: LocalSns;
let client: SNSClient;
let now: number;
/** Every `deliver` call, in order (failed attempts included). */
let calls: SnsDelivery[];
/** What `deliver` does after recording the call; a throw is a failed attempt. */
let behaviour: (delivery: SnsDelivery) => Promise<void> | void;

beforeEach(async () => {
  now = START;
  calls = [];
  behaviour = () => undefined;
  sns = await startLocalSns({
    clock: () => now,
    deliver: async (delivery) => {
      calls.push(delivery);
      await behaviour(delivery);
    },
  });
  client = new SNSClient({
    endpoint: sns.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  });
});

afterEach(async () => {
  client.destroy();
  await sns.settled();
  await sns.stop();
});

const S = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
const rejection = (name: string, message?: RegExp): ReturnType<typeof expect.objectContaining> =>
  expect.objectContaining({ name, ...(message ? { message: expect.stringMatching(message) } : {}) });
const to = (endpoint: string): SnsDelivery[] => sns.deliveries.filter((d) => d.endpoint === endpoint);
const notificationOf = (d: SnsDelivery): Record<string, unknown> => JSON.parse(d.body) as Record<string, unknown>;

describe('Publish and the notification an SQS subscription receives', () => {
  test('the JSON notification with the message attributes, delivered after the Publish answer', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    const subscriptionArn = sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    behaviour = () => gate;

    const out = await client.send(new PublishCommand({
      TopicArn: topic.arn,
      Subject: 'Order placed',
      Message: '{"orderId":"o-1"}',
      MessageAttributes: {
        store: S('example_corp'),
        price_usd: { DataType: 'Number', StringValue: '210.75' },
        customer_interests: { DataType: 'String.Array', StringValue: '["soccer", "rugby"]' },
        signature: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 255]) },
      },
    }));

    // Answered while the delivery is still in flight: Publish does not wait for subscribers.
    expect(sns.deliveries).toHaveLength(0);
    open();
    await sns.settled();
    expect(sns.deliveries).toHaveLength(1);
    const [delivery] = sns.deliveries;
    expect(delivery).toMatchObject({ protocol: 'sqs', endpoint: QUEUE, subscriptionArn, topicArn: topic.arn, messageId: out.MessageId, messageAttributes: {} });
    expect(delivery.messageGroupId).toBeUndefined();
    const notification = notificationOf(delivery);
    expect(notification).toEqual({
      Type: 'Notification',
      MessageId: out.MessageId,
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:orders',
      Subject: 'Order placed',
      Message: '{"orderId":"o-1"}',
      Timestamp: '2026-01-02T03:04:05.678Z',
      SignatureVersion: '1',
      Signature: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
      SigningCertURL: expect.stringMatching(/^https:\/\/sns\.us-east-1\.amazonaws\.com\/SimpleNotificationService-.+\.pem$/),
      UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
      MessageAttributes: {
        store: { Type: 'String', Value: 'example_corp' },
        price_usd: { Type: 'Number', Value: '210.75' },
        customer_interests: { Type: 'String.Array', Value: '["soccer", "rugby"]' },
        signature: { Type: 'Binary', Value: Buffer.from([1, 2, 255]).toString('base64') },
      },
    });
    // The field order of the guide's examples ("Amazon SNS raw message delivery", "Example filter policies").
    expect(Object.keys(notification)).toEqual(['Type', 'MessageId', 'TopicArn', 'Subject', 'Message', 'Timestamp', 'SignatureVersion', 'Signature',
      'SigningCertURL', 'UnsubscribeURL', 'MessageAttributes']);
    expect(sns.published).toEqual([expect.objectContaining({ messageId: out.MessageId, topicArn: topic.arn, subject: 'Order placed', duplicate: false })]);
  });

  test('any message text round-trips through the notification, which has no Subject or MessageAttributes when none were given', async () => {
    const topic = sns.createTopic({ name: 'texts' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE });
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }), async (text) => {
      sns.reset();
      const out = await client.send(new PublishCommand({ TopicArn: topic.arn, Message: text }));
      await sns.settled();
      const notification = notificationOf(sns.deliveries[0]);
      return notification.Message === text && notification.MessageId === out.MessageId && !('Subject' in notification) && !('MessageAttributes' in notification);
    }), { numRuns: 40 });
  });

  test('TargetArn publishes to a topic as TopicArn does', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE });
    await client.send(new PublishCommand({ TargetArn: topic.arn, Message: 'via target' }));
    await sns.settled();
    expect(notificationOf(sns.deliveries[0]).Message).toBe('via target');
  });
});

describe('raw message delivery', () => {
  test('the message itself, with its attributes as SQS message attributes', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, rawMessageDelivery: true });
    await client.send(new PublishCommand({
      TopicArn: topic.arn,
      Subject: 'ignored by raw delivery',
      Message: '{"orderId":"o-1"}',
      MessageAttributes: { store: S('example_corp'), price: { DataType: 'Number', StringValue: '3' }, blob: { DataType: 'Binary', BinaryValue: new Uint8Array([7, 8]) } },
    }));
    await sns.settled();
    expect(sns.deliveries).toEqual([expect.objectContaining({
      protocol: 'sqs',
      endpoint: QUEUE,
      body: '{"orderId":"o-1"}',
      messageAttributes: {
        store: { DataType: 'String', StringValue: 'example_corp' },
        price: { DataType: 'Number', StringValue: '3' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([7, 8]) },
      },
    })]);
  });

  test('"true" as a template gives it turns raw delivery on; raw delivery is for SQS only', () => {
    const topic = sns.createTopic({ name: 'orders' });
    expect(() => sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, rawMessageDelivery: 'true' })).not.toThrow();
    expect(() => sns.subscribe({ topicArn: topic.arn, protocol: 'lambda', endpoint: FUNCTION, rawMessageDelivery: true })).toThrow(/does not support raw message delivery/);
  });
});

describe('Lambda subscriptions', () => {
  test('the Sns object of the event record, as @types/aws-lambda SNSMessage has it; Number and String.Array typed String', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    const subscriptionArn = sns.subscribe({ topicArn: topic.arn, protocol: 'lambda', endpoint: FUNCTION });
    const out = await client.send(new PublishCommand({
      TopicArn: topic.arn,
      Subject: 'TestInvoke',
      Message: 'Hello from SNS!',
      MessageGroupId: 'not-for-lambda',
      MessageAttributes: {
        Test: S('TestString'),
        Count: { DataType: 'Number', StringValue: '2' },
        Tags: { DataType: 'String.Array', StringValue: '["a"]' },
        TestBinary: { DataType: 'Binary', BinaryValue: Buffer.from('TestBinary') },
      },
    }));
    await sns.settled();
    const delivery = sns.deliveries[0] as SnsLambdaDelivery;
    expect(delivery).toMatchObject({ protocol: 'lambda', endpoint: FUNCTION, subscriptionArn, messageAttributes: {} });
    expect(delivery.messageGroupId).toBeUndefined();
    expect(delivery.sns).toEqual({
      SignatureVersion: '1',
      Timestamp: '2026-01-02T03:04:05.678Z',
      Signature: expect.any(String),
      SigningCertUrl: expect.stringMatching(/^https:\/\/sns\.us-east-1\.amazonaws\.com\/.+\.pem$/),
      MessageId: out.MessageId,
      Message: 'Hello from SNS!',
      MessageAttributes: {
        Test: { Type: 'String', Value: 'TestString' },
        Count: { Type: 'String', Value: '2' },
        Tags: { Type: 'String', Value: '["a"]' },
        TestBinary: { Type: 'Binary', Value: Buffer.from('TestBinary').toString('base64') },
      },
      Type: 'Notification',
      UnsubscribeUrl: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
      TopicArn: topic.arn,
      Subject: 'TestInvoke',
    });
    expect(JSON.parse(delivery.body)).toEqual(delivery.sns);
    expect(snsEvent(delivery)).toEqual({ Records: [{ EventVersion: '1.0', EventSubscriptionArn: subscriptionArn, EventSource: 'aws:sns', Sns: delivery.sns }] });
  });
});

describe('MessageStructure json', () => {
  test('each protocol gets its own entry or the default; message attributes are not sent', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: `${QUEUE}-raw`, rawMessageDelivery: true });
    sns.subscribe({ topicArn: topic.arn, protocol: 'lambda', endpoint: FUNCTION });
    await client.send(new PublishCommand({
      TopicArn: topic.arn,
      MessageStructure: 'json',
      Message: JSON.stringify({ default: 'for everyone', sqs: 'for queues', email: 'for people', lambda: 42 }),
      MessageAttributes: { store: S('example_corp') },
    }));
    await sns.settled();
    const queued = notificationOf(to(QUEUE)[0]);
    expect(queued.Message).toBe('for queues');
    expect(queued).not.toHaveProperty('MessageAttributes');
    expect(to(`${QUEUE}-raw`)[0]).toMatchObject({ body: 'for queues', messageAttributes: {} });
    // A non-string entry is ignored: Lambda gets the default.
    expect((to(FUNCTION)[0] as SnsLambdaDelivery).sns).toMatchObject({ Message: 'for everyone', MessageAttributes: {} });
  });

  test('the message must be a JSON object with a string default entry', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    await expect(client.send(new PublishCommand({ TopicArn: topic.arn, MessageStructure: 'json', Message: 'not json' })))
      .rejects.toThrow(rejection('InvalidParameterException', /failed to parse/));
    await expect(client.send(new PublishCommand({ TopicArn: topic.arn, MessageStructure: 'json', Message: '{"sqs":"x"}' })))
      .rejects.toThrow(rejection('InvalidParameterException', /No default entry/));
  });
});

describe('filter policies choose the subscriptions', () => {
  test('attribute and body scopes, a policy as JSON text, and no policy', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: `${QUEUE}-placed`, filterPolicy: { event: ['order_placed'] } });
    sns.subscribe({
      topicArn: topic.arn, protocol: 'sqs', endpoint: `${QUEUE}-big`, filterPolicyScope: 'MessageBody', filterPolicy: { order: { total: [{ numeric: ['>=', 100] }] } },
    });
    sns.subscribe({ topicArn: topic.arn, protocol: 'lambda', endpoint: FUNCTION, filterPolicy: '{"event":[{"anything-but":["order_placed"]}]}' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: `${QUEUE}-all` });

    const publish = (event: string, total: number): Promise<unknown> => client.send(new PublishCommand({
      TopicArn: topic.arn, Message: JSON.stringify({ order: { total } }), MessageAttributes: { event: S(event) },
    }));
    await publish('order_placed', 50);
    await publish('order_cancelled', 150);
    await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'no attributes, not JSON' }));
    await sns.settled();

    const messages = (endpoint: string): unknown[] => to(endpoint).map((d) => (d.protocol === 'lambda' ? d.sns.Message : notificationOf(d).Message));
    expect(messages(`${QUEUE}-placed`)).toEqual(['{"order":{"total":50}}']);
    expect(messages(`${QUEUE}-big`)).toEqual(['{"order":{"total":150}}']);
    expect(messages(FUNCTION)).toEqual(['{"order":{"total":150}}']);
    expect(messages(`${QUEUE}-all`)).toHaveLength(3);
  });

  test('an invalid policy is refused at subscribe', () => {
    const topic = sns.createTopic({ name: 'orders' });
    expect(() => sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, filterPolicy: { event: 'order_placed' } })).toThrow(InvalidFilterPolicyError);
    expect(() => sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, filterPolicy: { a: { b: ['x'] } } })).toThrow(/nested/);
  });
});

describe('PublishBatch', () => {
  const entry = (id: string, extra: Partial<PublishBatchRequestEntry> = {}): PublishBatchRequestEntry => ({ Id: id, Message: `message ${id}`, ...extra });

  test('good and bad entries are answered one by one; only the good ones are delivered', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE });
    const out = await client.send(new PublishBatchCommand({
      TopicArn: topic.arn,
      PublishBatchRequestEntries: [
        entry('ok-1', { MessageAttributes: { store: S('a') } }),
        entry('empty', { Message: '' }),
        entry('bad-type', { MessageAttributes: { n: { DataType: 'Integer', StringValue: '1' } } }),
        entry('dedup-on-standard', { MessageDeduplicationId: 'd-1' }),
        entry('ok_2', { Subject: 'second' }),
      ],
    }));

    expect(out.Successful?.map((s) => s.Id)).toEqual(['ok-1', 'ok_2']);
    expect(out.Failed).toEqual([
      { Id: 'empty', Code: 'InvalidParameter', Message: 'Invalid parameter: Empty message', SenderFault: true },
      { Id: 'bad-type', Code: 'ParameterValueInvalid', Message: expect.stringMatching(/invalid message attribute type/), SenderFault: true },
      { Id: 'dedup-on-standard', Code: 'InvalidParameter', Message: expect.stringMatching(/MessageDeduplicationId/), SenderFault: true },
    ]);
    await sns.settled();
    expect(sns.deliveries.map((d) => notificationOf(d).MessageId)).toEqual(out.Successful?.map((s) => s.MessageId));
    expect(sns.deliveries.map((d) => notificationOf(d).Message)).toEqual(['message ok-1', 'message ok_2']);
  });

  test('the whole call is refused: no entries, more than 10, ids not distinct, an id against the rules, over 256 KB', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    const send = (entries: PublishBatchRequestEntry[]): Promise<unknown> =>
      client.send(new PublishBatchCommand({ TopicArn: topic.arn, PublishBatchRequestEntries: entries }));
    await expect(send([])).rejects.toThrow(rejection('EmptyBatchRequestException'));
    await expect(send(Array.from({ length: 11 }, (_, i) => entry(`e${i}`)))).rejects.toThrow(rejection('TooManyEntriesInBatchRequestException'));
    await expect(send([entry('same'), entry('same')])).rejects.toThrow(rejection('BatchEntryIdsNotDistinctException'));
    await expect(send([entry('has space')])).rejects.toThrow(rejection('InvalidBatchEntryIdException'));
    await expect(send([entry('x'.repeat(81))])).rejects.toThrow(rejection('InvalidBatchEntryIdException'));
    const half = 'x'.repeat(140_000);
    await expect(send([entry('a', { Message: half }), entry('b', { Message: half })])).rejects.toThrow(rejection('BatchRequestTooLongException'));
    await expect(client.send(new PublishBatchCommand({ TopicArn: `${topic.arn}-nope`, PublishBatchRequestEntries: [entry('a')] })))
      .rejects.toThrow(rejection('NotFoundException'));
    expect(sns.published).toHaveLength(0);
  });
});

describe('FIFO topics', () => {
  test('group and deduplication ids pass through to the queue; answers and notifications carry a sequence number', async () => {
    const topic = sns.createTopic({ name: 'orders.fifo', fifo: true });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: FIFO_QUEUE });
    const first = await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm1', MessageGroupId: 'order-1', MessageDeduplicationId: 'd-1' }));
    const second = await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm2', MessageGroupId: 'order-1', MessageDeduplicationId: 'd-2' }));
    await sns.settled();

    expect(first.SequenceNumber).toMatch(/^\d{20}$/);
    expect(BigInt(second.SequenceNumber ?? 0)).toBeGreaterThan(BigInt(first.SequenceNumber ?? 0));
    expect(sns.deliveries.map((d) => [d.messageGroupId, d.messageDeduplicationId])).toEqual([['order-1', 'd-1'], ['order-1', 'd-2']]);
    const notification = notificationOf(sns.deliveries[0]);
    // A FIFO topic's notification has a SequenceNumber and no signature fields.
    expect(Object.keys(notification)).toEqual(['Type', 'MessageId', 'SequenceNumber', 'TopicArn', 'Message', 'Timestamp', 'UnsubscribeURL']);
    expect(notification).toMatchObject({ MessageId: first.MessageId, SequenceNumber: first.SequenceNumber, Message: 'm1' });
  });

  test('MessageGroupId is required, and MessageDeduplicationId unless content-based deduplication is on', async () => {
    const topic = sns.createTopic({ name: 'orders.fifo', fifo: true });
    await expect(client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm', MessageDeduplicationId: 'd' })))
      .rejects.toThrow(rejection('InvalidParameterException', /MessageGroupId parameter is required/));
    await expect(client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm', MessageGroupId: 'g' })))
      .rejects.toThrow(rejection('InvalidParameterException', /ContentBasedDeduplication/));
    await expect(client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm', MessageGroupId: 'with space', MessageDeduplicationId: 'd' })))
      .rejects.toThrow(rejection('InvalidParameterException', /MessageGroupId/));
  });

  test('content-based deduplication: the SHA-256 of the message; a duplicate within 5 minutes is accepted and not delivered', async () => {
    const topic = sns.createTopic({ name: 'prices.fifo', fifo: true, contentBasedDeduplication: true });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: FIFO_QUEUE, rawMessageDelivery: true });
    const first = await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'price 10', MessageGroupId: 'p' }));
    now += 4 * 60 * 1000;
    const again = await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'price 10', MessageGroupId: 'p' }));
    now += 60 * 1000;
    const later = await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'price 10', MessageGroupId: 'p' }));
    await sns.settled();

    expect(again.MessageId).toBe(first.MessageId);
    expect(later.MessageId).not.toBe(first.MessageId);
    expect(sns.published.map((p) => p.duplicate)).toEqual([false, true, false]);
    expect(sns.deliveries.map((d) => d.messageId)).toEqual([first.MessageId, later.MessageId]);
    expect(sns.deliveries[0].messageDeduplicationId).toBe(createHash('sha256').update('price 10').digest('hex'));
  });

  test('each subscription gets its messages one at a time, in order', async () => {
    const topic = sns.createTopic({ name: 'orders.fifo', fifo: true, contentBasedDeduplication: true });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: FIFO_QUEUE, rawMessageDelivery: true });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let inFlight = 0;
    let most = 0;
    behaviour = async (d) => {
      inFlight++;
      most = Math.max(most, inFlight);
      if (d.body === 'm1') await gate;
      inFlight--;
    };
    for (const m of ['m1', 'm2', 'm3']) await client.send(new PublishCommand({ TopicArn: topic.arn, Message: m, MessageGroupId: 'g' }));
    expect(calls.length).toBeLessThanOrEqual(1);
    open();
    await sns.settled();
    expect(calls.map((d) => d.body)).toEqual(['m1', 'm2', 'm3']);
    expect(most).toBe(1);
  });

  test('FIFO topics deliver to SQS only; a FIFO queue needs a FIFO topic; a FIFO topic needs a FIFO dead-letter queue', () => {
    const fifo = sns.createTopic({ name: 'orders.fifo', fifo: true });
    const standard = sns.createTopic({ name: 'orders' });
    expect(() => sns.subscribe({ topicArn: fifo.arn, protocol: 'lambda', endpoint: FUNCTION })).toThrow(SnsError);
    expect(() => sns.subscribe({ topicArn: standard.arn, protocol: 'sqs', endpoint: FIFO_QUEUE })).toThrow(/FIFO SQS Queues can not be subscribed/);
    expect(() => sns.subscribe({ topicArn: fifo.arn, protocol: 'sqs', endpoint: FIFO_QUEUE, redrivePolicy: { deadLetterTargetArn: DLQ } })).toThrow(/FIFO queue/);
    expect(() => sns.createTopic({ name: 'orders', fifo: true })).toThrow(/\.fifo/);
    expect(() => sns.createTopic({ name: 'orders.fifo' })).toThrow(/Topic Name/);
  });
});

describe('standard topics and message groups', () => {
  test('MessageGroupId (fair queues) goes to SQS subscriptions only; MessageDeduplicationId is refused', async () => {
    const topic = sns.createTopic({ name: 'tenants' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE });
    sns.subscribe({ topicArn: topic.arn, protocol: 'lambda', endpoint: FUNCTION });
    await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm', MessageGroupId: 'tenant-7' }));
    await sns.settled();
    expect(to(QUEUE)[0].messageGroupId).toBe('tenant-7');
    expect(to(FUNCTION)[0].messageGroupId).toBeUndefined();
    expect(sns.published[0].sequenceNumber).toBeUndefined();
    await expect(client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm', MessageDeduplicationId: 'd' })))
      .rejects.toThrow(rejection('InvalidParameterException', /MessageDeduplicationId/));
  });
});

describe('errors as SNS answers them', () => {
  const attribute = (name: string, value: MessageAttributeValue): { MessageAttributes: Record<string, MessageAttributeValue> } =>
    ({ MessageAttributes: { [name]: value } });

  test.each([
    ['an unknown topic', { TopicArn: 'arn:aws:sns:us-east-1:123456789012:nope' }, 'NotFoundException'],
    ['a TopicArn that is not an SNS ARN', { TopicArn: 'orders' }, 'InvalidParameterException'],
    ['an empty message', { Message: '' }, 'InvalidParameterException'],
    ['an empty subject', { Subject: '' }, 'InvalidParameterException'],
    ['a subject with a line break', { Subject: 'two\nlines' }, 'InvalidParameterException'],
    ['a subject of 100 characters', { Subject: 's'.repeat(100) }, 'InvalidParameterException'],
    ['a MessageStructure other than json', { MessageStructure: 'xml' }, 'InvalidParameterException'],
    ['an attribute type that is not String, Number or Binary', attribute('a', { DataType: 'Int', StringValue: '1' }), 'InvalidParameterValueException'],
    ['a Number that is not a number', attribute('a', { DataType: 'Number', StringValue: 'one' }), 'InvalidParameterValueException'],
    ['an empty attribute value', attribute('a', { DataType: 'String', StringValue: '' }), 'InvalidParameterValueException'],
    ['a Binary attribute without a binary value', attribute('a', { DataType: 'Binary', StringValue: 'x' }), 'InvalidParameterValueException'],
    ['an emoji in a String attribute (surrogates are not supported)', attribute('a', S('\u{1F600}')), 'InvalidParameterValueException'],
    ['an attribute name with a space', attribute('a b', S('x')), 'InvalidParameterValueException'],
    ['an attribute name starting with a period', attribute('.a', S('x')), 'InvalidParameterValueException'],
    ['an attribute name with successive periods', attribute('a..b', S('x')), 'InvalidParameterValueException'],
    ['an attribute name reserved for AWS', attribute('Amazon.x', S('x')), 'InvalidParameterValueException'],
    ['an attribute name over 256 characters', attribute('a'.repeat(257), S('x')), 'InvalidParameterValueException'],
  ])('%s', async (_name, params, error) => {
    const topic = sns.createTopic({ name: 'orders' });
    await expect(client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm', ...params }))).rejects.toThrow(rejection(error));
    expect(sns.published).toHaveLength(0);
  });

  test('256 KB for the message and its attributes together', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    const attributes = { n: S('xyz') }; // 1 + 6 + 3 bytes
    await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'x'.repeat(262_144 - 10), MessageAttributes: attributes }));
    await expect(client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'x'.repeat(262_144 - 9), MessageAttributes: attributes })))
      .rejects.toThrow(rejection('InvalidParameterException', /Message too long/));
    expect(sns.published).toHaveLength(1);
  });

  test('custom type labels and SNS\'s own AWS.SNS. attributes are accepted', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    await client.send(new PublishCommand({
      TopicArn: topic.arn,
      Message: 'm',
      MessageAttributes: { 'id': { DataType: 'String.OrderId', StringValue: 'o-1' }, 'AWS.SNS.MOBILE.APNS.TTL': { DataType: 'Number', StringValue: '60' } },
    }));
    expect(sns.published).toHaveLength(1);
  });

  test('the Query protocol error document, and an unknown action', async () => {
    const response = await fetch(sns.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=CreateTopic&Version=2010-03-31&Name=x',
    });
    expect(response.status).toBe(400);
    const xml = await response.text();
    expect(xml).toContain('<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidAction</Code>');
    expect(xml).toMatch(/<RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/);
  });
});

describe('failed deliveries', () => {
  test('a failing deliver is tried 3 times, then the notification goes to the redrive dead-letter queue', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    const subscriptionArn = sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, redrivePolicy: { deadLetterTargetArn: DLQ } });
    behaviour = (d) => {
      if (d.endpoint === QUEUE) throw new Error('queue unavailable');
    };
    const out = await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm', MessageAttributes: { store: S('a') } }));
    await sns.settled();

    const attempts = calls.filter((d) => d.endpoint === QUEUE);
    expect(attempts).toHaveLength(3);
    expect(sns.deliveries).toEqual([{
      ...attempts[0],
      endpoint: DLQ,
      deadLetter: { protocol: 'sqs', endpoint: QUEUE, error: 'queue unavailable' },
    }]);
    expect(notificationOf(sns.deliveries[0])).toMatchObject({ MessageId: out.MessageId, Message: 'm', MessageAttributes: { store: { Type: 'String', Value: 'a' } } });
    expect(sns.deliveries[0].subscriptionArn).toBe(subscriptionArn);
    expect(sns.failedDeliveries).toHaveLength(0);
  });

  test('raw delivery: the dead-letter queue gets the raw message and its attributes', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, rawMessageDelivery: true, redrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ }) });
    behaviour = (d) => {
      if (d.endpoint === QUEUE) throw new Error('down');
    };
    await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'raw body', MessageAttributes: { store: S('a') } }));
    await sns.settled();
    expect(to(DLQ)).toEqual([expect.objectContaining({ body: 'raw body', messageAttributes: { store: { DataType: 'String', StringValue: 'a' } } })]);
  });

  test('a Lambda subscription\'s dead letter is the JSON notification', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'lambda', endpoint: FUNCTION, redrivePolicy: { deadLetterTargetArn: DLQ } });
    behaviour = (d) => {
      if (d.endpoint === FUNCTION) throw new Error('function error');
    };
    const out = await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'for the function' }));
    await sns.settled();
    expect(calls.filter((d) => d.endpoint === FUNCTION)).toHaveLength(3);
    expect(to(DLQ)).toHaveLength(1);
    expect(to(DLQ)[0]).toMatchObject({ protocol: 'sqs', deadLetter: { protocol: 'lambda', endpoint: FUNCTION, error: 'function error' } });
    expect(notificationOf(to(DLQ)[0])).toMatchObject({ Type: 'Notification', MessageId: out.MessageId, Message: 'for the function' });
  });

  test('without a dead-letter queue, or when it fails too, the delivery is recorded in failedDeliveries', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: `${QUEUE}-2`, redrivePolicy: { deadLetterTargetArn: DLQ } });
    behaviour = () => {
      throw new Error('everything is down');
    };
    await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm' }));
    await sns.settled();
    expect(sns.deliveries).toHaveLength(0);
    expect(sns.failedDeliveries.map((f) => [f.delivery.endpoint, f.attempts])).toEqual(expect.arrayContaining([[QUEUE, 3], [DLQ, 1]]));
    expect(sns.failedDeliveries).toHaveLength(2);
  });

  test('client-side errors are not retried: an SnsClientSideError, and more than 10 attributes to a raw SQS subscription', async () => {
    const topic = sns.createTopic({ name: 'orders' });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, redrivePolicy: { deadLetterTargetArn: DLQ } });
    sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: `${QUEUE}-raw`, rawMessageDelivery: true, redrivePolicy: { deadLetterTargetArn: DLQ } });
    behaviour = (d) => {
      if (d.endpoint === QUEUE) throw new SnsClientSideError('queue does not exist');
    };
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, S('x')]));
    await client.send(new PublishCommand({ TopicArn: topic.arn, Message: 'm', MessageAttributes: eleven }));
    await sns.settled();
    expect(calls.filter((d) => d.endpoint === QUEUE)).toHaveLength(1);
    expect(calls.filter((d) => d.endpoint === `${QUEUE}-raw`)).toHaveLength(0);
    expect(to(DLQ).map((d) => d.deadLetter)).toEqual(expect.arrayContaining([
      { protocol: 'sqs', endpoint: QUEUE, error: 'queue does not exist' },
      { protocol: 'sqs', endpoint: `${QUEUE}-raw`, error: expect.stringMatching(/at most 10/) },
    ]));
  });
});

describe('topic and subscription listings', () => {
  test('GetTopicAttributes, ListTopics (100 a page) and ListSubscriptionsByTopic', async () => {
    const fifo = sns.createTopic({ name: 'orders.fifo', fifo: true, contentBasedDeduplication: true });
    const subscriptionArn = sns.subscribe({ topicArn: fifo.arn, protocol: 'sqs', endpoint: FIFO_QUEUE });
    const attributes = (await client.send(new GetTopicAttributesCommand({ TopicArn: fifo.arn }))).Attributes;
    expect(attributes).toMatchObject({
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:orders.fifo', Owner: '123456789012', SubscriptionsConfirmed: '1', FifoTopic: 'true', ContentBasedDeduplication: 'true',
    });
    expect(JSON.parse(attributes?.Policy ?? '')).toMatchObject({ Statement: [expect.objectContaining({ Resource: fifo.arn })] });
    await expect(client.send(new GetTopicAttributesCommand({ TopicArn: `${fifo.arn}x` }))).rejects.toThrow(rejection('NotFoundException'));

    expect((await client.send(new ListSubscriptionsByTopicCommand({ TopicArn: fifo.arn }))).Subscriptions).toEqual([
      { SubscriptionArn: subscriptionArn, Owner: '123456789012', Protocol: 'sqs', Endpoint: FIFO_QUEUE, TopicArn: fifo.arn },
    ]);

    for (let i = 0; i < 120; i++) sns.createTopic({ name: `topic-${i}` });
    const first = await client.send(new ListTopicsCommand({}));
    const second = await client.send(new ListTopicsCommand({ NextToken: first.NextToken }));
    expect(first.Topics).toHaveLength(100);
    expect(second.NextToken).toBeUndefined();
    expect([...(first.Topics ?? []), ...(second.Topics ?? [])].map((t) => t.TopicArn)).toEqual([fifo.arn, ...Array.from({ length: 120 }, (_, i) => `arn:aws:sns:us-east-1:123456789012:topic-${i}`)]);
  });

  test('createTopic is idempotent; subscribe is idempotent for the same settings and refuses different ones', () => {
    const topic = sns.createTopic({ name: 'orders' });
    expect(sns.createTopic({ name: 'orders' })).toEqual(topic);
    const arn = sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, filterPolicy: { a: ['x'] } });
    expect(sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, filterPolicy: '{"a":["x"]}' })).toBe(arn);
    expect(() => sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, rawMessageDelivery: true })).toThrow(/different attributes/);
    expect(() => sns.subscribe({ topicArn: `${topic.arn}-nope`, protocol: 'sqs', endpoint: QUEUE })).toThrow(/Topic does not exist/);
    expect(() => sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: FUNCTION })).toThrow(/queue ARN/);
    expect(() => sns.subscribe({ topicArn: topic.arn, protocol: 'sqs', endpoint: QUEUE, redrivePolicy: { deadLetterTargetArn: 'dlq' } })).toThrow(/invalid arn/);
  });
});
