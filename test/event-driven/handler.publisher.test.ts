/**
 * The publisher on real engines: changes made on dynalite, captured as DynamoDB Streams records
 * (test/helpers/dynamodb-stream.ts), published with the real EventBridge client to the local bus
 * (local/engines/event-bus.ts). Every published detail is validated against the v1 JSON Schemas.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { useDynaliteTable } from '../helpers/dynalite';
import { StreamCapture, streamEvent } from '../helpers/dynamodb-stream';
import { useLocalEventBus, type ReceivedEvent } from '../helpers/event-bus';
import { TEST_ENTITY, TEST_SOURCE, loadPublisher, schemaErrors, type LoadedPublisher } from '../helpers/event-driven';
import { capturingStdout } from '../helpers/load-poller';

const local = useDynaliteTable();
const engine = useLocalEventBus({ busName: 'orders-bus' });

let capture: StreamCapture;
let publisher: LoadedPublisher;

beforeEach(() => {
  capture = new StreamCapture(local.dynamo.client, local.tableName);
  engine.bus.reset();
  engine.bus.clearFaults();
  publisher = loadPublisher({ EVENT_BUS_NAME: engine.bus.busName, EVENT_SOURCE: TEST_SOURCE, ENTITY_NAME: TEST_ENTITY });
});

const key = (id: string): Record<string, AttributeValue> => ({ pk: { S: `ORDER#${id}` }, sk: { S: 'A' } });

function details(received: readonly ReceivedEvent[]): Array<Record<string, unknown>> {
  return received.map((r) => r.event.detail);
}

function expectSchemaValid(received: readonly ReceivedEvent[]): void {
  for (const r of received) expect([r.event['detail-type'], schemaErrors(r.event['detail-type'], r.event.detail)]).toEqual([r.event['detail-type'], []]);
}

describe('created, updated, deleted', () => {
  test('publishes one schema-valid event per change, with keys, version, images and changed fields', async () => {
    await capture.put({ ...key('1'), status: { S: 'new' }, amount: { N: '12.50' }, tags: { SS: ['b', 'a'] } });
    await capture.update(key('1'), {
      UpdateExpression: 'SET #s = :s, note = :n REMOVE tags',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': { S: 'paid' }, ':n': { S: 'first payment' } },
    });
    await capture.delete(key('1'));
    const records = capture.drain();

    const response = await publisher.invoke(streamEvent(records));

    expect(response).toEqual({ batchItemFailures: [] });
    const received = engine.bus.received;
    expect(received.map((r) => r.event['detail-type'])).toEqual(['order.created.v1', 'order.updated.v1', 'order.deleted.v1']);
    expect(received.every((r) => r.event.source === TEST_SOURCE && r.busName === 'orders-bus')).toBe(true);
    expect(received[0].event.resources).toEqual([`arn:aws:dynamodb:us-east-1:123456789012:table/${local.tableName}`]);
    expectSchemaValid(received);
    const [created, updated, deleted] = details(received);
    expect(created).toEqual({
      eventId: records[0].eventID,
      entity: 'order',
      change: 'created',
      keys: { pk: 'ORDER#1', sk: 'A' },
      version: records[0].dynamodb!.SequenceNumber!.padStart(40, '0'),
      occurredAt: new Date(records[0].dynamodb!.ApproximateCreationDateTime! * 1000).toISOString(),
      item: { pk: 'ORDER#1', sk: 'A', status: 'new', amount: 12.5, tags: { $ss: ['a', 'b'] } },
      changedFields: ['amount', 'pk', 'sk', 'status', 'tags'],
    });
    expect(updated).toMatchObject({
      change: 'updated',
      item: { pk: 'ORDER#1', sk: 'A', status: 'paid', amount: 12.5, note: 'first payment' },
      changedFields: ['note', 'status', 'tags'],
      previous: { status: 'new', tags: { $ss: ['a', 'b'] } },
    });
    expect(deleted).toMatchObject({ change: 'deleted', item: { status: 'paid', note: 'first payment' }, changedFields: ['amount', 'note', 'pk', 'sk', 'status'] });
    expect(deleted).not.toHaveProperty('expired');
    // Versions order the changes of the item.
    const versions = details(received).map((d) => d.version as string);
    expect([...versions].sort()).toEqual(versions);
  });

  test('a deletion by TTL says expired', async () => {
    await capture.put({ ...key('ttl'), expiresAt: { N: '1' } });
    await capture.delete(key('ttl'), { ttl: true });

    expect(await publisher.invoke(streamEvent(capture.drain()))).toEqual({ batchItemFailures: [] });

    expect(details(engine.bus.received)[1]).toMatchObject({ change: 'deleted', expired: true });
    expectSchemaValid(engine.bus.received);
  });

  test('a MODIFY whose images are equal publishes nothing and is not a failure', async () => {
    const record = await capture.put({ ...key('same'), n: { N: '1' } });
    const unchanged = JSON.parse(JSON.stringify(record));
    unchanged.eventName = 'MODIFY';
    unchanged.eventID = 'f'.repeat(32);
    unchanged.dynamodb.SequenceNumber = '900000000000000000000';
    unchanged.dynamodb.OldImage = { ...unchanged.dynamodb.NewImage, n: { N: '1.0' } }; // same number

    expect(await publisher.invoke({ Records: [unchanged] })).toEqual({ batchItemFailures: [] });

    expect(engine.bus.received).toHaveLength(0);
    expect(engine.bus.calls).toHaveLength(0);
  });

  test('the bus may be given by ARN: PutEvents gets it as given', async () => {
    const arnPublisher = loadPublisher({ EVENT_BUS_NAME: engine.bus.busArn, EVENT_SOURCE: TEST_SOURCE, ENTITY_NAME: TEST_ENTITY });
    await capture.put({ ...key('arn') });

    expect(await arnPublisher.invoke(streamEvent(capture.drain()))).toEqual({ batchItemFailures: [] });

    expect(engine.bus.calls[0].entries[0].EventBusName).toBe(engine.bus.busArn);
    expect(engine.bus.received.map((r) => r.busName)).toEqual(['orders-bus']);
  });
});

describe('values', () => {
  test('38-digit numbers, binary, sets, NULL, nested maps and tag-like maps are encoded losslessly', async () => {
    await capture.put({
      ...key('values'),
      big: { N: '12345678901234567890123456789012345678' },
      small: { N: '0.1000000000000000000000000000000000001' },
      plain: { N: '-42' },
      bin: { B: Buffer.from([0, 255, 1, 2]) },
      bins: { BS: [Buffer.from('b'), Buffer.from('a')] },
      nums: { NS: ['10', '9', '1.5'] },
      nothing: { NULL: true },
      flag: { BOOL: false },
      nested: { M: { list: { L: [{ S: 'x' }, { N: '1' }, { M: { deep: { S: 'y' } } }] } } },
      tagLike: { M: { $n: { S: 'not a number tag' } } },
      empty: { S: '' },
    });

    await publisher.invoke(streamEvent(capture.drain()));

    const item = details(engine.bus.received)[0].item as Record<string, unknown>;
    expect(item).toMatchObject({
      big: { $n: '12345678901234567890123456789012345678' },
      small: { $n: '0.1000000000000000000000000000000000001' },
      plain: -42,
      bin: { $b: Buffer.from([0, 255, 1, 2]).toString('base64') },
      bins: { $bs: [Buffer.from('a').toString('base64'), Buffer.from('b').toString('base64')] },
      nums: { $ns: ['1.5', '9', '10'] },
      nothing: null,
      flag: false,
      nested: { list: ['x', 1, { deep: 'y' }] },
      tagLike: { $m: { $n: 'not a number tag' } },
      empty: '',
    });
    expectSchemaValid(engine.bus.received);
  });
});

describe('batching', () => {
  test('25 changes go in requests of at most 10 entries, in order', async () => {
    for (let i = 0; i < 25; i++) await capture.put({ ...key(`batch-${String(i).padStart(2, '0')}`), i: { N: String(i) } });
    const records = capture.drain();

    expect(await publisher.invoke(streamEvent(records))).toEqual({ batchItemFailures: [] });

    // Requests run in parallel: order them by their first event's version to read them in record order.
    const requests = engine.bus.calls.map((c) => c.entries.map((e) => JSON.parse(e.Detail!) as { eventId: string; version: string }))
      .sort((a, b) => (a[0].version < b[0].version ? -1 : 1));
    expect(requests.map((r) => r.length)).toEqual([10, 10, 5]);
    expect(requests.flat().map((d) => d.eventId)).toEqual(records.map((r) => r.eventID));
  });

  test('requests stay within 256 KB: an entry near the limit goes alone, oversized items are truncated', async () => {
    const near = 'n'.repeat(200_000); // ~200 KB event: fits, but not with another one of this size
    await capture.put({ ...key('big-1'), blob: { S: near } });
    await capture.put({ ...key('big-2'), blob: { S: near } });
    await capture.put({ ...key('huge'), blob: { S: 'h'.repeat(300_000) } }); // the event would be ~300 KB
    await capture.put({ ...key('small') });
    const records = capture.drain();
    const withMetrics = loadPublisher({
      EVENT_BUS_NAME: engine.bus.busName, EVENT_SOURCE: TEST_SOURCE, ENTITY_NAME: TEST_ENTITY, POWERTOOLS_METRICS_DISABLED: 'false',
    });

    const { result, stdout } = await capturingStdout(() => withMetrics.invoke(streamEvent(records)));

    expect(result).toEqual({ batchItemFailures: [] });
    // The truncated event is counted, for subscribers whose filters read `item`.
    const emf = JSON.parse(stdout.split('\n').find((l) => l.includes('"_aws"'))!) as Record<string, unknown>;
    expect(emf).toMatchObject({ TruncatedEvents: 1, PublishedEvents: 4 });
    const sizes = engine.bus.calls.map((c) => c.entries.reduce((sum, e) => sum + 14 + Buffer.byteLength(e.Source!) + Buffer.byteLength(e.DetailType!)
      + Buffer.byteLength(e.Detail!) + (e.Resources ?? []).reduce((s, r) => s + Buffer.byteLength(r), 0), 0));
    expect(sizes.every((s) => s <= 262_144)).toBe(true);
    expect(engine.bus.calls.map((c) => c.outcome)).toEqual(engine.bus.calls.map(() => 'answered'));
    expect(engine.bus.calls.length).toBeGreaterThanOrEqual(2);
    const byKey = new Map(details(engine.bus.received).map((d) => [(d.keys as { pk: string }).pk, d]));
    expect(byKey.get('ORDER#big-1')).toHaveProperty('item.blob', near);
    expect(byKey.get('ORDER#huge')).toEqual(expect.objectContaining({ truncated: true, changedFields: ['blob', 'pk', 'sk'] }));
    expect(byKey.get('ORDER#huge')).not.toHaveProperty('item');
    expect(engine.bus.received).toHaveLength(4);
    expectSchemaValid(engine.bus.received);
  });
});

describe('replay', () => {
  test('replaying a stream batch publishes no new ids: the same eventIds and versions again', async () => {
    for (let i = 0; i < 12; i++) await capture.put({ ...key(`replay-${i}`), v: { N: String(i) } });
    await capture.update(key('replay-3'), { UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '33' } } });
    await capture.delete(key('replay-4'));
    const batch = streamEvent(capture.drain());

    await publisher.invoke(batch);
    const first = details(engine.bus.received).map((d) => [d.eventId, d.version]);
    engine.bus.reset();
    await loadPublisher({ EVENT_BUS_NAME: engine.bus.busName, EVENT_SOURCE: TEST_SOURCE, ENTITY_NAME: TEST_ENTITY }).invoke(batch); // a new execution environment
    const second = details(engine.bus.received).map((d) => [d.eventId, d.version]);

    expect(second).toEqual(first);
    expect(new Set(first.map(([id]) => id)).size).toBe(14);
    // EventBridge's own envelope ids differ per PutEvents; the contract's id is detail.eventId.
  });
});
