/**
 * REST API handler: configuration validated at cold start, and JSON Schema enforcement (ITEM_SCHEMA).
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ConfigError } from '../../lambda/shared/config';
import { collectionEvent, itemEvent, jsonBody } from '../helpers/api-gateway-events';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { loadRestApi, type Env } from '../helpers/load-handler';

/** Cold-starts the handler with `env` and returns the error it throws (fails when none). */
function coldStartError(env: Env): Error {
  try {
    loadRestApi(env);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the cold start to fail');
}

describe('configuration', () => {
  test('a minimal configuration cold-starts', () => {
    expect(typeof loadRestApi({ TABLE_NAME: 'table' }).handler).toBe('function');
  });

  test('fails when TABLE_NAME is missing', () => {
    const err = coldStartError({});

    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe('Invalid configuration: TABLE_NAME is required');
  });

  test('fails with one error listing every bad variable and the value given', () => {
    // Act
    const err = coldStartError({
      RESOURCE_NAME: 'Bad Name',
      REQUIRE_IF_MATCH: 'yes',
      MAX_BODY_BYTES: '300000',
      DEFAULT_PAGE_SIZE: '0',
      MAX_PAGE_SIZE: 'ten',
      ITEM_SCHEMA: '{not json',
      CORS_ALLOW_ORIGINS: 'https://ok.example, ftp://bad.example/path',
    });

    // Assess
    expect(err.name).toBe('ConfigError');
    const problems = (err as ConfigError).problems;
    expect(problems).toEqual([
      'TABLE_NAME is required',
      'RESOURCE_NAME must match ^[a-z][a-z0-9-]{0,62}$, got "Bad Name"',
      'REQUIRE_IF_MATCH must be true or false, got "yes"',
      'MAX_PAGE_SIZE must be an integer in 1..1000, got "ten"',
      'DEFAULT_PAGE_SIZE must be an integer in 1..1000, got "0"',
      'MAX_BODY_BYTES must be an integer in 1..262144, got "300000"',
      'ITEM_SCHEMA is not valid JSON',
      expect.stringMatching(/^CORS_ALLOW_ORIGINS has invalid origins "ftp:\/\/bad.example\/path"/),
    ]);
    for (const problem of problems) expect(err.message).toContain(problem);
  });

  test.each([
    ['RESOURCE_NAME', '1items', /RESOURCE_NAME must match/],
    ['RESOURCE_NAME', 'a'.repeat(64), /RESOURCE_NAME must match/],
    ['RESOURCE_NAME', 'items/{id}', /RESOURCE_NAME must match/],
    ['MAX_BODY_BYTES', '0', /MAX_BODY_BYTES must be an integer in 1\.\.262144, got "0"/],
    ['MAX_BODY_BYTES', '1.5', /MAX_BODY_BYTES/],
    ['MAX_PAGE_SIZE', '1001', /MAX_PAGE_SIZE/],
    ['REQUIRE_IF_MATCH', 'TRUE', /REQUIRE_IF_MATCH must be true or false, got "TRUE"/],
    ['CORS_ALLOW_ORIGINS', ',', /CORS_ALLOW_ORIGINS/],
    ['ITEM_SCHEMA', '[]', /ITEM_SCHEMA must be a JSON Schema object/],
  ])('fails when %s is %j', (name, value, message) => {
    expect(() => loadRestApi({ TABLE_NAME: 'table', [name]: value })).toThrow(message);
  });

  test('fails when DEFAULT_PAGE_SIZE exceeds MAX_PAGE_SIZE', () => {
    expect(() => loadRestApi({ TABLE_NAME: 'table', DEFAULT_PAGE_SIZE: '50', MAX_PAGE_SIZE: '10' })).toThrow(
      'DEFAULT_PAGE_SIZE must not exceed MAX_PAGE_SIZE (10), got "50"',
    );
  });

  test('DEFAULT_PAGE_SIZE defaults to MAX_PAGE_SIZE when that is below 25', () => {
    expect(() => loadRestApi({ TABLE_NAME: 'table', MAX_PAGE_SIZE: '10' })).not.toThrow();
  });

  test.each([
    ['an invalid schema', '{"type":"nope"}', /ITEM_SCHEMA is not a valid JSON Schema/],
    ['an unknown keyword (strict mode)', '{"type":"object","propertees":{}}', /ITEM_SCHEMA is not a valid JSON Schema: .*propertees/],
    ['an unsupported draft', '{"$schema":"http://json-schema.org/draft-04/schema#","type":"object"}', /ITEM_SCHEMA has an unsupported \$schema/],
    ['a 2020-12 keyword under draft-07', '{"type":"object","prefixItems":[]}', /ITEM_SCHEMA is not a valid JSON Schema/],
  ])('fails on %s in ITEM_SCHEMA', (_name, schema, message) => {
    expect(() => loadRestApi({ TABLE_NAME: 'table', ITEM_SCHEMA: schema })).toThrow(message);
  });
});

describe('ITEM_SCHEMA enforcement', () => {
  let dynamo: LocalDynamo;
  let tableName: string;

  beforeAll(async () => {
    dynamo = await startDynalite();
    tableName = await dynamo.createTable();
  });

  afterAll(async () => {
    await dynamo.stop();
  });

  const draft07 = JSON.stringify({
    type: 'object',
    required: ['name', 'price'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 50 },
      price: { type: 'number', minimum: 0 },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
    },
  });
  const draft2020 = JSON.stringify({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    required: ['point'],
    properties: { point: { type: 'array', prefixItems: [{ type: 'number' }, { type: 'number' }], items: false } },
  });

  function details(response: APIGatewayProxyResult): Array<{ path: string; message: string }> {
    expect(response.statusCode).toBe(400);
    const body = jsonBody<{ error: string; details: Array<{ path: string; message: string }> }>(response);
    expect(body.error).toBe('ValidationError');
    return body.details;
  }

  test('a valid item passes on POST and PUT (draft-07)', async () => {
    const { invoke } = loadRestApi({ TABLE_NAME: tableName, ITEM_SCHEMA: draft07 });

    const created = await invoke(collectionEvent('POST', 'items', { json: { name: 'pen', price: 1.5, tags: ['office'] } }));
    const { id } = jsonBody<{ id: string }>(created);
    const replaced = await invoke(itemEvent('PUT', 'items', id, { json: { name: 'pencil', price: 0 }, headers: { 'If-Match': '"1"' } }));

    expect(created.statusCode).toBe(201);
    expect(replaced.statusCode).toBe(200);
  });

  test('an invalid item is 400 with every problem in details, and nothing is written', async () => {
    // Prepare
    const { invoke } = loadRestApi({ TABLE_NAME: tableName, ITEM_SCHEMA: draft07 });
    const created = await invoke(collectionEvent('POST', 'items', { json: { name: 'pen', price: 1 } }));
    const { id } = jsonBody<{ id: string }>(created);
    const before = await dynamo.scanAll(tableName);

    // Act
    const post = await invoke(collectionEvent('POST', 'items', { json: { name: '', tags: ['a', 1], colour: 'red' } }));
    const put = await invoke(itemEvent('PUT', 'items', id, { json: { name: 'pen', price: -1 }, headers: { 'If-Match': '"1"' } }));

    // Assess
    expect(details(post)).toEqual(expect.arrayContaining([
      { path: '/price', message: "must have required property 'price'" },
      { path: '/', message: 'must NOT have additional properties' },
      { path: '/name', message: 'must NOT have fewer than 1 characters' },
      { path: '/tags/1', message: 'must be string' },
    ]));
    expect(details(put)).toEqual([{ path: '/price', message: 'must be >= 0' }]);
    expect(await dynamo.scanAll(tableName)).toEqual(before);
  });

  test('draft 2020-12 is selected by $schema', async () => {
    const { invoke } = loadRestApi({ TABLE_NAME: tableName, RESOURCE_NAME: 'points', ITEM_SCHEMA: draft2020 });

    const ok = await invoke(collectionEvent('POST', 'points', { json: { point: [1, 2] } }));
    const bad = await invoke(collectionEvent('POST', 'points', { json: { point: [1, 2, 3] } }));

    expect(ok.statusCode).toBe(201);
    expect(details(bad)).toEqual([{ path: '/point', message: expect.stringMatching(/must NOT have more than 2 items/) }]);
  });

  test('format is an annotation only (no format validators are bundled)', async () => {
    const schema = JSON.stringify({ type: 'object', properties: { email: { type: 'string', format: 'email' } } });
    const { invoke } = loadRestApi({ TABLE_NAME: tableName, RESOURCE_NAME: 'contacts', ITEM_SCHEMA: schema });

    const response = await invoke(collectionEvent('POST', 'contacts', { json: { email: 'not an email' } }));

    expect(response.statusCode).toBe(201);
  });

  test('server-owned fields are rejected before the schema runs', async () => {
    const { invoke } = loadRestApi({ TABLE_NAME: tableName, ITEM_SCHEMA: draft07 });

    const response = await invoke(collectionEvent('POST', 'items', { json: { id: 'x', name: 'a', price: 1 } }));

    expect(response.statusCode).toBe(400);
    expect(jsonBody(response)).toMatchObject({ error: 'BadRequest', message: expect.stringContaining('id') });
  });
});
