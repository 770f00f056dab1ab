/**
 * The pre-built bundle `assets/periodic-job/poller/index.mjs` (what Lambda runs), imported in a
 * fresh `node` process as ESM and run once against a local DynamoDB engine and a local HTTP server:
 * catches bundling-only failures (the ESM `require` banner, tree-shaking of the SDK clients and
 * Powertools) that tests of the TypeScript sources cannot. Build it first with `npx projen bundle`.
 */
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { builtBundle, runInFreshNode } from '../helpers/fresh-node';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server';
import { readJobTable } from '../helpers/load-poller';

const BUNDLE = builtBundle('periodic-job', 'poller');

interface BundleRun {
  readonly result?: Record<string, unknown>;
}

async function runBundle(env: Record<string, string>) {
  return runInFreshNode<BundleRun>(`
    const { handler } = await import(${JSON.stringify(BUNDLE)});
    const context = { functionName: 'poller', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 20000 };
    report({ result: await handler({ scheduledTime: '2025-01-01T00:00:00Z' }, context) });`, env);
}

let dynamo: LocalDynamo;
let server: TestHttpServer;
let tableName: string;

beforeAll(async () => {
  dynamo = await startDynalite();
  server = await startHttpServer((req) => ({
    json: { items: req.query.get('page') === '1' ? [{ id: 'x1', n: 1 }, { id: 'x2', n: 2 }] : [] },
  }));
  tableName = await dynamo.createTable();
});

afterAll(async () => {
  await server?.close();
  await dynamo?.stop();
});

test('the bundle runs a paged poll into DynamoDB and emits the success metric', async () => {
  // Act
  const run = await runBundle({
    TABLE_NAME: tableName,
    JOB_NAME: 'bundled',
    SOURCE_URL: `${server.origin}/items`,
    PAGING_STYLE: 'page',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    POWERTOOLS_METRICS_NAMESPACE: 'ServerlessReferenceArchitectures',
  });

  // Assess
  expect(run.error).toBeUndefined();
  expect(run.result).toMatchObject({ status: 'succeeded', pages: 2, fetched: 2, changed: 2 });
  const table = await readJobTable(dynamo.client, tableName);
  expect(table.records.map((r) => r.data)).toEqual([{ id: 'x1', n: 1 }, { id: 'x2', n: 2 }]);
  expect(table.runs).toEqual([expect.objectContaining({ status: 'succeeded', requestId: 'req-1', scheduledTime: '2025-01-01T00:00:00Z' })]);
  const emf = run.lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
  expect(emf).toHaveLength(1);
  expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ServerlessReferenceArchitectures', Dimensions: [['JobName']] });
  expect(emf[0]).toMatchObject({ JobName: 'bundled', PeriodicJobSuccess: 1 });
});

test('the bundle fails its cold start with the configuration problems', async () => {
  const run = await runBundle({ JOB_NAME: 'bad name' });

  expect(run.errorName).toBe('ConfigError');
  expect(run.error).toBe('Invalid configuration: TABLE_NAME is required; JOB_NAME must match ^[A-Za-z0-9_-]{1,64}$, got "bad name"; SOURCE_URL is required');
});
