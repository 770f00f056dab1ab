/**
 * Periodic job poller: runs of a job never overlap, without reserved concurrency. A run must win
 * the job's lease (a conditional put of one item in the job's table) before it fetches anything;
 * an invocation that finds the lease held records itself as `skipped`; a lease past its expiry
 * is taken over; a run that crashes holds the lease only until its invocation would have ended.
 * Against dynalite and a local HTTP source; the crash is a real one: the built bundle runs in a
 * child process that is killed mid-run (build it first with `npx projen bundle`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lambda/periodic-job/lib/config';
import { runJob } from '../../lambda/periodic-job/lib/run';
import { RecordStore } from '../../lambda/periodic-job/lib/store';
import { builtBundle, handlerProcessEnv } from '../helpers/fresh-node';
import { capturingStdout, FAST_RETRY_ENV, loadPoller, ranSummary, readJobTable, runFailure, usePollerHarness } from '../helpers/load-poller';
import { scheduledContext } from '../helpers/scheduler-events';

const harness = usePollerHarness();
const products = [{ id: 'p1', name: 'Lamp' }, { id: 'p2', name: 'Desk' }, { id: 'p3', name: 'Chair' }];
const LEASE_KEY = { pk: 'lease#catalog', sk: 'lease' };

function env(): Record<string, string> {
  return { TABLE_NAME: harness.tableName, JOB_NAME: 'catalog', SOURCE_URL: `${harness.server.origin}/products`, PAGING_STYLE: 'page', ...FAST_RETRY_ENV };
}

/** Serves `products` one per page; page `gatedPage` waits for `gate` first. */
function servePages(gatedPage?: number, gate?: Promise<void>, onGated?: () => void): void {
  harness.server.respond(async (req) => {
    const page = Number(req.query.get('page'));
    if (page === gatedPage) {
      onGated?.();
      await gate;
    }
    return { json: { items: products.slice(page - 1, page) } };
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

async function putLease(item: Record<string, unknown>): Promise<void> {
  await DynamoDBDocumentClient.from(harness.dynamo.client).send(new PutCommand({ TableName: harness.tableName, Item: { ...LEASE_KEY, ...item } }));
}

describe('overlapping invocations', () => {
  test('a run started while another holds the lease does nothing but record itself as skipped', async () => {
    // Prepare: the first run stops on page 2 until the gate opens
    const gate = deferred();
    const reachedPage2 = deferred();
    servePages(2, gate.promise, reachedPage2.resolve);
    const poller = loadPoller(env());
    const first = poller.invokeOutcome();
    await reachedPage2.promise;
    const requestsBefore = harness.server.requests.length;

    // Act
    const second = await poller.invokeOutcome();
    gate.resolve();
    const firstSummary = ranSummary(await first);

    // Assess: the second asked the source nothing and names the run in progress
    expect(second).toEqual({
      runId: expect.any(String), status: 'skipped', reason: 'lease-held', startedAt: expect.any(String), leaseHolder: firstSummary.runId, leaseUntil: expect.any(String),
    });
    expect(harness.server.requests.length - requestsBefore).toBe(2); // the first run's pages 3 and 4 (empty)
    expect(firstSummary).toMatchObject({ status: 'succeeded', changed: 3 });
    const { records, runs, leases } = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(records.map((r) => r.updatedByRunId)).toEqual([firstSummary.runId, firstSummary.runId, firstSummary.runId]);
    expect(runs.map((r) => [r.runId, r.status]).sort()).toEqual([[firstSummary.runId, 'succeeded'], [second.runId, 'skipped']].sort());
    expect(runs.find((r) => r.status === 'skipped')).toMatchObject({ skipReason: 'lease-held', leaseHolder: firstSummary.runId, pages: 0, fetched: 0, changed: 0, endedAt: expect.any(String) });
    // Released when the run ended: the next run starts at once.
    expect(leases).toEqual([{ ...LEASE_KEY, holder: firstSummary.runId, leaseUntil: 0, releasedAt: expect.any(String) }]);
  });

  test('a skipped run is not a failure: it emits no success metric and is not retried', async () => {
    // Prepare
    servePages();
    await putLease({ holder: 'run-in-progress', leaseUntil: Date.now() + 60_000 });
    const poller = loadPoller({ ...env(), POWERTOOLS_METRICS_DISABLED: 'false' });

    // Act
    const { result: outcome, stdout } = await capturingStdout(() => poller.invokeOutcome());

    // Assess
    expect(outcome).toMatchObject({ status: 'skipped', leaseHolder: 'run-in-progress' });
    expect(harness.server.requests).toHaveLength(0);
    expect(stdout).not.toContain('PeriodicJobSuccess');
  });

  test('two runs started together: exactly one runs, and each record is written once', async () => {
    // Prepare
    const gate = deferred();
    servePages(1, gate.promise);
    const poller = loadPoller(env());

    // Act: the winner waits on page 1 until the other run has ended
    const started = [poller.invokeOutcome(), poller.invokeOutcome()];
    await Promise.race(started);
    gate.resolve();
    const [a, b] = await Promise.all(started);

    // Assess
    expect([a.status, b.status].sort()).toEqual(['skipped', 'succeeded']);
    const ran = ranSummary(a.status === 'succeeded' ? a : b);
    const { records, runs } = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(records.map((r) => [r.sk, r.updatedByRunId])).toEqual([['p1', ran.runId], ['p2', ran.runId], ['p3', ran.runId]]);
    expect(runs).toHaveLength(2);
  });
});

describe('expiry', () => {
  test('a lease past its expiry is taken over, and released when the run ends', async () => {
    // Prepare: a run that stopped without releasing it
    servePages();
    await putLease({ holder: 'crashed-run', leaseUntil: Date.now() - 1, acquiredAt: '2025-01-01T00:00:00.000Z' });

    // Act
    const summary = await loadPoller(env()).invoke();

    // Assess
    expect(summary).toMatchObject({ status: 'succeeded', changed: 3 });
    expect((await readJobTable(harness.dynamo.client, harness.tableName)).leases).toEqual([
      { ...LEASE_KEY, holder: summary.runId, leaseUntil: 0, releasedAt: expect.any(String) },
    ]);
  });

  test('the lease lasts until the invocation must have ended, plus a clock margin', async () => {
    // Prepare: the lease is read while the run waits on page 1
    const gate = deferred();
    const reached = deferred();
    servePages(1, gate.promise, reached.resolve);
    const before = Date.now();

    // Act
    const run = loadPoller(env()).invokeOutcome({ remainingMs: 30_000 });
    await reached.promise;
    const [lease] = (await readJobTable(harness.dynamo.client, harness.tableName)).leases;
    const after = Date.now();
    gate.resolve();
    await run;

    // Assess
    expect(lease.leaseUntil).toBeGreaterThanOrEqual(before + 30_000 + 5_000);
    expect(lease.leaseUntil).toBeLessThanOrEqual(after + 30_000 + 5_000);
  });

  test('a failed run releases its lease, so that Lambda\'s retry of it runs', async () => {
    // Prepare
    harness.server.respond(() => ({ status: 500 }));
    const poller = loadPoller({ ...env(), MAX_ATTEMPTS: '1' });

    // Act
    const error = await runFailure(poller.invoke());
    servePages();
    const retry = await poller.invoke();

    // Assess
    expect(error.name).toBe('RunFailedError');
    expect(retry).toMatchObject({ status: 'succeeded', changed: 3 });
  });
});

describe('a crash mid-run', () => {
  const BUNDLE = builtBundle('periodic-job', 'poller');

  /** Runs the bundle in a child process and kills it (SIGKILL) when it asks for page 2. */
  async function crashOnPage2(): Promise<void> {
    const reachedPage2 = deferred();
    servePages(2, new Promise<void>(() => undefined), reachedPage2.resolve);
    const script = `
      const { handler } = await import(${JSON.stringify(BUNDLE)});
      const endsAt = Date.now() + 60000;
      await handler({}, { functionName: 'poller', awsRequestId: 'crashing', getRemainingTimeInMillis: () => endsAt - Date.now() });`;
    const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: '/',
      env: {
        ...handlerProcessEnv(),
        AWS_ENDPOINT_URL_DYNAMODB: harness.dynamo.endpoint,
        POWERTOOLS_METRICS_DISABLED: 'true',
        ...env(),
      },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    const outcome = await Promise.race([reachedPage2.promise.then(() => 'reached' as const), exited]);
    if (outcome !== 'reached') throw new Error(`the child run ended (${String(outcome)}) before it asked for page 2`);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
  }

  test('the dead run holds the lease until its invocation would have ended; then the next run takes over and completes', async () => {
    // Prepare
    const crashedAt = Date.now();
    await crashOnPage2();
    const afterCrash = await readJobTable(harness.dynamo.client, harness.tableName);
    const [lease] = afterCrash.leases;
    const crashedRunId = lease.holder as string;

    // Act 1: an invocation right after the crash
    const poller = loadPoller(env());
    const during = await poller.invokeOutcome();

    // Act 2: a run once the lease has expired, on a clock moved past it (no waiting)
    servePages();
    const shiftMs = (lease.leaseUntil as number) - Date.now() + 1;
    const now = () => Date.now() + shiftMs;
    const store = new RecordStore({ db: () => DynamoDBDocumentClient.from(harness.dynamo.client), tableName: harness.tableName, jobName: 'catalog', writeConcurrency: 2 });
    const config = loadConfig({ ...env(), AWS_ENDPOINT_URL_DYNAMODB: harness.dynamo.endpoint });
    const logger = new Logger({ logLevel: 'SILENT' });
    const after = ranSummary(await runJob(
      { config, store, logger, token: async () => undefined, now },
      { deadlineAt: now() + 30_000, leaseUntil: now() + 65_000 },
    ));

    // Assess: what the crash left: page 1 stored, the run `running`, the lease held
    expect(afterCrash.records.map((r) => [r.sk, r.updatedByRunId])).toEqual([['p1', crashedRunId]]);
    expect(afterCrash.runs.map((r) => [r.runId, r.status])).toEqual([[crashedRunId, 'running']]);
    expect(lease.leaseUntil).toBeGreaterThan(crashedAt + 60_000);
    expect(lease.leaseUntil).toBeLessThanOrEqual(Date.now() + 60_000 + 5_000);
    // the invocation during the lease skipped; the one after it completed what the crash left
    expect(during).toMatchObject({ status: 'skipped', leaseHolder: crashedRunId });
    expect(after).toMatchObject({ status: 'succeeded', fetched: 3, changed: 2, unchanged: 1 });
    const { records, leases } = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(records.map((r) => r.sk)).toEqual(['p1', 'p2', 'p3']);
    expect(leases).toEqual([expect.objectContaining({ holder: after.runId, leaseUntil: 0 })]);
  });

  test('Lambda\'s retry of the crashed event (the same request id) takes the lease over at once and completes the run', async () => {
    // Prepare
    await crashOnPage2();
    const [lease] = (await readJobTable(harness.dynamo.client, harness.tableName)).leases;
    servePages();

    // Act: an invocation of another event is skipped; the retry of the crashed one is not
    const poller = loadPoller(env());
    const otherEvent = await poller.invokeOutcome();
    const retry = ranSummary(await poller.handler({}, scheduledContext(60_000, { awsRequestId: 'crashing' })));

    // Assess
    expect(lease).toMatchObject({ holderRequestId: 'crashing', leaseUntil: expect.any(Number) });
    expect(otherEvent).toMatchObject({ status: 'skipped', leaseHolder: lease.holder });
    expect(retry).toMatchObject({ status: 'succeeded', fetched: 3, changed: 2, unchanged: 1 });
    const { leases } = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(leases).toEqual([expect.objectContaining({ holder: retry.runId, leaseUntil: 0 })]);
  });
});
