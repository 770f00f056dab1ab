/**
 * The pre-built bundle `assets/stream-processing/processor/index.mjs` (what Lambda runs), imported
 * in a fresh `node` process as ESM and invoked with one small Kinesis batch against dynalite:
 * catches bundling-only failures that tests of the TypeScript sources cannot. The batch holds
 * only valid records (SQS is not reachable from the child process). Build it first with
 * `npx projen bundle` (`npm test` does).
 */
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { builtBundle, runInFreshNode } from '../helpers/fresh-node';
import { syntheticRecord, toBase64 } from '../helpers/kinesis-events';
import { TEST_QUEUE_URL } from '../helpers/stream-processor';
import { expectedState, stateFromItems, telemetryEvents } from '../helpers/telemetry';

const BUNDLE = builtBundle('stream-processing', 'processor');

interface BundleRun {
  readonly result?: unknown;
}

async function runBundle(env: Record<string, string>, event: unknown) {
  return runInFreshNode<BundleRun>(`
    const { handler } = await import(${JSON.stringify(BUNDLE)});
    const context = { awsRequestId: 'r-1', functionName: 'stream-processor', getRemainingTimeInMillis: () => 20000 };
    report({ result: await handler(JSON.parse(process.env.TEST_EVENT), context) });`, { TEST_EVENT: JSON.stringify(event), ...env });
}

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo?.stop();
});

test('the bundle processes a Kinesis batch into DynamoDB and reports no failures', async () => {
  // Prepare
  const tableName = await dynamo.createTable();
  const events = telemetryEvents(20, { sources: 2, minutes: 2, seed: 31 });
  const event = { Records: events.map((e) => syntheticRecord(toBase64(e))) };

  // Act
  const env = { TABLE_NAME: tableName, REJECTED_QUEUE_URL: TEST_QUEUE_URL, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint };
  const { result, error } = await runBundle(env, event);

  // Assess
  expect(error).toBeUndefined();
  expect(result).toEqual({ batchItemFailures: [] });
  expect(stateFromItems(await dynamo.scanAll(tableName))).toEqual(expectedState(events));
});

test('the bundle fails its cold start with the configuration problems', async () => {
  const { error } = await runBundle({ MAX_PARALLEL_WRITES: '500' }, { Records: [] });

  expect(error).toBe('Invalid configuration: TABLE_NAME is required; REJECTED_QUEUE_URL is required; MAX_PARALLEL_WRITES must be an integer in 1..100, got "500"');
});
