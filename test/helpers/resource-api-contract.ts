/**
 * The resource API contract (`lambda/shared/resource-api/routes.ts`) as one test suite that every
 * back end must pass with the same assertions: the REST pattern on DynamoDB (dynalite) and the
 * RDS Proxy pattern on PostgreSQL (PGlite). A back end supplies a handler loader and a raw view
 * of its storage (to prove that rejected requests change nothing and accepted ones store the
 * fields verbatim).
 *
 * With ITEM_OWNER_CLAIM, every back end keeps each caller's items apart from every other caller's
 * and from the shared collection, and answers 401 without a usable authorizer claim.
 *
 * Known differences, deliberately not asserted here: PostgreSQL cannot store U+0000 in strings
 * (400 there, stored by DynamoDB); a full last page may carry a `nextToken` on DynamoDB that leads
 * to an empty page (never on PostgreSQL); jsonb does not keep the key order of a body (responses
 * are equal as JSON, their field order may differ).
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { asCaller, collectionEvent, itemEvent, jsonBody, responseHeader } from './api-gateway-events';
import type { Invoke } from './load-handler';

export interface StoredView {
  readonly version: number;
  /** The client fields as stored. */
  readonly data: Record<string, unknown>;
}

export interface ContractBackend {
  /** Starts the engine and prepares its storage (table, schema). */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** Cold-starts the handler with the contract variables in `env` (RESOURCE_NAME, REQUIRE_IF_MATCH, ITEM_SCHEMA, ...). */
  load(env: Record<string, string>): Invoke;
  /** Everything stored, in a stable order, comparable with `toEqual`. */
  snapshot(): Promise<unknown>;
  /**
   * One item read straight from storage, or `undefined`: of the collection shared by every caller,
   * or with `owner` of that caller's collection (ITEM_OWNER_CLAIM).
   */
  storedItem(resourceName: string, id: string, owner?: string): Promise<StoredView | undefined>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MISSING_ID = '00000000-0000-4000-8000-000000000000';
const AWKWARD_KEY = 'key with spaces / slash ~ tilde';

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

interface Page {
  items: Item[];
  nextToken?: string;
}

/** Asserts the error model: status, JSON content type, `{error, message, requestId}`. */
export function expectError(response: APIGatewayProxyResult, statusCode: number, error: string): ErrorBody {
  // With the body beside it, an unexpected status explains itself in the failure diff.
  expect({ statusCode: response.statusCode, body: response.body }).toEqual({ statusCode, body: expect.any(String) });
  expect(responseHeader(response, 'content-type')).toBe('application/json');
  const body = jsonBody<ErrorBody>(response);
  expect(body.error).toBe(error);
  expect(typeof body.message).toBe('string');
  expect(body.requestId).toMatch(UUID);
  return body;
}

function token(json: unknown): string {
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

let keyCounter = 0;
/** An Idempotency-Key unique to this run. */
function uniqueKey(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now()}-${++keyCounter}`;
}

export function describeResourceApiContract(name: string, createBackend: () => ContractBackend): void {
  describe(`resource API contract: ${name}`, () => {
    const backend = createBackend();
    const loaded = new Map<string, Invoke>();
    /** The handler with these contract variables, cold-started once per distinct set. */
    const api = (env: Record<string, string> = {}): Invoke => {
      const key = JSON.stringify(env);
      if (!loaded.has(key)) loaded.set(key, backend.load(env));
      return loaded.get(key)!;
    };
    const invoke: Invoke = (event, context) => api()(event, context);

    beforeAll(() => backend.setup());
    afterAll(() => backend.teardown());

    async function create(fields: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Item> {
      const response = await invoke(collectionEvent('POST', 'items', { json: fields, headers }));
      expect(response.statusCode).toBe(201);
      return jsonBody<Item>(response);
    }

    describe('CRUD', () => {
      test('create, read, list, replace, delete with status codes, headers and bodies', async () => {
        // Act: create
        const created = await invoke(collectionEvent('POST', 'items', { json: { name: 'first', tags: ['a', 'b'], nested: { n: 1.5, ok: true, none: null } } }));

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
        expect(await backend.storedItem('items', item.id)).toEqual({ version: 1, data: { name: 'first', tags: ['a', 'b'], nested: { n: 1.5, ok: true, none: null } } });

        // read
        const read = await invoke(itemEvent('GET', 'items', item.id));
        expect(read.statusCode).toBe(200);
        expect(responseHeader(read, 'etag')).toBe('"1"');
        expect(jsonBody(read)).toEqual(item);

        // list
        const list = await invoke(collectionEvent('GET', 'items'));
        expect(list.statusCode).toBe(200);
        expect(jsonBody<Page>(list).items).toContainEqual(item);

        // replace: the client fields are replaced as a whole
        const replaced = await invoke(itemEvent('PUT', 'items', item.id, { json: { name: 'second' }, headers: { 'If-Match': '"1"' } }));
        expect(replaced.statusCode).toBe(200);
        expect(responseHeader(replaced, 'etag')).toBe('"2"');
        const replacedItem = jsonBody<Item>(replaced);
        expect(replacedItem).toEqual({ id: item.id, version: 2, createdAt: item.createdAt, updatedAt: expect.any(String), name: 'second' });
        expect(replacedItem.updatedAt >= item.updatedAt).toBe(true);
        expect(jsonBody(await invoke(itemEvent('GET', 'items', item.id)))).toEqual(replacedItem);

        // delete
        const deleted = await invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"2"' } }));
        expect(deleted.statusCode).toBe(204);
        expect(deleted.body).toBe('');
        expectError(await invoke(itemEvent('GET', 'items', item.id)), 404, 'NotFound');
        expect(await backend.storedItem('items', item.id)).toBeUndefined();
      });

      test('an upper case id addresses the same item', async () => {
        const item = await create({ name: 'case' });

        const response = await invoke(itemEvent('GET', 'items', item.id.toUpperCase()));

        expect(response.statusCode).toBe(200);
        expect(jsonBody<Item>(response).id).toBe(item.id);
      });

      test('Location is the path the client used behind a proxy that removed a prefix (X-Forwarded-Prefix)', async () => {
        const response = await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'X-Forwarded-Prefix': '/api' } }));

        expect(response.statusCode).toBe(201);
        expect(responseHeader(response, 'location')).toBe(`/api/items/${jsonBody<Item>(response).id}`);
      });

      test.each(['api', '/api/', '/a b', 'https://evil.example/x', '/api, /other'])('an X-Forwarded-Prefix that is not a path prefix (%j) is ignored', async (prefix) => {
        const response = await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'X-Forwarded-Prefix': prefix } }));

        expect(response.statusCode).toBe(201);
        expect(responseHeader(response, 'location')).toBe(`/prod/items/${jsonBody<Item>(response).id}`);
      });

      test('Location uses event.path when requestContext.path is absent', async () => {
        const event = collectionEvent('POST', 'items', { json: { a: 1 } });

        const response = await invoke({ ...event, requestContext: { ...event.requestContext, path: undefined as unknown as string } });

        expect(response.statusCode).toBe(201);
        expect(responseHeader(response, 'location')).toBe(`/items/${jsonBody<Item>(response).id}`);
      });

      test('a base64 encoded JSON body with a +json media type is decoded', async () => {
        const body = Buffer.from(JSON.stringify({ text: 'grüße' }), 'utf8').toString('base64');

        const response = await invoke(collectionEvent('POST', 'items', { body, isBase64Encoded: true, headers: { 'content-type': 'application/vnd.example+json; charset=UTF-8' } }));

        expect(response.statusCode).toBe(201);
        expect(jsonBody<Item>(response).text).toBe('grüße');
      });

      test('null headers are handled', async () => {
        const response = await invoke(collectionEvent('GET', 'items', { overrides: { headers: null as never, multiValueHeaders: null as never } }));

        expect(response.statusCode).toBe(200);
      });

      test('numbers, text and awkward keys round-trip and are stored verbatim', async () => {
        const fields = {
          big: 1e125,
          neg: -9.99e125,
          tiny: 1e-130,
          unsafe: 2 ** 60,
          precise: 0.1 + 0.2,
          zero: 0,
          text: 'quote \' double " backslash \\ newline \n tab \t emoji 😀 ümlaut',
          [AWKWARD_KEY]: true,
          // Keys that confuse object-based marshalling.
          constructor: { name: 'Set' },
          toString: 'x',
          hasOwnProperty: { name: 'Uint8Array' },
          valueOf: 1,
          list: [[], {}, [null], ''],
        };

        const item = await create(fields);
        const read = jsonBody<Item>(await invoke(itemEvent('GET', 'items', item.id)));

        expect(read).toEqual(item);
        const { id: _id, version: _v, createdAt: _c, updatedAt: _u, ...rest } = read;
        expect(rest).toEqual(fields);
        expect((await backend.storedItem('items', item.id))?.data).toEqual(fields);
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
        const before = await backend.snapshot();

        const put = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 } }));
        const del = await invoke(itemEvent('DELETE', 'items', item.id));

        expectError(put, 428, 'PreconditionRequired');
        expectError(del, 428, 'PreconditionRequired');
        expect(await backend.snapshot()).toEqual(before);
      });

      test('a stale If-Match is 412 and changes nothing', async () => {
        const item = await create({ a: 1 });
        await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 }, headers: { 'If-Match': '"1"' } }));
        const before = await backend.snapshot();

        const put = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 3 }, headers: { 'If-Match': '"1"' } }));
        const del = await invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"1"' } }));

        expectError(put, 412, 'PreconditionFailed');
        expectError(del, 412, 'PreconditionFailed');
        expect(await backend.snapshot()).toEqual(before);
      });

      test('If-Match * matches any existing item; a list matches when any strong tag matches; repeated lines combine', async () => {
        const item = await create({ a: 1 });

        const star = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 }, headers: { 'If-Match': '*' } }));
        const list = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 3 }, headers: { 'If-Match': '"5", "2" , "abc"' } }));
        const lines = await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 4 }, headers: { 'If-Match': ['"9"', '"3"'] } }));
        const del = await invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '*' } }));

        expect([star, list, lines].map((r) => jsonBody<Item>(r).version)).toEqual([2, 3, 4]);
        expect(del.statusCode).toBe(204);
      });

      test('a weak ETag never matches If-Match (strong comparison)', async () => {
        const item = await create({ a: 1 });

        expectError(await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 }, headers: { 'If-Match': 'W/"1"' } })), 412, 'PreconditionFailed');
        expectError(await invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': 'W/"1"' } })), 412, 'PreconditionFailed');
      });

      test.each([['1'], ['"1'], ['"1" "2"'], ['W/1'], ['*, "1"'], [','], ['"a\u0001"']])('an unparseable If-Match %j is 400', async (header) => {
        const item = await create({ a: 1 });

        expectError(await invoke(itemEvent('PUT', 'items', item.id, { json: { a: 2 }, headers: { 'If-Match': header } })), 400, 'BadRequest');
      });

      test('an unparseable If-None-Match is 400', async () => {
        const item = await create({ a: 1 });

        expectError(await invoke(itemEvent('GET', 'items', item.id, { headers: { 'If-None-Match': 'nope' } })), 400, 'BadRequest');
      });

      test('GET, PUT and DELETE of a missing item are 404, also with If-Match *, and PUT never creates', async () => {
        const responses = await Promise.all([
          invoke(itemEvent('GET', 'items', MISSING_ID)),
          invoke(itemEvent('PUT', 'items', MISSING_ID, { json: { a: 1 }, headers: { 'If-Match': '"1"' } })),
          invoke(itemEvent('PUT', 'items', MISSING_ID, { json: { a: 1 }, headers: { 'If-Match': '*' } })),
          invoke(itemEvent('PUT', 'items', MISSING_ID, { json: { a: 1 }, headers: { 'If-Match': 'W/"1"' } })),
          invoke(itemEvent('DELETE', 'items', MISSING_ID, { headers: { 'If-Match': '"1"' } })),
          invoke(itemEvent('DELETE', 'items', MISSING_ID, { headers: { 'If-Match': '*' } })),
        ]);

        for (const response of responses) expectError(response, 404, 'NotFound');
        expect(await backend.storedItem('items', MISSING_ID)).toBeUndefined();
      });

      test('20 concurrent PUTs with the same If-Match: exactly one 200, the others 412, no lost update', async () => {
        const created = await invoke(collectionEvent('POST', 'items', { json: { writer: -1 } }));
        const { id } = jsonBody<Item>(created);

        const responses = await Promise.all(Array.from({ length: 20 }, (_, writer) =>
          invoke(itemEvent('PUT', 'items', id, { json: { writer }, headers: { 'If-Match': '"1"' } }))));

        const statuses = responses.map((r) => r.statusCode);
        expect(statuses.filter((s) => s === 200)).toHaveLength(1);
        expect(statuses.filter((s) => s === 412)).toHaveLength(19);
        const winner = statuses.indexOf(200);
        expect(await backend.storedItem('items', id)).toEqual({ version: 2, data: { writer: winner } });
      });
    });

    describe('REQUIRE_IF_MATCH=false', () => {
      const loose = (): Invoke => api({ RESOURCE_NAME: 'loose', REQUIRE_IF_MATCH: 'false' });

      test('PUT and DELETE without If-Match are unconditional, but never create', async () => {
        const item = jsonBody<Item>(await loose()(collectionEvent('POST', 'loose', { json: { a: 1 } })));

        const put = await loose()(itemEvent('PUT', 'loose', item.id, { json: { a: 2 } }));
        const putMissing = await loose()(itemEvent('PUT', 'loose', MISSING_ID, { json: { a: 2 } }));
        const del = await loose()(itemEvent('DELETE', 'loose', item.id));
        const delMissing = await loose()(itemEvent('DELETE', 'loose', item.id));

        expect(put.statusCode).toBe(200);
        expect(jsonBody<Item>(put)).toMatchObject({ version: 2, a: 2 });
        expectError(putMissing, 404, 'NotFound');
        expect(del.statusCode).toBe(204);
        expectError(delMissing, 404, 'NotFound');
        expect(await backend.storedItem('loose', MISSING_ID)).toBeUndefined();
      });

      test('a given If-Match is still enforced', async () => {
        const item = jsonBody<Item>(await loose()(collectionEvent('POST', 'loose', { json: { a: 1 } })));

        expectError(await loose()(itemEvent('PUT', 'loose', item.id, { json: { a: 2 }, headers: { 'If-Match': '"2"' } })), 412, 'PreconditionFailed');
      });

      test('items of another resource name are invisible', async () => {
        const item = await create({ mine: true });

        expectError(await loose()(itemEvent('GET', 'loose', item.id)), 404, 'NotFound');
        expect(jsonBody<Page>(await loose()(collectionEvent('GET', 'loose', { query: { limit: '100' } }))).items.map((i) => i.id)).not.toContain(item.id);
      });
    });

    describe('routing and the error model', () => {
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
        for (const event of [collectionEvent('GET', 'other'), itemEvent('GET', 'other', MISSING_ID), collectionEvent('GET', 'items', { overrides: { resource: '/items/{id}/sub' } })]) {
          expectError(await invoke(event), 404, 'NotFound');
        }
      });

      test.each([['not-a-uuid'], ['00000000-0000-4000-8000-00000000000'], ['00000000000040008000000000000000'], ['{00000000-0000-4000-8000-000000000000}'], [' 00000000-0000-4000-8000-000000000000'], ['../items']])(
        'the bad id %j is 400 for GET, PUT and DELETE',
        async (id) => {
          for (const event of [
            itemEvent('GET', 'items', id),
            itemEvent('PUT', 'items', id, { json: { a: 1 }, headers: { 'If-Match': '"1"' } }),
            itemEvent('DELETE', 'items', id, { headers: { 'If-Match': '"1"' } }),
          ]) expectError(await invoke(event), 400, 'BadRequest');
        },
      );

      test('a missing id path parameter is 400', async () => {
        expectError(await invoke(itemEvent('GET', 'items', MISSING_ID, { overrides: { pathParameters: null } })), 400, 'BadRequest');
      });

      test('the error request id is API Gateway\'s, else the Lambda request id', async () => {
        const event = collectionEvent('PATCH', 'items');
        const withoutApiId = { ...event, requestContext: { ...event.requestContext, requestId: undefined as unknown as string } };

        expect(jsonBody<ErrorBody>(await invoke(event)).requestId).toBe(event.requestContext.requestId);
        expect(jsonBody<ErrorBody>(await invoke(withoutApiId)).requestId).toMatch(UUID);
      });
    });

    describe('body validation changes nothing', () => {
      let existing: Item;
      let before: unknown;
      beforeAll(async () => {
        existing = await create({ keep: 'me' });
      });
      beforeEach(async () => {
        before = await backend.snapshot();
      });
      afterEach(async () => {
        expect(await backend.snapshot()).toEqual(before);
      });

      const put = (options: Parameters<typeof itemEvent>[3]): Promise<APIGatewayProxyResult> =>
        invoke(itemEvent('PUT', 'items', existing.id, { ...options, headers: { 'If-Match': '"1"', ...(options?.headers ?? {}) } }));
      const post = (options: Parameters<typeof collectionEvent>[2]): Promise<APIGatewayProxyResult> => invoke(collectionEvent('POST', 'items', options));

      test.each([['text/plain'], ['application/xml'], ['application/json; charset=iso-8859-1'], ['application/jsonx'], ['multipart/form-data; boundary=x']])(
        'Content-Type %j is 415',
        async (contentType) => {
          expectError(await post({ body: '{"a":1}', headers: { 'Content-Type': contentType } }), 415, 'UnsupportedMediaType');
          expectError(await put({ body: '{"a":1}', headers: { 'Content-Type': contentType } }), 415, 'UnsupportedMediaType');
        },
      );

      test('a body without Content-Type is 415; a missing or empty body is 400', async () => {
        expectError(await post({ body: '{"a":1}' }), 415, 'UnsupportedMediaType');
        expectError(await post({ headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest');
        expectError(await put({ body: '', headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest');
      });

      test('a body over MAX_BODY_BYTES (default 65536) is 413, counted in decoded bytes', async () => {
        const ascii = JSON.stringify({ s: 'x'.repeat(65_536 - 8 + 1) });
        const multiByte = JSON.stringify({ s: 'é'.repeat(40_000) });

        expectError(await post({ body: ascii, headers: { 'Content-Type': 'application/json' } }), 413, 'PayloadTooLarge');
        expectError(await post({ body: multiByte, headers: { 'Content-Type': 'application/json' } }), 413, 'PayloadTooLarge');
        expectError(await post({ body: Buffer.from(ascii).toString('base64'), isBase64Encoded: true, headers: { 'Content-Type': 'application/json' } }), 413, 'PayloadTooLarge');
        expectError(await put({ body: ascii, headers: { 'Content-Type': 'application/json' } }), 413, 'PayloadTooLarge');
      });

      test.each([['{'], ['{"a":1,}'], ['{"a":1} x'], ["{'a':1}"], ['\u0000'], ['{"a":NaN}']])('malformed JSON %j is 400', async (body) => {
        expectError(await post({ body, headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest');
      });

      test.each([['[]'], ['null'], ['1'], ['"text"'], ['true']])('the JSON value %s is 400: the body must be an object', async (body) => {
        expect(expectError(await post({ body, headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest').message).toMatch(/object/);
      });

      test('bad base64 and invalid UTF-8 are 400', async () => {
        expectError(await post({ body: '!!!not base64', isBase64Encoded: true, headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest');
        expectError(await post({ body: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), isBase64Encoded: true, headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest');
      });

      test.each([['id'], ['version'], ['createdAt'], ['updatedAt']])('the server-owned field %s is 400 naming it', async (field) => {
        expect(expectError(await post({ json: { [field]: 'x', other: 1 } }), 400, 'BadRequest').message).toContain(field);
        expect(expectError(await put({ json: { [field]: 'x' } }), 400, 'BadRequest').message).toContain(field);
      });

      test.each([
        ['{"n":1e400}', '/n'],
        ['{"n":1e126}', '/n'],
        ['{"a":[1,{"n":1e-131}]}', '/a/1/n'],
        ['{"":1}', '/'],
        [`{"${'k'.repeat(256)}":1}`, `/${'k'.repeat(256)}`],
        ['{"s":"\\ud800"}', '/s'],
        ['{"__proto__":{"x":1}}', '/__proto__'],
        ['{"a/b":{"c~d":1e999}}', '/a~1b/c~0d'],
      ])('the unstorable body %s is 400 ValidationError with the path %s', async (body, path) => {
        const error = expectError(await post({ body, headers: { 'Content-Type': 'application/json' } }), 400, 'ValidationError');

        expect(error.details?.map((d) => d.path)).toContain(path);
        expect(error.message).toContain(path);
      });

      test('nesting deeper than 32 levels is 400', async () => {
        const nest = (depth: number): string => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

        expectError(await post({ body: nest(33), headers: { 'Content-Type': 'application/json' } }), 400, 'ValidationError');
      });
    });

    test('a body of exactly MAX_BODY_BYTES and 32 levels of nesting are accepted', async () => {
      const body = JSON.stringify({ s: 'x'.repeat(65_536 - 8) });
      const nested = '{"a":'.repeat(31) + '{}' + '}'.repeat(31);
      expect(Buffer.byteLength(body)).toBe(65_536);

      const large = await invoke(collectionEvent('POST', 'items', { body, headers: { 'Content-Type': 'application/json' } }));
      const deep = await invoke(collectionEvent('POST', 'items', { body: nested, headers: { 'Content-Type': 'application/json' } }));

      expect(large.statusCode).toBe(201);
      expect(deep.statusCode).toBe(201);
      expect((await backend.storedItem('items', jsonBody<Item>(deep).id))?.data).toEqual(JSON.parse(nested));
    });

    describe('Idempotency-Key', () => {
      test('a retry with the same key and an equivalent body returns the same item and writes once', async () => {
        // Prepare
        const key = uniqueKey('order');
        const fields = { sku: 'A-1', qty: 2, meta: { b: 1, a: 2 } };

        // Act
        const first = await invoke(collectionEvent('POST', 'items', { json: fields, headers: { 'Idempotency-Key': key } }));
        const snapshot = await backend.snapshot();
        const retry = await invoke(collectionEvent('POST', 'items', { body: '{ "qty": 2, "meta": {"a":2,"b":1}, "sku": "A-1" }', headers: { 'content-type': 'application/json', 'idempotency-key': key } }));

        // Assess
        expect(first.statusCode).toBe(201);
        expect(responseHeader(first, 'idempotent-replayed')).toBeUndefined();
        expect(retry.statusCode).toBe(201);
        expect(responseHeader(retry, 'idempotent-replayed')).toBe('true');
        expect(jsonBody(retry)).toEqual(jsonBody(first));
        expect(responseHeader(retry, 'location')).toBe(responseHeader(first, 'location'));
        expect(responseHeader(retry, 'etag')).toBe('"1"');
        expect(await backend.snapshot()).toEqual(snapshot);
      });

      test('concurrent retries with one key create exactly one item', async () => {
        const key = uniqueKey('burst');

        const responses = await Promise.all(Array.from({ length: 10 }, () => invoke(collectionEvent('POST', 'items', { json: { burst: true }, headers: { 'Idempotency-Key': key } }))));

        expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(201));
        expect(new Set(responses.map((r) => jsonBody<Item>(r).id)).size).toBe(1);
        expect(responses.filter((r) => responseHeader(r, 'idempotent-replayed') === undefined)).toHaveLength(1);
      });

      test('the same key with a different body is 422 and changes nothing', async () => {
        const key = uniqueKey('conflict');
        await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': key } }));
        const before = await backend.snapshot();

        expectError(await invoke(collectionEvent('POST', 'items', { json: { a: 2 }, headers: { 'Idempotency-Key': key } })), 422, 'UnprocessableEntity');
        expect(await backend.snapshot()).toEqual(before);
      });

      test('a retry after the item was deleted is 410 and recreates nothing; with another body it is 422', async () => {
        // Prepare: the key's item is created, then deleted
        const key = uniqueKey('deleted');
        const first = await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': key } }));
        const { id } = jsonBody<Item>(first);
        expect((await invoke(itemEvent('DELETE', 'items', id, { headers: { 'if-match': '"1"' } }))).statusCode).toBe(204);
        const afterDelete = await backend.snapshot();

        // Act
        const retry = await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': key } }));
        const otherBody = await invoke(collectionEvent('POST', 'items', { json: { a: 2 }, headers: { 'Idempotency-Key': key } }));

        // Assess
        expect(first.statusCode).toBe(201);
        expectError(retry, 410, 'Gone');
        expectError(otherBody, 422, 'UnprocessableEntity');
        expect(await backend.snapshot()).toEqual(afterDelete);
        expect((await invoke(itemEvent('GET', 'items', id))).statusCode).toBe(404);
        const listedIds: string[] = [];
        for (let nextToken: string | undefined, more = true; more; more = nextToken !== undefined) {
          const page = jsonBody<Page>(await invoke(collectionEvent('GET', 'items', { query: { limit: '100', ...(nextToken !== undefined ? { nextToken } : {}) } })));
          listedIds.push(...page.items.map((i) => i.id));
          nextToken = page.nextToken;
        }
        expect(listedIds).not.toContain(id);
      });

      test('the deleted item of a key stays deleted: a second DELETE, PUT and GET are 404', async () => {
        const key = uniqueKey('gone');
        const { id } = jsonBody<Item>(await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': key } })));
        expect((await invoke(itemEvent('DELETE', 'items', id, { headers: { 'if-match': '*' } }))).statusCode).toBe(204);
        const afterDelete = await backend.snapshot();

        expectError(await invoke(itemEvent('DELETE', 'items', id, { headers: { 'if-match': '*' } })), 404, 'NotFound');
        expectError(await invoke(itemEvent('PUT', 'items', id, { json: { a: 2 }, headers: { 'if-match': '*' } })), 404, 'NotFound');
        expectError(await invoke(itemEvent('GET', 'items', id)), 404, 'NotFound');
        expect(await backend.snapshot()).toEqual(afterDelete);
      });

      test('the same key in another resource is independent', async () => {
        const key = uniqueKey('shared');

        const a = await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': key } }));
        const b = await api({ RESOURCE_NAME: 'others' })(collectionEvent('POST', 'others', { json: { a: 2 }, headers: { 'Idempotency-Key': key } }));

        expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
        expect(jsonBody<Item>(a).id).not.toBe(jsonBody<Item>(b).id);
      });

      test.each([[''], [' '], ['x'.repeat(129)], ['tab\there'], [' lead'], ['ünïcode'], ['line\nbreak']])('the bad key %j is 400 and changes nothing', async (key) => {
        const before = await backend.snapshot();

        expectError(await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': key } })), 400, 'BadRequest');
        expect(await backend.snapshot()).toEqual(before);
      });

      test('two different Idempotency-Key header lines are 400', async () => {
        expectError(await invoke(collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': ['k1', 'k2'] } })), 400, 'BadRequest');
      });
    });

    describe('paging', () => {
      const COUNT = 53;
      const paged = (): Invoke => api({ RESOURCE_NAME: 'paged', MAX_PAGE_SIZE: '20', DEFAULT_PAGE_SIZE: '5' });
      let ids: string[];

      beforeAll(async () => {
        ids = [];
        for (let n = 0; n < COUNT; n++) {
          const response = await paged()(collectionEvent('POST', 'paged', { json: { n } }));
          ids.push(jsonBody<Item>(response).id);
        }
        ids.sort();
      });

      async function page(query: Record<string, string>): Promise<Page> {
        const response = await paged()(collectionEvent('GET', 'paged', { query }));
        expect(response.statusCode).toBe(200);
        return jsonBody<Page>(response);
      }

      test('paging with limit=7 returns every item exactly once, in id order, and terminates', async () => {
        const seen: string[] = [];
        let next: string | undefined;
        let pages = 0;
        do {
          const current = await page({ limit: '7', ...(next ? { nextToken: next } : {}) });
          expect(current.items.length).toBeLessThanOrEqual(7);
          // Only a last page may be empty (a back end may not know that the previous page was the last).
          if (current.items.length === 0) expect(current.nextToken).toBeUndefined();
          seen.push(...current.items.map((i) => i.id));
          next = current.nextToken;
          pages++;
          expect(pages).toBeLessThanOrEqual(Math.ceil(COUNT / 7) + 1);
        } while (next !== undefined);

        expect(seen).toEqual(ids);
      });

      test('a page has DEFAULT_PAGE_SIZE items by default, as representations, with a {v:1,k:<last id>} token', async () => {
        const first = await page({});

        expect(first.items.map((i) => i.id)).toEqual(ids.slice(0, 5));
        expect(first.items[0]).toEqual({
          id: ids[0], version: 1, createdAt: expect.any(String), updatedAt: expect.any(String), n: expect.any(Number),
        });
        expect(JSON.parse(Buffer.from(first.nextToken!, 'base64url').toString())).toEqual({ v: 1, k: ids[4] });
        expect((await page({ limit: '2', nextToken: first.nextToken! })).items.map((i) => i.id)).toEqual([ids[5], ids[6]]);
        expect((await page({ limit: '1', nextToken: token({ v: 1, k: ids[9].toUpperCase() }) })).items.map((i) => i.id)).toEqual([ids[10]]);
      });

      test('MAX_PAGE_SIZE bounds limit; an empty collection is an empty page without a token', async () => {
        expect((await page({ limit: '20' })).items).toHaveLength(20);
        expect(expectError(await paged()(collectionEvent('GET', 'paged', { query: { limit: '21' } })), 400, 'BadRequest').message).toMatch(/limit/);
        expect(jsonBody(await api({ RESOURCE_NAME: 'nothing' })(collectionEvent('GET', 'nothing')))).toEqual({ items: [] });
      });

      test.each([['0'], ['-1'], ['1.5'], ['abc'], [''], ['1e2'], [' 5'], ['0x10'], ['99999999999999999999']])('limit=%j is 400', async (limit) => {
        expect(expectError(await paged()(collectionEvent('GET', 'paged', { query: { limit } })), 400, 'BadRequest').message).toMatch(/limit/);
      });

      test.each([
        ['empty', ''],
        ['not base64url', '!!!!'],
        ['padded', `${token({ v: 1, k: MISSING_ID })}=`],
        ['truncated', token({ v: 1, k: MISSING_ID }).slice(0, -3)],
        ['not JSON', Buffer.from('hello').toString('base64url')],
        ['wrong version', token({ v: 2, k: MISSING_ID })],
        ['extra key (partition smuggling)', token({ v: 1, k: MISSING_ID, pk: 'other' })],
        ['id not a UUID', token({ v: 1, k: "' OR 1=1 --" })],
        ['too long', 'A'.repeat(300)],
      ])('a %s nextToken is 400 "invalid nextToken"', async (_name, nextToken) => {
        const response = await paged()(collectionEvent('GET', 'paged', { query: { nextToken } }));

        expect(expectError(response, 400, 'BadRequest').message).toBe('invalid nextToken');
      });
    });

    describe('ITEM_SCHEMA', () => {
      const draft07 = JSON.stringify({
        type: 'object',
        required: ['name', 'price'],
        additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1 }, price: { type: 'number', minimum: 0 }, tags: { type: 'array', items: { type: 'string' } } },
      });

      test('a valid item passes; an invalid one is 400 with every problem in details and nothing is written', async () => {
        const schema = (): Invoke => api({ RESOURCE_NAME: 'priced', ITEM_SCHEMA: draft07 });
        const created = await schema()(collectionEvent('POST', 'priced', { json: { name: 'pen', price: 1 } }));
        expect(created.statusCode).toBe(201);
        const before = await backend.snapshot();

        const post = await schema()(collectionEvent('POST', 'priced', { json: { name: '', tags: ['a', 1], colour: 'red' } }));
        const put = await schema()(itemEvent('PUT', 'priced', jsonBody<Item>(created).id, { json: { name: 'pen', price: -1 }, headers: { 'If-Match': '"1"' } }));

        expect(expectError(post, 400, 'ValidationError').details).toEqual(expect.arrayContaining([
          { path: '/price', message: "must have required property 'price'" },
          { path: '/', message: 'must NOT have additional properties' },
          { path: '/name', message: 'must NOT have fewer than 1 characters' },
          { path: '/tags/1', message: 'must be string' },
        ]));
        expect(expectError(put, 400, 'ValidationError').details).toEqual([{ path: '/price', message: 'must be >= 0' }]);
        expect(await backend.snapshot()).toEqual(before);
      });

      test('draft 2020-12 is selected by $schema', async () => {
        const schema = JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { point: { prefixItems: [{ type: 'number' }, { type: 'number' }], items: false } } });
        const points = api({ RESOURCE_NAME: 'points', ITEM_SCHEMA: schema });

        expect((await points(collectionEvent('POST', 'points', { json: { point: [1, 2] } }))).statusCode).toBe(201);
        expectError(await points(collectionEvent('POST', 'points', { json: { point: [1, 2, 3] } })), 400, 'ValidationError');
      });
    });

    describe('CORS', () => {
      test('no CORS headers without CORS_ALLOW_ORIGINS', async () => {
        expect(responseHeader(await invoke(collectionEvent('GET', 'items', { headers: { Origin: 'https://app.example.com' } })), 'access-control-allow-origin')).toBeUndefined();
      });

      test('an allowed Origin is echoed with Vary: Origin and the exposed headers, others are not', async () => {
        const cors = api({ RESOURCE_NAME: 'cors', CORS_ALLOW_ORIGINS: 'https://app.example.com, http://localhost:3000' });

        const allowed = await cors(collectionEvent('GET', 'cors', { headers: { Origin: 'https://app.example.com' } }));
        const denied = await cors(collectionEvent('GET', 'cors', { headers: { origin: 'https://evil.example.com' } }));
        const error = await cors(collectionEvent('PATCH', 'cors', { headers: { origin: 'http://localhost:3000' } }));

        expect(responseHeader(allowed, 'access-control-allow-origin')).toBe('https://app.example.com');
        expect(responseHeader(allowed, 'vary')).toBe('Origin');
        expect(responseHeader(allowed, 'access-control-expose-headers')).toBe('ETag, Location, Idempotent-Replayed');
        expect(responseHeader(denied, 'access-control-allow-origin')).toBeUndefined();
        expect(responseHeader(error, 'access-control-allow-origin')).toBe('http://localhost:3000');
      });
    });

    describe('ITEM_OWNER_CLAIM: items belong to the caller', () => {
      const owned = (): Invoke => api({ ITEM_OWNER_CLAIM: 'sub' });
      /** A caller of its own per test: no test sees another test's items. */
      const newCaller = (): string => randomUUID();

      async function createAs(sub: string, fields: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Item> {
        const response = await owned()(asCaller(sub, collectionEvent('POST', 'items', { json: fields, headers })));
        expect(response.statusCode).toBe(201);
        expect(responseHeader(response, 'idempotent-replayed')).toBeUndefined();
        return jsonBody<Item>(response);
      }

      /** Every id of a collection, page by page (`event` makes the request: a caller's, or the shared collection's). */
      async function allIds(handler: Invoke, event: (query: Record<string, string>) => APIGatewayProxyEvent): Promise<string[]> {
        const ids: string[] = [];
        let next: string | undefined;
        for (let pages = 0; pages < 1_000; pages++) {
          const response = await handler(event({ limit: '100', ...(next ? { nextToken: next } : {}) }));
          expect(response.statusCode).toBe(200);
          const page = jsonBody<Page>(response);
          ids.push(...page.items.map((i) => i.id));
          next = page.nextToken;
          if (next === undefined) return ids;
        }
        throw new Error('the listing did not terminate');
      }
      const idsOf = (sub: string): Promise<string[]> => allIds(owned(), (query) => asCaller(sub, collectionEvent('GET', 'items', { query })));
      const sharedIds = (): Promise<string[]> => allIds(invoke, (query) => collectionEvent('GET', 'items', { query }));

      test('each caller lists only their own items, stored under them; the shared collection and other callers see none of them', async () => {
        // Prepare
        const [alice, bob] = [newCaller(), newCaller()];
        const shared = await create({ title: 'shared' });

        // Act
        const alices = [await createAs(alice, { title: 'a1' }), await createAs(alice, { title: 'a2' })];
        const bobs = [await createAs(bob, { title: 'b1' })];

        // Assess
        expect(await idsOf(alice)).toEqual(alices.map((i) => i.id).sort());
        expect(await idsOf(bob)).toEqual([bobs[0].id]);
        expect(await idsOf(newCaller())).toEqual([]);
        const sharedList = await sharedIds();
        expect(sharedList).toContain(shared.id);
        for (const item of [...alices, ...bobs]) expect(sharedList).not.toContain(item.id);
        expect(await backend.storedItem('items', alices[0].id, alice)).toEqual({ version: 1, data: { title: 'a1' } });
        expect(await backend.storedItem('items', bobs[0].id, bob)).toEqual({ version: 1, data: { title: 'b1' } });
        expect(await backend.storedItem('items', alices[0].id, bob)).toBeUndefined();
        expect(await backend.storedItem('items', alices[0].id)).toBeUndefined();
        expectError(await owned()(asCaller(alice, itemEvent('GET', 'items', shared.id))), 404, 'NotFound');
        expectError(await invoke(itemEvent('GET', 'items', alices[0].id)), 404, 'NotFound');
      });

      test('another caller\'s item is 404 for GET, PUT and DELETE (If-Match "1" and *), and stays unchanged', async () => {
        const [alice, bob] = [newCaller(), newCaller()];
        const item = await createAs(alice, { title: 'private' });
        const before = await backend.snapshot();

        const responses = [
          await owned()(asCaller(bob, itemEvent('GET', 'items', item.id))),
          await owned()(asCaller(bob, itemEvent('GET', 'items', item.id, { headers: { 'If-None-Match': '"1"' } }))),
          await owned()(asCaller(bob, itemEvent('PUT', 'items', item.id, { json: { title: 'stolen' }, headers: { 'If-Match': '"1"' } }))),
          await owned()(asCaller(bob, itemEvent('PUT', 'items', item.id, { json: { title: 'stolen' }, headers: { 'If-Match': '*' } }))),
          await owned()(asCaller(bob, itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"1"' } }))),
          await owned()(asCaller(bob, itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '*' } }))),
        ];

        for (const response of responses) expectError(response, 404, 'NotFound');
        expect(await backend.snapshot()).toEqual(before);
        expect(await backend.storedItem('items', item.id, alice)).toEqual({ version: 1, data: { title: 'private' } });
        const mine = await owned()(asCaller(alice, itemEvent('GET', 'items', item.id)));
        expect(mine.statusCode).toBe(200);
        expect(jsonBody(mine)).toEqual(item);
      });

      test('a caller\'s own writes work as without ITEM_OWNER_CLAIM', async () => {
        const alice = newCaller();
        const item = await createAs(alice, { title: 'draft' });

        const put = await owned()(asCaller(alice, itemEvent('PUT', 'items', item.id, { json: { title: 'final' }, headers: { 'If-Match': '"1"' } })));
        const stale = await owned()(asCaller(alice, itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"1"' } })));
        const stored = await backend.storedItem('items', item.id, alice);
        const del = await owned()(asCaller(alice, itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"2"' } })));

        expect(put.statusCode).toBe(200);
        expect(jsonBody<Item>(put)).toMatchObject({ id: item.id, version: 2, title: 'final' });
        expectError(stale, 412, 'PreconditionFailed');
        expect(stored).toEqual({ version: 2, data: { title: 'final' } });
        expect(del.statusCode).toBe(204);
        expect(await backend.storedItem('items', item.id, alice)).toBeUndefined();
        expect(await idsOf(alice)).toEqual([]);
      });

      test('a paging token of one caller does not reveal another caller\'s items', async () => {
        // Prepare
        const [alice, bob] = [newCaller(), newCaller()];
        for (let n = 0; n < 3; n++) await createAs(alice, { n });
        const bobs = [await createAs(bob, { n: 0 }), await createAs(bob, { n: 1 })].map((i) => i.id).sort();
        const first = jsonBody<Page>(await owned()(asCaller(alice, collectionEvent('GET', 'items', { query: { limit: '1' } }))));
        expect(first.items).toHaveLength(1);
        expect(first.nextToken).toBeDefined();

        // Act
        const response = await owned()(asCaller(bob, collectionEvent('GET', 'items', { query: { nextToken: first.nextToken! } })));
        const shared = await invoke(collectionEvent('GET', 'items', { query: { nextToken: first.nextToken! } }));

        // Assess: the token only names a position; the caller's collection is the server's
        expect(response.statusCode).toBe(200);
        const page = jsonBody<Page>(response);
        expect(page.items.map((i) => i.id)).toEqual(bobs.filter((id) => id > first.items[0].id));
        expect(shared.statusCode).toBe(200);
        const aliceIds = new Set(await idsOf(alice));
        expect(jsonBody<Page>(shared).items.filter((i) => aliceIds.has(i.id))).toEqual([]);
      });

      test('the same Idempotency-Key from two callers creates one item each, and replays only for its caller', async () => {
        // Prepare
        const [alice, bob] = [newCaller(), newCaller()];
        const headers = { 'Idempotency-Key': uniqueKey('per-caller') };

        // Act
        const alices = await createAs(alice, { title: 'same' }, headers);
        const bobs = await createAs(bob, { title: 'same' }, headers);
        const before = await backend.snapshot();
        const aliceAgain = await owned()(asCaller(alice, collectionEvent('POST', 'items', { json: { title: 'same' }, headers })));
        const bobAgain = await owned()(asCaller(bob, collectionEvent('POST', 'items', { json: { title: 'same' }, headers })));
        const aliceOther = await owned()(asCaller(alice, collectionEvent('POST', 'items', { json: { title: 'other' }, headers })));

        // Assess
        for (const [response, item] of [[aliceAgain, alices], [bobAgain, bobs]] as const) {
          expect(response.statusCode).toBe(201);
          expect(responseHeader(response, 'idempotent-replayed')).toBe('true');
          expect(jsonBody(response)).toEqual(item);
        }
        expectError(aliceOther, 422, 'UnprocessableEntity');
        expect(await backend.snapshot()).toEqual(before);
        expect(await idsOf(alice)).toEqual([alices.id]);
        expect(await idsOf(bob)).toEqual([bobs.id]);
        expect(await backend.storedItem('items', alices.id, alice)).toEqual({ version: 1, data: { title: 'same' } });
        expect(await backend.storedItem('items', bobs.id, bob)).toEqual({ version: 1, data: { title: 'same' } });
      });

      test('a Lambda authorizer\'s context claim scopes the same way', async () => {
        const [bob, alice] = [newCaller(), newCaller()];
        /** The event as a Lambda authorizer's output reaches the handler: the context's keys beside `principalId`. */
        const viaContext = (sub: string, e: APIGatewayProxyEvent): APIGatewayProxyEvent =>
          ({ ...e, requestContext: { ...e.requestContext, authorizer: { principalId: 'someone', integrationLatency: 12, sub } } });

        const response = await owned()(viaContext(bob, collectionEvent('POST', 'items', { json: { title: 'from context' } })));
        const read = await owned()(viaContext(bob, itemEvent('GET', 'items', jsonBody<Item>(response).id)));
        const foreign = await owned()(viaContext(alice, itemEvent('GET', 'items', jsonBody<Item>(response).id)));

        expect(response.statusCode).toBe(201);
        const item = jsonBody<Item>(response);
        expect(read.statusCode).toBe(200);
        expect(jsonBody(read)).toEqual(item);
        expectError(foreign, 404, 'NotFound');
        // The same identity through a user pool authorizer's claims sees the same collection.
        expect(await idsOf(bob)).toEqual([item.id]);
        expect(await idsOf(alice)).toEqual([]);
        expect(await backend.storedItem('items', item.id, bob)).toEqual({ version: 1, data: { title: 'from context' } });
      });

      test('a 256-character claim is an identity of its own', async () => {
        const long = `${newCaller()}${'x'.repeat(220)}`;
        expect(long).toHaveLength(256);

        const item = await createAs(long, { long: true });

        expect(await idsOf(long)).toEqual([item.id]);
        expect(await idsOf(long.slice(0, 255))).toEqual([]);
      });

      test('claims are compared exactly: case, prefixes, separators and quotes make other callers', async () => {
        const base = newCaller();
        const callers = [base, base.toUpperCase(), `${base}#x`, `${base}#`, ` ${base}`, `${base}\u0080`, `${base}'; DROP TABLE items; --`, `${base} 😀 ü`];

        const items: Item[] = [];
        for (const sub of callers) items.push(await createAs(sub, { sub }));

        for (const [i, sub] of callers.entries()) {
          expect(await idsOf(sub)).toEqual([items[i].id]);
          expect(await backend.storedItem('items', items[i].id, sub)).toEqual({ version: 1, data: { sub } });
        }
      });

      describe('a request without a usable caller identity is 401 and changes nothing', () => {
        const withAuthorizer = (authorizer: unknown) => (e: APIGatewayProxyEvent): APIGatewayProxyEvent =>
          ({ ...e, requestContext: { ...e.requestContext, authorizer: authorizer as APIGatewayProxyEvent['requestContext']['authorizer'] } });
        let existing: Item;
        let owner: string;
        beforeAll(async () => {
          owner = newCaller();
          existing = await createAs(owner, { keep: 'me' });
        });

        test.each<[string, (e: APIGatewayProxyEvent) => APIGatewayProxyEvent]>([
          ['no authorizer', withAuthorizer(null)],
          ['no claims', (e) => asCaller(undefined, e)],
          ['an empty claim', (e) => asCaller('', e)],
          ['a non-string claim', withAuthorizer({ claims: { sub: 42 } })],
          ['a non-string context claim', withAuthorizer({ principalId: 'x', sub: ['a'] })],
          ['a control character', (e) => asCaller('a\nb', e)],
          ['a DEL character', (e) => asCaller('a\u007fb', e)],
          ['a 257-character claim', (e) => asCaller('x'.repeat(257), e)],
          // Not text: a store would see U+FFFD for both halves, so 'u\ud800' and 'u\udc00' would be one caller.
          ['a lone high surrogate', (e) => asCaller('u\ud800', e)],
          ['a lone low surrogate', (e) => asCaller('u\udc00', e)],
        ])('%s', async (_case, strip) => {
          const before = await backend.snapshot();

          const responses = [
            await owned()(strip(collectionEvent('POST', 'items', { json: { title: 'anonymous' } }))),
            await owned()(strip(collectionEvent('POST', 'items', { json: { title: 'anonymous' }, headers: { 'Idempotency-Key': uniqueKey('anonymous') } }))),
            await owned()(strip(collectionEvent('GET', 'items'))),
            await owned()(strip(itemEvent('GET', 'items', existing.id))),
            await owned()(strip(itemEvent('PUT', 'items', existing.id, { json: { keep: 'not' }, headers: { 'If-Match': '*' } }))),
            await owned()(strip(itemEvent('DELETE', 'items', existing.id, { headers: { 'If-Match': '*' } }))),
          ];

          for (const response of responses) expectError(response, 401, 'Unauthorized');
          expect(await backend.snapshot()).toEqual(before);
        });

        test('the identity is never taken from the client: a sub header, query parameter or body field is ignored', async () => {
          const before = await backend.snapshot();
          const headers = { 'sub': owner, 'x-amzn-oidc-identity': owner, 'x-amzn-oidc-data': owner };
          const query = { sub: owner, claims: owner };

          const responses = [
            await owned()(asCaller(undefined, collectionEvent('GET', 'items', { headers, query }))),
            await owned()(asCaller(undefined, itemEvent('GET', 'items', existing.id, { headers, query }))),
            await owned()(asCaller(undefined, collectionEvent('POST', 'items', { json: { sub: owner }, headers, query }))),
            await owned()(collectionEvent('GET', 'items', { headers, query })),
          ];

          for (const response of responses) expectError(response, 401, 'Unauthorized');
          expect(await backend.snapshot()).toEqual(before);
        });
      });

      test('an invalid ITEM_OWNER_CLAIM fails the cold start', () => {
        for (const claim of ['sub claim', 'x'.repeat(129), 'sub\n', 'claims[sub]']) {
          expect(() => backend.load({ ITEM_OWNER_CLAIM: claim })).toThrow(/ITEM_OWNER_CLAIM must match/);
        }
      });
    });
  });
}
