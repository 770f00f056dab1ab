/**
 * Hostile input to the RDS Proxy API handler, against PGlite behind a recording wire proxy:
 * - SQL injection through every input: payloads in body keys and values are stored verbatim and
 *   never executed; in ids, cursors, idempotency keys and headers they are rejected (4xx) or used
 *   as values only;
 * - property-based (fast-check): malformed, oversized and hostile bodies, ids, headers and query
 *   strings are always a 4xx (never a 5xx or a crash) and leave every row as it was; any storable
 *   object round-trips through POST and GET unchanged.
 * After every test the schema is intact and the only statements that reached the server are the
 * handler's fixed texts, never built from input.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { createSchema, loadRdsApi, type LoadedRdsApi } from './handlers';
import { collectionEvent, itemEvent, jsonBody, responseHeader } from '../helpers/api-gateway-events';
import {
  anyString,
  badIdempotencyKey,
  nonJsonContentType,
  notAnObjectText,
  poisonedObjectText,
  storableJsonObject,
} from '../helpers/hostile-input';
import { pgliteEnv, startWireProxy, usePglite, type WireProxy } from '../helpers/pglite';

const MAX_BODY_BYTES = 4096;
const RUNS = { numRuns: 50 } as const;

const pg = usePglite();
let proxy: WireProxy;
let invoke: LoadedRdsApi['invoke'];
const PAYLOADS = [
  "'; DROP TABLE items; --",
  "' OR '1'='1",
  '"; DROP TABLE items; --',
  "Robert'); DELETE FROM items WHERE ('1'='1",
  '$1',
  '$1::text); DROP TABLE items; --',
  '$$; DROP TABLE items; $$',
  "E'\\x27'",
  '\\',
  "\\'; DROP TABLE items; --",
  '*/ SELECT pg_sleep(10); /*',
  "1; COPY items TO PROGRAM 'id'",
  '%s%n%x',
  '\u202e\u0301 😀 ünïcode 中文',
  '\\u0000',
] as const;

/** Statement texts the handler may send: its fixed SQL, never with input spliced in. */
const HANDLER_STATEMENT = /^(?:SELECT id, version, created_at, updated_at, data, request_hash FROM items WHERE resource = \$1(?: AND id = \$2| ORDER BY id LIMIT \$2| AND id > \$2 ORDER BY id LIMIT \$3)|INSERT INTO items \(resource, id, version, created_at, updated_at, data, request_hash\)\s+VALUES \(\$1, \$2, \$3, \$4, \$5, \$6::jsonb, \$7\)\s+ON CONFLICT \(resource, id\) DO NOTHING|UPDATE items SET data = \$3::jsonb, updated_at = \$4, version = version \+ 1 WHERE resource = \$1 AND id = \$2(?: AND version = ANY\(\$5::bigint\[\]\))? RETURNING id, version, created_at, updated_at, data, request_hash|DELETE FROM items WHERE resource = \$1 AND id = \$2(?: AND version = ANY\(\$3::bigint\[\]\))?)$/;

beforeAll(async () => {
  proxy = await startWireProxy(pg.engine.port);
  await createSchema(pg.engine);
  ({ invoke } = loadRdsApi({ ...pgliteEnv(proxy.port), MAX_BODY_BYTES: String(MAX_BODY_BYTES) }));
});

afterAll(async () => {
  await proxy.close();
});

beforeEach(() => {
  proxy.statements.length = 0;
});

afterEach(async () => {
  // The schema is intact and only the handler's own statements reached the server.
  const tables = (await pg.engine.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows;
  expect(tables).toEqual([{ tablename: 'items' }]);
  for (const statement of proxy.statements) expect(statement).toMatch(HANDLER_STATEMENT);
});

describe('SQL injection', () => {
  async function itemCount(): Promise<number> {
    return Number((await pg.engine.query<{ n: unknown }>('SELECT count(*) AS n FROM items')).rows[0].n);
  }

  async function storedData(id: string): Promise<unknown> {
    return (await pg.engine.query<{ data: unknown }>('SELECT data FROM items WHERE id = $1', [id])).rows[0]?.data;
  }

  test('payloads as body keys and values are stored verbatim, read back unchanged, and never executed', async () => {
    // Prepare
    const fields: Record<string, unknown> = { nested: { list: [...PAYLOADS] } };
    PAYLOADS.forEach((p, i) => {
      fields[`value${i}`] = p;
      fields[p] = i;
    });
    const before = await itemCount();

    // Act
    const created = await invoke(collectionEvent('POST', 'items', { json: fields }));
    const { id } = jsonBody<{ id: string }>(created);
    const replaced = await invoke(itemEvent('PUT', 'items', id, { json: { ...fields, again: PAYLOADS[0] }, headers: { 'If-Match': '"1"' } }));
    const read = await invoke(itemEvent('GET', 'items', id));

    // Assess
    expect(created.statusCode).toBe(201);
    expect(replaced.statusCode).toBe(200);
    expect(await storedData(id)).toEqual({ ...fields, again: PAYLOADS[0] });
    const { id: _id, version, createdAt: _c, updatedAt: _u, ...rest } = jsonBody<Record<string, unknown>>(read);
    expect(version).toBe(2);
    expect(rest).toEqual({ ...fields, again: PAYLOADS[0] });
    expect(await itemCount()).toBe(before + 1);
  });

  test.each(PAYLOADS.map((p) => [p]))('the id %j is a 400 on GET, PUT and DELETE and changes nothing', async (payload) => {
    const before = await itemCount();

    for (const event of [
      itemEvent('GET', 'items', payload),
      itemEvent('PUT', 'items', payload, { json: { a: 1 }, headers: { 'If-Match': '*' } }),
      itemEvent('DELETE', 'items', payload, { headers: { 'If-Match': '*' } }),
    ]) {
      const response = await invoke(event);
      expect(response.statusCode).toBe(400);
      expect(jsonBody(response)).toMatchObject({ error: 'BadRequest', message: 'The item id must be a UUID' });
    }
    expect(await itemCount()).toBe(before);
    expect(proxy.statements).toEqual([]);
  });

  test.each(PAYLOADS.map((p) => [p]))('the cursor %j (raw or inside a well-formed token) is a 400', async (payload) => {
    const wrapped = Buffer.from(JSON.stringify({ v: 1, k: payload })).toString('base64url');

    for (const nextToken of [payload, wrapped]) {
      const response = await invoke(collectionEvent('GET', 'items', { query: { nextToken, limit: payload } }));
      expect(response.statusCode).toBe(400);
    }
    for (const limit of [payload, `1; ${payload}`]) {
      expect((await invoke(collectionEvent('GET', 'items', { query: { limit } }))).statusCode).toBe(400);
    }
    expect(proxy.statements).toEqual([]);
  });

  test('payloads as Idempotency-Keys are used as keys only: printable ones create once and replay, others are a 400', async () => {
    const before = await itemCount();
    let created = 0;

    for (const payload of PAYLOADS) {
      const send = (): Promise<APIGatewayProxyResult> =>
        invoke(collectionEvent('POST', 'items', { json: { key: payload }, headers: { 'Idempotency-Key': payload } }));
      const first = await send();
      if (/^[\x21-\x7e][\x20-\x7e]*$/.test(payload) && !payload.endsWith(' ')) {
        const replay = await send();
        expect([first.statusCode, replay.statusCode]).toEqual([201, 201]);
        expect(responseHeader(replay, 'idempotent-replayed')).toBe('true');
        expect(jsonBody(replay)).toEqual(jsonBody(first));
        expect(await storedData(jsonBody<{ id: string }>(first).id)).toEqual({ key: payload });
        created++;
      } else {
        expect(first.statusCode).toBe(400);
      }
    }
    expect(created).toBeGreaterThan(10);
    expect(await itemCount()).toBe(before + created);
  });

  test('payloads in conditional and content headers are 4xx and change nothing', async () => {
    const created = await invoke(collectionEvent('POST', 'items', { json: { a: 1 } }));
    const { id } = jsonBody<{ id: string }>(created);
    const snapshot = (await pg.engine.query('SELECT * FROM items ORDER BY id')).rows;

    for (const payload of PAYLOADS) {
      const ifMatch = await invoke(itemEvent('PUT', 'items', id, { json: { a: 2 }, headers: { 'If-Match': payload } }));
      const quoted = await invoke(itemEvent('DELETE', 'items', id, { headers: { 'If-Match': `"${payload.replace(/"/g, '')}"` } }));
      const noneMatch = await invoke(itemEvent('GET', 'items', id, { headers: { 'If-None-Match': payload } }));
      const contentType = await invoke(collectionEvent('POST', 'items', { body: '{"a":1}', headers: { 'Content-Type': payload } }));

      expect(ifMatch.statusCode).toBe(400);
      expect([400, 412]).toContain(quoted.statusCode);
      expect(noneMatch.statusCode).toBe(400);
      expect(contentType.statusCode).toBe(415);
    }
    expect((await pg.engine.query('SELECT * FROM items ORDER BY id')).rows).toEqual(snapshot);
  });

  describe('U+0000, which jsonb cannot hold', () => {
    test.each([
      ['in a value', '{"a":"x\\u0000y"}', '/a'],
      ['in a key', '{"k\\u0000":1}', '/k\u0000'],
      ['deep in a list', '{"a":[1,{"b":["\\u0000"]}]}', '/a/1/b/0'],
    ])('%s is a 400 ValidationError naming the path, and nothing is stored', async (_name, body, path) => {
      const before = await itemCount();

      const response = await invoke(collectionEvent('POST', 'items', { body, headers: { 'Content-Type': 'application/json' } }));

      expect(response.statusCode).toBe(400);
      expect(jsonBody(response)).toMatchObject({ error: 'ValidationError', details: [{ path, message: expect.stringContaining('U+0000') }] });
      expect(await itemCount()).toBe(before);
      expect(proxy.statements).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------- properties

/** Every row, as stored. */
async function rows(): Promise<unknown> {
  return (await pg.engine.query('SELECT resource, id, version, created_at, updated_at, data, request_hash FROM items ORDER BY resource, id')).rows;
}

interface BodyVariant {
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
  readonly contentType?: string;
}

function asBody(text: string, base64: boolean, contentType: string | undefined): BodyVariant {
  return { body: base64 ? Buffer.from(text, 'utf8').toString('base64') : text, isBase64Encoded: base64, contentType };
}

/** A storable object with U+0000 in one string or key: valid JSON that PostgreSQL cannot hold. */
const withNul: fc.Arbitrary<string> = fc.tuple(storableJsonObject, fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), fc.boolean())
  .map(([o, a, b, inKey]) => JSON.stringify(inKey ? { ...o, [`${a}\u0000${b}`]: 1 } : { ...o, nul: `${a}\u0000${b}` }));

const badBody: fc.Arbitrary<BodyVariant> = fc.oneof(
  fc.tuple(notAnObjectText, fc.boolean()).map(([text, b64]) => asBody(text, b64, 'application/json')),
  fc.tuple(poisonedObjectText, fc.boolean()).map(([text, b64]) => asBody(text, b64, 'application/json')),
  fc.tuple(withNul, fc.boolean()).map(([text, b64]) => asBody(text, b64, 'application/json')),
  fc.tuple(fc.string({ minLength: MAX_BODY_BYTES, maxLength: MAX_BODY_BYTES * 2, unit: 'grapheme-ascii' }), fc.boolean())
    .map(([s, b64]) => asBody(JSON.stringify({ s }), b64, 'application/json')),
  fc.tuple(storableJsonObject, nonJsonContentType, fc.boolean()).map(([o, ct, b64]) => asBody(JSON.stringify(o), b64, ct)),
  storableJsonObject.map((o) => ({ body: JSON.stringify(o), isBase64Encoded: true, contentType: 'application/json' })),
  fc.constantFrom<BodyVariant>({ body: null, isBase64Encoded: false, contentType: 'application/json' }, { body: '', isBase64Encoded: true, contentType: 'application/json' }),
);

function withBody(event: APIGatewayProxyEvent, variant: BodyVariant): APIGatewayProxyEvent {
  const headers = { ...event.headers };
  const multiValueHeaders = { ...event.multiValueHeaders };
  if (variant.contentType !== undefined) {
    headers['Content-Type'] = variant.contentType;
    multiValueHeaders['Content-Type'] = [variant.contentType];
  }
  return { ...event, headers, multiValueHeaders, body: variant.body, isBase64Encoded: variant.isBase64Encoded };
}

describe('property: hostile input is a 4xx and changes no row', () => {
  let existing: string[];
  let snapshot: unknown;

  beforeAll(async () => {
    existing = [];
    for (let i = 0; i < 3; i++) existing.push(jsonBody<{ id: string }>(await invoke(collectionEvent('POST', 'items', { json: { seed: i } }))).id);
    await invoke(collectionEvent('POST', 'items', { json: { seed: 'idem' }, headers: { 'Idempotency-Key': 'seeded-key-property' } }));
    snapshot = await rows();
  });

  async function expectRejectedWithoutChange(response: APIGatewayProxyResult): Promise<void> {
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(jsonBody(response)).toMatchObject({ error: expect.any(String), message: expect.any(String), requestId: expect.any(String) });
    expect(await rows()).toEqual(snapshot);
  }

  test('bad bodies on POST (with the seeded Idempotency-Key) and PUT', async () => {
    await fc.assert(
      fc.asyncProperty(badBody, fc.constantFrom('POST', 'PUT'), fc.nat(2), async (variant, method, which) => {
        const base = method === 'POST'
          ? collectionEvent('POST', 'items', { headers: { 'Idempotency-Key': 'seeded-key-property' } })
          : itemEvent('PUT', 'items', existing[which], { headers: { 'If-Match': '"1"' } });

        await expectRejectedWithoutChange(await invoke(withBody(base, variant)));
      }),
      { numRuns: 100 },
    );
  });

  test('If-Match garbage on PUT and DELETE, Idempotency-Key garbage on POST', async () => {
    const garbage = fc.oneof(anyString, fc.array(fc.oneof(anyString, fc.nat().map((n) => `"${n + 2}"`), fc.constant('W/"1"')), { maxLength: 60 }).map((p) => p.join(', ')))
      .filter((h) => !h.includes('*') && !h.includes('"1"'));
    await fc.assert(
      fc.asyncProperty(fc.oneof(
        fc.tuple(garbage, fc.constantFrom('PUT', 'DELETE'), fc.nat(2)).map(([ifMatch, method, which]) =>
          itemEvent(method, 'items', existing[which], { json: method === 'PUT' ? { changed: true } : undefined, headers: { 'If-Match': ifMatch } })),
        fc.tuple(badIdempotencyKey, storableJsonObject).map(([key, fields]) => collectionEvent('POST', 'items', { json: fields, headers: { 'Idempotency-Key': key } })),
      ), async (event) => {
        await expectRejectedWithoutChange(await invoke(event));
      }),
      RUNS,
    );
  });

  test('hostile ids on GET, PUT and DELETE', async () => {
    const hostileId = fc.oneof(
      anyString,
      fc.uuid(),
      fc.uuid().map((u) => `${u}'; DROP TABLE items; --`),
      fc.uuid().map((u) => u.replace(/-/g, '')),
      fc.constantFrom("' OR 1=1 --", '$1', '../items', '%00'),
    ).filter((id) => !existing.includes(id.toLowerCase()));
    await fc.assert(
      fc.asyncProperty(hostileId, fc.constantFrom('GET', 'PUT', 'DELETE'), async (id, method) => {
        const event = itemEvent(method, 'items', id, { json: method === 'PUT' ? { changed: true } : undefined, headers: { 'If-Match': '*' } });

        await expectRejectedWithoutChange(await invoke(event));
      }),
      RUNS,
    );
  });

  test('hostile nextToken and limit values on GET are a 400', async () => {
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const isValidToken = (t: string): boolean => {
      try {
        if (!/^[A-Za-z0-9_-]+$/.test(t) || Buffer.from(t, 'base64url').toString('base64url') !== t) return false;
        const v = JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as Record<string, unknown>;
        return v !== null && Object.keys(v).length === 2 && v.v === 1 && typeof v.k === 'string' && UUID.test(v.k);
      } catch {
        return false;
      }
    };
    const badToken = fc.oneof(
      anyString,
      fc.record({ v: fc.constant(1), k: fc.oneof(anyString, fc.constantFrom("' OR 1=1 --", '$1')) }).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
      fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? '').toString('base64url')),
    ).filter((t) => !isValidToken(t));
    const badLimit = fc.oneof(anyString, fc.integer({ max: 0 }).map(String), fc.integer({ min: 101 }).map(String)).filter((s) => !/^[1-9][0-9]?$|^100$/.test(s));
    await fc.assert(
      fc.asyncProperty(fc.oneof(badToken.map((nextToken) => ({ nextToken })), badLimit.map((limit) => ({ limit }))), async (query) => {
        const response = await invoke(collectionEvent('GET', 'items', { query }));

        expect(response.statusCode).toBe(400);
        await expectRejectedWithoutChange(response);
      }),
      RUNS,
    );
  });

  test('arbitrary methods, resources and headers never cause a 5xx', async () => {
    const headerName = fc.constantFrom('If-Match', 'If-None-Match', 'Content-Type', 'Idempotency-Key', 'Origin', 'X-Correlation-Id');
    const request = fc.record({
      method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', ''), anyString),
      resource: fc.oneof(fc.constantFrom('/items', '/items/{id}', '/', ''), anyString),
      id: fc.oneof(fc.constantFrom(...existing), anyString),
      headers: fc.dictionary(headerName, anyString, { maxKeys: 4 }),
      body: fc.option(fc.oneof(anyString, poisonedObjectText), { nil: null }),
    }).filter((r) => !Object.entries(r.headers).some(([name, value]) =>
      (name === 'If-Match' && (value.includes('*') || value.includes('"1"'))) || (name === 'Content-Type' && /json/i.test(value))));
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const response = await invoke(itemEvent(r.method, 'items', r.id, { headers: r.headers, body: r.body, overrides: { resource: r.resource } }));

        expect(response.statusCode).toBeGreaterThanOrEqual(200);
        expect(response.statusCode).toBeLessThan(500);
        if (response.statusCode >= 400) expect(responseHeader(response, 'content-type')).toBe('application/json');
      }),
      RUNS,
    );
    expect(await rows()).toEqual(snapshot);
  });
});

describe('property: valid input', () => {
  /** JSON equality (-0 and 0 are the same JSON number). */
  const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
  const storableWithoutNul = storableJsonObject.filter((o) => !JSON.stringify(o).includes('\\u0000') && Buffer.byteLength(JSON.stringify(o)) <= MAX_BODY_BYTES);

  test('any storable object round-trips through POST then GET, and is stored as sent', async () => {
    await fc.assert(
      fc.asyncProperty(storableWithoutNul, fc.boolean(), async (fields, base64) => {
        const created = await invoke(withBody(collectionEvent('POST', 'items'), asBody(JSON.stringify(fields), base64, 'application/json')));
        const id = jsonBody<{ id: string }>(created).id;
        const read = await invoke(itemEvent('GET', 'items', id));

        expect([created.statusCode, read.statusCode]).toEqual([201, 200]);
        const { id: _id, version, createdAt, updatedAt, ...rest } = jsonBody(read);
        expect(version).toBe(1);
        expect(updatedAt).toBe(createdAt);
        expect(asJson(rest)).toEqual(asJson(fields));
        expect(jsonBody(created)).toEqual(jsonBody(read));
        const stored = (await pg.engine.query('SELECT data FROM items WHERE resource = $1 AND id = $2', ['items', id])).rows[0];
        expect(asJson(stored)).toEqual({ data: asJson(fields) });
      }),
      RUNS,
    );
  });
});
