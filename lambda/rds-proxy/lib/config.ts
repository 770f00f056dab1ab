/**
 * Configuration of the RDS Proxy handlers, from environment variables, validated at cold start.
 *
 * Database connection (both handlers):
 *
 * | variable | default | rule |
 * |---|---|---|
 * | DB_HOST | (required) | the RDS Proxy endpoint (a host name; TLS verifies it) |
 * | DB_PORT | 5432 | 1..65535 |
 * | DB_NAME | (required) | database name |
 * | DB_USER | (required) | database user; with IAM auth the token is signed for it |
 * | DB_IAM_AUTH | `true` | `true`: the password is a fresh IAM auth token per connection; `false`: no password (local engines) |
 * | DB_TLS | `verify-full` | `verify-full`: TLS with certificate and host name verification; `disable`: plain TCP, only with a loopback DB_HOST (local engines) |
 * | DB_CONNECT_TIMEOUT_MS | 3000 | 100..30000 |
 * | DB_STATEMENT_TIMEOUT_MS | 5000 (API), 60000 (migrations) | 100..900000; server-side `statement_timeout`, plus a client-side backstop |
 * | AWS_REGION | (set by Lambda) | required with DB_IAM_AUTH=true: the region the token is signed for |
 *
 * Migrations only: MIGRATIONS_DIR (required, absolute path), MIGRATION_LOCK_TIMEOUT_MS (30000,
 * 100..600000: how long a run waits for a concurrent run's advisory lock), APP_USER_SECRET_ARN
 * (optional Secrets Manager secret `{"username","password"}` of the least-privileged API user).
 * API only: the resource contract variables of the REST pattern (lambda/shared/resource-api/config.ts:
 * RESOURCE_NAME, REQUIRE_IF_MATCH, MAX_BODY_BYTES, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ITEM_SCHEMA,
 * CORS_ALLOW_ORIGINS, ITEM_OWNER_CLAIM). With ITEM_OWNER_CLAIM, every row carries its caller's
 * claim value in `owner` (migration 0002); without it, `owner` is '' (one shared collection).
 */
import { EnvReader, quoteValue } from '../../shared/config';
import { readResourceApiSettings, type ResourceApiSettings } from '../../shared/resource-api/config';

export const DB_TLS_MODES = ['verify-full', 'disable'] as const;
export type DbTlsMode = (typeof DB_TLS_MODES)[number];

export interface DbConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly iamAuth: boolean;
  readonly tls: DbTlsMode;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /** The signing region of IAM auth tokens (set when `iamAuth`). */
  readonly region?: string;
}

export interface ApiConfig extends ResourceApiSettings {
  readonly db: DbConfig;
}

export interface MigrateConfig {
  readonly db: DbConfig;
  readonly migrationsDir: string;
  readonly lockTimeoutMs: number;
  readonly appUserSecretArn?: string;
}

export const API_STATEMENT_TIMEOUT_MS = 5_000;
/** DDL on a populated table takes longer than an API statement. */
export const MIGRATION_STATEMENT_TIMEOUT_MS = 60_000;

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** PostgreSQL identifiers as RDS accepts them for database and user names. */
const DB_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const ABSOLUTE_PATH = /^\/[^\0]*$/;
/** Hosts where plain TCP never leaves the machine. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3})$/;

/** Reads the DB_* variables; problems go to `reader`. */
export function readDbConfig(reader: EnvReader, defaultStatementTimeoutMs: number): DbConfig {
  const host = reader.requiredString('DB_HOST', { pattern: HOST_NAME });
  const port = reader.integerInRange('DB_PORT', 5432, 1, 65_535);
  const database = reader.requiredString('DB_NAME', { pattern: DB_IDENTIFIER });
  const user = reader.requiredString('DB_USER', { pattern: DB_IDENTIFIER });
  const iamAuth = reader.booleanFlag('DB_IAM_AUTH', true);
  const tls = reader.oneOf('DB_TLS', DB_TLS_MODES, 'verify-full');
  if (tls === 'disable' && host !== '' && !LOOPBACK_HOST.test(host)) {
    reader.problem('DB_TLS', `disable is only allowed with a loopback DB_HOST (localhost, 127.x.x.x), got DB_HOST ${quoteValue(host)}`);
  }
  const connectTimeoutMs = reader.integerInRange('DB_CONNECT_TIMEOUT_MS', 3_000, 100, 30_000);
  const statementTimeoutMs = reader.integerInRange('DB_STATEMENT_TIMEOUT_MS', defaultStatementTimeoutMs, 100, 900_000);
  const region = reader.optionalString('AWS_REGION', { pattern: REGION });
  if (iamAuth && reader.raw('AWS_REGION') === undefined) {
    reader.problem('AWS_REGION', 'is required with DB_IAM_AUTH=true (the region IAM auth tokens are signed for)');
  }
  return { host, port, database, user, iamAuth, tls, connectTimeoutMs, statementTimeoutMs, ...(iamAuth && region ? { region } : {}) };
}

/** The API handler's configuration; throws one `ConfigError` listing every problem. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const reader = new EnvReader(env);
  const db = readDbConfig(reader, API_STATEMENT_TIMEOUT_MS);
  const settings = readResourceApiSettings(reader);
  reader.done();
  return { ...settings, db };
}

/** The migrations handler's configuration; throws one `ConfigError` listing every problem. */
export function loadMigrateConfig(env: NodeJS.ProcessEnv = process.env): MigrateConfig {
  const reader = new EnvReader(env);
  const db = readDbConfig(reader, MIGRATION_STATEMENT_TIMEOUT_MS);
  const migrationsDir = reader.requiredString('MIGRATIONS_DIR', { pattern: ABSOLUTE_PATH });
  const lockTimeoutMs = reader.integerInRange('MIGRATION_LOCK_TIMEOUT_MS', 30_000, 100, 600_000);
  const appUserSecretArn = reader.optionalString('APP_USER_SECRET_ARN', { pattern: SECRET_ARN });
  reader.done();
  return { db, migrationsDir, lockTimeoutMs, ...(appUserSecretArn ? { appUserSecretArn } : {}) };
}
