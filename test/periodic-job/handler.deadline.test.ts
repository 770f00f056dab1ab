/**
 * Periodic job poller: the run's time budget cuts off a DynamoDB call that hangs. Whatever step
 * the budget interrupts, the run is recorded as failed with `DeadlineExceededError` (not the
 * SDK's bare `AbortError`), and the run record is still written. The hang comes from a proxy in
 * front of dynalite that never answers the store's reads (test/helpers/dynamo-fault-proxy.ts).
 */
import { startDynamoFaultProxy, type DynamoFaultProxy } from '../helpers/dynamo-fault-proxy';
import { FAST_RETRY_ENV, loadPoller, readJobTable, runFailure, usePollerHarness } from '../helpers/load-poller';

const harness = usePollerHarness(() => ({ json: { items: [{ id: 'a', v: 1 }] } }));
let proxy: DynamoFaultProxy;

beforeAll(async () => {
  proxy = await startDynamoFaultProxy(harness.dynamo.endpoint);
});

afterAll(async () => {
  await proxy?.stop();
});

test('a store call that hangs past the time budget fails the run as DeadlineExceededError', async () => {
  // Prepare: the poller's client reaches DynamoDB through the proxy, which holds BatchGetItem.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.endpoint;
  proxy.holdResponses('BatchGetItem');
  const poller = loadPoller({ TABLE_NAME: harness.tableName, JOB_NAME: 'feed', SOURCE_URL: `${harness.server.origin}/feed`, ...FAST_RETRY_ENV });

  // Act
  const err = await runFailure(poller.invoke({ remainingMs: 2500 }));
  proxy.release('BatchGetItem');
  process.env.AWS_ENDPOINT_URL_DYNAMODB = harness.dynamo.endpoint;

  // Assess
  expect(err.name).toBe('RunFailedError');
  expect(proxy.forwarded('BatchGetItem')).toBeGreaterThanOrEqual(1);
  const table = await readJobTable(harness.dynamo.client, harness.tableName);
  expect(table.runs).toEqual([expect.objectContaining({ status: 'failed', errorName: 'DeadlineExceededError', pages: 1 })]);
  expect(table.records).toEqual([]);
});
