/**
 * The RDS Proxy handlers' configuration, validated at cold start: one ConfigError listing every
 * problem and the value given; a valid configuration cold-starts without touching the network.
 * The handlers are cold-started for the wiring; the rules are checked on the config readers.
 */
import { loadMigrate, loadRdsApi } from './handlers';
import { loadApiConfig, loadMigrateConfig } from '../../lambda/rds-proxy/lib/config';
import type { ConfigError } from '../../lambda/shared/config';
import type { Env } from '../helpers/load-handler';

const MINIMAL = { DB_HOST: 'proxy.proxy-abc123.eu-west-1.rds.amazonaws.com', DB_NAME: 'app', DB_USER: 'app_user', AWS_REGION: 'eu-west-1' };

function coldStartError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected the cold start to fail');
}

describe('API handler', () => {
  test('a minimal configuration (IAM auth and verified TLS by default) cold-starts without connecting', () => {
    expect(typeof loadRdsApi(MINIMAL).handler).toBe('function');
  });

  test('fails when the required variables are missing', () => {
    const err = coldStartError(() => loadRdsApi({}));

    expect(err.name).toBe('ConfigError');
    expect(err.problems).toEqual([
      'DB_HOST is required',
      'DB_NAME is required',
      'DB_USER is required',
      'AWS_REGION is required with DB_IAM_AUTH=true (the region IAM auth tokens are signed for)',
    ]);
  });

  test('fails with one error listing every bad variable and the value given, the contract variables included', () => {
    const err = coldStartError(() => loadApiConfig({
      DB_HOST: 'proxy.example.com/evil',
      DB_PORT: '70000',
      DB_NAME: 'app; DROP DATABASE app',
      DB_USER: "admin'--",
      DB_IAM_AUTH: 'yes',
      DB_TLS: 'require',
      DB_CONNECT_TIMEOUT_MS: '50',
      DB_STATEMENT_TIMEOUT_MS: 'forever',
      AWS_REGION: 'Europe',
      RESOURCE_NAME: 'Bad Name',
      MAX_PAGE_SIZE: '0',
      ITEM_SCHEMA: '{not json',
    }));

    expect(err.problems).toEqual([
      'DB_HOST must match ^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$, got "proxy.example.com/evil"',
      'DB_PORT must be an integer in 1..65535, got "70000"',
      'DB_NAME must match ^[A-Za-z_][A-Za-z0-9_$]{0,62}$, got "app; DROP DATABASE app"',
      'DB_USER must match ^[A-Za-z_][A-Za-z0-9_$]{0,62}$, got "admin\'--"',
      'DB_IAM_AUTH must be true or false, got "yes"',
      'DB_TLS must be one of verify-full, disable, got "require"',
      'DB_CONNECT_TIMEOUT_MS must be an integer in 100..30000, got "50"',
      'DB_STATEMENT_TIMEOUT_MS must be an integer in 100..900000, got "forever"',
      'AWS_REGION must match ^[a-z]{2}(?:-[a-z]+)+-\\d{1,2}$, got "Europe"',
      'RESOURCE_NAME must match ^[a-z][a-z0-9-]{0,62}$, got "Bad Name"',
      'MAX_PAGE_SIZE must be an integer in 1..1000, got "0"',
      'ITEM_SCHEMA is not valid JSON',
    ]);
  });

  test.each<[string, Env, RegExp]>([
    ['DB_PORT', { DB_PORT: '0' }, /DB_PORT must be an integer in 1\.\.65535/],
    ['DB_STATEMENT_TIMEOUT_MS', { DB_STATEMENT_TIMEOUT_MS: '900001' }, /DB_STATEMENT_TIMEOUT_MS must be an integer in 100\.\.900000/],
    ['DEFAULT_PAGE_SIZE', { DEFAULT_PAGE_SIZE: '50', MAX_PAGE_SIZE: '10' }, /DEFAULT_PAGE_SIZE must not exceed MAX_PAGE_SIZE \(10\), got "50"/],
    ['CORS_ALLOW_ORIGINS', { CORS_ALLOW_ORIGINS: 'ftp://x/' }, /CORS_ALLOW_ORIGINS has invalid origins/],
    ['REQUIRE_IF_MATCH', { REQUIRE_IF_MATCH: 'TRUE' }, /REQUIRE_IF_MATCH must be true or false, got "TRUE"/],
    ['MAX_BODY_BYTES', { MAX_BODY_BYTES: '262145' }, /MAX_BODY_BYTES must be an integer in 1\.\.262144/],
    ['ITEM_OWNER_CLAIM', { ITEM_OWNER_CLAIM: 'claims.sub ' }, /ITEM_OWNER_CLAIM must match \^\[A-Za-z0-9_:\.-\]\{1,128\}\$, got "claims\.sub "/],
    ['DB_TLS (plain TCP beyond loopback)', { DB_TLS: 'disable' }, /DB_TLS disable is only allowed with a loopback DB_HOST \(localhost, 127\.x\.x\.x\), got DB_HOST "proxy\.proxy-abc123/],
  ])('fails on a bad %s', (_name, env, message) => {
    expect(() => loadApiConfig({ ...MINIMAL, ...env })).toThrow(message);
  });

  test('defaults, and AWS_REGION is not needed without IAM auth (local engines)', () => {
    expect(loadApiConfig(MINIMAL).db).toEqual({
      host: MINIMAL.DB_HOST, port: 5432, database: 'app', user: 'app_user', iamAuth: true, tls: 'verify-full', connectTimeoutMs: 3000, statementTimeoutMs: 5000, region: 'eu-west-1',
    });
    expect(loadApiConfig({ DB_HOST: '127.0.0.1', DB_NAME: 'postgres', DB_USER: 'postgres', DB_IAM_AUTH: 'false', DB_TLS: 'disable' }).db).toMatchObject({ iamAuth: false, tls: 'disable' });
  });
});

describe('API handler: items per caller', () => {
  test('ITEM_OWNER_CLAIM names the authorizer claim; without it there is one shared collection', () => {
    expect(loadApiConfig(MINIMAL).ownerClaim).toBeUndefined();
    expect(loadApiConfig({ ...MINIMAL, ITEM_OWNER_CLAIM: 'cognito:username' }).ownerClaim).toBe('cognito:username');
  });
});

describe('migrations handler', () => {
  test('a minimal configuration cold-starts, with a longer statement timeout for DDL', () => {
    expect(typeof loadMigrate({ ...MINIMAL, MIGRATIONS_DIR: '/var/task/migrations' }).handler).toBe('function');
    expect(loadMigrateConfig({ ...MINIMAL, MIGRATIONS_DIR: '/var/task/migrations' })).toEqual({
      db: expect.objectContaining({ statementTimeoutMs: 60_000 }), migrationsDir: '/var/task/migrations', lockTimeoutMs: 30_000,
    });
  });

  test('fails with every problem, MIGRATIONS_DIR, MIGRATION_LOCK_TIMEOUT_MS and APP_USER_SECRET_ARN included', () => {
    const err = coldStartError(() => loadMigrate({
      DB_HOST: MINIMAL.DB_HOST,
      DB_NAME: 'app',
      DB_IAM_AUTH: 'false',
      MIGRATIONS_DIR: 'migrations',
      MIGRATION_LOCK_TIMEOUT_MS: '0',
      APP_USER_SECRET_ARN: 'arn:aws:ssm:eu-west-1:123456789012:parameter/app',
    }));

    expect(err.problems).toEqual([
      'DB_USER is required',
      'MIGRATIONS_DIR must match ^\\/[^\\0]*$, got "migrations"',
      'MIGRATION_LOCK_TIMEOUT_MS must be an integer in 100..600000, got "0"',
      'APP_USER_SECRET_ARN must match ^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\\d{12}:secret:[A-Za-z0-9/_+=.@-]+$, got "arn:aws:ssm:eu-west-1:123456789012:parameter/app"',
    ]);
  });
});
