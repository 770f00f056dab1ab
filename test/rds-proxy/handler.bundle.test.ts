/**
 * The pre-built bundles `assets/rds-proxy/{migrate,api}/index.mjs` (what Lambda runs), each in a
 * fresh `node` process as ESM against PGlite: the migrations bundle applies the SQL files that
 * scripts/bundle.ts copied beside it, then the API bundle serves requests on that schema.
 * Build them first with `npx projen bundle` (`npm test` does).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MIGRATIONS_DIR } from './handlers';
import { copyMigrations, discoverHandlers } from '../../scripts/bundle';
import { collectionEvent, itemEvent, lambdaContext } from '../helpers/api-gateway-events';
import { builtBundle, invokeBundle, runInFreshNode } from '../helpers/fresh-node';
import { pgliteEnv, usePglite } from '../helpers/pglite';

const MIGRATE_BUNDLE = builtBundle('rds-proxy', 'migrate');
const API_BUNDLE = builtBundle('rds-proxy', 'api');
const BUNDLED_MIGRATIONS = join(dirname(MIGRATE_BUNDLE), 'migrations');

type ProxyResult = { statusCode: number; headers: Record<string, string>; body: string };

const pg = usePglite();

test('the migrate asset carries the migrations, byte for byte', () => {
  const shipped = readdirSync(MIGRATIONS_DIR).sort();

  expect(readdirSync(BUNDLED_MIGRATIONS).sort()).toEqual(shipped);
  for (const file of shipped) expect(readFileSync(join(BUNDLED_MIGRATIONS, file))).toEqual(readFileSync(join(MIGRATIONS_DIR, file)));
});

test('copyMigrations copies them for migrate entry points only', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'assets-'));
  try {
    const copied = discoverHandlers().map((h) => [h.assetName, copyMigrations(h, outdir)]);

    expect(copied.filter(([, destination]) => destination !== undefined)).toEqual([['rds-proxy/migrate', join(outdir, 'rds-proxy', 'migrate', 'migrations')]]);
    expect(readdirSync(join(outdir, 'rds-proxy', 'migrate', 'migrations'))).toEqual(readdirSync(MIGRATIONS_DIR));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});

test('the migrate bundle applies its migrations as a custom resource, then the API bundle serves POST, GET and a list', async () => {
  // Prepare
  const env = { ...pgliteEnv(pg.engine.port), MIGRATIONS_DIR: BUNDLED_MIGRATIONS };
  const context = { ...lambdaContext(), getRemainingTimeInMillis: undefined };

  // Act: migrations (Create, then an Update that finds nothing to do)
  const migrate = await invokeBundle<{ PhysicalResourceId: string; Data: Record<string, string> }>(MIGRATE_BUNDLE, [
    { RequestType: 'Create', ResourceProperties: {} },
    { RequestType: 'Update', PhysicalResourceId: 'schema-migrations', ResourceProperties: {} },
  ], context, env);
  await pg.engine.waitForNoConnections();

  // Act: the API
  const api = await invokeBundle<ProxyResult>(API_BUNDLE, [
    collectionEvent('POST', 'items', { json: { name: 'bundled', n: 1 } }),
    itemEvent('GET', 'items', '$CREATED'),
    collectionEvent('GET', 'items'),
    collectionEvent('POST', 'items', { json: { name: 'nul \u0000 byte' } }),
  ], context, pgliteEnv(pg.engine.port), `
    if (event.pathParameters && event.pathParameters.id === '$CREATED') {
      const id = JSON.parse(results[0].body).id;
      event.pathParameters.id = id;
      event.path = event.path.replace('$CREATED', id);
    }`);

  // Assess
  expect(migrate.error).toBeUndefined();
  expect(migrate.results).toEqual([
    { PhysicalResourceId: 'schema-migrations', Data: { applied: '3', latestVersion: '3' } },
    { PhysicalResourceId: 'schema-migrations', Data: { applied: '0', latestVersion: '3' } },
  ]);
  expect(api.error).toBeUndefined();
  const [created, read, list, invalid] = api.results!;
  expect([created.statusCode, read.statusCode, list.statusCode, invalid.statusCode]).toEqual([201, 200, 200, 400]);
  expect(JSON.parse(read.body)).toEqual(JSON.parse(created.body));
  expect(JSON.parse(list.body)).toEqual({ items: [JSON.parse(created.body)] });
  expect((await pg.engine.query('SELECT data FROM items')).rows).toEqual([{ data: { name: 'bundled', n: 1 } }]);
});

test('the bundles fail their cold start with the configuration problems', async () => {
  const migrate = await runInFreshNode(`await import(${JSON.stringify(MIGRATE_BUNDLE)}); report({});`, { DB_HOST: 'db', DB_NAME: 'app', DB_USER: 'admin', DB_IAM_AUTH: 'true' });
  const api = await runInFreshNode(`await import(${JSON.stringify(API_BUNDLE)}); report({});`, { DB_HOST: 'db', DB_USER: 'app', AWS_REGION: 'eu-west-1', DB_TLS: 'none' });

  expect(migrate.error).toBe('Invalid configuration: MIGRATIONS_DIR is required');
  expect(api.error).toBe('Invalid configuration: DB_NAME is required; DB_TLS must be one of verify-full, disable, got "none"');
});
