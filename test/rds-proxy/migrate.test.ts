/**
 * The migrations handler (`lambda/rds-proxy/migrate.ts`) against a real PostgreSQL engine
 * (PGlite over the wire protocol), through a wire proxy that records the statements and plays
 * the network faults and the concurrent runs a single-session engine cannot produce.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { MIGRATIONS_DIR, customResourceEvent, loadMigrate, type LoadedMigrate } from './handlers';
import { sha256Hex } from '../../lambda/rds-proxy/lib/migrations';
import { pgliteEnv, startWireProxy, usePglite, type WireProxy } from '../helpers/pglite';

const pg = usePglite();
let proxy: WireProxy;
let env: Record<string, string>;
const SHIPPED_0001 = readFileSync(join(MIGRATIONS_DIR, '0001_create_items.sql'), 'utf8');
const SHIPPED_0002 = readFileSync(join(MIGRATIONS_DIR, '0002_item_owner.sql'), 'utf8');
const SHIPPED_0003 = readFileSync(join(MIGRATIONS_DIR, '0003_item_tombstones.sql'), 'utf8');
/** The shipped migrations, to extend with later test files. */
const SHIPPED = { '0001_create_items.sql': SHIPPED_0001, '0002_item_owner.sql': SHIPPED_0002, '0003_item_tombstones.sql': SHIPPED_0003 } as const;
const SHIPPED_VERSIONS = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length;

beforeAll(async () => {
  proxy = await startWireProxy(pg.engine.port);
  env = pgliteEnv(proxy.port);
  scratchDir = mkdtempSync(join(tmpdir(), 'migrations-'));
});

afterAll(async () => {
  await proxy.close();
  rmSync(scratchDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await pg.engine.reset();
  proxy.statements.length = 0;
});

const loaded = new Map<string, LoadedMigrate>();

/** The handler cold-started with `overrides` over the proxy's environment, once per distinct environment. */
function migrator(overrides: Record<string, string> = {}): LoadedMigrate {
  const key = JSON.stringify(overrides);
  if (!loaded.has(key)) loaded.set(key, loadMigrate({ ...env, ...overrides }));
  return loaded.get(key)!;
}

/**
 * The one scratch migrations directory, rewritten by each test that needs other files: the
 * handler reads MIGRATIONS_DIR at each invocation, so one cold start serves every variant.
 */
let scratchDir: string;

function useMigrations(files: Record<string, string>): Record<string, string> {
  for (const name of readdirSync(scratchDir)) rmSync(join(scratchDir, name));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(scratchDir, name), content);
  return { MIGRATIONS_DIR: scratchDir };
}

async function appliedRows(): Promise<Array<{ version: number; name: string; checksum: string }>> {
  return (await pg.engine.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations ORDER BY version')).rows;
}

async function tableExists(name: string): Promise<boolean> {
  return (await pg.engine.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`public.${name}`])).rows[0].t !== null;
}

async function expectFailure(run: Promise<unknown>): Promise<Error> {
  try {
    await run;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the run to fail');
}

describe('applying', () => {
  test('Create applies the shipped schema to an empty database and records it', async () => {
    // Prepare
    const migrate = migrator();

    // Act
    const response = await migrate.run(customResourceEvent('Create'));

    // Assess
    expect(SHIPPED_VERSIONS).toBe(3);
    expect(response).toEqual({ PhysicalResourceId: 'schema-migrations', Data: { applied: '3', latestVersion: '3' } });
    expect(await appliedRows()).toEqual([
      { version: 1, name: 'create_items', checksum: sha256Hex(readFileSync(join(MIGRATIONS_DIR, '0001_create_items.sql'))) },
      { version: 2, name: 'item_owner', checksum: sha256Hex(readFileSync(join(MIGRATIONS_DIR, '0002_item_owner.sql'))) },
      { version: 3, name: 'item_tombstones', checksum: sha256Hex(readFileSync(join(MIGRATIONS_DIR, '0003_item_tombstones.sql'))) },
    ]);
    const columns = await pg.engine.query<{ column_name: string; data_type: string }>(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position",
    );
    expect(columns.rows).toEqual([
      { column_name: 'resource', data_type: 'text' },
      { column_name: 'id', data_type: 'uuid' },
      { column_name: 'version', data_type: 'bigint' },
      { column_name: 'created_at', data_type: 'timestamp with time zone' },
      { column_name: 'updated_at', data_type: 'timestamp with time zone' },
      { column_name: 'data', data_type: 'jsonb' },
      { column_name: 'request_hash', data_type: 'text' },
      { column_name: 'owner', data_type: 'text' },
      { column_name: 'deleted_at', data_type: 'timestamp with time zone' },
      { column_name: 'key_expires_at', data_type: 'timestamp with time zone' },
    ]);
    const key = await pg.engine.query<{ definition: string }>(
      "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = 'items'::regclass AND contype = 'p'",
    );
    expect(key.rows).toEqual([{ definition: 'PRIMARY KEY (resource, owner, id)' }]);
    await pg.engine.waitForNoConnections();
  });

  test('a second run applies nothing and changes nothing', async () => {
    const migrate = migrator();
    await migrate.run(customResourceEvent('Create'));
    const before = (await pg.engine.query('SELECT * FROM schema_migrations')).rows;

    const update = await migrate.run(customResourceEvent('Update', 'schema-migrations'));
    const manual = await migrate.run({});

    expect(update).toEqual({ PhysicalResourceId: 'schema-migrations', Data: { applied: '0', latestVersion: '3' } });
    expect(manual).toEqual(update);
    expect((await pg.engine.query('SELECT * FROM schema_migrations')).rows).toEqual(before);
  });

  test('a later migration is applied on top of the applied ones', async () => {
    await migrator().run();
    const dir = useMigrations({
      ...SHIPPED,
      '0004_add_notes.sql': 'CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);',
      'README.md': 'not a migration',
    });

    const response = await migrator(dir).run(customResourceEvent('Update', 'schema-migrations'));

    expect(response.Data).toEqual({ applied: '1', latestVersion: '4' });
    expect((await appliedRows()).map((r) => r.name)).toEqual(['create_items', 'item_owner', 'item_tombstones', 'add_notes']);
    expect(await tableExists('notes')).toBe(true);
  });

  test('each migration runs in its own transaction with its bookkeeping row, under the advisory lock', async () => {
    const dir = useMigrations({ '0001_a.sql': 'CREATE TABLE a (x int);', '0002_b.sql': 'CREATE TABLE b (x int);' });

    await migrator(dir).run();

    const log = proxy.statements.filter((s) => !/^SELECT set_config|^SELECT version FROM/.test(s));
    expect(log).toEqual([
      'SELECT pg_advisory_lock($1::bigint)',
      expect.stringMatching(/^\s*CREATE TABLE IF NOT EXISTS schema_migrations/),
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
      'BEGIN', expect.stringMatching(/^INSERT INTO schema_migrations/), 'CREATE TABLE a (x int);', 'COMMIT',
      'BEGIN', expect.stringMatching(/^INSERT INTO schema_migrations/), 'CREATE TABLE b (x int);', 'COMMIT',
      'SELECT pg_advisory_unlock($1::bigint)',
    ]);
  });

  test('0002 on a database with items of 0001: they become the shared collection, and the key includes the owner', async () => {
    // Prepare: a database of the previous release, with an item
    await migrator(useMigrations({ '0001_create_items.sql': SHIPPED_0001 })).run();
    const id = '00000000-0000-4000-8000-000000000001';
    await pg.engine.query("INSERT INTO items VALUES ('items', $1, 3, now(), now(), '{\"a\":1}', 'hash')", [id]);

    // Act
    const response = await migrator(useMigrations({ '0001_create_items.sql': SHIPPED_0001, '0002_item_owner.sql': SHIPPED_0002 }))
      .run(customResourceEvent('Update', 'schema-migrations'));

    // Assess
    expect(response.Data).toEqual({ applied: '1', latestVersion: '2' });
    expect((await pg.engine.query('SELECT resource, owner, id, version, data, request_hash FROM items')).rows)
      .toEqual([{ resource: 'items', owner: '', id, version: 3, data: { a: 1 }, request_hash: 'hash' }]);
    const insert = (owner: string): Promise<unknown> => pg.engine.query(
      "INSERT INTO items (resource, owner, id, version, created_at, updated_at, data) VALUES ('items', $1, $2, 1, now(), now(), '{}')",
      [owner, id],
    );
    await insert('caller');
    await expect(insert('caller')).rejects.toThrow(/items_pkey/);
    await expect(insert('')).rejects.toThrow(/items_pkey/);
  });

  test('0003 on a database with items of 0002: they stay live items, and a tombstone sets both its columns', async () => {
    // Prepare: a database of the previous release, with an item
    await migrator(useMigrations({ '0001_create_items.sql': SHIPPED_0001, '0002_item_owner.sql': SHIPPED_0002 })).run();
    const id = '00000000-0000-4000-8000-000000000001';
    await pg.engine.query("INSERT INTO items (resource, owner, id, version, created_at, updated_at, data) VALUES ('items', 'caller', $1, 2, now(), now(), '{\"a\":1}')", [id]);

    // Act
    const response = await migrator().run(customResourceEvent('Update', 'schema-migrations'));

    // Assess
    expect(response.Data).toEqual({ applied: '1', latestVersion: '3' });
    expect((await pg.engine.query('SELECT owner, id, version, data, deleted_at, key_expires_at FROM items')).rows)
      .toEqual([{ owner: 'caller', id, version: 2, data: { a: 1 }, deleted_at: null, key_expires_at: null }]);
    const tombstone = (deletedAt: string | null, keyExpiresAt: string | null): Promise<unknown> => pg.engine.query(
      'UPDATE items SET deleted_at = $1, key_expires_at = $2 WHERE id = $3',
      [deletedAt, keyExpiresAt, id],
    );
    await expect(tombstone('2026-01-01T00:00:00Z', null)).rejects.toThrow(/items_tombstone_check/);
    await expect(tombstone(null, '2026-01-02T00:00:00Z')).rejects.toThrow(/items_tombstone_check/);
    await tombstone('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z');
  });

  test('0002 checks the owner: at most 256 characters, no control characters', async () => {
    await migrator().run();
    const insert = (owner: string): Promise<unknown> => pg.engine.query(
      "INSERT INTO items (resource, owner, id, version, created_at, updated_at, data) VALUES ('items', $1, gen_random_uuid(), 1, now(), now(), '{}')",
      [owner],
    );

    for (const bad of ['x'.repeat(257), 'a\nb', 'a\tb', '\u0001', 'a\u001f', 'a\u007f']) {
      await expect(insert(bad)).rejects.toThrow(/items_owner_check/);
    }
    for (const good of ['x'.repeat(256), '😀'.repeat(256), 'a b', 'a\u0080b', "o'neil # ü", '']) await insert(good);
    expect((await pg.engine.query('SELECT count(*)::int AS n FROM items')).rows).toEqual([{ n: 6 }]);
  });

  test('Delete keeps the schema and data and does not connect', async () => {
    await migrator().run();
    await pg.engine.exec("INSERT INTO items VALUES ('items', gen_random_uuid(), 1, now(), now(), '{}', NULL)");
    const connections = proxy.connections;

    const response = await migrator().run(customResourceEvent('Delete', 'schema-migrations'));

    expect(response).toEqual({ PhysicalResourceId: 'schema-migrations' });
    expect(proxy.connections).toBe(connections);
    expect((await pg.engine.query('SELECT count(*)::int AS n FROM items')).rows).toEqual([{ n: 1 }]);
  });

  test('an unknown RequestType fails without connecting', async () => {
    const connections = proxy.connections;

    const err = await expectFailure(migrator().run({ RequestType: 'Replace' }));

    expect(err.message).toBe('Unsupported RequestType "Replace"; expected Create, Update or Delete');
    expect(proxy.connections).toBe(connections);
  });
});

describe('history is immutable', () => {
  test('an applied migration whose file changed fails with a clear error and applies nothing', async () => {
    await migrator().run();
    const dir = useMigrations({
      ...SHIPPED,
      '0001_create_items.sql': `${SHIPPED_0001}\nCREATE INDEX items_created ON items (created_at);\n`,
      '0004_add_notes.sql': 'CREATE TABLE notes (id int);',
    });

    const err = await expectFailure(migrator(dir).run(customResourceEvent('Update', 'schema-migrations')));

    expect(err.name).toBe('MigrationError');
    expect(err.message).toMatch(/^Applied migrations were changed: 0001_create_items\.sql \(applied checksum [0-9a-f]{64}, file [0-9a-f]{64}\)\. Never edit an applied migration/);
    expect((await appliedRows()).map((r) => r.version)).toEqual([1, 2, 3]);
    expect(await tableExists('notes')).toBe(false);
  });

  test.each([
    ['a gap', { '0001_a.sql': 'SELECT 1;', '0003_c.sql': 'SELECT 1;' }, /version 0002 is missing/],
    ['a duplicate version', { '0001_a.sql': 'SELECT 1;', '0001_b.sql': 'SELECT 1;' }, /version 1 is used by 0001_a\.sql and 0001_b\.sql/],
    ['a badly named file', { '0001_a.sql': 'SELECT 1;', '2_b.sql': 'SELECT 1;' }, /2_b\.sql is not named NNNN_name\.sql/],
    ['no migrations', { 'notes.txt': 'x' }, /there are no NNNN_name\.sql files/],
  ])('%s fails before connecting', async (_name, files, message) => {
    const connections = proxy.connections;

    const err = await expectFailure(migrator(useMigrations(files)).run());

    expect(err.message).toMatch(message);
    expect(proxy.connections).toBe(connections);
  });

  test('a pending migration below an applied version fails', async () => {
    const dir = useMigrations({ '0001_a.sql': 'SELECT 1;', '0002_b.sql': 'SELECT 1;' });
    await migrator(dir).run();
    await pg.engine.exec('DELETE FROM schema_migrations WHERE version = 1');

    const err = await expectFailure(migrator(dir).run());

    expect(err.message).toMatch(/0001_a\.sql are pending but version 2 is already applied/);
  });

  test('versions applied by a newer deployment are reported, not an error (rollbacks keep working)', async () => {
    await migrator(useMigrations({ ...SHIPPED, '0004_d.sql': 'SELECT 1;' })).run();

    const response = await migrator().run(customResourceEvent('Update', 'schema-migrations'));

    expect(response.Data).toEqual({ applied: '0', latestVersion: '4' });
  });

  test('a failing migration is rolled back entirely, names the file and the SQLSTATE, and the next run retries it', async () => {
    const broken = useMigrations({ '0001_a.sql': 'CREATE TABLE a (x int);', '0002_b.sql': 'CREATE TABLE b (x int);\nSELECT * FROM missing_table;' });

    const err = await expectFailure(migrator(broken).run());

    expect(err.message).toMatch(/^Migration 0002_b failed and was rolled back: relation "missing_table" does not exist \(SQLSTATE 42P01\)$/);
    expect((await appliedRows()).map((r) => r.version)).toEqual([1]);
    expect(await tableExists('a')).toBe(true);
    expect(await tableExists('b')).toBe(false);
    const fixed = useMigrations({ '0001_a.sql': 'CREATE TABLE a (x int);', '0002_b.sql': 'CREATE TABLE b (x int);' });
    expect((await migrator(fixed).run()).Data).toEqual({ applied: '1', latestVersion: '2' });
  });
});

describe('concurrent runs and faults', () => {
  test('a run waiting longer than MIGRATION_LOCK_TIMEOUT_MS for another run\'s lock fails and applies nothing', async () => {
    // A second session holding the lock makes PostgreSQL answer 55P03 after lock_timeout.
    proxy.failNext(/pg_advisory_lock/, { code: '55P03', message: 'canceling statement due to lock timeout' });

    const err = await expectFailure(migrator({ MIGRATION_LOCK_TIMEOUT_MS: '2000' }).run());

    expect(err.message).toBe('Another migration run holds the migration lock for more than 2000 ms; retry when it has finished');
    expect(await tableExists('schema_migrations')).toBe(false);
    expect(proxy.statements).toContainEqual("SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)");
  });

  test('a version another run committed meanwhile is not applied twice', async () => {
    // Prepare: just before this run's first migration transaction, "another run" applies 0001.
    proxy.beforeNext(/^BEGIN$/, async () => {
      await pg.engine.exec(`BEGIN; ${SHIPPED_0001}; COMMIT;`);
      await pg.engine.query('INSERT INTO schema_migrations (version, name, checksum) VALUES (1, $1, $2)', ['create_items', sha256Hex(SHIPPED_0001)]);
    });

    // Act
    const response = await migrator().run();

    // Assess: the bookkeeping row is claimed first, so the CREATE TABLE never ran twice; 0002 and 0003 ran once each, here
    expect(response.Data).toEqual({ applied: '2', latestVersion: '3' });
    expect(proxy.statements).not.toContainEqual(expect.stringContaining('CREATE TABLE items'));
    expect(proxy.statements.filter((s) => s.includes('ADD COLUMN owner'))).toHaveLength(1);
    expect(proxy.statements.filter((s) => s.includes('ADD COLUMN deleted_at'))).toHaveLength(1);
    expect((await appliedRows()).map((r) => r.version)).toEqual([1, 2, 3]);
  });

  test('a connection dropped in the middle of a migration rolls it back; the next run applies it', async () => {
    proxy.dropNext(/CREATE TABLE items/, 'before');

    const err = await expectFailure(migrator().run());

    expect(err.message).toMatch(/^Migration 0001_create_items failed and was rolled back: Connection terminated unexpectedly/);
    // The engine rolls back a dropped client's open transaction when it releases the connection.
    await pg.engine.waitForNoConnections();
    expect(await appliedRows()).toEqual([]);
    expect(await tableExists('items')).toBe(false);
    expect((await migrator().run()).Data).toEqual({ applied: '3', latestVersion: '3' });
  });

  test('a hung statement is abandoned before the invocation deadline', async () => {
    proxy.hangNext(/CREATE TABLE items/);

    const err = await expectFailure(migrator().run(customResourceEvent('Create'), 1_500));

    // The message shows it was abandoned at the deadline, not left to the Lambda timeout.
    expect(err.message).toMatch(/^Migration 0001_create_items failed and was rolled back: The statement was aborted at the invocation deadline/);
    await pg.engine.waitForNoConnections();
    expect(await appliedRows()).toEqual([]);
    expect(await tableExists('items')).toBe(false);
  });

  test('too many connections fails the run with the server\'s message', async () => {
    proxy.rejectConnections({ code: '53300', message: 'sorry, too many clients already' });
    try {
      const err = await expectFailure(migrator().run());

      expect(err.message).toBe('sorry, too many clients already');
    } finally {
      proxy.rejectConnections(undefined);
    }
  });
});

describe('application user (APP_USER_SECRET_ARN)', () => {
  const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-user-AbCdEf';
  const AWS_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const mocks = new Map<LoadedMigrate, AwsStub<any, any, any>>();

  /** The handler (with `overrides`) reading `secret` from its mocked Secrets Manager. */
  function withSecret(secret: unknown, overrides: Record<string, string> = {}): LoadedMigrate {
    const migrate = migrator({ ...AWS_ENV, APP_USER_SECRET_ARN: SECRET_ARN, ...overrides });
    if (!mocks.has(migrate)) mocks.set(migrate, mockClient(migrate.secretsManager.SecretsManagerClient));
    const secrets = mocks.get(migrate)!;
    secrets.reset();
    secrets.on(migrate.secretsManager.GetSecretValueCommand, { SecretId: SECRET_ARN })
      .resolves({ SecretString: typeof secret === 'string' ? secret : JSON.stringify(secret) });
    return migrate;
  }

  afterAll(() => {
    for (const stub of mocks.values()) stub.restore();
  });

  /** Checks the stored SCRAM-SHA-256 verifier against a password, as the server does at login (RFC 5802). */
  async function passwordMatches(role: string, password: string): Promise<boolean> {
    const stored = (await pg.engine.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role])).rows[0].rolpassword;
    const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(stored);
    if (!m) return false;
    const salted = pbkdf2Sync(password, Buffer.from(m[2], 'base64'), Number(m[1]), 32, 'sha256');
    const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest('base64');
    const serverKey = createHmac('sha256', salted).update('Server Key').digest('base64');
    return storedKey === m[3] && serverKey === m[4];
  }

  async function privileges(role: string, table: string): Promise<Record<string, boolean>> {
    const rows = await pg.engine.query<Record<string, boolean>>(
      `SELECT ${['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'].map((p) => `has_table_privilege($1, $2, '${p}') AS "${p}"`).join(', ')}`,
      [role, table],
    );
    return rows.rows[0];
  }

  test('creates a LOGIN role with the secret\'s password and exactly DML on the application tables', async () => {
    // Prepare
    const migrate = withSecret({ username: 'app_user', password: "pa'ss\"word; DROP TABLE items; --", host: 'ignored' });

    // Act
    const response = await migrate.run();

    // Assess
    expect(response.Data).toEqual({ applied: '3', latestVersion: '3' });
    const role = (await pg.engine.query('SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1', ['app_user'])).rows;
    expect(role).toEqual([{ rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false }]);
    expect(await passwordMatches('app_user', "pa'ss\"word; DROP TABLE items; --")).toBe(true);
    expect(proxy.statements.join('\n')).not.toContain('pa\'ss');
    expect(await privileges('app_user', 'items')).toEqual({ SELECT: true, INSERT: true, UPDATE: true, DELETE: true, TRUNCATE: false, REFERENCES: false, TRIGGER: false });
    expect(await privileges('app_user', 'schema_migrations')).toEqual({ SELECT: false, INSERT: false, UPDATE: false, DELETE: false, TRUNCATE: false, REFERENCES: false, TRIGGER: false });
    const schema = (await pg.engine.query("SELECT has_schema_privilege('app_user', 'public', 'USAGE') AS usage, has_schema_privilege('app_user', 'public', 'CREATE') AS create")).rows;
    expect(schema).toEqual([{ usage: true, create: false }]);
  });

  test('the role can read and write items but not change the schema', async () => {
    await withSecret({ username: 'app_user', password: 'correct horse battery' }).run();

    await pg.engine.exec(`SET ROLE app_user;
      INSERT INTO items VALUES ('items', gen_random_uuid(), 1, now(), now(), '{}', NULL);
      INSERT INTO items (resource, owner, id, version, created_at, updated_at, data) VALUES ('items', 'caller', gen_random_uuid(), 1, now(), now(), '{}')
        ON CONFLICT (resource, owner, id) DO NOTHING;
      UPDATE items SET version = 2 WHERE owner = 'caller';
      DELETE FROM items;
      RESET ROLE;`);
    const ddl = pg.engine.exec('SET ROLE app_user; DROP TABLE items;');

    await expect(ddl).rejects.toThrow(/must be owner of table items/);
    await pg.engine.exec('RESET ROLE');
    const write = pg.engine.exec("SET ROLE app_user; INSERT INTO schema_migrations VALUES (9, 'x', repeat('0', 64), now());");
    await expect(write).rejects.toThrow(/permission denied for table schema_migrations/);
    await pg.engine.exec('RESET ROLE');
  });

  test('a later run updates the password (a rotated secret) and the grants of new tables', async () => {
    await withSecret({ username: 'app_user', password: 'first password' }).run();
    const dir = useMigrations({ ...SHIPPED, '0004_notes.sql': 'CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);' });

    await withSecret({ username: 'app_user', password: 'second password' }, dir).run(customResourceEvent('Update', 'schema-migrations'));

    expect(await passwordMatches('app_user', 'second password')).toBe(true);
    expect(await passwordMatches('app_user', 'first password')).toBe(false);
    expect(await privileges('app_user', 'notes')).toMatchObject({ SELECT: true, INSERT: true, TRUNCATE: false });
    const sequence = (await pg.engine.query("SELECT has_sequence_privilege('app_user', 'notes_id_seq', 'USAGE') AS usage, has_sequence_privilege('app_user', 'notes_id_seq', 'UPDATE') AS update")).rows;
    expect(sequence).toEqual([{ usage: true, update: false }]);
  });

  test.each([
    ['a hostile user name', { username: 'x"; DROP TABLE items; --', password: 'long enough' }, /username must match/],
    ['a reserved user name', { username: 'pg_monitor', password: 'long enough' }, /username must match/],
    ['the migration user itself', { username: 'postgres', password: 'long enough' }, /must not be the migration user "postgres"/],
    ['a short password', { username: 'app_user', password: 'short' }, /password must be 8\.\.1024 printable ASCII/],
    ['a non-ASCII password', { username: 'app_user', password: 'pässwörter' }, /password must be 8\.\.1024 printable ASCII/],
    ['no JSON', 'username=app_user', /is not JSON/],
  ])('%s fails the run before connecting, without echoing the password', async (_name, secret, message) => {
    const connections = proxy.connections;

    const err = await expectFailure(withSecret(secret).run());

    expect(err.name).toBe('AppUserSecretError');
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/long enough|short|pässwörter/);
    expect(proxy.connections).toBe(connections);
    expect((await pg.engine.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%'")).rows).toEqual([{ n: 1 }]);
  });
});
