/**
 * Periodic job poller: every paging style against a local HTTP harness.server, items and ids at
 * configured paths, and the paging guards (MAX_PAGES, loops, Link to another origin).
 */
import type { Env } from '../helpers/load-handler';
import { FAST_RETRY_ENV, loadPoller, readJobTable, runFailure, usePollerHarness } from '../helpers/load-poller';

const harness = usePollerHarness();

function load(env: Env = {}): ReturnType<typeof loadPoller> {
  return loadPoller({ TABLE_NAME: harness.tableName, JOB_NAME: 'orders', SOURCE_URL: `${harness.server.origin}/v1/orders?region=eu`, ...FAST_RETRY_ENV, ...env });
}

const item = (n: number): Record<string, unknown> => ({ id: `o-${n}`, total: n * 10, lines: [{ sku: `s${n}`, qty: n }] });
const items = (from: number, to: number): Array<Record<string, unknown>> => Array.from({ length: to - from + 1 }, (_, i) => item(from + i));

async function storedData(): Promise<unknown[]> {
  return (await readJobTable(harness.dynamo.client, harness.tableName)).records.map((r) => r.data);
}


describe('paging styles', () => {
  test('none: one request, every item stored, the run recorded', async () => {
    // Prepare
    harness.server.respond(() => ({ json: { items: items(1, 3) } }));

    // Act
    const summary = await load().invoke();

    // Assess
    expect(harness.server.requests.map((r) => r.url)).toEqual(['/v1/orders?region=eu']);
    expect(summary).toMatchObject({ status: 'succeeded', pages: 1, fetched: 3, changed: 3, unchanged: 0, invalid: 0 });
    const table = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(table.records.map((r) => [r.pk, r.sk])).toEqual([['record#orders', 'o-1'], ['record#orders', 'o-2'], ['record#orders', 'o-3']]);
    expect(table.records.map((r) => r.data)).toEqual(items(1, 3));
    expect(table.runs).toHaveLength(1);
    expect(table.runs[0]).toMatchObject({ pk: 'run#orders', status: 'succeeded', runId: summary.runId, pages: 1, fetched: 3, changed: 3 });
  });

  test('page: numbered pages until the first empty one', async () => {
    // Prepare
    const pages = [items(1, 2), items(3, 4), items(5, 5), []];
    harness.server.respond((req) => ({ json: { items: pages[Number(req.query.get('p')) - 1] ?? [] } }));

    // Act
    const summary = await load({ PAGING_STYLE: 'page', PAGE_PARAM: 'p' }).invoke();

    // Assess
    expect(harness.server.requests.map((r) => r.url)).toEqual([1, 2, 3, 4].map((p) => `/v1/orders?region=eu&p=${p}`));
    expect(summary).toMatchObject({ pages: 4, fetched: 5, changed: 5 });
    expect(await storedData()).toEqual(items(1, 5));
  });

  test('page: FIRST_PAGE=0 starts at page 0', async () => {
    harness.server.respond((req) => ({ json: { items: req.query.get('page') === '0' ? items(1, 1) : [] } }));

    const summary = await load({ PAGING_STYLE: 'page', FIRST_PAGE: '0' }).invoke();

    expect(harness.server.requests.map((r) => r.query.get('page'))).toEqual(['0', '1']);
    expect(summary).toMatchObject({ pages: 2, fetched: 1, changed: 1 });
  });

  test('cursor: the next cursor from a nested body field, sent in a query parameter', async () => {
    // Prepare
    const pages: Record<string, unknown> = {
      'start': { data: { results: items(1, 2) }, paging: { next: 'c/2 &x' } },
      'c/2 &x': { data: { results: items(3, 3) }, paging: { next: 42 } },
      '42': { data: { results: items(4, 4) }, paging: { next: null } },
    };
    harness.server.respond((req) => ({ json: pages[req.query.get('after') ?? 'start'] }));

    // Act
    const summary = await load({ PAGING_STYLE: 'cursor', CURSOR_PARAM: 'after', CURSOR_FIELD: 'paging.next', ITEMS_PATH: 'data.results' }).invoke();

    // Assess
    expect(harness.server.requests.map((r) => r.query.get('after'))).toEqual([null, 'c/2 &x', '42']);
    expect(harness.server.requests.every((r) => r.query.get('region') === 'eu')).toBe(true);
    expect(summary).toMatchObject({ pages: 3, fetched: 4, changed: 4 });
    expect(await storedData()).toEqual(items(1, 4));
  });

  test.each([
    ['absent', {}],
    ['an empty string', { next: '' }],
  ])('cursor: a cursor that is %s ends the paging', async (_name, extra) => {
    harness.server.respond(() => ({ json: { items: items(1, 1), ...extra } }));

    const summary = await load({ PAGING_STYLE: 'cursor' }).invoke();

    expect(harness.server.requests).toHaveLength(1);
    expect(summary.pages).toBe(1);
  });

  test('link: follows rel="next" (relative and absolute targets, several links and relation types)', async () => {
    // Prepare
    harness.server.respond((req) => {
      switch (req.query.get('after')) {
        case null:
          return { json: items(1, 2), headers: { link: '</v1/orders?after=2>; rel="next", </v1/orders?after=99>; rel="last"' } };
        case '2':
          return { json: items(3, 4), headers: { link: `<${harness.server.origin}/v1/orders?before=3>; rel=prev, <${harness.server.origin}/v1/orders?after=4>; title="a, b"; rel="next nofollow"` } };
        default:
          return { json: items(5, 5), headers: { link: `<${harness.server.origin}/v1/orders?after=2>; rel="prev"` } };
      }
    });

    // Act
    const summary = await load({ PAGING_STYLE: 'link', ITEMS_PATH: '' }).invoke();

    // Assess
    expect(harness.server.requests.map((r) => r.url)).toEqual(['/v1/orders?region=eu', '/v1/orders?after=2', '/v1/orders?after=4']);
    expect(summary).toMatchObject({ pages: 3, fetched: 5, changed: 5 });
    expect(await storedData()).toEqual(items(1, 5));
  });

  test('ID_FIELD may be a nested field and a number; the sort key is its string form', async () => {
    harness.server.respond(() => ({ json: { items: [{ meta: { key: 7 }, v: 1 }, { meta: { key: 'x' }, v: 2 }] } }));

    await load({ ID_FIELD: 'meta.key' }).invoke();

    const { records } = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(records.map((r) => [r.sk, r.id])).toEqual([['7', 7], ['x', 'x']]);
  });
});

describe('paging guards', () => {
  test('fails when the source has more than MAX_PAGES pages, keeping the pages stored so far', async () => {
    // Prepare
    harness.server.respond((req) => ({ json: { items: [item(Number(req.query.get('page')))] } }));

    // Act
    const err = await runFailure(load({ PAGING_STYLE: 'page', MAX_PAGES: '3' }).invoke());

    // Assess
    expect(err.name).toBe('RunFailedError');
    expect(err.message).toMatch(/more than MAX_PAGES \(3\) pages/);
    expect(harness.server.requests).toHaveLength(3);
    const table = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(table.records.map((r) => r.data)).toEqual(items(1, 3));
    expect(table.runs).toEqual([expect.objectContaining({ status: 'failed', pages: 3, fetched: 3, changed: 3, errorName: 'PagingError' })]);
  });

  test('fails when a cursor repeats (a paging loop)', async () => {
    harness.server.respond(() => ({ json: { items: items(1, 1), next: 'same' } }));

    const err = await runFailure(load({ PAGING_STYLE: 'cursor' }).invoke());

    expect(err.message).toMatch(/Paging loops/);
    expect(harness.server.requests).toHaveLength(2);
    expect((await readJobTable(harness.dynamo.client, harness.tableName)).runs[0]).toMatchObject({ status: 'failed', errorName: 'PagingError', pages: 2 });
  });

  test('fails when a Link rel="next" points to another origin, without sending the credential there', async () => {
    harness.server.respond(() => ({ json: items(1, 1), headers: { link: '<https://elsewhere.example/v1/orders?page=2>; rel="next"' } }));

    const err = await runFailure(load({ PAGING_STYLE: 'link', ITEMS_PATH: '' }).invoke());

    expect(err.message).toMatch(/another origin \(https:\/\/elsewhere\.example\)/);
    expect(harness.server.requests).toHaveLength(1);
    expect((await readJobTable(harness.dynamo.client, harness.tableName)).runs[0]).toMatchObject({ status: 'failed', errorName: 'MalformedResponseError', changed: 1 });
  });

  test.each([
    ['an object', { next: { a: 1 } }],
    ['a boolean', { next: true }],
  ])('fails when the cursor is %s', async (_name, extra) => {
    harness.server.respond(() => ({ json: { items: [], ...extra } }));

    const err = await runFailure(load({ PAGING_STYLE: 'cursor' }).invoke());

    expect(err.message).toMatch(/The cursor at "next" is not a string or number/);
  });
});
