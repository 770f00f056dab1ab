/**
 * Periodic job poller, property-based: arbitrary upstream behaviour (statuses, bodies, Link and
 * Retry-After headers, paging fields) never crashes the handler in an uncontrolled way - each run
 * either succeeds or is recorded as failed and throws `RunFailedError` - and never corrupts the
 * stored records: every record equals an item the server served, under its id, with its hash.
 */
import fc from 'fast-check';
import { canonicalJson, contentHash } from '../../lambda/shared/canonical-json';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { startHttpServer, type ScriptedResponse, type TestHttpServer } from '../helpers/http-server';
import { loadPoller, readJobTable, type LoadedPoller } from '../helpers/load-poller';

let dynamo: LocalDynamo;
let server: TestHttpServer;
let tableName: string;
const pollers: Record<string, LoadedPoller> = {};
/** Canonical JSON of every array element the server put under `items`. */
const served = new Set<string>();

beforeAll(async () => {
  dynamo = await startDynalite();
  server = await startHttpServer();
  tableName = await dynamo.createTable();
  for (const style of ['none', 'page', 'cursor', 'link']) {
    pollers[style] = loadPoller({
      TABLE_NAME: tableName,
      JOB_NAME: 'prop',
      SOURCE_URL: `${server.origin}/things`,
      PAGING_STYLE: style,
      MAX_PAGES: '4',
      MAX_ATTEMPTS: '2',
      RETRY_BASE_DELAY_MS: '1',
      MAX_RETRY_DELAY_MS: '20',
      REQUEST_TIMEOUT_MS: '2000',
      TIME_BUDGET_MARGIN_MS: '500',
    });
  }
});

afterAll(async () => {
  await server?.close();
  await dynamo?.stop();
});

/** A few ids, so that runs update each other's records. */
const id = fc.oneof(fc.constantFrom('a', 'b', 'c', 1, 2, '1'), fc.string({ minLength: 0, maxLength: 3 }), fc.double());
const record = fc.record({ id, v: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] });
const item = fc.oneof({ weight: 4, arbitrary: record }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });

const pageBody = fc.record({
  items: fc.array(item, { maxLength: 5 }),
  next: fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ maxLength: 4 }), fc.integer(), fc.jsonValue({ maxDepth: 1 })),
}, { requiredKeys: ['items'] });

const body: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 6, arbitrary: pageBody.map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.array(item, { maxLength: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: pageBody.map((b) => JSON.stringify(b).slice(0, -3)) },
);

const linkHeader = fc.oneof(
  fc.constant(undefined),
  fc.nat(50).map((n) => `</things?after=${n}>; rel="next"`),
  fc.constantFrom('<http://other.example/things>; rel=next', '<>; rel=next', '<::>; rel="next"', 'garbage', '</things?x=1>; rel="prev"'),
  fc.string({ maxLength: 20 }),
);

const retryAfter = fc.oneof(fc.constant(undefined), fc.constantFrom('0', '1', '3600', 'soon', 'Wed, 21 Oct 2015 07:28:00 GMT', '-5', ''));

const response: fc.Arbitrary<ScriptedResponse> = fc.record({
  status: fc.constantFrom(200, 200, 200, 200, 200, 201, 204, 301, 400, 401, 404, 408, 429, 500, 503),
  body,
  link: linkHeader,
  retryAfter,
}).map(({ status, body: b, link, retryAfter: ra }) => {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (link !== undefined && /^[\x20-\x7e]*$/.test(link)) headers.link = link;
  if (ra !== undefined) headers['retry-after'] = ra;
  return { status, body: b, headers };
});

function recordServed(scripted: ScriptedResponse): void {
  try {
    const parsed: unknown = JSON.parse(String(scripted.body));
    const items = Array.isArray(parsed) ? parsed : (parsed as { items?: unknown } | null)?.items;
    if (Array.isArray(items)) for (const i of items) served.add(canonicalJson(i));
  } catch {
    // not JSON: nothing served
  }
}

test('arbitrary upstream responses: a succeeded or a recorded failed run, and no corrupt record', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('none', 'page', 'cursor', 'link'), fc.array(response, { minLength: 1, maxLength: 6 }), async (style, responses) => {
      // Prepare
      for (const r of responses) recordServed(r);
      server.respondInOrder(responses);

      // Act
      let outcome: { ok: true; runId: string } | { ok: false; error: Error };
      try {
        const summary = await pollers[style].invoke();
        outcome = { ok: true, runId: summary.runId };
        expect(summary.fetched).toBe(summary.changed + summary.unchanged + summary.invalid);
      } catch (err) {
        outcome = { ok: false, error: err as Error };
      }

      // Assess
      const { records, runs } = await readJobTable(dynamo.client, tableName);
      if (outcome.ok) {
        const runId = outcome.runId;
        expect(runs.find((r) => r.runId === runId)).toMatchObject({ status: 'succeeded' });
      } else {
        expect(outcome.error.name).toBe('RunFailedError');
        const runId = (outcome.error as Error & { runId: string }).runId;
        expect(runs.find((r) => r.runId === runId)).toMatchObject({ status: 'failed', errorMessage: expect.any(String) });
      }
      expect(runs.every((r) => r.status !== 'running')).toBe(true);
      for (const r of records) {
        expect(served.has(canonicalJson(r.data))).toBe(true);
        expect(r.contentHash).toBe(contentHash(r.data));
        expect(r.sk).toBe(String((r.data as { id: unknown }).id));
        expect(r.id).toEqual((r.data as { id: unknown }).id);
      }
    }),
    { numRuns: 100 },
  );
  // The property is not vacuous: both outcomes happened and records were written.
  const { records, runs } = await readJobTable(dynamo.client, tableName);
  expect(records.length).toBeGreaterThan(0);
  expect(runs.some((r) => r.status === 'succeeded' && (r.changed as number) > 0)).toBe(true);
  expect(runs.some((r) => r.status === 'failed')).toBe(true);
});
