/**
 * Periodic job poller: change detection (content hash), run records, malformed and invalid
 * upstream data, and the EMF success metric. Concurrent runs: handler.lease.test.ts.
 */
import { contentHash } from '../../lambda/shared/canonical-json';
import type { Env } from '../helpers/load-handler';
import { FAST_RETRY_ENV, loadPoller, readJobTable, runFailure, usePollerHarness } from '../helpers/load-poller';

const harness = usePollerHarness();

function load(env: Env = {}): ReturnType<typeof loadPoller> {
  return loadPoller({ TABLE_NAME: harness.tableName, JOB_NAME: 'catalog', SOURCE_URL: `${harness.server.origin}/products`, ...FAST_RETRY_ENV, ...env });
}

const products = [
  { id: 'p1', name: 'Lamp', price: 19.5, tags: ['home', 'light'], stock: { eu: 3, us: 0 } },
  { id: 'p2', name: 'Desk', price: 120, tags: [], stock: null },
  { id: 3, name: 'Chair', price: 45, discontinued: false },
];

/** Serves `current` (mutable) as a two-page `page` source. */
function serveTwoPages(current: () => unknown[]): void {
  harness.server.respond((req) => {
    const page = Number(req.query.get('page'));
    const all = current();
    const half = Math.ceil(all.length / 2);
    return { json: { items: page === 1 ? all.slice(0, half) : page === 2 ? all.slice(half) : [] } };
  });
}


describe('change detection', () => {
  test('stores each item with its id, content hash, write time and run id', async () => {
    // Prepare
    serveTwoPages(() => products);

    // Act
    const summary = await load({ PAGING_STYLE: 'page' }).invoke();

    // Assess
    const { records } = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(records).toEqual([
      { pk: 'record#catalog', sk: '3', id: 3, data: products[2], contentHash: contentHash(products[2]), updatedAt: expect.any(String), updatedByRunId: summary.runId },
      { pk: 'record#catalog', sk: 'p1', id: 'p1', data: products[0], contentHash: contentHash(products[0]), updatedAt: expect.any(String), updatedByRunId: summary.runId },
      { pk: 'record#catalog', sk: 'p2', id: 'p2', data: products[1], contentHash: contentHash(products[1]), updatedAt: expect.any(String), updatedByRunId: summary.runId },
    ]);
    expect(contentHash(products[0])).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('a second run over unchanged data writes nothing but its run record', async () => {
    // Prepare
    serveTwoPages(() => products);
    const poller = load({ PAGING_STYLE: 'page' });
    await poller.invoke();
    const before = (await harness.dynamo.scanAll(harness.tableName)).filter((i) => i.pk.S === 'record#catalog');

    // Act: same content, other key order
    serveTwoPages(() => products.map((p) => Object.fromEntries(Object.entries(p).reverse())));
    const second = await poller.invoke();

    // Assess
    expect(second).toMatchObject({ status: 'succeeded', pages: 3, fetched: 3, changed: 0, unchanged: 3, invalid: 0 });
    const after = await harness.dynamo.scanAll(harness.tableName);
    expect(after.filter((i) => i.pk.S === 'record#catalog')).toEqual(before);
    const { runs } = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(runs.map((r) => [r.status, r.changed, r.unchanged])).toEqual([['succeeded', 3, 0], ['succeeded', 0, 3]]);
  });

  test('changed and new records are written; unchanged ones keep their write time and run id', async () => {
    // Prepare
    let current: unknown[] = products;
    serveTwoPages(() => current);
    const poller = load({ PAGING_STYLE: 'page' });
    const first = await poller.invoke();

    // Act
    current = [{ ...products[0], price: 17 }, products[1], products[2], { id: 'p4', name: 'Shelf' }];
    const second = await poller.invoke();

    // Assess
    expect(second).toMatchObject({ fetched: 4, changed: 2, unchanged: 2 });
    const { records } = await readJobTable(harness.dynamo.client, harness.tableName);
    const bySk = Object.fromEntries(records.map((r) => [r.sk, r]));
    const p1 = { ...products[0], price: 17 };
    expect(bySk.p1).toMatchObject({ data: p1, updatedByRunId: second.runId, contentHash: contentHash(p1) });
    expect(bySk.p4).toMatchObject({ data: { id: 'p4', name: 'Shelf' }, updatedByRunId: second.runId });
    expect(bySk.p2.updatedByRunId).toBe(first.runId);
    expect(bySk['3'].updatedByRunId).toBe(first.runId);
  });

  test('records that disappear upstream are kept (the job upserts, it never deletes)', async () => {
    let current: unknown[] = products;
    harness.server.respond(() => ({ json: { items: current } }));
    const poller = load();
    await poller.invoke();

    current = products.slice(0, 1);
    await poller.invoke();

    expect((await readJobTable(harness.dynamo.client, harness.tableName)).records).toHaveLength(3);
  });

  test('a repeated id within a run: the last occurrence wins', async () => {
    harness.server.respond(() => ({ json: { items: [{ id: 'd', v: 1 }, { id: 'd', v: 2 }] } }));

    const summary = await load().invoke();

    expect(summary).toMatchObject({ fetched: 2, changed: 1, unchanged: 1 });
    expect((await readJobTable(harness.dynamo.client, harness.tableName)).records.map((r) => r.data)).toEqual([{ id: 'd', v: 2 }]);
  });
  // Overlapping runs: handler.lease.test.ts.
});

describe('run records', () => {
  test('a succeeded run: times, counts, request id, scheduled time and expiry', async () => {
    // Prepare
    harness.server.respond(() => ({ json: { items: products } }));
    const before = Date.now();

    // Act
    const summary = await load({ RUN_RETENTION_DAYS: '7' }).invoke({ event: { scheduledTime: '2025-06-01T12:00:00Z', other: [1] } });

    // Assess
    const [run] = (await readJobTable(harness.dynamo.client, harness.tableName)).runs;
    expect(run).toEqual({
      pk: 'run#catalog',
      sk: `${run.startedAt}#${summary.runId}`,
      runId: summary.runId,
      jobName: 'catalog',
      status: 'succeeded',
      startedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      endedAt: expect.any(String),
      durationMs: expect.any(Number),
      pages: 1,
      fetched: 3,
      changed: 3,
      unchanged: 0,
      invalid: 0,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      scheduledTime: '2025-06-01T12:00:00Z',
      expiresAt: expect.any(Number),
    });
    expect(Date.parse(run.startedAt as string)).toBeGreaterThanOrEqual(before - 5);
    expect(Date.parse(run.endedAt as string)).toBeGreaterThanOrEqual(Date.parse(run.startedAt as string));
    expect(run.expiresAt).toBe(Math.floor(Date.parse(run.startedAt as string) / 1000) + 7 * 86_400);
  });

  test.each([null, 'text', [1, 2], { scheduledTime: 'yesterday' }, {}])('any event is accepted (%j)', async (event) => {
    harness.server.respond(() => ({ json: { items: [] } }));

    const summary = await load({ RUN_RETENTION_DAYS: '0' }).invoke({ event });

    expect(summary.status).toBe('succeeded');
    const [run] = (await readJobTable(harness.dynamo.client, harness.tableName)).runs;
    expect(run).not.toHaveProperty('scheduledTime');
    expect(run).not.toHaveProperty('expiresAt');
  });
});

describe('malformed and invalid upstream data', () => {
  test.each([
    ['truncated JSON', '{"items": [{"id": "p1"', /not valid JSON/],
    ['HTML', '<html>maintenance</html>', /not valid JSON/],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), /not valid UTF-8/],
    ['no items field', '{"data": []}', /no items at "items"/],
    ['items not an array', '{"items": {"id": 1}}', /"items" is not an array/],
  ])('%s fails the run cleanly: run recorded failed, stored records untouched', async (_name, body, message) => {
    // Prepare: a first good run, then a bad page
    harness.server.respond(() => ({ json: { items: products } }));
    const poller = load();
    await poller.invoke();
    const before = (await harness.dynamo.scanAll(harness.tableName)).filter((i) => i.pk.S === 'record#catalog');
    harness.server.respond(() => ({ body, headers: { 'content-type': 'application/json' } }));

    // Act
    const err = await runFailure(poller.invoke());

    // Assess
    expect(err.name).toBe('RunFailedError');
    expect(err.message).toMatch(message);
    expect(harness.server.requests).toHaveLength(2);
    const after = await harness.dynamo.scanAll(harness.tableName);
    expect(after.filter((i) => i.pk.S === 'record#catalog')).toEqual(before);
    const { runs } = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(runs[1]).toMatchObject({ status: 'failed', errorName: 'MalformedResponseError', errorMessage: expect.stringMatching(message), pages: 0, changed: 0 });
  });

  const invalidItems: Array<[string, unknown]> = [
    ['a string', 'p9'],
    ['null', null],
    ['an item without id', { name: 'x' }],
    ['an object id', { id: { a: 1 } }],
    ['an empty id', { id: '' }],
    ['a 513-character id', { id: 'x'.repeat(513) }],
    ['an id above 1024 UTF-8 bytes', { id: '\u20ac'.repeat(400) }],
    ['an out-of-range number', { id: 'n', value: 1e300 }],
    ['a lone surrogate', { id: 's', name: 'a\ud800b' }],
    ['a __proto__ key', JSON.parse('{"id": "q", "__proto__": {"x": 1}}')],
    ['deep nesting', { id: 'deep', d: JSON.parse('['.repeat(40) + ']'.repeat(40)) }],
    ['an oversized item', { id: 'big', blob: 'x'.repeat(360_000) }],
  ];

  test.each(invalidItems)('ON_INVALID_ITEM=skip (default): %s is skipped and counted', async (_name, bad) => {
    harness.server.respond(() => ({ json: { items: [products[0], bad, products[1]] } }));

    const summary = await load({ MAX_RESPONSE_BYTES: '1048576' }).invoke();

    expect(summary).toMatchObject({ status: 'succeeded', fetched: 3, changed: 2, invalid: 1 });
    expect((await readJobTable(harness.dynamo.client, harness.tableName)).records.map((r) => r.sk)).toEqual(['p1', 'p2']);
  });

  test('ON_INVALID_ITEM=fail: an invalid item fails the run, items of earlier pages stay stored', async () => {
    // Prepare
    harness.server.respond((req) => ({ json: { items: req.query.get('page') === '1' ? [products[0]] : [products[1], { id: 7.5e300 }] } }));

    // Act
    const err = await runFailure(load({ PAGING_STYLE: 'page', ON_INVALID_ITEM: 'fail' }).invoke());

    // Assess
    expect(err.message).toMatch(/Item 1 of page 2 is invalid: the item cannot be stored/);
    const { records, runs } = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(records.map((r) => r.sk)).toEqual(['p1']);
    expect(runs[0]).toMatchObject({ status: 'failed', errorName: 'InvalidItemError', pages: 2, fetched: 3, changed: 1 });
  });
});

describe('metrics', () => {
  let stdout: string[];
  let spy: jest.SpyInstance;

  beforeEach(() => {
    stdout = [];
    spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
  });

  afterEach(() => spy.mockRestore());

  interface EmfDirective {
    readonly Namespace: string;
    readonly Dimensions: string[][];
    readonly Metrics: Array<{ Name: string; Unit: string }>;
  }

  function emfLines(): Array<Record<string, unknown> & { _aws: { CloudWatchMetrics: EmfDirective[] } }> {
    return stdout.join('').split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
  }

  test('a succeeded run emits PeriodicJobSuccess and PeriodicJobRecordsChanged with the single dimension JobName', async () => {
    // Prepare
    harness.server.respond(() => ({ json: { items: [...products, 'bad'] } }));

    // Act
    await load({ POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_SERVICE_NAME: 'catalog-sync', POWERTOOLS_METRICS_NAMESPACE: 'ServerlessReferenceArchitectures' }).invoke();

    // Assess
    const emf = emfLines();
    expect(emf).toHaveLength(1);
    expect(emf[0]._aws.CloudWatchMetrics).toEqual([{
      Namespace: 'ServerlessReferenceArchitectures',
      Dimensions: [['JobName']],
      Metrics: [
        { Name: 'PeriodicJobSuccess', Unit: 'Count' },
        { Name: 'PeriodicJobRecordsChanged', Unit: 'Count' },
        { Name: 'PeriodicJobRecordsInvalid', Unit: 'Count' },
      ],
    }]);
    expect(emf[0]).toMatchObject({ JobName: 'catalog', PeriodicJobSuccess: 1, PeriodicJobRecordsChanged: 3, PeriodicJobRecordsInvalid: 1 });
    expect(emf[0]).not.toHaveProperty('service');
  });

  test('the namespace defaults to ServerlessReferenceArchitectures', async () => {
    harness.server.respond(() => ({ json: { items: [] } }));

    await load({ POWERTOOLS_METRICS_DISABLED: 'false' }).invoke();

    expect(emfLines()[0]._aws.CloudWatchMetrics[0].Namespace).toBe('ServerlessReferenceArchitectures');
  });

  test('a failed run emits no success metric', async () => {
    harness.server.respond(() => ({ body: 'nope' }));

    await runFailure(load({ POWERTOOLS_METRICS_DISABLED: 'false' }).invoke());

    expect(emfLines()).toEqual([]);
  });
});
