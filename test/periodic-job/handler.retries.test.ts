/**
 * Periodic job poller: outbound faults against a local HTTP harness.server - 429 with Retry-After, 5xx,
 * hanging responses (per-attempt timeout), exhausted retries, non-retryable statuses, oversized
 * bodies and the run's time budget. Every failure is recorded as a failed run and then thrown.
 */
import { startHttpServer, type ScriptedResponse } from '../helpers/http-server';
import type { Env } from '../helpers/load-handler';
import { FAST_RETRY_ENV, loadPoller, readJobTable, runFailure, usePollerHarness } from '../helpers/load-poller';

const harness = usePollerHarness();

function load(env: Env = {}): ReturnType<typeof loadPoller> {
  return loadPoller({ TABLE_NAME: harness.tableName, JOB_NAME: 'feed', SOURCE_URL: `${harness.server.origin}/feed?key=s3cr3t-query`, ...FAST_RETRY_ENV, ...env });
}

const OK: ScriptedResponse = { json: { items: [{ id: 'a', v: 1 }, { id: 'b', v: 2 }] } };


/** Times between consecutive requests, in ms. */
function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]);
}

describe('retries', () => {
  test('429 with Retry-After in seconds is honoured, then the page is fetched', async () => {
    // Prepare
    const times: number[] = [];
    let n = 0;
    harness.server.respond(() => {
      times.push(Date.now());
      return n++ === 0 ? { status: 429, headers: { 'retry-after': '1' } } : OK;
    });

    // Act
    const summary = await load().invoke();

    // Assess
    expect(harness.server.requests).toHaveLength(2);
    expect(gaps(times)[0]).toBeGreaterThanOrEqual(950);
    expect(summary).toMatchObject({ status: 'succeeded', fetched: 2, changed: 2 });
    expect((await readJobTable(harness.dynamo.client, harness.tableName)).runs[0]).toMatchObject({ status: 'succeeded', pages: 1 });
  });

  test('429 with Retry-After as an HTTP-date is honoured', async () => {
    const times: number[] = [];
    let n = 0;
    harness.server.respond(() => {
      times.push(Date.now());
      // HTTP-dates have whole seconds: 2 s ahead is between 1 and 2 s of waiting.
      return n++ === 0 ? { status: 429, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } } : OK;
    });

    await load().invoke();

    expect(gaps(times)[0]).toBeGreaterThanOrEqual(900);
  });

  test('a Retry-After above MAX_RETRY_DELAY_MS is capped', async () => {
    const times: number[] = [];
    let n = 0;
    harness.server.respond(() => {
      times.push(Date.now());
      return n++ === 0 ? { status: 503, headers: { 'retry-after': '3600' } } : OK;
    });

    await load({ MAX_RETRY_DELAY_MS: '300' }).invoke();

    expect(gaps(times)[0]).toBeGreaterThanOrEqual(280);
    expect(gaps(times)[0]).toBeLessThan(2000);
  });

  test('500s then success: retried with backoff within MAX_ATTEMPTS', async () => {
    harness.server.respondInOrder([{ status: 500 }, { status: 502, body: '<html>bad gateway</html>' }, { status: 504 }, OK]);

    const summary = await load({ MAX_ATTEMPTS: '4' }).invoke();

    expect(harness.server.requests).toHaveLength(4);
    expect(summary).toMatchObject({ status: 'succeeded', changed: 2 });
  });

  test('a hanging response hits the per-request timeout and is retried', async () => {
    // Prepare: no response at all, then headers and half a body, then an answer.
    harness.server.respondInOrder([{ hang: 'no-response' }, { ...OK, hang: 'after-headers' }, OK]);
    const started = Date.now();

    // Act
    const summary = await load({ REQUEST_TIMEOUT_MS: '300' }).invoke();

    // Assess
    expect(harness.server.requests).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(summary).toMatchObject({ status: 'succeeded', changed: 2 });
  });

  test('fails when every attempt fails, recording the last error without the query string', async () => {
    // Prepare
    harness.server.respond(() => ({ status: 503 }));

    // Act
    const err = await runFailure(load({ MAX_ATTEMPTS: '3' }).invoke());

    // Assess
    expect(harness.server.requests).toHaveLength(3);
    expect(err.name).toBe('RunFailedError');
    expect(err.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/feed returned HTTP 503/);
    const table = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(table.records).toEqual([]);
    expect(table.runs).toEqual([expect.objectContaining({
      status: 'failed', pages: 0, fetched: 0, changed: 0, unchanged: 0, invalid: 0, errorName: 'UpstreamStatusError',
    })]);
    expect(JSON.stringify(table.runs)).not.toContain('s3cr3t-query');
  });

  test('a connection refused is a retried network error', async () => {
    const closed = await startHttpServer();
    const origin = closed.origin;
    await closed.close();

    const err = await runFailure(loadPoller({ TABLE_NAME: harness.tableName, JOB_NAME: 'feed', SOURCE_URL: `${origin}/x`, ...FAST_RETRY_ENV, MAX_ATTEMPTS: '2' }).invoke());

    expect(err.message).toMatch(/failed: fetch failed \(ECONNREFUSED\)/);
    expect((await readJobTable(harness.dynamo.client, harness.tableName)).runs[0]).toMatchObject({ status: 'failed', errorName: 'UpstreamNetworkError' });
  });

  test.each([400, 401, 404, 301])('HTTP %d is not retried', async (status) => {
    const headers: Record<string, string> = status === 301 ? { location: '/elsewhere' } : {};
    harness.server.respond(() => ({ status, headers }));

    const err = await runFailure(load().invoke());

    expect(harness.server.requests).toHaveLength(1);
    expect(err.message).toContain(`returned HTTP ${status}`);
    expect((await readJobTable(harness.dynamo.client, harness.tableName)).runs[0]).toMatchObject({ status: 'failed', errorName: 'UpstreamStatusError' });
  });

  test('a body above MAX_RESPONSE_BYTES fails the run without retries', async () => {
    harness.server.respond(() => ({ json: { items: [{ id: 'big', blob: 'x'.repeat(5000) }] } }));

    const err = await runFailure(load({ MAX_RESPONSE_BYTES: '2048' }).invoke());

    expect(harness.server.requests).toHaveLength(1);
    expect(err.message).toMatch(/larger than 2048 bytes/);
  });
});

describe('time budget', () => {
  test('fails when the remaining invocation time minus the margin runs out during a hanging request', async () => {
    // Prepare: 1.2 s left, 0.5 s margin -> 0.7 s budget, shorter than the 5 s request timeout.
    harness.server.respond(() => ({ hang: 'no-response' }));
    const poller = load({ REQUEST_TIMEOUT_MS: '5000', TIME_BUDGET_MARGIN_MS: '500' });
    const started = Date.now();

    // Act
    const err = await runFailure(poller.invoke({ remainingMs: 1200 }));

    // Assess: cut off by the budget (about 0.7 s), not by the 5 s request timeout: the message says
    // which (no upper bound on the time, which a loaded machine can stretch)
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(err.message).toMatch(/cut off by the time budget/);
    expect((await readJobTable(harness.dynamo.client, harness.tableName)).runs).toEqual([expect.objectContaining({ status: 'failed', errorName: 'DeadlineExceededError' })]);
  });

  test('fails at once when a Retry-After wait would exceed the budget', async () => {
    harness.server.respond(() => ({ status: 429, headers: { 'retry-after': '30' } }));
    const poller = load({ MAX_RETRY_DELAY_MS: '60000' });

    const err = await runFailure(poller.invoke({ remainingMs: 5000 }));

    // One request and this message: it did not wait (no timing that a loaded machine stretches).
    expect(harness.server.requests).toHaveLength(1);
    expect(err.message).toMatch(/HTTP 429; no retry: waiting 30000 ms would exceed the time budget/);
  });

  test('fails between pages when slow pages use up the budget, keeping the pages stored', async () => {
    // Prepare: every page takes 250 ms; the budget is about 1 s.
    harness.server.respond((req) => ({ delayMs: 250, json: { items: [{ id: `p${req.query.get('page')}` }] } }));

    // Act
    const err = await runFailure(load({ PAGING_STYLE: 'page', TIME_BUDGET_MARGIN_MS: '500' }).invoke({ remainingMs: 1500 }));

    // Assess
    expect(err.name).toBe('RunFailedError');
    const table = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(table.runs[0]).toMatchObject({ status: 'failed', errorName: 'DeadlineExceededError' });
    expect(table.runs[0].pages).toBeGreaterThanOrEqual(1);
    expect(table.records).toHaveLength(table.runs[0].changed as number);
  });
});
