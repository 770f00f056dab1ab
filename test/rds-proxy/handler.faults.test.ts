/**
 * The RDS Proxy API handler when the connection or the server fails, against PGlite behind a
 * wire proxy that drops connections (before a statement reaches the engine, or after the engine
 * ran it), answers with the errors PostgreSQL and RDS Proxy send (admin shutdown, too many
 * connections, lock and statement timeouts), hangs, and asks for the IAM token as RDS Proxy does.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createSchema, loadRdsApi, type LoadedRdsApi } from './handlers';
import { Database } from '../../lambda/rds-proxy/lib/db';
import { collectionEvent, itemEvent, jsonBody, lambdaContext, responseHeader } from '../helpers/api-gateway-events';
import { pgliteEnv, startWireProxy, usePglite, type WireProxy } from '../helpers/pglite';

const pg = usePglite();
let proxy: WireProxy;
let api: LoadedRdsApi;

// The handler's exact statement texts: a fault armed with a pattern that no statement matches
// would never fire, and its test would pass without the fault (each test checks that it fired).
const SELECT_ONE_ITEM = /^SELECT id, version, created_at, updated_at, data, request_hash FROM items WHERE resource = \$1 AND owner = \$2 AND id = \$3 AND deleted_at IS NULL$/;
const SELECT_TOMBSTONE = /^SELECT deleted_at, key_expires_at, request_hash FROM items WHERE resource = \$1 AND owner = \$2 AND id = \$3 AND deleted_at IS NOT NULL$/;
const TOMBSTONE_UPDATE = /^UPDATE items SET data = '\{\}'::jsonb, deleted_at = \$4, key_expires_at = \$5 WHERE /;

/** How many statements sent since `from` match `pattern`. */
function sent(pattern: RegExp, from: number): number {
  return proxy.statements.slice(from).filter((s) => pattern.test(s)).length;
}

beforeAll(async () => {
  proxy = await startWireProxy(pg.engine.port);
  await createSchema(pg.engine);
  api = loadRdsApi(pgliteEnv(proxy.port));
});

afterAll(async () => {
  await proxy.close();
});

afterEach(() => {
  proxy.rejectConnections(undefined);
  proxy.requirePassword(false);
});

async function create(fields: Record<string, unknown>): Promise<{ id: string; version: number }> {
  const response = await api.invoke(collectionEvent('POST', 'items', { json: fields }));
  expect(response.statusCode).toBe(201);
  return jsonBody(response);
}

async function storedVersion(id: string): Promise<number | undefined> {
  // A dropped client's transaction is rolled back when the engine releases the connection.
  const rows = (await pg.engine.query<{ version: unknown }>('SELECT version FROM items WHERE id = $1', [id])).rows;
  return rows.length === 0 ? undefined : Number(rows[0].version);
}

const RETRY_LATER = 'Service temporarily unavailable, retry later';
const OUTCOME_UNKNOWN = 'The write was sent but its outcome is unknown: retry it with the same Idempotency-Key or If-Match';

function expectServiceUnavailable(response: APIGatewayProxyResult, message: string | RegExp = RETRY_LATER): void {
  expect(response.statusCode).toBe(503);
  expect(responseHeader(response, 'retry-after')).toBe('1');
  expect(jsonBody(response)).toEqual({ error: 'ServiceUnavailable', message: typeof message === 'string' ? message : expect.stringMatching(message), requestId: expect.any(String) });
}

describe('a dropped connection', () => {
  test('dropped while idle (the proxy closed it between invocations): the next request connects again transparently', async () => {
    // Prepare
    await create({ warm: true });
    const connections = proxy.connections;

    // Act
    proxy.dropAll();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const response = await api.invoke(collectionEvent('POST', 'items', { json: { after: 'drop' } }));

    // Assess
    expect(response.statusCode).toBe(201);
    expect(proxy.connections).toBe(connections + 1);
  });

  test('dropped under a read: the read is retried once on a new connection', async () => {
    const item = await create({ read: 'me' });
    const connections = proxy.connections;
    const statements = proxy.statements.length;
    proxy.dropNext(SELECT_ONE_ITEM, 'before');

    const response = await api.invoke(itemEvent('GET', 'items', item.id));

    expect(response.statusCode).toBe(200);
    expect(jsonBody(response)).toMatchObject({ id: item.id, read: 'me' });
    expect(sent(SELECT_ONE_ITEM, statements)).toBe(2);
    expect(proxy.connections).toBe(connections + 1);
  });

  test('dropped under the read of a tombstone: the read is retried once on a new connection, and the retried POST is 410', async () => {
    // Prepare: a key's item, deleted
    const key = `tombstone-read-${Date.now()}`;
    const created = await api.invoke(collectionEvent('POST', 'items', { json: { k: 1 }, headers: { 'Idempotency-Key': key } }));
    const { id } = jsonBody<{ id: string }>(created);
    expect((await api.invoke(itemEvent('DELETE', 'items', id, { headers: { 'If-Match': '"1"' } }))).statusCode).toBe(204);
    const connections = proxy.connections;
    const statements = proxy.statements.length;
    proxy.dropNext(SELECT_TOMBSTONE, 'before');

    // Act
    const retry = await api.invoke(collectionEvent('POST', 'items', { json: { k: 1 }, headers: { 'Idempotency-Key': key } }));

    // Assess
    expect(retry.statusCode).toBe(410);
    expect(jsonBody(retry)).toMatchObject({ error: 'Gone' });
    expect(sent(SELECT_TOMBSTONE, statements)).toBe(2);
    expect(proxy.connections).toBe(connections + 1);
  });

  test('dropped after the server ran a write: the handler finds its own write and answers 200 (never a retry that could apply it twice)', async () => {
    // Prepare
    const item = await create({ v: 1 });
    proxy.dropNext(/^UPDATE items/, 'after');

    // Act
    const put = await api.invoke(itemEvent('PUT', 'items', item.id, { json: { v: 2 }, headers: { 'If-Match': '"1"' } }));
    await pg.engine.waitForNoConnections(2_000).catch(() => undefined);
    const retry = await api.invoke(itemEvent('PUT', 'items', item.id, { json: { v: 2 }, headers: { 'If-Match': '"1"' } }));
    const read = await api.invoke(itemEvent('GET', 'items', item.id));

    // Assess: the write happened once and was answered as such; a client's conditional retry learns so (412)
    expect(put.statusCode).toBe(200);
    expect(responseHeader(put, 'etag')).toBe('"2"');
    expect(jsonBody(put)).toMatchObject({ version: 2, v: 2 });
    expect(await storedVersion(item.id)).toBe(2);
    expect(retry.statusCode).toBe(412);
    expect(read.statusCode).toBe(200);
    expect(jsonBody(read)).toMatchObject({ version: 2, v: 2 });
  });

  test('dropped before a create reached the server: 503 outcome unknown, nothing stored; the retry with the same Idempotency-Key creates it once', async () => {
    const key = `drop-${Date.now()}`;
    proxy.dropNext(/^INSERT INTO items/, 'before');

    const first = await api.invoke(collectionEvent('POST', 'items', { json: { k: 1 }, headers: { 'Idempotency-Key': key } }));
    const retry = await api.invoke(collectionEvent('POST', 'items', { json: { k: 1 }, headers: { 'Idempotency-Key': key } }));
    const replay = await api.invoke(collectionEvent('POST', 'items', { json: { k: 1 }, headers: { 'Idempotency-Key': key } }));

    expectServiceUnavailable(first, OUTCOME_UNKNOWN);
    expect(retry.statusCode).toBe(201);
    expect(responseHeader(retry, 'idempotent-replayed')).toBeUndefined();
    expect(responseHeader(replay, 'idempotent-replayed')).toBe('true');
    const id = jsonBody<{ id: string }>(retry).id;
    expect((await pg.engine.query('SELECT count(*)::int AS n FROM items WHERE id = $1', [id])).rows).toEqual([{ n: 1 }]);
  });

  test('the server terminating the session (57P01, FATAL): a read is retried, a write is a 503, and the next request reconnects', async () => {
    const item = await create({ v: 1 });
    const shutdown = { code: '57P01', message: 'terminating connection due to administrator command', severity: 'FATAL' } as const;

    const statements = proxy.statements.length;

    proxy.failNext(SELECT_ONE_ITEM, shutdown);
    const read = await api.invoke(itemEvent('GET', 'items', item.id));
    const readsSent = sent(SELECT_ONE_ITEM, statements);
    proxy.failNext(/^DELETE FROM items/, shutdown);
    const del = await api.invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"1"' } }));
    const after = await api.invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"1"' } }));

    expect(read.statusCode).toBe(200);
    expect(readsSent).toBe(2);
    // The handler read the item after the failure: still there, so the delete did not apply.
    expectServiceUnavailable(del, OUTCOME_UNKNOWN);
    expect(after.statusCode).toBe(204);
  });

  test('a hung statement is abandoned before the invocation deadline with a 503; the next request uses a new connection', async () => {
    const item = await create({ v: 1 });
    proxy.hangNext(/^UPDATE items/);
    const before = proxy.connections;
    const started = Date.now();

    const put = await api.invoke(
      itemEvent('PUT', 'items', item.id, { json: { v: 2 }, headers: { 'If-Match': '"1"' } }),
      lambdaContext({ getRemainingTimeInMillis: () => 1_200 }),
    );
    const elapsed = Date.now() - started;
    const read = await api.invoke(itemEvent('GET', 'items', item.id));

    // Outcome unknown, or the read that would settle it ran out of time too: 503 either way.
    expectServiceUnavailable(put, /retry/);
    // The 503 shows the statement was abandoned at the deadline; no upper bound on the time, which
    // a loaded machine can stretch.
    expect(elapsed).toBeGreaterThanOrEqual(600);
    expect(read.statusCode).toBe(200);
    expect(jsonBody(read)).toMatchObject({ version: 1 });
    expect(proxy.connections).toBeGreaterThan(before);
  });
});

describe('transient server conditions are a 503 with Retry-After', () => {
  test('too many connections (53300) at connect; the next request connects once the proxy accepts again', async () => {
    proxy.dropAll();
    proxy.rejectConnections({ code: '53300', message: 'sorry, too many clients already' });

    const rejected = await api.invoke(collectionEvent('GET', 'items'));
    proxy.rejectConnections(undefined);
    const accepted = await api.invoke(collectionEvent('GET', 'items'));

    expectServiceUnavailable(rejected);
    expect(accepted.statusCode).toBe(200);
  });

  test.each([
    ['a lock timeout (55P03)', '55P03', 'canceling statement due to lock timeout'],
    ['a statement timeout (57014)', '57014', 'canceling statement due to statement timeout'],
    ['a deadlock (40P01)', '40P01', 'deadlock detected'],
    ['insufficient resources (53200)', '53200', 'out of memory'],
  ])('%s keeps the connection', async (_name, code, message) => {
    const item = await create({ v: 1 });
    const connections = proxy.connections;
    proxy.failNext(/^UPDATE items/, { code, message });

    const put = await api.invoke(itemEvent('PUT', 'items', item.id, { json: { v: 2 }, headers: { 'If-Match': '"1"' } }));
    const retry = await api.invoke(itemEvent('PUT', 'items', item.id, { json: { v: 2 }, headers: { 'If-Match': '"1"' } }));

    expectServiceUnavailable(put);
    expect(put.body).not.toContain(message);
    expect(retry.statusCode).toBe(200);
    expect(proxy.connections).toBe(connections);
  });

  test('any other server error is a 500 without internals', async () => {
    proxy.failNext(/^SELECT id, version/, { code: '42P01', message: 'relation "items" does not exist' });

    const response = await api.invoke(collectionEvent('GET', 'items'));

    expect(response.statusCode).toBe(500);
    expect(jsonBody(response)).toEqual({ error: 'InternalError', message: 'Internal server error', requestId: expect.any(String) });
  });

  test('data the server refuses to store (22P05) is a 400', async () => {
    proxy.failNext(/^INSERT INTO items/, { code: '22P05', message: 'unsupported Unicode escape sequence' });

    const response = await api.invoke(collectionEvent('POST', 'items', { json: { a: 1 } }));

    expect(response.statusCode).toBe(400);
    expect(jsonBody(response)).toMatchObject({ error: 'BadRequest', message: 'The request body cannot be stored' });
  });
});

describe('connection security', () => {
  const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    // The signer reads the execution role's credentials from the environment, as in Lambda.
    for (const [key, value] of Object.entries(CREDENTIALS)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
    saved.AWS_SESSION_TOKEN = process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_SESSION_TOKEN;
  });
  afterAll(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  test('with DB_IAM_AUTH=true the password is an IAM auth token for the user, signed per connection', async () => {
    // Prepare: the proxy asks for a cleartext password (over TLS in AWS) as RDS Proxy does
    proxy.requirePassword(true);
    const iam = loadRdsApi({ ...pgliteEnv(proxy.port), DB_IAM_AUTH: 'true', DB_USER: 'app_user', AWS_REGION: 'eu-west-1' });
    const before = proxy.passwords.length;

    // Act: two connections
    const first = await iam.invoke(collectionEvent('GET', 'items'));
    proxy.dropAll();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await iam.invoke(collectionEvent('GET', 'items'));

    // Assess
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    const tokens = proxy.passwords.slice(before);
    expect(tokens).toHaveLength(2);
    for (const t of tokens) {
      const url = new URL(`https://${t}`);
      expect(url.host).toBe(`127.0.0.1:${proxy.port}`);
      expect(Object.fromEntries(url.searchParams)).toMatchObject({
        'Action': 'connect',
        'DBUser': 'app_user',
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': expect.stringMatching(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/),
        'X-Amz-Expires': '900',
        'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    }
  });

  test('with DB_TLS=verify-full the client never falls back to plain text', async () => {
    // The proxy answers the TLS request with "N" (no TLS), as a downgrading middlebox would.
    const tls = loadRdsApi({ ...pgliteEnv(proxy.port), DB_TLS: 'verify-full' });
    const statements = proxy.statements.length;

    const response = await tls.invoke(collectionEvent('GET', 'items'));

    // Not a transient condition: a 500 (and the function's error alarm), no statement sent.
    expect(response.statusCode).toBe(500);
    expect(jsonBody(response)).toMatchObject({ error: 'InternalError' });
    expect(proxy.statements.length).toBe(statements);
  });

  test('a refused login (28P01) is a 500, not a retryable 503', async () => {
    proxy.dropAll();
    proxy.rejectConnections({ code: '28P01', message: 'password authentication failed for user "postgres"' });

    const response = await api.invoke(collectionEvent('GET', 'items'));

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('password authentication failed');
  });
});

describe('Database', () => {
  test('a connection idle longer than the check interval is verified before a write, and replaced when dead', async () => {
    // Prepare: every write checks its connection first (interval 0)
    const env = pgliteEnv(proxy.port);
    const db = new Database(
      { host: env.DB_HOST, port: Number(env.DB_PORT), database: 'postgres', user: 'postgres', iamAuth: false, tls: 'disable', connectTimeoutMs: 1_000, statementTimeoutMs: 2_000 },
      { applicationName: 'test', verifyIdleAfterMs: 0 },
    );
    try {
      await db.query('SELECT 1 AS warm', [], { retrySafe: true });
      const connections = proxy.connections;
      proxy.dropNext(/^SELECT 1$/, 'before');

      // Act
      const result = await db.query<{ n: number }>('SELECT 2 AS n', [], { retrySafe: false });

      // Assess
      expect(result.rows).toEqual([{ n: 2 }]);
      expect(proxy.connections).toBe(connections + 1);
      expect(proxy.statements.slice(-3)).toEqual(['SELECT 1 AS warm', 'SELECT 1', 'SELECT 2 AS n']);
    } finally {
      await db.close();
    }
  });
});

describe('a lost answer to a write that applied: the handler reads its own write back', () => {
  test('POST without an Idempotency-Key: 201 with the item, stored once', async () => {
    const before = (await pg.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM items')).rows[0].n;
    proxy.dropNext(/^INSERT INTO items/, 'after');

    const response = await api.invoke(collectionEvent('POST', 'items', { json: { lost: 'insert' } }));

    expect(response.statusCode).toBe(201);
    const { id } = jsonBody<{ id: string }>(response);
    expect(responseHeader(response, 'location')).toMatch(new RegExp(`/items/${id}$`));
    expect((await pg.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(before + 1);
  });

  test('DELETE of an item created with an Idempotency-Key: 204, it is a tombstone, and a retry of its POST is 410', async () => {
    // Prepare
    const key = `lost-tombstone-${Date.now()}`;
    const { id } = jsonBody<{ id: string }>(await api.invoke(collectionEvent('POST', 'items', { json: { k: 1 }, headers: { 'Idempotency-Key': key } })));
    const statements = proxy.statements.length;
    proxy.dropNext(TOMBSTONE_UPDATE, 'after');

    // Act
    const response = await api.invoke(itemEvent('DELETE', 'items', id, { headers: { 'If-Match': '"1"' } }));
    await pg.engine.waitForNoConnections(2_000).catch(() => undefined);
    const retry = await api.invoke(collectionEvent('POST', 'items', { json: { k: 1 }, headers: { 'Idempotency-Key': key } }));

    // Assess
    expect(sent(TOMBSTONE_UPDATE, statements)).toBe(1);
    expect(response.statusCode).toBe(204);
    const rows = (await pg.engine.query<{ data: unknown; deleted: boolean }>('SELECT data, deleted_at IS NOT NULL AS deleted FROM items WHERE id = $1', [id])).rows;
    expect(rows).toEqual([{ data: {}, deleted: true }]);
    expect(retry.statusCode).toBe(410);
  });

  test('DELETE with If-Match: 204, and the item is gone', async () => {
    const item = await create({ lost: 'delete' });
    proxy.dropNext(/^DELETE FROM items/, 'after');

    const response = await api.invoke(itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"1"' } }));

    expect(response.statusCode).toBe(204);
    expect(await storedVersion(item.id)).toBeUndefined();
  });
});
