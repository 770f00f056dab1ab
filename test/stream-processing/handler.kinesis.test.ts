/**
 * Stream processor against local engines with real records: events are put into a kinesalite
 * stream, read back with GetShardIterator/GetRecords, turned into Lambda Kinesis events and
 * processed by the handler against dynalite. Checks exact per-minute counts and the latest event
 * per source, under replays, out-of-order delivery and bisected batches.
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { startKinesalite, type LocalKinesis } from '../../local/engines/kinesis';
import { batchesOf, fromShardRecords } from '../helpers/kinesis-events';
import { TEST_QUEUE_URL, loadStreamProcessor, type LoadedStreamProcessor } from '../helpers/stream-processor';
import { expectedState, stateFromItems, telemetryEvents, type TelemetryInput } from '../helpers/telemetry';

let dynamo: LocalDynamo;
let kinesis: LocalKinesis;
let streamCounter = 0;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let sqs: AwsStub<any, any, any>;

beforeAll(async () => {
  [dynamo, kinesis] = await Promise.all([startDynalite(), startKinesalite()]);
});

afterAll(async () => {
  sqs?.restore();
  await Promise.all([dynamo?.stop(), kinesis?.stop()]);
});

/** A handler cold-started against a fresh table. */
async function freshHandler(env: Record<string, string> = {}): Promise<{ processor: LoadedStreamProcessor; tableName: string }> {
  const tableName = await dynamo.createTable();
  const processor = loadStreamProcessor({ TABLE_NAME: tableName, REJECTED_QUEUE_URL: TEST_QUEUE_URL, ...env });
  sqs?.restore();
  sqs = mockClient(processor.clientSqs.SQSClient);
  sqs.onAnyCommand().rejects(new Error('no record of these tests may be rejected'));
  return { processor, tableName };
}

/** Puts the events into a new stream (partition key = source) and reads them back as Lambda records. */
async function throughKinesis(events: readonly TelemetryInput[], shards: number): Promise<KinesisStreamRecord[]> {
  const stream = `telemetry-${++streamCounter}`;
  await kinesis.createStream(stream, shards);
  await kinesis.putRecords(stream, events.map((e) => ({ partitionKey: e.source, data: JSON.stringify(e) })));
  const read = await kinesis.readAll(stream);
  expect(read).toHaveLength(events.length);
  return fromShardRecords(stream, read);
}

/** Lambda batches per shard, as an event source mapping delivers them. */
function perShardBatches(records: readonly KinesisStreamRecord[], size: number): KinesisStreamEvent[] {
  const byShard = new Map<string, KinesisStreamRecord[]>();
  for (const r of records) {
    const shard = r.eventID.slice(0, r.eventID.lastIndexOf(':'));
    byShard.set(shard, [...(byShard.get(shard) ?? []), r]);
  }
  return [...byShard.values()].flatMap((rs) => batchesOf(rs, size));
}

async function processAll(processor: LoadedStreamProcessor, events: readonly KinesisStreamEvent[]): Promise<void> {
  for (const event of events) {
    const response = await processor.invoke(event);
    expect(response).toEqual({ batchItemFailures: [] });
  }
}

test('10,000 events across sources and shards land exactly: counts per source and minute, latest per source', async () => {
  // Prepare
  const { processor, tableName } = await freshHandler();
  const events = telemetryEvents(10_000, { sources: 12, minutes: 20, seed: 1 });
  const records = await throughKinesis(events, 4);
  const batches = perShardBatches(records, 250);

  // Act: shards are consumed concurrently, batches of one shard in order
  const byShard = new Map<string, KinesisStreamEvent[]>();
  for (const b of batches) {
    const shard = b.Records[0].eventID.split(':')[0];
    byShard.set(shard, [...(byShard.get(shard) ?? []), b]);
  }
  await Promise.all([...byShard.values()].map((shardBatches) => processAll(processor, shardBatches)));

  // Assess
  const state = stateFromItems(await dynamo.scanAll(tableName));
  const expected = expectedState(events);
  expect(Object.values(state.counts).reduce((a, b) => a + b, 0)).toBe(10_000);
  expect(state).toEqual(expected);
  expect(sqs.calls()).toHaveLength(0);
});

test('the same batch processed three times leaves the table identical', async () => {
  // Prepare
  const { processor, tableName } = await freshHandler();
  const events = telemetryEvents(400, { sources: 3, minutes: 3, seed: 2 });
  const [batch] = batchesOf(await throughKinesis(events, 1), 400);
  await processAll(processor, [batch]);
  const snapshot = await dynamo.scanAll(tableName);

  // Act
  await processAll(processor, [batch, batch]);

  // Assess
  expect(await dynamo.scanAll(tableName)).toEqual(snapshot);
  expect(stateFromItems(snapshot)).toEqual(expectedState(events));
});

test('out-of-order and replayed events never move the latest event backwards', async () => {
  // Prepare: one source; the newest event first, then older ones, a tie on the timestamp, replays
  const { processor, tableName } = await freshHandler();
  const at = (iso: string, id: string): TelemetryInput => ({ id, source: 'line-1', type: 'speed', timestamp: iso, payload: { id } });
  const newest = at('2025-01-31T12:05:00.000Z', 'b');
  const events = [
    newest,
    at('2025-01-31T12:04:59.999Z', 'z'),
    at('2025-01-31T12:05:00.000Z', 'a'), // same time, smaller id: older in (timestamp, id) order
    at('2025-01-31T13:05:00.000+01:00', 'a'), // the same instant with an offset
    at('2025-01-31T12:00:00Z', 'c'),
  ];
  const records = await throughKinesis(events, 1);

  // Act: the newest alone, then the rest one by one, then everything replayed in reverse
  await processAll(processor, [{ Records: [records[0]] }]);
  for (const r of records.slice(1)) await processAll(processor, [{ Records: [r] }]);
  await processAll(processor, [{ Records: [...records].reverse() }]);

  // Assess
  const items = await dynamo.scanAll(tableName);
  const latest = items.find((i) => i.sk.S === 'LATEST')!;
  expect(latest).toEqual({
    pk: { S: 'SOURCE#line-1' },
    sk: { S: 'LATEST' },
    id: { S: 'b' },
    source: { S: 'line-1' },
    type: { S: 'speed' },
    timestamp: { S: '2025-01-31T12:05:00.000Z' },
    epochMillis: { N: String(Date.parse('2025-01-31T12:05:00.000Z')) },
    payload: { M: { id: { S: 'b' } } },
  });
  // 'a' at 12:05 twice (one id) + 'b' + 'z' at 12:04 + 'c' at 12:00
  expect(stateFromItems(items).counts).toEqual({ 'line-1|2025-01-31T12:05': 2, 'line-1|2025-01-31T12:04': 1, 'line-1|2025-01-31T12:00': 1 });
});

test('bisected, overlapping and reordered sub-batches still give exact counts and the right latest events', async () => {
  // Prepare: one Lambda batch of real records; 10 % repeat an earlier id (producer retries)
  const base = telemetryEvents(180, { sources: 4, minutes: 4, seed: 3 });
  const events = base.map((e, i) => (i % 10 === 9 ? { ...e, id: base[i - 5].id, source: base[i - 5].source, timestamp: base[i - 5].timestamp } : e));
  const records = await throughKinesis(events, 2);
  const expected = expectedState(events);

  await fc.assert(fc.asyncProperty(
    fc.array(fc.tuple(fc.nat(records.length), fc.nat(records.length)), { minLength: 1, maxLength: 5 }),
    fc.integer({ min: 1, max: 4 }),
    async (ranges, depth) => {
      const { processor, tableName } = await freshHandler({ COUNT_SHARDS: '4' }); // counts split over 4 items per minute
      // Act: a bisection tree of the batch (halves, quarters, ... in reverse order), plus overlapping ranges
      const parts: KinesisStreamRecord[][] = [];
      const bisect = (rs: KinesisStreamRecord[], level: number): void => {
        if (level === 0 || rs.length < 2) {parts.push(rs);} else {
          const mid = Math.floor(rs.length / 2);
          bisect(rs.slice(mid), level - 1);
          bisect(rs.slice(0, mid), level - 1);
        }
      };
      for (const [a, b] of ranges) parts.push(records.slice(Math.min(a, b), Math.max(a, b)));
      bisect([...records], depth);
      for (const part of parts.filter((p) => p.length > 0)) await processAll(processor, [{ Records: part }]);

      // Assess
      expect(stateFromItems(await dynamo.scanAll(tableName))).toEqual(expected);
    },
  ), { numRuns: 6, seed: 42 });
});
