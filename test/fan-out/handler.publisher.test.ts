/**
 * Fan-out publisher: the exact SNS requests (aws-sdk-client-mock on the handler's own SNSClient
 * class: no local engine speaks SNS's protocol), validation, FIFO fields and partial failures.
 */
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { loadPublisher, orderEvent } from '../helpers/fan-out';
import { TOPIC_ARN } from '../helpers/sqs-events';

const FIFO_TOPIC = `${TOPIC_ARN}.fifo`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The error a promise rejects with (fails when it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error & { details?: unknown[] }> {
  return promise.then(() => {
    throw new Error('expected a failure');
  }, (e: unknown) => e as Error & { details?: unknown[] });
}

interface LoadedPublisher {
  readonly invoke: ReturnType<typeof loadPublisher>['invoke'];
  readonly sns: AwsStub<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly commands: ReturnType<typeof loadPublisher>['clientSns'];
}

function load(env: Record<string, string>): LoadedPublisher {
  const publisher = loadPublisher(env);
  return { invoke: publisher.invoke, sns: mockClient(publisher.clientSns.SNSClient), commands: publisher.clientSns };
}

const ATTRIBUTES = {
  type: { DataType: 'String', StringValue: 'paid' },
  amount: { DataType: 'Number', StringValue: '150.25' },
  customerId: { DataType: 'String', StringValue: 'customer-1' },
  currency: { DataType: 'String', StringValue: 'EUR' },
};

beforeAll(() => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
});

describe('standard topic', () => {
  let p: LoadedPublisher;

  beforeEach(() => {
    p = load({ TOPIC_ARN });
  });

  afterEach(() => {
    p.sns.restore();
  });

  test('one event is one Publish with the filtering attributes', async () => {
    // Prepare
    const event = orderEvent({ type: 'paid', amount: 150.25 });
    p.sns.on(p.commands.PublishCommand).resolves({ MessageId: 'm-1' });

    // Act
    const result = await p.invoke(event);

    // Assess
    expect(result).toEqual({ messageIds: ['m-1'], eventIds: [event.eventId] });
    expect(p.sns.calls()).toHaveLength(1);
    expect(p.sns.commandCalls(p.commands.PublishCommand)[0].args[0].input).toEqual({
      TopicArn: TOPIC_ARN,
      Message: JSON.stringify(event),
      MessageAttributes: ATTRIBUTES,
    });
  });

  test('a missing eventId is generated, and an upper-case one is normalized', async () => {
    const { eventId: _none, ...withoutId } = orderEvent();
    p.sns.on(p.commands.PublishCommand).resolves({ MessageId: 'm-1' });

    const generated = await p.invoke(withoutId);
    const normalized = await p.invoke({ ...withoutId, eventId: 'A3C1E2F4-5B6D-4E7F-8A9B-0C1D2E3F4A5B' });

    expect(generated.eventIds[0]).toMatch(UUID);
    const published = p.sns.commandCalls(p.commands.PublishCommand)[0].args[0].input.Message!;
    expect(JSON.parse(published)).toEqual({ eventId: generated.eventIds[0], ...withoutId });
    expect(normalized.eventIds).toEqual(['a3c1e2f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b']);
  });

  test('{ events } is one PublishBatch, in order', async () => {
    // Prepare
    const events = [orderEvent({ type: 'paid', amount: 150.25 }), orderEvent({ customerId: 'c-2', amount: 0, currency: 'USD' })];
    p.sns.on(p.commands.PublishBatchCommand).resolves({ Successful: [{ Id: '1', MessageId: 'm-b' }, { Id: '0', MessageId: 'm-a' }], Failed: [] });

    // Act
    const result = await p.invoke({ events });

    // Assess
    expect(result).toEqual({ messageIds: ['m-a', 'm-b'], eventIds: events.map((e) => e.eventId) });
    expect(p.sns.calls()).toHaveLength(1);
    expect(p.sns.commandCalls(p.commands.PublishBatchCommand)[0].args[0].input).toEqual({
      TopicArn: TOPIC_ARN,
      PublishBatchRequestEntries: [
        { Id: '0', Message: JSON.stringify(events[0]), MessageAttributes: ATTRIBUTES },
        {
          Id: '1',
          Message: JSON.stringify(events[1]),
          MessageAttributes: {
            type: { DataType: 'String', StringValue: 'created' },
            amount: { DataType: 'Number', StringValue: '0' },
            customerId: { DataType: 'String', StringValue: 'c-2' },
            currency: { DataType: 'String', StringValue: 'USD' },
          },
        },
      ],
    });
  });

  test('a partially failed batch throws PartialPublishError naming the failed entries', async () => {
    const events = [orderEvent(), orderEvent(), orderEvent()];
    p.sns.on(p.commands.PublishBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm-0' }],
      Failed: [{ Id: '2', Code: 'InternalError', SenderFault: false, Message: 'oops' }],
    });

    const err = await p.invoke({ events }).then(() => undefined, (e: unknown) => e as Error & { messageIds: unknown });
    if (!err) throw new Error('expected a PartialPublishError');

    expect(err.name).toBe('PartialPublishError');
    expect(err.message).toBe('2 of 3 events were not published: /events/1 (NoResult), /events/2 (InternalError); retry them with the same eventIds');
    expect(err.messageIds).toEqual(['m-0', undefined, undefined]);
  });

  test.each([
    ['a negative amount', { amount: -1 }, '/amount must be a finite number in 0..1000000000'],
    ['too many decimals', { amount: 1.123456 }, '/amount must have at most 5 decimal places'],
    ['a lower-case currency', { currency: 'eur' }, '/currency must be 3 upper-case letters'],
    ['an unknown type', { type: 'refunded' }, '/type must be one of created, paid, shipped, cancelled'],
    ['an impossible date', { occurredAt: '2025-02-29T00:00:00Z' }, '/occurredAt must be an ISO-8601 date-time with an offset, e.g. 2025-01-31T12:00:00Z'],
    ['a key-breaking id', { orderId: 'a#b' }, '/orderId must be 1..64 characters of A-Z a-z 0-9 . _ : -'],
    ['a bad eventId', { eventId: 'abc' }, '/eventId must be a UUID (8-4-4-4-12 hexadecimal digits)'],
    ['an extra field', { note: 'x' }, '/note is not an allowed field'],
  ])('fails with OrderEventValidationError on %s, publishing nothing', async (_name, change, problem) => {
    const err = await failure(p.invoke({ ...orderEvent(), ...change }));

    expect(err.name).toBe('OrderEventValidationError');
    expect(err.message).toBe(`Invalid order event: ${problem}`);
    expect(p.sns.calls()).toHaveLength(0);
  });

  test('a batch with any invalid event lists every problem and publishes nothing', async () => {
    const dup = orderEvent();
    const err = await failure(p.invoke({ events: [dup, { ...orderEvent(), amount: '5' }, { ...dup }, { type: 'paid' }] }));

    expect(err.name).toBe('OrderEventValidationError');
    expect(err.details).toEqual([
      { path: '/events/1/amount', message: 'must be a number, got a string' },
      { path: '/events/2/eventId', message: 'duplicates /events/0/eventId' },
      { path: '/events/3/orderId', message: 'is required' },
      { path: '/events/3/customerId', message: 'is required' },
      { path: '/events/3/amount', message: 'is required' },
      { path: '/events/3/currency', message: 'is required' },
      { path: '/events/3/occurredAt', message: 'is required' },
    ]);
    expect(p.sns.calls()).toHaveLength(0);
  });

  test.each([
    ['null', null, '/ must be an object, got null'],
    ['an array', [orderEvent()], '/ must be an object, got an array'],
    ['an empty batch', { events: [] }, '/events must be an array of 1..10 order events, got 0 items'],
    ['an oversized batch', { events: Array.from({ length: 11 }, () => orderEvent()) }, '/events must be an array of 1..10 order events, got 11 items'],
    ['a batch with extra fields', { events: [orderEvent()], topic: 'x' }, '/topic is not an allowed field next to events'],
  ])('fails on %s', async (_name, payload, problem) => {
    await expect(p.invoke(payload)).rejects.toThrow(`Invalid order event: ${problem}`);
    expect(p.sns.calls()).toHaveLength(0);
  });

  test('SNS errors propagate (the invocation fails and can be retried with the same eventId)', async () => {
    p.sns.on(p.commands.PublishCommand).rejects(Object.assign(new Error('Throttled'), { name: 'ThrottledException' }));

    await expect(p.invoke(orderEvent())).rejects.toThrow('Throttled');
  });
});

describe('FIFO topic', () => {
  test('MessageGroupId is the customerId and MessageDeduplicationId the eventId, in Publish and PublishBatch', async () => {
    // Prepare
    const p = load({ TOPIC_ARN: FIFO_TOPIC, FIFO: 'true' });
    p.sns.on(p.commands.PublishCommand).resolves({ MessageId: 'm-1', SequenceNumber: '1' });
    p.sns.on(p.commands.PublishBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm-2' }] });
    const one = orderEvent({ type: 'paid', amount: 150.25 });
    const two = orderEvent({ customerId: 'c-7' });

    try {
      // Act
      await p.invoke(one);
      await p.invoke({ events: [two] });

      // Assess
      expect(p.sns.commandCalls(p.commands.PublishCommand)[0].args[0].input).toEqual({
        TopicArn: FIFO_TOPIC,
        Message: JSON.stringify(one),
        MessageAttributes: ATTRIBUTES,
        MessageGroupId: 'customer-1',
        MessageDeduplicationId: one.eventId,
      });
      expect(p.sns.commandCalls(p.commands.PublishBatchCommand)[0].args[0].input.PublishBatchRequestEntries).toEqual([
        expect.objectContaining({ Id: '0', MessageGroupId: 'c-7', MessageDeduplicationId: two.eventId }),
      ]);
    } finally {
      p.sns.restore();
    }
  });
});
