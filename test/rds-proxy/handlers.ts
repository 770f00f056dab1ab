/**
 * Cold-starts the RDS Proxy handlers (`lambda/rds-proxy/api.ts`, `migrate.ts`) with a given
 * environment in an isolated module registry (`isolatedRequire`), so their configuration and
 * their database connection are fresh for each load.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyHandler, Context } from 'aws-lambda';
import type { MigrateEvent, MigrateResponse } from '../../lambda/rds-proxy/migrate';
import { lambdaContext } from '../helpers/api-gateway-events';
import { REPO_ROOT, REST_API_ENV_VARS, isolatedRequire, type Env, type Invoke } from '../helpers/load-handler';
import { startWireProxy, usePglite, type PgliteEngine, type WireProxy } from '../helpers/pglite';

/** Every variable the RDS Proxy handlers read; unset before each load unless given. */
export const RDS_PROXY_ENV_VARS = [
  'DB_HOST',
  'DB_PORT',
  'DB_NAME',
  'DB_USER',
  'DB_IAM_AUTH',
  'DB_TLS',
  'DB_CONNECT_TIMEOUT_MS',
  'DB_STATEMENT_TIMEOUT_MS',
  'MIGRATIONS_DIR',
  'MIGRATION_LOCK_TIMEOUT_MS',
  'APP_USER_SECRET_ARN',
  ...REST_API_ENV_VARS.filter((name) => name !== 'TABLE_NAME'),
] as const;

/** The shipped migrations. */
export const MIGRATIONS_DIR = join(REPO_ROOT, 'lambda', 'rds-proxy', 'migrations');

/**
 * Creates the shipped schema straight on the engine (the SQL files in order), for API tests that
 * do not test the migrations handler itself (which also records them in schema_migrations).
 */
export async function createSchema(engine: PgliteEngine): Promise<void> {
  for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort()) {
    await engine.exec(readFileSync(join(MIGRATIONS_DIR, file), 'utf8'));
  }
}

/** Every column of the `items` table (migrations 0001 to 0003), for snapshots that compare the whole stored state. */
export const ITEM_COLUMNS = 'resource, owner, id, version, created_at, updated_at, data, request_hash, deleted_at, key_expires_at';

/** The columns the handler reads of an item (`lambda/rds-proxy/lib/item-store.ts`). */
const READ_COLUMNS = 'id, version, created_at, updated_at, data, request_hash';

/** A live item of one caller: every statement but the insert and the tombstone read skips tombstones. */
const LIVE_ITEM = String.raw`WHERE resource = \$1 AND owner = \$2 AND id = \$3 AND deleted_at IS NULL`;

/**
 * Statement texts the API handler may send (`lambda/rds-proxy/lib/item-store.ts`): its fixed SQL,
 * every value a parameter, never with input spliced in. Every statement is scoped by resource ($1)
 * and owner ($2).
 */
export const HANDLER_STATEMENT = new RegExp('^(?:' + [
  // get, list (first page, keyset page)
  String.raw`SELECT ${READ_COLUMNS} FROM items (?:${LIVE_ITEM}|WHERE resource = \$1 AND owner = \$2 AND deleted_at IS NULL` +
    String.raw`(?: ORDER BY id LIMIT \$3| AND id > \$3 ORDER BY id LIMIT \$4))`,
  // getTombstone
  String.raw`SELECT deleted_at, key_expires_at, request_hash FROM items WHERE resource = \$1 AND owner = \$2 AND id = \$3 AND deleted_at IS NOT NULL`,
  // insert: replaces only a tombstone whose key has expired
  String.raw`INSERT INTO items \(resource, owner, id, version, created_at, updated_at, data, request_hash\)` +
    String.raw`\s+VALUES \(\$1, \$2, \$3, \$4, \$5, \$6, \$7::jsonb, \$8\)` +
    String.raw`\s+ON CONFLICT \(resource, owner, id\) DO UPDATE SET version = EXCLUDED\.version, created_at = EXCLUDED\.created_at,` +
    String.raw`\s+updated_at = EXCLUDED\.updated_at, data = EXCLUDED\.data, request_hash = EXCLUDED\.request_hash, deleted_at = NULL, key_expires_at = NULL` +
    String.raw`\s+WHERE items\.key_expires_at <= \$9`,
  // replace
  String.raw`UPDATE items SET data = \$4::jsonb, updated_at = \$5, version = version \+ 1 ${LIVE_ITEM}` +
    String.raw`(?: AND version = ANY\(\$6::bigint\[\]\))? RETURNING ${READ_COLUMNS}`,
  // delete: outright, or into a tombstone (an item created with an Idempotency-Key)
  String.raw`DELETE FROM items ${LIVE_ITEM}(?: AND version = ANY\(\$4::bigint\[\]\))?`,
  String.raw`UPDATE items SET data = '\{\}'::jsonb, deleted_at = \$4, key_expires_at = \$5 ${LIVE_ITEM}(?: AND version = ANY\(\$6::bigint\[\]\))?`,
].join('|') + ')$');

export interface LoadedRdsApi {
  readonly handler: APIGatewayProxyHandler;
  readonly invoke: Invoke;
}

/** Cold-starts the API handler with `env`. */
export function loadRdsApi(env: Env): LoadedRdsApi {
  const { module } = isolatedRequire<{ handler: APIGatewayProxyHandler }>('lambda/rds-proxy/api', env, RDS_PROXY_ENV_VARS);
  const invoke: Invoke = async (event, context = lambdaContext()) => {
    const result = await module.handler(event, context, () => undefined);
    if (!result) throw new Error('handler returned no result');
    return result;
  };
  return { handler: module.handler, invoke };
}

export interface LoadedMigrate {
  readonly handler: (event: MigrateEvent | null | undefined, context?: Partial<Context>) => Promise<MigrateResponse>;
  /** The Secrets Manager client module of the handler's registry (to mock it). */
  readonly secretsManager: typeof import('@aws-sdk/client-secrets-manager');
  /** Runs the handler with `event` and a context with `remainingMs` left (default 60 s). */
  run(event?: MigrateEvent | null, remainingMs?: number): Promise<MigrateResponse>;
}

/** Cold-starts the migrations handler with `env` (MIGRATIONS_DIR defaults to the shipped migrations). */
export function loadMigrate(env: Env): LoadedMigrate {
  const { module, others } = isolatedRequire<{ handler: LoadedMigrate['handler'] }>(
    'lambda/rds-proxy/migrate',
    { MIGRATIONS_DIR, ...env },
    RDS_PROXY_ENV_VARS,
    ['@aws-sdk/client-secrets-manager'],
  );
  return {
    handler: module.handler,
    secretsManager: others[0] as typeof import('@aws-sdk/client-secrets-manager'),
    run: (event = { RequestType: 'Create', ResourceProperties: {} }, remainingMs = 60_000) =>
      module.handler(event, lambdaContext({ getRemainingTimeInMillis: () => remainingMs })),
  };
}

/** A CloudFormation custom resource event as the Provider framework passes it to onEvent. */
export function customResourceEvent(requestType: 'Create' | 'Update' | 'Delete', physicalResourceId?: string): MigrateEvent {
  return {
    RequestType: requestType,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider' },
    ...(physicalResourceId !== undefined ? { PhysicalResourceId: physicalResourceId } : {}),
  };
}

/** PGlite with the shipped schema behind a recording wire proxy, for one test file. */
export interface GuardedDatabase {
  readonly engine: PgliteEngine;
  readonly proxy: WireProxy;
}

/**
 * Registers the hooks that start PGlite with the shipped schema behind a recording wire proxy,
 * and check after every test that the schema is intact and only the handler's fixed statements
 * (`HANDLER_STATEMENT`) reached the server.
 */
export function useGuardedDatabase(): GuardedDatabase {
  const pg = usePglite();
  let proxy: WireProxy | undefined;
  beforeAll(async () => {
    proxy = await startWireProxy(pg.engine.port);
    await createSchema(pg.engine);
  });
  afterAll(async () => {
    await proxy?.close();
  });
  beforeEach(() => {
    proxy!.statements.length = 0;
  });
  afterEach(async () => {
    const tables = (await pg.engine.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows;
    expect(tables).toEqual([{ tablename: 'items' }]);
    for (const statement of proxy!.statements) expect(statement).toMatch(HANDLER_STATEMENT);
  });
  return {
    get engine() { return pg.engine; },
    get proxy() { return proxy!; },
  };
}
