/**
 * One retry budget per write: the stream processor's own loop (lib/process.ts, within the
 * invocation deadline) retries a failed write, and the SDK makes one attempt per call, so a write
 * whose every answer is lost is sent `DEFAULT_WRITE_RETRY.attempts` times, not that times the
 * SDK's attempts. The lost answers come from a proxy in front of dynalite that applies each
 * request and then resets the connection. A later delivery without faults counts nothing twice,
 * and a write whose first answer alone is lost is repeated harmlessly within the invocation.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_WRITE_RETRY } from '../../lambda/stream-processing/lib/process';
import { useDynamoBehindFaultProxy } from '../helpers/dynamo-fault-proxy';
import { syntheticRecord, toBase64 } from '../helpers/kinesis-events';
import { TEST_QUEUE_URL, loadStreamProcessor } from '../helpers/stream-processor';
import { expectedState, stateFromItems, telemetryEvents } from '../helpers/telemetry';

const WRITES = ['PutItem', 'UpdateItem', 'BatchWriteItem', 'TransactWriteItems'];
const local = useDynamoBehindFaultProxy();

const writesForwarded = (): number => WRITES.reduce((sum, op) => sum + local.proxy.forwarded(op), 0);

test('a write whose every answer is lost is sent once per round of our loop; the redelivery then counts it once', async () => {
  const tableName = await local.dynamo.createTable();
  const processor = loadStreamProcessor({ TABLE_NAME: tableName, REJECTED_QUEUE_URL: TEST_QUEUE_URL });
  mockClient(processor.clientSqs.SQSClient).onAnyCommand().rejects(new Error('nothing is rejected here'));
  const [record] = telemetryEvents(1, { sources: 1, minutes: 1, seed: 5 });
  const event: KinesisStreamEvent = { Records: [syntheticRecord(toBase64(record), 'shardId-000000000000')] };

  // How many writes one record takes when nothing fails (in a table of its own).
  const probeTable = await local.dynamo.createTable();
  const probe = loadStreamProcessor({ TABLE_NAME: probeTable, REJECTED_QUEUE_URL: TEST_QUEUE_URL });
  mockClient(probe.clientSqs.SQSClient).onAnyCommand().rejects(new Error('nothing is rejected here'));
  const beforeProbe = writesForwarded();
  expect((await probe.invoke(event)).batchItemFailures).toEqual([]);
  const writesPerRecord = writesForwarded() - beforeProbe;
  expect(writesPerRecord).toBeGreaterThan(0);

  for (const op of WRITES) local.proxy.loseResponses(op, 1_000);
  const before = writesForwarded();
  const failed = await processor.invoke(event);
  for (const op of WRITES) local.proxy.loseResponses(op, 0);
  const sent = writesForwarded() - before;

  expect(failed.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0].kinesis.sequenceNumber }]);
  // Each write: at most our loop's attempts (with the SDK's 3 attempts inside, it would be 3x).
  expect(sent).toBeGreaterThan(writesPerRecord);
  expect(sent).toBeLessThanOrEqual(writesPerRecord * DEFAULT_WRITE_RETRY.attempts);

  // Lambda redelivers the record: every write applied already, none applies twice.
  expect((await processor.invoke(event)).batchItemFailures).toEqual([]);
  expect(stateFromItems(await local.dynamo.scanAll(tableName))).toEqual(expectedState([record]));
});

test('a write whose first answer is lost is sent again and applies once: no failure, exact counts', async () => {
  const tableName = await local.dynamo.createTable();
  const processor = loadStreamProcessor({ TABLE_NAME: tableName, REJECTED_QUEUE_URL: TEST_QUEUE_URL });
  mockClient(processor.clientSqs.SQSClient).onAnyCommand().rejects(new Error('nothing is rejected here'));
  const events = telemetryEvents(3, { sources: 1, minutes: 1, seed: 9 });
  const event: KinesisStreamEvent = { Records: events.map((e) => syntheticRecord(toBase64(e), 'shardId-000000000000')) };

  for (const op of WRITES) local.proxy.loseResponses(op, 1);
  const before = writesForwarded();
  const response = await processor.invoke(event);
  for (const op of WRITES) local.proxy.loseResponses(op, 0);

  expect(response.batchItemFailures).toEqual([]);
  // The latest-event put and the count update were each sent twice (the repeat refused by its
  // own condition, or settled by reading the bucket), and the table holds each effect once.
  expect(writesForwarded() - before).toBeGreaterThanOrEqual(4);
  expect(stateFromItems(await local.dynamo.scanAll(tableName))).toEqual(expectedState(events));
});
