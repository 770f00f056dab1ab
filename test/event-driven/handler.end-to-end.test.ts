/**
 * End to end on local engines: items written to a dynalite table -> captured DynamoDB Streams
 * records -> the publisher (driven like an event source mapping with ReportBatchItemFailures) ->
 * the local EventBridge bus -> rules -> the projection consumer -> the projection table, which
 * must equal the source table (items for live ones, tombstones for deleted ones), with PutEvents
 * faults, a replayed batch and duplicate deliveries along the way. A second rule with content
 * filtering receives exactly the events its pattern selects.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { useDynaliteTable } from '../helpers/dynalite';
import { StreamCapture, canonicalItem, runStreamMapping, streamEvent } from '../helpers/dynamodb-stream';
import { useLocalEventBus, type BusEvent } from '../helpers/event-bus';
import { TEST_ENTITY, TEST_SOURCE, loadConsumer, loadPublisher } from '../helpers/event-driven';
import { prng } from '../helpers/telemetry';

const local = useDynaliteTable();
const engine = useLocalEventBus({ busName: 'e2e-bus' });

type Item = Record<string, AttributeValue>;

test('the projection equals the source table after faults, a replay and duplicate deliveries', async () => {
  const sourceTable = await local.dynamo.createTable();
  const projectionTable = await local.dynamo.createTable();
  const publisher = loadPublisher({ EVENT_BUS_NAME: engine.bus.busArn, EVENT_SOURCE: TEST_SOURCE, ENTITY_NAME: TEST_ENTITY });
  const consumer = loadConsumer({ TABLE_NAME: projectionTable });
  const highValue: BusEvent[] = [];
  // The rules as a subscriber would write them (the construct synthesizes such EventPatterns).
  engine.bus.addRule({
    name: 'projection',
    eventPattern: { 'source': [TEST_SOURCE], 'detail-type': [{ prefix: `${TEST_ENTITY}.` }] },
    target: (event) => consumer.invoke(event),
  });
  engine.bus.addRule({
    name: 'high-value-updates',
    eventPattern: JSON.stringify({ 'detail-type': ['order.updated.v1'], 'detail': { item: { amount: [{ numeric: ['>=', 500] }] }, changedFields: ['amount'] } }),
    target: (event) => {
      highValue.push(event);
    },
  });

  // A workload over 12 items: creates, updates (amount, status, sets, binary), deletes and re-creates.
  const random = prng(19);
  const capture = new StreamCapture(local.dynamo.client, sourceTable);
  const key = (i: number): Item => ({ pk: { S: `ORDER#${i}` }, sk: { S: 'A' } });
  for (let step = 0; step < 120; step++) {
    const i = Math.floor(random() * 12);
    const r = random();
    if (r < 0.35) {
      await capture.put({ ...key(i), amount: { N: String(Math.floor(random() * 1000)) }, status: { S: 'new' }, raw: { B: Buffer.from([i, step % 256]) } });
    } else if (r < 0.8) {
      try {
        await capture.update(key(i), {
          UpdateExpression: 'SET amount = :a, #s = :s ADD tags :t',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':a': { N: String(Math.floor(random() * 1000)) }, ':s': { S: random() < 0.5 ? 'paid' : 'shipped' }, ':t': { SS: [`t${step % 5}`] } },
        });
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
    } else {
      await capture.delete(key(i));
    }
  }
  const records = capture.drain();
  expect(records.length).toBeGreaterThan(60);

  // Faults: some entries fail on their first attempt; some calls are throttled or lose their answer.
  let faultCount = 0;
  engine.bus.failEntries((entry, call) => (call % 3 === 1 && (entry.Detail?.length ?? 0) % 4 === 0 ? 'ThrottlingException' : undefined));
  engine.bus.failCalls(1);
  const run = await runStreamMapping(records, async (event) => {
    if (++faultCount === 3) engine.bus.loseResponses(1);
    return publisher.invoke(event);
  }, { batchSize: 25 });
  expect(run.invocations).toBeGreaterThanOrEqual(Math.ceil(records.length / 25));
  engine.bus.clearFaults();
  // A replay of part of the stream (e.g. a mapping reset to an older position): same ids again.
  await publisher.invoke(streamEvent(records.slice(10, 40)));
  await engine.bus.settled();

  expect(engine.bus.deadLetters).toEqual([]);
  expect(engine.bus.calls.some((c) => c.outcome === 'lost')).toBe(true);
  expect(engine.bus.calls.some((c) => c.outcome === 'failed')).toBe(true);
  expect(engine.bus.calls.some((c) => c.results.some((r) => r.errorCode !== undefined))).toBe(true);
  const source = await local.dynamo.scanAll(sourceTable);
  const projected = await local.dynamo.scanAll(projectionTable);
  const live = projected.filter((p) => p.deleted === undefined);
  expect(live.map((p) => canonicalItem(p.item.M!)).sort()).toEqual(source.map(canonicalItem).sort());
  // Every item ever written has a projection: the deleted ones as tombstones.
  const everWritten = new Set(records.map((r) => r.dynamodb!.Keys!.pk.S));
  expect(projected).toHaveLength(everWritten.size);
  const deletedKeys = [...everWritten].filter((pk) => !source.some((s) => s.pk.S === pk)).sort();
  expect(projected.filter((p) => p.deleted !== undefined).map((p) => p.keys.M!.pk.S).sort()).toEqual(deletedKeys);

  // The content-filtered rule saw exactly the updates of amount to 500 or more (once or more each, never another).
  const expectedIds = new Set(records.filter((r) => r.eventName === 'MODIFY'
    && Number(r.dynamodb!.NewImage!.amount.N) >= 500 && r.dynamodb!.NewImage!.amount.N !== r.dynamodb!.OldImage!.amount?.N).map((r) => r.eventID));
  expect(new Set(highValue.map((e) => e.detail.eventId))).toEqual(expectedIds);
  expect(expectedIds.size).toBeGreaterThan(0);
});
