/**
 * Hostile input to the RDS Proxy API handler, against PGlite behind a recording wire proxy:
 * - SQL injection through every input: payloads in body keys and values are stored verbatim and
 *   never executed; in ids, cursors, idempotency keys and headers they are rejected (4xx) or used
 *   as values only;
 * - the shared hostile-input properties (test/helpers/resource-api-properties.ts, fast-check) that
 *   the REST pattern passes on DynamoDB too, here with U+0000 among the bad bodies and the round
 *   trip also checked against the stored row.
 * After every test, the properties included, the schema is intact and the only statements that
 * reached the server are the handler's fixed texts, never built from input.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ITEM_COLUMNS, loadRdsApi, useGuardedDatabase, type LoadedRdsApi } from './handlers';
import { collectionEvent, itemEvent, jsonBody, responseHeader } from '../helpers/api-gateway-events';
import { pgliteEnv } from '../helpers/pglite';
import { describeResourceApiProperties } from '../helpers/resource-api-properties';

const MAX_BODY_BYTES = 4096;

const pg = useGuardedDatabase();
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

beforeAll(() => {
  ({ invoke } = loadRdsApi({ ...pgliteEnv(pg.proxy.port), MAX_BODY_BYTES: String(MAX_BODY_BYTES) }));
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
    expect(pg.proxy.statements).toEqual([]);
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
    expect(pg.proxy.statements).toEqual([]);
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
      expect(pg.proxy.statements).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------- properties

describeResourceApiProperties('PostgreSQL (PGlite) through the RDS Proxy handler', () => ({
  numRuns: { badBodies: 100, other: 50 },
  storesNul: false,
  load: (env) => loadRdsApi({ ...pgliteEnv(pg.proxy.port), ...env }).invoke,
  async snapshot() {
    return (await pg.engine.query(`SELECT ${ITEM_COLUMNS} FROM items ORDER BY resource, owner, id`)).rows;
  },
  async storedItem(resourceName, id) {
    const rows = (await pg.engine.query<{ version: unknown; data: Record<string, unknown> }>(
      "SELECT version, data FROM items WHERE resource = $1 AND owner = '' AND id = $2",
      [resourceName, id],
    )).rows;
    return rows.length === 0 ? undefined : { version: Number(rows[0].version), data: rows[0].data };
  },
}));
