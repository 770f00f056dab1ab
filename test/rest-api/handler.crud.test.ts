/**
 * REST API handler against a local DynamoDB engine (dynalite): the CRUD contract, conditional
 * requests, input validation and idempotent creation.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { collectionEvent, itemEvent, jsonBody, responseHeader } from '../helpers/api-gateway-events';
import { useDynaliteTable, type LocalDynamo } from '../helpers/dynalite';
import { loadRestApi, type Invoke } from '../helpers/load-handler';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MISSING_ID = '00000000-0000-4000-8000-000000000000';

interface Item {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  [field: string]: unknown;
}

interface ErrorBody {
  error: string;
  message: string;
  requestId: string;
  details?: Array<{ path: string; message: string }>;
}

const db = useDynaliteTable();
let invoke: Invoke;

beforeAll(() => {
  ({ invoke } = loadRestApi({ TABLE_NAME: db.tableName }));
});

async function create(fields: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Item> {
  const response = await invoke(collectionEvent('POST', 'items', { json: fields, headers }));
  expect(response.statusCode).toBe(201);
  return jsonBody<Item>(response);
}

function expectError(response: APIGatewayProxyResult, statusCode: number, error: string): ErrorBody {
  expect(response.statusCode).toBe(statusCode);
  expect(responseHeader(response, 'content-type')).toBe('application/json');
  const body = jsonBody<ErrorBody>(response);
  expect(body.error).toBe(error);
  expect(typeof body.message).toBe('string');
  expect(body.requestId).toMatch(UUID);
  return body;
}

describe('CRUD round trip', () => {
  test('create, read, list, replace, delete with status codes, headers and bodies', async () => {
    // Prepare
    const createEvent = collectionEvent('POST', 'items', { json: { name: 'first', tags: ['a', 'b'], nested: { n: 1.5, ok: true, none: null } } });

    // Act: create
    const created = await invoke(createEvent);

    // Assess
    expect(created.statusCode).toBe(201);
    expect(responseHeader(created, 'content-type')).toBe('application/json');
    expect(responseHeader(created, 'x-content-type-options')).toBe('nosniff');
    expect(responseHeader(created, 'cache-control')).toBe('no-store');
    const item = jsonBody<Item>(created);
    expect(item).toEqual({
      id: expect.stringMatching(UUID),
      version: 1,
      createdAt: expect.any(String),
      updatedAt: item.createdAt,
      name: 'first',
      tags: ['a', 'b'],
      nested: { n: 1.5, ok: true, none: null },
    });
    expect(new Date(item.createdAt).toISOString()).toBe(item.createdAt);
    expect(responseHeader(created, 'location')).toBe(`/prod/items/${item.id}`);
    expect(responseHeader(created, 'etag')).toBe('"1"');

    // Act + Assess: stored layout keeps client fields under `data`
    const raw = await db.dynamo.scanAll(db.tableName);
    const stored = raw.find((r) => r.sk?.S === item.id);
    expect(stored).toMatchObject({ pk: { S: 'items' }, sk: { S: item.id }, id: { S: item.id }, version: { N: '1' }, data: { M: expect.any(Object) } });
    expect(stored?.name).toBeUndefined();

    // Act + Assess: read
    const read = await invoke(itemEvent('GET', 'items', item.id));
    expect(read.statusCode).toBe(200);
    expect(responseHeader(read, 'etag')).toBe('"1"');
    expect(jsonBody(read)).toEqual(item);

    // Act + Assess: list contains it
    const list = await invoke(collectionEvent('GET', 'items'));
    expect(list.statusCode).toBe(200);
    expect(jsonBody<{ items: Item[] }>(list).items).toContainEqual(item);

    // Act + Assess: replace (full replacement of the client fields)
    const replaced = await invoke(itemEvent('PUT', 'items', item.id, { json: { name: 'second' }, headers: { 'If-Match': '"1"' } }));
    expect(replaced.statusCode).toBe(200);
    expect(responseHeader(replaced, 'etag')).toBe('"2"');
    const replacedItem = jsonBody<Item>(replaced);
    expect(replacedItem).toEqual({ id: item.id, version: 2, createdAt: item.createdAt, updatedAt: expect.any(String), name: 'second' });
    expect(replacedItem.updatedAt >= item.updatedAt).toBe(true);
    expect(jsonBody(await invoke(itemEvent('GET', 'items', item.id)))).toEqual(replacedItem);

    // Act + Assess: delete
    const deleted = await invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"2"' } }));
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expectError(await invoke(itemEvent('GET', 'items', item.id)), 404, 'NotFound');
  });

  test('an upper case id addresses the same item', async () => {
    const item = await create({ name: 'case' });

    const response = await invoke(itemEvent('GET', 'items', item.id.toUpperCase()));

    expect(response.statusCode).toBe(200);
    expect(jsonBody<Item>(response).id).toBe(item.id);
  });

  test('Location uses event.path when requestContext.path is absent', async () => {
    const event = collectionEvent('POST', 'items', { json: { a: 1 } });
    const response = await invoke({ ...event, requestContext: { ...event.requestContext, path: undefined as unknown as string } });

    expect(response.statusCode).toBe(201);
    expect(responseHeader(response, 'location')).toBe(`/items/${jsonBody<Item>(response).id}`);
  });

  test('header names are matched case-insensitively', async () => {
    const item = await create({ v: 1 });

    const response = await invoke(itemEvent('PUT', 'items', item.id, { body: '{"v":2}', headers: { 'CONTENT-TYPE': 'Application/JSON; Charset="UTF-8"', 'if-MATCH': '"1"' } }));

    expect(response.statusCode).toBe(200);
  });

  test('a base64 encoded JSON body is decoded', async () => {
    const body = Buffer.from(JSON.stringify({ text: 'grüße' }), 'utf8').toString('base64');

    const response = await invoke(collectionEvent('POST', 'items', { body, isBase64Encoded: true, headers: { 'content-type': 'application/vnd.example+json' } }));

    expect(response.statusCode).toBe(201);
    expect(jsonBody<Item>(response).text).toBe('grüße');
  });

  test('null headers and query parameters are handled', async () => {
    const response = await invoke(collectionEvent('GET', 'items', { overrides: { headers: null as never, multiValueHeaders: null as never } }));

    expect(response.statusCode).toBe(200);
  });

  test('large and small numbers within DynamoDB range round-trip', async () => {
    const fields = { big: 1e125, neg: -9.99e125, tiny: 1e-130, unsafe: 2 ** 60, precise: 0.1 + 0.2, zero: 0 };

    const item = await create(fields);
    const read = jsonBody<Item>(await invoke(itemEvent('GET', 'items', item.id)));

    expect(read).toMatchObject(fields);
  });

  test('keys that confuse object-based marshalling are stored as plain fields', async () => {
    const fields = { constructor: { name: 'Set' }, toString: 'x', hasOwnProperty: { name: 'Uint8Array' }, valueOf: 1 };

    const item = await create(fields);
    const read = jsonBody<Item>(await invoke(itemEvent('GET', 'items', item.id)));

    expect(read).toEqual({ ...item });
    expect(read.constructor).toEqual({ name: 'Set' });
    expect(read.hasOwnProperty).toEqual({ name: 'Uint8Array' });
  });
});

describe('conditional requests', () => {
  test('GET with a matching If-None-Match is 304 with the ETag and no body', async () => {
    const item = await create({ a: 1 });

    const [strong, weak, star, other] = await Promise.all([
      invoke(itemEvent('GET', 'items', item.id, { headers: { 'If-None-Match': '"1"' } })),
      invoke(itemEvent('GET', 'items', item.id, { headers: { 'If-None-Match': '"7", W/"1"' } })),
      invoke(itemEvent('GET', 'items', item.id, { headers: { 'If-None-Match': '*' } })),
      invoke(itemEvent('GET', 'items', item.id, { headers: { 'If-None-Match': '"2"' } })),
    ]);

    for (const response of [strong, weak, star]) {
      expect(response.statusCode).toBe(304);
      expect(response.body).toBe('');
      expect(responseHeader(response, 'etag')).toBe('"1"');
    }
    expect(other.statusCode).toBe(200);
  });

  test('PUT and DELETE without If-Match are 428 and change nothing', async () => {
    const item = await create({ a: 1 });
    const before = await db.dynamo.scanAll(db.tableName);

    const put = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 } }));
    const del = await invoke(itemEvent('DELETE', 'items', item.id));

    expectError(put, 428, 'PreconditionRequired');
    expectError(del, 428, 'PreconditionRequired');
    expect(await db.dynamo.scanAll(db.tableName)).toEqual(before);
  });

  test('a stale If-Match is 412 and changes nothing', async () => {
    const item = await create({ a: 1 });
    await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 }, headers: { 'If-Match': '"1"' } }));
    const before = await db.dynamo.scanAll(db.tableName);

    const put = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 3 }, headers: { 'If-Match': '"1"' } }));
    const del = await invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"1"' } }));

    expectError(put, 412, 'PreconditionFailed');
    expectError(del, 412, 'PreconditionFailed');
    expect(await db.dynamo.scanAll(db.tableName)).toEqual(before);
  });

  test('If-Match * matches any existing item', async () => {
    const item = await create({ a: 1 });

    const put = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 }, headers: { 'If-Match': '*' } }));
    const del = await invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '*' } }));

    expect(put.statusCode).toBe(200);
    expect(jsonBody<Item>(put).version).toBe(2);
    expect(del.statusCode).toBe(204);
  });

  test('If-Match with a list matches when any strong tag matches', async () => {
    const item = await create({ a: 1 });

    const response = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 }, headers: { 'If-Match': '"5", "1" , "abc"' } }));

    expect(response.statusCode).toBe(200);
  });

  test('repeated If-Match header lines are combined', async () => {
    const item = await create({ a: 1 });

    const response = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 }, headers: { 'If-Match': ['"9"', '"1"'] } }));

    expect(response.statusCode).toBe(200);
  });

  test('a weak ETag never matches If-Match (strong comparison)', async () => {
    const item = await create({ a: 1 });

    const put = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 }, headers: { 'If-Match': 'W/"1"' } }));
    const del = await invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': 'W/"1"' } }));

    expectError(put, 412, 'PreconditionFailed');
    expectError(del, 412, 'PreconditionFailed');
  });

  test.each([['1'], ['"1'], ['"1" "2"'], ['W/1'], ['*, "1"'], [','], ['"a\u0001"']])('an unparseable If-Match %j is 400', async (header) => {
    const item = await create({ a: 1 });

    const response = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 }, headers: { 'If-Match': header } }));

    expectError(response, 400, 'BadRequest');
  });

  test('an unparseable If-None-Match is 400', async () => {
    const item = await create({ a: 1 });

    const response = await invoke(itemEvent('GET', 'items', item.id, { headers: { 'If-None-Match': 'nope' } }));

    expectError(response, 400, 'BadRequest');
  });

  test('GET, PUT and DELETE of a missing item are 404, also with If-Match *', async () => {
    const responses = await Promise.all([
      invoke(itemEvent('GET', 'items', MISSING_ID)),
      invoke(itemEvent('PUT', 'items', MISSING_ID, { json: { a: 1 }, headers: { 'If-Match': '"1"' } })),
      invoke(itemEvent('PUT', 'items', MISSING_ID, { json: { a: 1 }, headers: { 'If-Match': '*' } })),
      invoke(itemEvent('PUT', 'items', MISSING_ID, { json: { a: 1 }, headers: { 'If-Match': 'W/"1"' } })),
      invoke(itemEvent('DELETE', 'items', MISSING_ID, { headers: { 'If-Match': '"1"' } })),
      invoke(itemEvent('DELETE', 'items', MISSING_ID, { headers: { 'If-Match': '*' } })),
    ]);

    for (const response of responses) expectError(response, 404, 'NotFound');
    expect((await db.dynamo.scanAll(db.tableName)).filter((r) => r.sk?.S === MISSING_ID)).toEqual([]);
  });
});

describe('REQUIRE_IF_MATCH=false', () => {
  let unconditional: Invoke;
  beforeAll(() => {
    ({ invoke: unconditional } = loadRestApi({ TABLE_NAME: db.tableName, RESOURCE_NAME: 'loose', REQUIRE_IF_MATCH: 'false' }));
  });

  test('PUT and DELETE without If-Match are unconditional, but never create', async () => {
    const item = jsonBody<Item>(await unconditional(collectionEvent('POST', 'loose', { json: { a: 1 } })));

    const put = await unconditional(itemEvent('PUT', 'loose', item.id, { json: { a: 2 } }));
    const putMissing = await unconditional(itemEvent('PUT', 'loose', MISSING_ID, { json: { a: 2 } }));
    const del = await unconditional(itemEvent('DELETE', 'loose', item.id));
    const delMissing = await unconditional(itemEvent('DELETE', 'loose', item.id));

    expect(put.statusCode).toBe(200);
    expect(jsonBody<Item>(put)).toMatchObject({ version: 2, a: 2 });
    expectError(putMissing, 404, 'NotFound');
    expect(del.statusCode).toBe(204);
    expectError(delMissing, 404, 'NotFound');
  });

  test('a given If-Match is still enforced', async () => {
    const item = jsonBody<Item>(await unconditional(collectionEvent('POST', 'loose', { json: { a: 1 } })));

    const response = await unconditional(itemEvent('PUT', 'loose', item.id, { json: { a: 2 }, headers: { 'If-Match': '"2"' } }));

    expectError(response, 412, 'PreconditionFailed');
  });

  test('items of another resource name are invisible', async () => {
    const item = await create({ mine: true });

    const response = await unconditional(itemEvent('GET', 'loose', item.id));

    expectError(response, 404, 'NotFound');
  });
});

describe('routing', () => {
  test.each([
    ['PATCH', 'collection', 'GET, POST'],
    ['DELETE', 'collection', 'GET, POST'],
    ['HEAD', 'collection', 'GET, POST'],
    ['OPTIONS', 'collection', 'GET, POST'],
    ['POST', 'item', 'GET, PUT, DELETE'],
    ['PATCH', 'item', 'GET, PUT, DELETE'],
    ['HEAD', 'item', 'GET, PUT, DELETE'],
    ['OPTIONS', 'item', 'GET, PUT, DELETE'],
  ])('%s on the %s is 405 with Allow: %s', async (method, target, allow) => {
    const event = target === 'collection' ? collectionEvent(method, 'items') : itemEvent(method, 'items', MISSING_ID);

    const response = await invoke(event);

    expectError(response, 405, 'MethodNotAllowed');
    expect(responseHeader(response, 'allow')).toBe(allow);
  });

  test('an unknown resource is 404', async () => {
    const responses = await Promise.all([
      invoke(collectionEvent('GET', 'other')),
      invoke(itemEvent('GET', 'other', MISSING_ID)),
      invoke(collectionEvent('GET', 'items', { overrides: { resource: '/items/{id}/sub' } })),
    ]);

    for (const response of responses) expectError(response, 404, 'NotFound');
  });

  test.each([['not-a-uuid'], ['00000000-0000-4000-8000-00000000000'], ['00000000000040008000000000000000'], ['{00000000-0000-4000-8000-000000000000}'], [' 00000000-0000-4000-8000-000000000000'], ['../items']])(
    'the bad id %j is 400 for GET, PUT and DELETE',
    async (id) => {
      const responses = await Promise.all([
        invoke(itemEvent('GET', 'items', id)),
        invoke(itemEvent('PUT', 'items', id, { json: { a: 1 }, headers: { 'If-Match': '"1"' } })),
        invoke(itemEvent('DELETE', 'items', id, { headers: { 'If-Match': '"1"' } })),
      ]);

      for (const response of responses) expectError(response, 400, 'BadRequest');
    },
  );

  test('a missing id path parameter is 400', async () => {
    const response = await invoke(itemEvent('GET', 'items', MISSING_ID, { overrides: { pathParameters: null } }));

    expectError(response, 400, 'BadRequest');
  });

  test('the error request id falls back to the Lambda request id', async () => {
    const event = collectionEvent('PATCH', 'items');
    const response = await invoke({ ...event, requestContext: { ...event.requestContext, requestId: undefined as unknown as string } });

    expect(jsonBody<ErrorBody>(response).requestId).toMatch(UUID);
  });

  test('the error request id is API Gateway\'s', async () => {
    const event = collectionEvent('PATCH', 'items');

    const response = await invoke(event);

    expect(jsonBody<ErrorBody>(response).requestId).toBe(event.requestContext.requestId);
  });
});

describe('body validation', () => {
  let before: Awaited<ReturnType<LocalDynamo['scanAll']>>;
  let existing: Item;
  beforeAll(async () => {
    existing = await create({ keep: 'me' });
  });
  beforeEach(async () => {
    before = await db.dynamo.scanAll(db.tableName);
  });
  afterEach(async () => {
    expect(await db.dynamo.scanAll(db.tableName)).toEqual(before);
  });

  const put = (options: Parameters<typeof itemEvent>[3]): Promise<APIGatewayProxyResult> =>
    invoke(itemEvent('PUT', 'items', existing.id, { ...options, headers: { 'If-Match': '"1"', ...(options?.headers ?? {}) } }));
  const post = (options: Parameters<typeof collectionEvent>[2]): Promise<APIGatewayProxyResult> => invoke(collectionEvent('POST', 'items', options));

  test.each([
    ['text/plain', '{"a":1}'],
    ['application/xml', '{"a":1}'],
    ['application/json; charset=iso-8859-1', '{"a":1}'],
    ['application/jsonx', '{"a":1}'],
    ['multipart/form-data; boundary=x', '{"a":1}'],
  ])('Content-Type %j is 415', async (contentType, body) => {
    expectError(await post({ body, headers: { 'Content-Type': contentType } }), 415, 'UnsupportedMediaType');
    expectError(await put({ body, headers: { 'Content-Type': contentType } }), 415, 'UnsupportedMediaType');
  });

  test('a body without Content-Type is 415', async () => {
    expectError(await post({ body: '{"a":1}' }), 415, 'UnsupportedMediaType');
  });

  test('a missing or empty body is 400', async () => {
    expectError(await post({ headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest');
    expectError(await put({ body: '', headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest');
  });

  test('a body over MAX_BODY_BYTES (default 65536) is 413, counted in decoded bytes', async () => {
    const ascii = JSON.stringify({ s: 'x'.repeat(65_536 - 8 + 1) }); // 65537 bytes
    const multiByte = JSON.stringify({ s: 'é'.repeat(40_000) }); // < 65536 chars, > 65536 bytes
    const base64 = Buffer.from(ascii).toString('base64');

    expectError(await post({ body: ascii, headers: { 'Content-Type': 'application/json' } }), 413, 'PayloadTooLarge');
    expectError(await post({ body: multiByte, headers: { 'Content-Type': 'application/json' } }), 413, 'PayloadTooLarge');
    expectError(await post({ body: base64, isBase64Encoded: true, headers: { 'Content-Type': 'application/json' } }), 413, 'PayloadTooLarge');
    expectError(await put({ body: ascii, headers: { 'Content-Type': 'application/json' } }), 413, 'PayloadTooLarge');
  });

  test('a body of exactly MAX_BODY_BYTES is accepted', async () => {
    const body = JSON.stringify({ s: 'x'.repeat(65_536 - 8) });
    expect(Buffer.byteLength(body)).toBe(65_536);

    const response = await put({ body, headers: { 'Content-Type': 'application/json' } });

    expect(response.statusCode).toBe(200);
    // restore the item for the table-unchanged check
    await db.dynamo.client.send(new PutItemCommand({ TableName: db.tableName, Item: before.find((r) => r.sk?.S === existing.id) }));
  });

  test.each([['{'], ['{"a":1,}'], ['{"a":1} x'], ["{'a':1}"], ['\u0000'], ['{"a":NaN}']])('malformed JSON %j is 400', async (body) => {
    expectError(await post({ body, headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest');
  });

  test.each([['[]'], ['[{"a":1}]'], ['null'], ['1'], ['"text"'], ['true']])('the JSON value %s is 400: the body must be an object', async (body) => {
    const response = await post({ body, headers: { 'Content-Type': 'application/json' } });

    expect(expectError(response, 400, 'BadRequest').message).toMatch(/object/);
  });

  test('bad base64 and invalid UTF-8 are 400', async () => {
    expectError(await post({ body: '!!!not base64', isBase64Encoded: true, headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest');
    expectError(await post({ body: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), isBase64Encoded: true, headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest');
  });

  test.each([['id'], ['version'], ['createdAt'], ['updatedAt']])('the server-owned field %s is 400 naming it', async (field) => {
    const post400 = expectError(await post({ json: { [field]: 'x', other: 1 } }), 400, 'BadRequest');
    const put400 = expectError(await put({ json: { [field]: 'x' } }), 400, 'BadRequest');

    expect(post400.message).toContain(field);
    expect(put400.message).toContain(field);
  });

  test.each([
    ['{"n":1e400}', '/n'],
    ['{"n":-1e400}', '/n'],
    ['{"n":1e126}', '/n'],
    ['{"a":[1,{"n":1e-131}]}', '/a/1/n'],
    ['{"":1}', '/'],
    [`{"${'k'.repeat(256)}":1}`, `/${'k'.repeat(256)}`],
    ['{"s":"\\ud800"}', '/s'],
    ['{"__proto__":{"x":1}}', '/__proto__'],
    ['{"a/b":{"c~d":1e999}}', '/a~1b/c~0d'],
  ])('the unstorable body %s is 400 with the path %s', async (body, path) => {
    const response = await post({ body, headers: { 'Content-Type': 'application/json' } });

    const error = expectError(response, 400, 'ValidationError');
    expect(error.details?.map((d) => d.path)).toContain(path);
    expect(error.message).toContain(path);
  });

  test('nesting deeper than 32 levels is 400, 32 levels are accepted', async () => {
    const nest = (depth: number): string => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

    expectError(await post({ body: nest(33), headers: { 'Content-Type': 'application/json' } }), 400, 'ValidationError');
    const ok = await put({ body: nest(32), headers: { 'Content-Type': 'application/json' } });
    expect(ok.statusCode).toBe(200);
    await db.dynamo.client.send(new PutItemCommand({ TableName: db.tableName, Item: before.find((r) => r.sk?.S === existing.id) }));
  });
});

describe('Idempotency-Key', () => {
  test('a retry with the same key and body returns the same item and writes once', async () => {
    // Prepare
    const key = `order-${Date.now()}`;
    const fields = { sku: 'A-1', qty: 2, meta: { b: 1, a: 2 } };

    // Act
    const first = await invoke(collectionEvent('POST', 'items', { json: fields, headers: { 'Idempotency-Key': key } }));
    const snapshot = await db.dynamo.scanAll(db.tableName);
    const retry = await invoke(collectionEvent('POST', 'items', { body: '{ "qty": 2, "meta": {"a":2,"b":1}, "sku": "A-1" }', headers: { 'content-type': 'application/json', 'idempotency-key': key } }));

    // Assess
    expect(first.statusCode).toBe(201);
    expect(responseHeader(first, 'idempotent-replayed')).toBeUndefined();
    expect(retry.statusCode).toBe(201);
    expect(responseHeader(retry, 'idempotent-replayed')).toBe('true');
    expect(jsonBody(retry)).toEqual(jsonBody(first));
    expect(responseHeader(retry, 'location')).toBe(responseHeader(first, 'location'));
    expect(responseHeader(retry, 'etag')).toBe('"1"');
    expect(await db.dynamo.scanAll(db.tableName)).toEqual(snapshot);
    const id = jsonBody<Item>(first).id;
    expect(snapshot.filter((r) => r.sk?.S === id)).toHaveLength(1);
  });

  test('concurrent retries with one key create exactly one item', async () => {
    const key = `burst-${Date.now()}`;

    const responses = await Promise.all(Array.from({ length: 10 }, () => invoke(collectionEvent('POST', 'items', { json: { burst: true }, headers: { 'Idempotency-Key': key } }))));

    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(201));
    expect(new Set(responses.map((r) => jsonBody<Item>(r).id)).size).toBe(1);
    expect(responses.filter((r) => responseHeader(r, 'idempotent-replayed') === undefined)).toHaveLength(1);
  });

  test('the same key with a different body is 422 and changes nothing', async () => {
    const key = `conflict-${Date.now()}`;
    await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': key } }));
    const before = await db.dynamo.scanAll(db.tableName);

    const response = await invoke(collectionEvent('POST', 'items', { json: { a: 2 }, headers: { 'Idempotency-Key': key } }));

    expectError(response, 422, 'UnprocessableEntity');
    expect(await db.dynamo.scanAll(db.tableName)).toEqual(before);
  });

  test('the same key in another resource is independent', async () => {
    const key = `shared-${Date.now()}`;
    const { invoke: other } = loadRestApi({ TABLE_NAME: db.tableName, RESOURCE_NAME: 'others' });

    const a = await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': key } }));
    const b = await other(collectionEvent('POST', 'others', { json: { a: 2 }, headers: { 'Idempotency-Key': key } }));

    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(jsonBody<Item>(a).id).not.toBe(jsonBody<Item>(b).id);
  });

  test.each([[''], [' '], ['x'.repeat(129)], ['tab\there'], [' lead'], ['ünïcode'], ['line\nbreak']])('the bad key %j is 400', async (key) => {
    const before = await db.dynamo.scanAll(db.tableName);

    const response = await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': key } }));

    expectError(response, 400, 'BadRequest');
    expect(await db.dynamo.scanAll(db.tableName)).toEqual(before);
  });

  test('two different Idempotency-Key header lines are 400', async () => {
    const response = await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': ['k1', 'k2'] } }));

    expectError(response, 400, 'BadRequest');
  });
});

describe('CORS', () => {
  test('no CORS headers without CORS_ALLOW_ORIGINS', async () => {
    const response = await invoke(collectionEvent('GET', 'items', { headers: { Origin: 'https://app.example.com' } }));

    expect(responseHeader(response, 'access-control-allow-origin')).toBeUndefined();
  });

  test('an allowed Origin is echoed with Vary: Origin, others are not', async () => {
    const { invoke: cors } = loadRestApi({ TABLE_NAME: db.tableName, CORS_ALLOW_ORIGINS: 'https://app.example.com, http://localhost:3000' });

    const allowed = await cors(collectionEvent('GET', 'items', { headers: { Origin: 'https://app.example.com' } }));
    const denied = await cors(collectionEvent('GET', 'items', { headers: { origin: 'https://evil.example.com' } }));
    const error = await cors(collectionEvent('PATCH', 'items', { headers: { origin: 'http://localhost:3000' } }));

    expect(responseHeader(allowed, 'access-control-allow-origin')).toBe('https://app.example.com');
    expect(responseHeader(allowed, 'vary')).toBe('Origin');
    expect(responseHeader(allowed, 'access-control-expose-headers')).toContain('ETag');
    expect(responseHeader(denied, 'access-control-allow-origin')).toBeUndefined();
    expect(responseHeader(denied, 'vary')).toBe('Origin');
    expect(responseHeader(error, 'access-control-allow-origin')).toBe('http://localhost:3000');
  });

  test('CORS_ALLOW_ORIGINS=* allows any origin', async () => {
    const { invoke: cors } = loadRestApi({ TABLE_NAME: db.tableName, CORS_ALLOW_ORIGINS: '*' });

    const response = await cors(collectionEvent('GET', 'items', { headers: { Origin: 'https://anything.example' } }));

    expect(responseHeader(response, 'access-control-allow-origin')).toBe('*');
  });
});

describe('item size at MAX_BODY_BYTES=262144', () => {
  const LIMIT = 262_144;
  /** `{"a":[e,e,...]}` with as many elements as fit in LIMIT bytes. */
  const denseList = (element: string): string => {
    const count = Math.floor((LIMIT - '{"a":[]}'.length + 1) / (element.length + 1));
    return `{"a":[${Array(count).fill(element).join(',')}]}`;
  };
  const manyKeys = (): string => {
    const parts: string[] = [];
    let size = 2;
    for (let i = 0; ; i++) {
      const part = `"k${i.toString(36)}":0`;
      if (size + part.length + 1 > LIMIT) break;
      parts.push(part);
      size += part.length + 1;
    }
    return `{${parts.join(',')}}`;
  };

  test.each([
    ['ones (the densest shape: 2 bytes of JSON, 3 stored)', () => denseList('1'), 201],
    ['negative numbers', () => denseList('-1'), 201],
    ['decimals', () => denseList('-1.1'), 201],
    ['zeros', () => denseList('0'), 201],
    ['empty strings', () => denseList('""'), 201],
    ['empty maps', () => denseList('{}'), 201],
    ['nulls', () => denseList('null'), 201],
    ['long numbers', () => denseList('-1.2345678901234567e-100'), 201],
    ['many keys', manyKeys, 201],
    ['one long string', () => JSON.stringify({ a: 'x'.repeat(LIMIT - 10) }), 201],
    ['multi-byte text', () => JSON.stringify({ a: 'é'.repeat((LIMIT - 10) / 2) }), 201],
  ])('a body of dense %s is stored (dynalite enforces the 400 KB item limit)', async (_name, build, expected) => {
    // Prepare
    const { invoke: large } = loadRestApi({ TABLE_NAME: db.tableName, RESOURCE_NAME: 'large', MAX_BODY_BYTES: String(LIMIT) });
    const body = build();
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(LIMIT);
    expect(Buffer.byteLength(body)).toBeGreaterThan(LIMIT - 64);

    // Act
    const response = await large(collectionEvent('POST', 'large', { body, headers: { 'Content-Type': 'application/json' } }));

    // Assess
    expect(response.statusCode).toBe(expected);
  });
});
