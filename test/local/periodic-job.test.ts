/**
 * The periodic job example through the local runner: its schedule fires on demand, the poller
 * reads its API credential from the local Secrets Manager (given in a secrets file), polls a local
 * HTTP source page by page, and stores the records; a second tick stores nothing twice.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PeriodicJobExampleStack } from '../../examples/periodic-job';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server';
import { readJobTable } from '../helpers/load-poller';
import { runStack, synthToAssembly, type RunningStack } from '../helpers/local-runner';

let source: TestHttpServer;
let running: RunningStack;
let secrets: string;

beforeAll(async () => {
  source = await startHttpServer((request) => (request.query.get('page') === '2'
    ? { json: { items: [{ id: 'c', name: 'third' }] } }
    : { json: { items: [{ id: 'a', name: 'first' }, { id: 'b', name: 'second' }] }, headers: { link: '</v1/catalog?page=2>; rel="next"' } }));
  const assembly = synthToAssembly((app) => { new PeriodicJobExampleStack(app, 'PeriodicJobExample', { sourceUrl: `${source.origin}/v1/catalog` }); });
  secrets = join(mkdtempSync(join(tmpdir(), 'local-secrets-')), 'secrets.json');
  writeFileSync(secrets, JSON.stringify({ CatalogSyncApiCredential7ED24BEF: { token: 't0k3n' } }));
  running = await runStack(assembly, 'PeriodicJobExample', { secretsFile: secrets });
});

afterAll(async () => {
  await running?.local.stop();
  await source?.close();
  if (running) rmSync(running.assemblyDir, { recursive: true, force: true });
  rmSync(join(secrets, '..'), { recursive: true, force: true });
});

test('a tick polls every page with the credential and stores each record once', async () => {
  const env = running.local.clientEnvironment();
  const dynamodb = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region: env.AWS_REGION, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  try {
    const first = await running.local.fireSchedule('CatalogSyncSchedule1D6BE266');
    expect(first).toMatchObject({ ok: true });
    expect(source.requests.map((r) => r.headers.authorization)).toEqual(['Bearer t0k3n', 'Bearer t0k3n']);

    const second = await running.local.fireSchedule('CatalogSyncSchedule1D6BE266');
    expect(second).toMatchObject({ ok: true });
    const table = await readJobTable(dynamodb, running.local.ref('CatalogSyncTable3298F830'));
    expect(table.records.map((r) => r.id ?? r.sk).length).toBe(3);
    expect(table.runs).toHaveLength(2);
  } finally {
    dynamodb.destroy();
  }
});
