/**
 * Fan-out consumers when DynamoDB applies a write but its answer is lost (the connection is reset
 * instead): the SDK sends the same write again, whose condition then fails because the first
 * attempt applied. The message must succeed as after a single attempt, and the table must hold
 * exactly one effect of the event. When every answer is lost, the message is a batch item failure
 * and SQS's redelivery, without faults, still leaves exactly one effect.
 * The fault comes from a proxy in front of dynalite (test/helpers/dynamo-fault-proxy.ts).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { useDynamoBehindFaultProxy } from '../helpers/dynamo-fault-proxy';
import { CONSUMERS, loadConsumer, orderEvent, publishOf, type ConsumerName, type LoadedConsumer, type TestOrderEvent } from '../helpers/fan-out';
import { envelopeRecord, redeliveryOf, sqsEvent } from '../helpers/sqs-events';

const WRITES = ['PutItem', 'UpdateItem'] as const;
type Item = Record<string, AttributeValue>;

const local = useDynamoBehindFaultProxy();

afterEach(() => {
  for (const op of WRITES) local.proxy.loseResponses(op, 0);
});

const writesForwarded = (): number => WRITES.reduce((sum, op) => sum + local.proxy.forwarded(op), 0);

/**
 * Loses the answer of the first attempt of every write the consumer sends: the loss is armed
 * just before each `send`, so it hits that write and not whichever request happens to come next.
 * The SDK's own retries do not pass through `send` again, so only first attempts are lost.
 * One message per batch keeps the writes sequential.
 */
async function withFirstAnswersLost<T>(consumer: LoadedConsumer, act: () => Promise<T>): Promise<{ result: T; writes: number }> {
  const proto = consumer.libDynamodb.DynamoDBDocumentClient.prototype as unknown as { send: (...args: unknown[]) => unknown };
  const hadOwn = Object.prototype.hasOwnProperty.call(proto, 'send');
  const realSend = proto.send;
  let writes = 0;
  proto.send = function send(this: unknown, ...args: unknown[]) {
    const name = (args[0] as { constructor?: { name?: string } } | undefined)?.constructor?.name;
    const op = name === 'PutCommand' ? 'PutItem' : name === 'UpdateCommand' ? 'UpdateItem' : undefined;
    if (op !== undefined) {
      writes++;
      local.proxy.loseResponses(op, 1);
    }
    return realSend.apply(this, args);
  };
  try {
    return { result: await act(), writes };
  } finally {
    if (hadOwn) proto.send = realSend;
    else delete (proto as { send?: unknown }).send;
  }
}

/** The items of a table without the fields that differ between deliveries (message ids, write time). */
async function effects(table: string): Promise<Item[]> {
  return (await local.dynamo.scanAll(table)).map(({ recordedAt, sqsMessageId, snsMessageId, ...rest }) => rest);
}

/** The table after one clean delivery of `event`: the one effect every faulty delivery must leave. */
async function referenceEffects(name: ConsumerName, event: TestOrderEvent): Promise<Item[]> {
  const table = await local.dynamo.createTable();
  const clean = loadConsumer(name, { TABLE_NAME: table });
  expect(await clean.invoke(sqsEvent([envelopeRecord(publishOf(event))]))).toEqual({ batchItemFailures: [] });
  return effects(table);
}

const setOf = (value: AttributeValue | undefined): string[] => [...(value?.SS ?? [])].sort();

/** What each consumer's single effect of `event` is, checked on the items themselves. */
const ONE_EFFECT: Record<ConsumerName, (items: Item[], event: TestOrderEvent) => void> = {
  'audit-consumer': (items, event) => {
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ pk: { S: `AUDIT#${event.eventId}` }, sk: { S: 'EVENT' }, eventId: { S: event.eventId }, amount: { N: String(event.amount) } });
  },
  'high-value-consumer': (items, event) => {
    expect(items.map((i) => i.sk.S)).toEqual([`ORDER#${event.orderId}`, `TOTAL#${event.currency}#2025-01`]);
    const [flag, total] = items;
    expect(setOf(flag.eventTypes)).toEqual([event.type]);
    expect(total.totalAmount).toEqual({ N: String(event.amount) });
    expect(total.eventCount).toEqual({ N: '1' });
    expect(setOf(total.eventIds)).toEqual([event.eventId]);
  },
  'projection-consumer': (items, event) => {
    expect(items.map((i) => i.pk.S)).toEqual([`ORDER#${event.orderId}`, `TYPECOUNT#${event.type}`]);
    const [status, count] = items;
    expect(status).toMatchObject({ status: { S: event.type }, eventId: { S: event.eventId } });
    expect(count.eventCount).toEqual({ N: '1' });
    expect(setOf(count.eventIds)).toEqual([event.eventId]);
  },
};

describe.each(CONSUMERS.map((name) => [name]))('%s', (name) => {
  test('every write\'s first answer lost: the message succeeds and the table holds one effect', async () => {
    // Prepare
    const table = await local.dynamo.createTable();
    const consumer = loadConsumer(name, { TABLE_NAME: table });
    const event = orderEvent({ type: 'paid', amount: 250.25 });
    const batch = sqsEvent([envelopeRecord(publishOf(event))]);
    const before = writesForwarded();

    // Act
    const { result, writes } = await withFirstAnswersLost(consumer, () => consumer.invoke(batch));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    // Each write was sent twice: its first attempt applied unanswered, the SDK's retry answered.
    expect(writes).toBeGreaterThan(0);
    expect(writesForwarded() - before).toBe(2 * writes);
    const stored = await effects(table);
    ONE_EFFECT[name](stored, event);
    expect(stored).toEqual(await referenceEffects(name, event));
  });

  test('every answer lost: the message is a batch item failure, and its redelivery leaves one effect', async () => {
    // Prepare
    const table = await local.dynamo.createTable();
    const consumer = loadConsumer(name, { TABLE_NAME: table });
    const event = orderEvent({ type: 'shipped', amount: 180 });
    const other = orderEvent({ type: 'created', amount: 130 });
    const batch = sqsEvent([envelopeRecord(publishOf(event))]);

    // Act: every attempt applies and is never answered
    for (const op of WRITES) local.proxy.loseResponses(op, 1_000);
    const failed = await consumer.invoke(batch);
    for (const op of WRITES) local.proxy.loseResponses(op, 0);
    const appliedUnanswered = await effects(table);
    const redelivery = redeliveryOf(batch, failed);
    const retried = await consumer.invoke(redelivery);
    // The same message once more (e.g. a visibility timeout that ran out): still one effect.
    const again = await consumer.invoke(redelivery);

    // Assess
    expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: batch.Records[0].messageId }] });
    expect(appliedUnanswered.length).toBeGreaterThan(0);
    expect(retried).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    const stored = await effects(table);
    ONE_EFFECT[name](stored, event);
    expect(stored).toEqual(await referenceEffects(name, event));

    // Later messages are unaffected.
    expect(await consumer.invoke(sqsEvent([envelopeRecord(publishOf(other))]))).toEqual({ batchItemFailures: [] });
    expect((await effects(table)).length).toBeGreaterThan(stored.length);
  });
});
