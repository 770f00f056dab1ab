/**
 * The least-privileged database user of the API: a LOGIN role with the password of its Secrets
 * Manager secret (the one RDS Proxy uses to log in to the database for it), allowed only to
 * read and write the rows of the application tables.
 *
 * - The password never appears in SQL text (statement logs): it is sent as a SCRAM-SHA-256
 *   verifier computed here, which PostgreSQL stores as it is.
 * - Identifiers and literals are quoted by the server (`format('%I')`, `format('%L')`) from bound
 *   parameters; the user name must also be a plain lower case identifier.
 * - The role is not granted `rds_iam`: that would make the database demand IAM tokens from it,
 *   while RDS Proxy logs in with the secret's password (clients authenticate to the proxy with IAM).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Statement } from './migrations';

export interface AppUserCredentials {
  readonly username: string;
  readonly password: string;
}

/** A plain lower case identifier that is not reserved (`pg_*`). */
export const APP_USER_NAME = /^(?!pg_)[a-z_][a-z0-9_]{0,62}$/;
/** Printable ASCII, so that the verifier computed here equals the server's (no SASLprep needed). */
const PASSWORD = /^[\x20-\x7e]{8,1024}$/;
export const SCRAM_ITERATIONS = 4096;

/** The secret is not usable (the message never contains the password). */
export class AppUserSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppUserSecretError';
  }
}

/** Parses a secret `{"username": ..., "password": ...}` (other keys, such as `host`, are ignored). */
export function parseAppUserSecret(text: string, adminUser: string): AppUserCredentials {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppUserSecretError('The application user secret is not JSON {"username": ..., "password": ...}');
  }
  const { username, password } = (typeof value === 'object' && value !== null ? value : {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || !APP_USER_NAME.test(username)) {
    throw new AppUserSecretError(`The application user secret's username must match ${APP_USER_NAME.source}, got ${JSON.stringify(typeof username === 'string' ? username.slice(0, 80) : typeof username)}`);
  }
  if (username === adminUser) {
    throw new AppUserSecretError(`The application user must not be the migration user ${JSON.stringify(adminUser)}`);
  }
  if (typeof password !== 'string' || !PASSWORD.test(password)) {
    throw new AppUserSecretError('The application user secret\'s password must be 8..1024 printable ASCII characters');
  }
  return { username, password };
}

/** A SCRAM-SHA-256 password verifier in PostgreSQL's format (RFC 5802, RFC 7677). */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** The tables the API uses: every table of the public schema except the migrations' bookkeeping. */
const APP_TABLES = "FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'";

/**
 * Creates the role (or updates its password) and sets its privileges to exactly: CONNECT on the
 * database, USAGE on the schema, SELECT/INSERT/UPDATE/DELETE on the application tables, USAGE on
 * the sequences. One transaction: the privileges never pass through a wider state.
 */
export async function ensureAppUser(run: Statement, credentials: AppUserCredentials): Promise<{ created: boolean }> {
  /** Builds a statement on the server from bound parameters and runs it. */
  const runFormatted = async (format: string, values: readonly unknown[]): Promise<void> => {
    const built = await run(`SELECT ${format} AS statement`, values);
    const statement = built.rows[0]?.statement;
    if (typeof statement === 'string') await run(statement);
  };
  const user = credentials.username;
  await run('BEGIN');
  try {
    const exists = (await run('SELECT 1 FROM pg_roles WHERE rolname = $1', [user])).rows.length > 0;
    const verifier = scramSha256Verifier(credentials.password);
    await runFormatted(`format('${exists ? 'ALTER' : 'CREATE'} ROLE %I WITH LOGIN PASSWORD %L', $1::text, $2::text)`, [user, verifier]);
    await runFormatted("format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), $1::text)", [user]);
    await runFormatted("format('GRANT USAGE ON SCHEMA public TO %I', $1::text)", [user]);
    await runFormatted("format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', $1::text)", [user]);
    // NULL (no statement) when there is no application table yet.
    await runFormatted(
      `(SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %s TO %I', string_agg(format('%I.%I', schemaname, tablename), ', ' ORDER BY tablename), $1::text) ${APP_TABLES} HAVING count(*) > 0)`,
      [user],
    );
    await runFormatted("format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', $1::text)", [user]);
    await runFormatted("format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', $1::text)", [user]);
    await run('COMMIT');
    return { created: !exists };
  } catch (err) {
    await run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
