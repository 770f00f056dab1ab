/**
 * Periodic job poller when DynamoDB applies a write but its answer is lost (the connection is
 * reset instead): the SDK sends the same write again. A record upsert's condition then fails
 * because the first attempt stored that content; the run must still report and record what a
 * single attempt would have (the record changed in this run). When every answer is lost the run
 * fails with its error recorded, nothing is stored twice, and the next run completes.
 * The fault comes from a proxy in front of dynalite (test/helpers/dynamo-fault-proxy.ts); the
 * source API is a local node:http server.
 */
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { RunSummary } from '../../lambda/periodic-job/lib/run';
import { contentHash } from '../../lambda/shared/canonical-json';
import { startDynamoFaultProxy, type DynamoFaultProxy } from '../helpers/dynamo-fault-proxy';
import { isolatedRequire } from '../helpers/load-handler';
import { FAST_RETRY_ENV, POLLER_ENV_VARS, ranSummary, readJobTable, runFailure, usePollerHarness, type PollerHandler } from '../helpers/load-poller';
import { scheduledContext, schedulerEvent } from '../helpers/scheduler-events';

const harness = usePollerHarness();
let proxy: DynamoFaultProxy;

beforeAll(async () => {
  proxy = await startDynamoFaultProxy(harness.dynamo.endpoint);
  // Read when a handler creates its client, on its first invocation (restored by the harness).
  process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.endpoint;
});

afterAll(async () => {
  await proxy?.stop();
});

afterEach(() => {
  proxy.loseResponses('PutItem', 0);
});

const products = [
  { id: 'p1', name: 'Lamp', price: 19.5, tags: ['home', 'light'] },
  { id: 'p2', name: 'Desk', price: 120, stock: { eu: 3 } },
  { id: 3, name: 'Chair', price: 45, discontinued: false },
];

interface Poller {
  /** The handler's own DocumentClient class (its registry), to arm a fault just before a write. */
  readonly libDynamodb: typeof import('@aws-sdk/lib-dynamodb');
  invoke(): Promise<RunSummary>;
}

/** Cold-starts the poller. One write at a time, so that a loss armed for one write cannot hit another one's answer. */
function load(): Poller {
  const env = {
    POWERTOOLS_METRICS_DISABLED: 'true',
    TABLE_NAME: harness.tableName,
    JOB_NAME: 'catalog',
    SOURCE_URL: `${harness.server.origin}/products`,
    WRITE_CONCURRENCY: '1',
    ...FAST_RETRY_ENV,
  };
  const { module, others } = isolatedRequire<{ handler: PollerHandler }>('lambda/periodic-job/poller', env, POLLER_ENV_VARS, ['@aws-sdk/lib-dynamodb']);
  return {
    libDynamodb: others[0] as typeof import('@aws-sdk/lib-dynamodb'),
    invoke: async () => ranSummary(await module.handler(schedulerEvent(), scheduledContext())),
  };
}

/** Serves `products` (the default paging style asks for one page). */
function serveProducts(onRequest?: () => void): void {
  harness.server.respond(() => {
    onRequest?.();
    return { json: { items: products } };
  });
}

/**
 * Loses the answer of the first attempt of every PutItem the poller sends: the loss is armed
 * just before each `send`, so it hits that write; the SDK's own retry is not a new `send`.
 */
async function withFirstAnswersLost<T>(
  poller: Poller,
  act: () => Promise<T>,
  beforePut?: (item: Record<string, unknown>) => Promise<void>,
): Promise<{ result: T; puts: number }> {
  const proto = poller.libDynamodb.DynamoDBDocumentClient.prototype as unknown as { send: (...args: unknown[]) => unknown };
  const hadOwn = Object.prototype.hasOwnProperty.call(proto, 'send');
  const realSend = proto.send;
  let puts = 0;
  proto.send = function send(this: unknown, ...args: unknown[]) {
    if (!(args[0] instanceof poller.libDynamodb.PutCommand)) return realSend.apply(this, args);
    puts++;
    const item = (args[0].input.Item ?? {}) as Record<string, unknown>;
    return (beforePut?.(item) ?? Promise.resolve()).then(() => {
      proxy.loseResponses('PutItem', 1);
      return realSend.apply(this, args);
    });
  };
  try {
    return { result: await act(), puts };
  } finally {
    if (hadOwn) proto.send = realSend;
    else delete (proto as { send?: unknown }).send;
  }
}

/** Each product stored once, with its content and hash, as written by `runId`. */
function expectEachRecordOnce(records: Array<Record<string, unknown>>, runId: string): void {
  const byKey = (p: { id: string | number }): string => String(p.id);
  const expected = [...products].sort((a, b) => (byKey(a) < byKey(b) ? -1 : 1)).map((p) => ({
    pk: 'record#catalog',
    sk: byKey(p),
    id: p.id,
    data: p,
    contentHash: contentHash(p),
    updatedAt: expect.any(String),
    updatedByRunId: runId,
  }));
  expect(records).toEqual(expected);
}

test('every write\'s first answer lost: the run reports what a single attempt would, and stores each record once', async () => {
  // Prepare
  serveProducts();
  const poller = load();
  const before = proxy.forwarded('PutItem');

  // Act
  const { result: summary, puts } = await withFirstAnswersLost(poller, () => poller.invoke());

  // Assess: the lease claim and release, the run record twice (running, final) and one put per
  // product, each sent twice
  expect(puts).toBe(4 + products.length);
  expect(proxy.forwarded('PutItem') - before).toBe(2 * puts);
  expect(summary).toMatchObject({ status: 'succeeded', pages: 1, fetched: 3, changed: 3, unchanged: 0, invalid: 0 });
  const { records, runs, leases } = await readJobTable(harness.dynamo.client, harness.tableName);
  expectEachRecordOnce(records, summary.runId);
  expect(runs).toEqual([expect.objectContaining({ runId: summary.runId, status: 'succeeded', changed: 3, unchanged: 0 })]);
  // The repeated claim found the lease its own, and the repeated release left it released.
  expect(leases).toEqual([expect.objectContaining({ holder: summary.runId, leaseUntil: 0 })]);
});

test('a retried put refused because another run stored that content is not counted as this run\'s write', async () => {
  // Prepare: just before the poller puts p1, another run stores the same content
  serveProducts();
  const poller = load();
  const other = DynamoDBDocumentClient.from(harness.dynamo.client);
  const raced = async (item: Record<string, unknown>): Promise<void> => {
    if (item.sk === 'p1') await other.send(new PutCommand({ TableName: harness.tableName, Item: { ...item, updatedByRunId: 'other-run' } }));
  };

  // Act: p1's first attempt is refused, its answer lost; the SDK's retry is refused too
  const { result: summary } = await withFirstAnswersLost(poller, () => poller.invoke(), raced);

  // Assess
  expect(summary).toMatchObject({ status: 'succeeded', fetched: 3, changed: 2, unchanged: 1 });
  const { records, runs } = await readJobTable(harness.dynamo.client, harness.tableName);
  expect(records.map((r) => [r.sk, r.updatedByRunId])).toEqual([['3', summary.runId], ['p1', 'other-run'], ['p2', summary.runId]]);
  expect(records.map((r) => [r.sk, r.data, r.contentHash])).toEqual(storedRows());
  expect(runs).toEqual([expect.objectContaining({ runId: summary.runId, status: 'succeeded', changed: 2, unchanged: 1 })]);
});

test('a run over unchanged data with its run-record answers lost: one run record, nothing rewritten', async () => {
  // Prepare
  serveProducts();
  const poller = load();
  const first = await poller.invoke();

  // Act: nothing changed upstream, so only the lease and the run record are put (twice each),
  // each first answer lost
  const { result: second, puts } = await withFirstAnswersLost(poller, () => poller.invoke());

  // Assess
  expect(puts).toBe(4);
  expect(second).toMatchObject({ status: 'succeeded', changed: 0, unchanged: 3 });
  const { records, runs } = await readJobTable(harness.dynamo.client, harness.tableName);
  expectEachRecordOnce(records, first.runId);
  expect(runs).toHaveLength(2);
  expect(runs.map((r) => [r.runId, r.status, r.changed, r.unchanged])).toEqual(expect.arrayContaining([
    [first.runId, 'succeeded', 3, 0],
    [second.runId, 'succeeded', 0, 3],
  ]));
});

test('every answer of the record writes lost: the run fails with its error recorded, and the next run completes', async () => {
  // Prepare: the loss starts once the run record is written (the source is asked after it)
  serveProducts(() => proxy.loseResponses('PutItem', 1_000));
  const poller = load();

  // Act
  const error = await runFailure(poller.invoke());
  proxy.loseResponses('PutItem', 0);
  const afterFailure = await readJobTable(harness.dynamo.client, harness.tableName);
  serveProducts();
  const next = await poller.invoke();

  // Assess: the failure is reported and recorded (the final run record applied, unanswered)
  expect(error.name).toBe('RunFailedError');
  const failedRunId = (error as Error & { runId?: string }).runId;
  expect(afterFailure.runs).toEqual([expect.objectContaining({ runId: failedRunId, status: 'failed', errorName: expect.any(String) })]);
  // The write that failed applied anyway; nothing was stored twice.
  expect(afterFailure.records.length).toBeGreaterThan(0);
  expect(new Set(afterFailure.records.map((r) => r.sk)).size).toBe(afterFailure.records.length);

  expect(next).toMatchObject({ status: 'succeeded', fetched: 3, changed: 3 - afterFailure.records.length, unchanged: afterFailure.records.length });
  const { records, runs } = await readJobTable(harness.dynamo.client, harness.tableName);
  expect(records.map((r) => [r.sk, r.data, r.contentHash])).toEqual(storedRows());
  expect(runs.map((r) => r.status).sort()).toEqual(['failed', 'succeeded']);
  expect(runs.map((r) => r.runId).sort()).toEqual([failedRunId, next.runId].sort());
});

test('every answer of the lease claim lost: the run fails before fetching, its lease is released, and the next run completes', async () => {
  // Prepare
  serveProducts();
  const poller = load();

  // Act
  proxy.loseResponses('PutItem', 1_000);
  const error = await runFailure(poller.invoke());
  proxy.loseResponses('PutItem', 0);
  const next = await poller.invoke();

  // Assess: the source was asked only by the second run
  expect(error.name).toBe('RunFailedError');
  expect(harness.server.requests).toHaveLength(1);
  expect(next).toMatchObject({ status: 'succeeded', changed: 3, unchanged: 0 });
  const { records, runs } = await readJobTable(harness.dynamo.client, harness.tableName);
  expectEachRecordOnce(records, next.runId);
  // The claim applied unanswered, and so did the release the failed run sent after it: the next
  // run was not turned away. The failed run recorded nothing.
  expect(error.message).toMatch(/the lease could not be taken/);
  expect(runs.map((r) => [r.runId, r.status])).toEqual([[next.runId, 'succeeded']]);
});

/** `[sk, data, contentHash]` of each product, in table order. */
function storedRows(): unknown[] {
  return [...products]
    .sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1))
    .map((p) => [String(p.id), p, contentHash(p)]);
}
