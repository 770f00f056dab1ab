/**
 * The shipped assets, not the TypeScript sources: each bundle must import in a fresh Node
 * process (an ESM bundle of SDK v3 without the createRequire banner crashes right there),
 * stay within its size budget, and answer a real request against a local engine.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BUNDLE_BUDGET_BYTES, discoverHandlers } from '../scripts/bundle';
import { startDynalite, type LocalDynamo } from './helpers/dynalite';

const run = promisify(execFile);
const ASSETS = join(__dirname, '..', 'assets');
const handlers = discoverHandlers();

/** Configuration each reference handler needs at cold start; endpoints point at loopback only. */
const HANDLER_ENV: Record<string, Record<string, string>> = {
  'rest-api/api': { TABLE_NAME: 'bundle-test' },
};

async function inFreshNode(script: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', ...env },
  });
  return stdout;
}

test('every lambda/<pattern>/<entry>.ts has a bundle and a test configuration', () => {
  expect(handlers.length).toBeGreaterThan(0);
  for (const h of handlers) {
    expect(existsSync(join(ASSETS, h.assetName, 'index.mjs'))).toBe(true);
    expect(HANDLER_ENV[h.assetName]).toBeDefined();
  }
});

describe.each(handlers.map((h) => [h.assetName]))('bundle %s', (assetName) => {
  const file = join(ASSETS, assetName, 'index.mjs');

  test(`is within the ${BUNDLE_BUDGET_BYTES / 1024} KB budget`, () => {
    expect(statSync(file).size).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  });

  test('imports in a fresh node process and exports handler', async () => {
    const out = await inFreshNode(`const m = await import(${JSON.stringify(file)}); console.log(typeof m.handler);`, HANDLER_ENV[assetName]);
    expect(out.trim()).toBe('function');
  });
});

describe('rest-api bundle against dynalite', () => {
  let dynamo: LocalDynamo;
  let table: string;
  beforeAll(async () => {
    dynamo = await startDynalite();
    table = await dynamo.createTable();
  });
  afterAll(async () => dynamo.stop());

  test('creates and reads back an item', async () => {
    const file = join(ASSETS, 'rest-api', 'api', 'index.mjs');
    const event = (method: string, resource: string, path: string, body: string | null, pathParameters: Record<string, string> | null) => ({
      httpMethod: method, resource, path, body, pathParameters, isBase64Encoded: false,
      headers: { 'Content-Type': 'application/json' }, multiValueHeaders: {}, queryStringParameters: null,
      multiValueQueryStringParameters: null, stageVariables: null,
      requestContext: { requestId: 'bundle-test', path: `/prod${path}`, stage: 'prod', resourcePath: resource, httpMethod: method },
    });
    const script = `
      const { handler } = await import(${JSON.stringify(file)});
      const context = { awsRequestId: 'bundle-test', getRemainingTimeInMillis: () => 10000 };
      const created = await handler(${JSON.stringify(event('POST', '/items', '/items', JSON.stringify({ name: 'bundled' }), null))}, context);
      const id = JSON.parse(created.body).id;
      const read = await handler({ ...${JSON.stringify(event('GET', '/items/{id}', '/items/x', null, null))}, pathParameters: { id } }, context);
      console.log(JSON.stringify({ created: created.statusCode, read: read.statusCode, body: JSON.parse(read.body) }));`;
    const out = JSON.parse(await inFreshNode(script, { TABLE_NAME: table, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint }));
    expect(out).toEqual({ created: 201, read: 200, body: expect.objectContaining({ name: 'bundled', version: 1 }) });
    expect(await dynamo.scanAll(table)).toHaveLength(1);
  });
});
