/**
 * Stream processor under DynamoDB throttling that a local engine cannot produce: the handler's
 * DocumentClient `send` is wrapped so chosen calls fail, the others reach dynalite. Failed records
 * are exactly the unwritten ones, and redelivery (as Lambda does it, from the lowest failed
 * sequence number of each shard) loses nothing and counts nothing twice.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { redelivery, syntheticRecord, toBase64 } from '../helpers/kinesis-events';
import { TEST_QUEUE_URL, loadStreamProcessor, type LoadedStreamProcessor } from '../helpers/stream-processor';
import { expectedState, stateFromItems, telemetryEvents } from '../helpers/telemetry';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo?.stop();
});

function throttling(): Error {
  return Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
    name: 'ProvisionedThroughputExceededException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
}

interface Command { readonly input: { Key?: { pk?: string }; Item?: { pk?: string } } }

/** Wraps the handler's DocumentClient: `shouldFail(command)` decides per call. */
function injectFaults(processor: LoadedStreamProcessor, shouldFail: (command: Command) => boolean): jest.SpyInstance {
  const proto = processor.libDynamodb.DynamoDBDocumentClient.prototype;
  const original = proto.send;
  return jest.spyOn(proto, 'send').mockImplementation(function (this: unknown, command: unknown, ...rest: unknown[]) {
    if (shouldFail(command as Command)) return Promise.reject(throttling());
    return (original as (...a: unknown[]) => Promise<unknown>).call(this, command, ...rest);
  } as typeof proto.send);
}

const pkOf = (command: Command): string | undefined => command.input.Key?.pk ?? command.input.Item?.pk;

async function setup(): Promise<{ processor: LoadedStreamProcessor; tableName: string }> {
  const tableName = await dynamo.createTable();
  const processor = loadStreamProcessor({ TABLE_NAME: tableName, REJECTED_QUEUE_URL: TEST_QUEUE_URL });
  mockClient(processor.clientSqs.SQSClient).onAnyCommand().rejects(new Error('nothing is rejected here'));
  return { processor, tableName };
}

test('a throttled source yields batchItemFailures for exactly its records; redelivery completes it exactly once', async () => {
  // Prepare: 3 sources on 2 shards; every write of one source is throttled (after our retries)
  const { processor, tableName } = await setup();
  const events = telemetryEvents(240, { sources: 3, minutes: 2, seed: 11 });
  const event: KinesisStreamEvent = { Records: events.map((e, i) => syntheticRecord(toBase64(e), `shardId-00000000000${i % 2}`)) };
  const throttledSource = events[1].source;
  const spy = injectFaults(processor, (c) => pkOf(c) === `SOURCE#${throttledSource}`);

  // Act
  const response = await processor.invoke(event);
  spy.mockRestore();

  // Assess: exactly the unwritten records; the other sources are complete
  const expectedFailures = event.Records.filter((_, i) => events[i].source === throttledSource).map((r) => r.kinesis.sequenceNumber);
  expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([...expectedFailures].sort());
  const others = events.filter((e) => e.source !== throttledSource);
  expect(stateFromItems(await dynamo.scanAll(tableName))).toEqual(expectedState(others));

  // Act: Lambda redelivers each shard from its lowest failed sequence number
  const retry = redelivery(event, response);
  expect(retry.Records.length).toBeGreaterThan(expectedFailures.length); // written records come again too
  expect(await processor.invoke(retry)).toEqual({ batchItemFailures: [] });

  // Assess
  expect(stateFromItems(await dynamo.scanAll(tableName))).toEqual(expectedState(events));
});

test('the first N write calls fail: failures are reported, the redelivery is exact', async () => {
  // Prepare
  const { processor, tableName } = await setup();
  const events = telemetryEvents(300, { sources: 4, minutes: 3, seed: 12 });
  const event: KinesisStreamEvent = { Records: events.map((e) => syntheticRecord(toBase64(e))) };
  let calls = 0;
  const spy = injectFaults(processor, () => ++calls <= 45);

  // Act
  const response = await processor.invoke(event);
  spy.mockRestore();

  // Assess: some records failed; none of the others is missing
  expect(response.batchItemFailures.length).toBeGreaterThan(0);
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const written = events.filter((_, i) => !failed.has(event.Records[i].kinesis.sequenceNumber));
  const partial = stateFromItems(await dynamo.scanAll(tableName));
  for (const [key, n] of Object.entries(expectedState(written).counts)) expect(partial.counts[key]).toBeGreaterThanOrEqual(n);

  // Act: redelivery, then the same batch replayed once more
  expect(await processor.invoke(redelivery(event, response))).toEqual({ batchItemFailures: [] });
  expect(await processor.invoke(event)).toEqual({ batchItemFailures: [] });

  // Assess
  expect(stateFromItems(await dynamo.scanAll(tableName))).toEqual(expectedState(events));
});

test('throttling that clears within the retries causes no failure', async () => {
  const { processor, tableName } = await setup();
  const events = telemetryEvents(100, { sources: 2, minutes: 1, seed: 13 });
  const seen = new Map<string, number>();
  // Each distinct write fails twice before succeeding.
  const spy = injectFaults(processor, (c) => {
    const key = JSON.stringify(c.input, (_k, v: unknown) => (v instanceof Set ? [...v] : v));
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n <= 2;
  });

  const response = await processor.invoke({ Records: events.map((e) => syntheticRecord(toBase64(e))) });
  spy.mockRestore();

  expect(response).toEqual({ batchItemFailures: [] });
  expect(stateFromItems(await dynamo.scanAll(tableName))).toEqual(expectedState(events));
});
