/**
 * The pre-built bundle `assets/rest-api/api/index.mjs` (what Lambda runs), imported in a fresh
 * `node` process as ESM against a local DynamoDB engine: catches bundling-only failures (the ESM
 * `require` banner, ajv code generation, tree-shaking) that tests of the TypeScript sources cannot.
 * Build it first with `npx projen bundle` (`npm test` does).
 */
import { collectionEvent, itemEvent, lambdaContext } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { builtBundle, invokeBundle } from '../helpers/fresh-node';

const BUNDLE = builtBundle('rest-api', 'api');

/** Imports the bundle in a child process, invokes it once per event, and returns the results. */
type ProxyResult = { statusCode: number; headers: Record<string, string>; body: string };

/** Puts the id the first call created into events addressed to `$CREATED`. */
const USE_CREATED_ID = `
  if (event.pathParameters && event.pathParameters.id === '$CREATED') {
    const id = JSON.parse(results[0].body).id;
    event.pathParameters.id = id;
    event.path = event.path.replace('$CREATED', id);
  }`;

async function runBundle(env: Record<string, string>, events: unknown[]) {
  return invokeBundle<ProxyResult>(BUNDLE, events, { ...lambdaContext(), getRemainingTimeInMillis: undefined }, env, USE_CREATED_ID);
}

const db = useDynaliteTable();

test('the bundle serves POST then GET against DynamoDB, with a JSON Schema compiled at cold start', async () => {
  // Prepare
  const schema = JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: ['name'] });
  const events = [
    collectionEvent('POST', 'items', { json: { name: 'bundled', n: 1 } }),
    itemEvent('GET', 'items', '$CREATED'),
    collectionEvent('POST', 'items', { json: { n: 2 } }),
  ];

  // Act
  const env = { TABLE_NAME: db.tableName, AWS_ENDPOINT_URL_DYNAMODB: db.dynamo.endpoint, ITEM_SCHEMA: schema };
  const { results, error } = await runBundle(env, events);

  // Assess
  expect(error).toBeUndefined();
  const [created, read, invalid] = results!;
  expect(created.statusCode).toBe(201);
  expect(read.statusCode).toBe(200);
  expect(JSON.parse(read.body)).toEqual(JSON.parse(created.body));
  expect(JSON.parse(read.body)).toMatchObject({ name: 'bundled', n: 1, version: 1 });
  expect(invalid.statusCode).toBe(400);
  expect(JSON.parse(invalid.body)).toMatchObject({ error: 'ValidationError', details: [{ path: '/name' }] });
  expect(await db.dynamo.scanAll(db.tableName)).toHaveLength(1);
});

test('the bundle fails its cold start with the configuration problems', async () => {
  const { error } = await runBundle({ RESOURCE_NAME: 'Nope' }, []);

  expect(error).toBe('Invalid configuration: TABLE_NAME is required; RESOURCE_NAME must match ^[a-z][a-z0-9-]{0,62}$, got "Nope"');
});
