/**
 * The projection consumer on dynalite: idempotent (the same event twice changes nothing), safe
 * under reordering by version (older after newer; a late update after a delete cannot bring the
 * item back), and bad events rejected with a named error and no change. Events are the ones the
 * publisher builds for changes captured on a real source table.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { useDynaliteTable } from '../helpers/dynalite';
import { StreamCapture, canonicalItem } from '../helpers/dynamodb-stream';
import { envelopesOf, loadConsumer, schemaErrors, type LoadedConsumer, type TestEnvelope } from '../helpers/event-driven';

const local = useDynaliteTable();
let sourceTable: string;
let projectionTable: string;
let consumer: LoadedConsumer;
let n = 0;

beforeAll(async () => {
  sourceTable = await local.dynamo.createTable();
});

beforeEach(async () => {
  projectionTable = await local.dynamo.createTable();
  consumer = loadConsumer({ TABLE_NAME: projectionTable });
});

const key = (id: string): Record<string, AttributeValue> => ({ pk: { S: `ORDER#${id}` }, sk: { S: 'A' } });

/** Created (v1), updated (v2), updated (v3), deleted (v4) of one item, as delivered events. */
async function lifecycle(): Promise<{ events: TestEnvelope[]; states: Array<Record<string, AttributeValue> | undefined> }> {
  const capture = new StreamCapture(local.dynamo.client, sourceTable);
  const k = key(`life-${++n}`);
  const states: Array<Record<string, AttributeValue> | undefined> = [];
  await capture.put({ ...k, status: { S: 'created' }, amount: { N: '10' }, data: { B: Buffer.from([1, 2, 3]) } });
  states.push((await local.dynamo.scanAll(sourceTable)).find((i) => i.pk.S === k.pk.S));
  await capture.update(k, { UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'paid' } } });
  states.push((await local.dynamo.scanAll(sourceTable)).find((i) => i.pk.S === k.pk.S));
  await capture.update(k, { UpdateExpression: 'SET tags = :t', ExpressionAttributeValues: { ':t': { SS: ['x', 'y'] } } });
  states.push((await local.dynamo.scanAll(sourceTable)).find((i) => i.pk.S === k.pk.S));
  await capture.delete(k);
  states.push(undefined);
  return { events: envelopesOf(capture.drain()), states };
}

async function projection(): Promise<Array<Record<string, AttributeValue>>> {
  return local.dynamo.scanAll(projectionTable);
}

describe('projection', () => {
  test('each change is projected: the item, attribute for attribute, then a tombstone with a TTL', async () => {
    const { events, states } = await lifecycle();

    for (const [i, event] of events.slice(0, 3).entries()) {
      expect(await consumer.invoke(event)).toEqual({ eventId: event.detail.eventId, outcome: 'applied' });
      const [item] = await projection();
      expect(canonicalItem(item.item.M!)).toBe(canonicalItem(states[i]!));
      expect(item).toMatchObject({ version: { S: event.detail.version }, eventId: { S: event.detail.eventId }, change: { S: event.detail.change } });
      expect(item.keys.M).toEqual({ pk: states[0]!.pk, sk: states[0]!.sk });
    }
    const before = Math.floor(Date.now() / 1000);
    expect(await consumer.invoke(events[3])).toEqual({ eventId: events[3].detail.eventId, outcome: 'applied' });
    const after = Math.floor(Date.now() / 1000);

    const [tombstone] = await projection();
    expect(tombstone.item).toBeUndefined();
    expect(tombstone.deleted).toEqual({ BOOL: true });
    const expiresAt = Number(tombstone.expiresAt.N);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * 86_400);
    expect(expiresAt).toBeLessThanOrEqual(after + 30 * 86_400);
  });

  test('the same event twice: the second is a duplicate and changes nothing', async () => {
    const { events } = await lifecycle();
    await consumer.invoke(events[0]);
    const once = await projection();

    expect(await consumer.invoke({ ...events[0], id: 'another-delivery' })).toEqual({ eventId: events[0].detail.eventId, outcome: 'duplicate' });
    expect(await loadConsumer({ TABLE_NAME: projectionTable }).invoke(events[0])).toMatchObject({ outcome: 'duplicate' });

    expect(await projection()).toEqual(once);
  });

  test('an older event after a newer one is stale and changes nothing', async () => {
    const { events, states } = await lifecycle();
    await consumer.invoke(events[2]);

    expect(await consumer.invoke(events[0])).toMatchObject({ outcome: 'stale' });
    expect(await consumer.invoke(events[1])).toMatchObject({ outcome: 'stale' });

    const [item] = await projection();
    expect(canonicalItem(item.item.M!)).toBe(canonicalItem(states[2]!));
  });

  test('a late update after the delete does not resurrect the item: the tombstone stays', async () => {
    const { events } = await lifecycle();
    await consumer.invoke(events[3]);
    const tombstone = await projection();

    expect(await consumer.invoke(events[1])).toMatchObject({ outcome: 'stale' });
    expect(await consumer.invoke(events[0])).toMatchObject({ outcome: 'stale' });

    expect(await projection()).toEqual(tombstone);
  });

  test('any delivery order with duplicates ends in the state of the latest change', async () => {
    const { events } = await lifecycle();
    const { events: second } = await lifecycle();
    await fc.assert(fc.asyncProperty(
      fc.shuffledSubarray([...events, ...events, ...second, ...second.slice(0, 3)], { minLength: 15, maxLength: 15 }),
      async (deliveries) => {
        const table = await local.dynamo.createTable();
        const fresh = loadConsumer({ TABLE_NAME: table });
        for (const event of deliveries) await fresh.invoke(event);
        const items = await local.dynamo.scanAll(table);
        const byPk = new Map(items.map((i) => [i.pk.S, i]));
        // The tombstone of the first item (its delete is the latest change) and the third state of the second.
        const eventIds = [...byPk.values()].map((i) => i.eventId.S).sort();
        expect(eventIds).toEqual([events[3].detail.eventId, second[3].detail.eventId].sort());
        await local.dynamo.deleteTable(table);
      },
    ), { numRuns: 10 });
  });
});

describe('deep items', () => {
  test.each([[5, 'item'], [31, 'itemJson']])('an item nested %i levels below its top is projected as %s', async (levels, attribute) => {
    const { events } = await lifecycle();
    let deep: unknown = 'bottom';
    for (let i = 0; i < levels; i++) deep = { [`l${i}`]: deep };
    const event = { ...events[0], detail: { ...events[0].detail, item: { ...(events[0].detail.item as object), deep } } };

    expect(await consumer.invoke(event)).toMatchObject({ outcome: 'applied' });

    const [item] = await projection();
    expect(Object.keys(item)).toContain(attribute);
    if (attribute === 'itemJson') expect(JSON.parse(item.itemJson.S!)).toEqual(event.detail.item);
  });
});

describe('bad events', () => {
  const valid = async (): Promise<TestEnvelope> => (await lifecycle()).events[1];

  test.each([
    ['not an object', () => 'text'],
    ['no detail', (e: TestEnvelope) => ({ ...e, detail: undefined })],
    ['a detail type of another contract', (e: TestEnvelope) => ({ ...e, 'detail-type': 'order.updated.v2' })],
    ['entity not matching the detail type', (e: TestEnvelope) => ({ ...e, detail: { ...e.detail, entity: 'invoice' } })],
    ['change not matching the detail type', (e: TestEnvelope) => ({ ...e, detail: { ...e.detail, change: 'created' } })],
    ['a version that is not 40 digits', (e: TestEnvelope) => ({ ...e, detail: { ...e.detail, version: '12' } })],
    ['no item and not truncated', (e: TestEnvelope) => ({ ...e, detail: { ...e.detail, item: undefined } })],
    ['an item value that is not an attribute value', (e: TestEnvelope) => ({ ...e, detail: { ...e.detail, item: { x: { $n: 'abc' } } } })],
    ['keys with three attributes', (e: TestEnvelope) => ({ ...e, detail: { ...e.detail, keys: { a: 'x', b: 'y', c: 'z' } } })],
    ['a key that is a map', (e: TestEnvelope) => ({ ...e, detail: { ...e.detail, keys: { pk: { nested: 'x' } } } })],
    ['an unknown field', (e: TestEnvelope) => ({ ...e, detail: { ...e.detail, extra: 1 } })],
    ['expired on an update', (e: TestEnvelope) => ({ ...e, detail: { ...e.detail, expired: true } })],
  ])('rejects %s with MalformedEventError and writes nothing', async (_name, mutate) => {
    const event = mutate(await valid());

    await expect(consumer.invoke(JSON.parse(JSON.stringify(event ?? null)))).rejects.toThrow(expect.objectContaining({ name: 'MalformedEventError' }));
    expect(await projection()).toEqual([]);
  });

  test('whatever the consumer accepts, the published schema accepts too; what the schema refuses, the consumer refuses', async () => {
    const base = await valid();
    const mutation = fc.tuple(
      fc.constantFrom('eventId', 'entity', 'change', 'keys', 'version', 'occurredAt', 'item', 'changedFields', 'previous', 'truncated', 'expired', 'extra'),
      fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(true, '0'.repeat(40), [], {}, { $n: '1' }, { $b: '!' }, { $ss: [] })),
    );
    await fc.assert(fc.asyncProperty(mutation, async ([field, value]) => {
      const detail: Record<string, unknown> = { ...base.detail };
      if (value === undefined) delete detail[field];
      else detail[field] = value;
      const event = JSON.parse(JSON.stringify({ ...base, detail })) as TestEnvelope;
      const schemaOk = schemaErrors(event['detail-type'], event.detail).length === 0;
      let consumerOk = true;
      try {
        await consumer.invoke(event);
      } catch (err) {
        expect((err as Error).name).toBe('MalformedEventError');
        consumerOk = false;
      }
      if (consumerOk) expect(schemaOk).toBe(true);
      if (!schemaOk) expect(consumerOk).toBe(false);
    }), { numRuns: 200 });
  });
});
