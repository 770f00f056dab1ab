/**
 * Versioned SQL migrations: `NNNN_name.sql` files applied in version order, each in its own
 * transaction together with its bookkeeping row in `schema_migrations`, all under a session
 * advisory lock so that concurrent runs (two deployments, a manual run) take turns.
 *
 * History is immutable: an applied migration whose file changed (checksum), a version missing
 * from the sequence, a duplicate version, or a pending version below an applied one is an error,
 * never silently skipped or re-run. Applied versions newer than the files (an older bundle after
 * a rollback) are reported, not an error: migrations must stay compatible with the previous code.
 *
 * A migration file must not manage transactions itself (no BEGIN/COMMIT) and cannot use
 * statements that refuse to run in one (CREATE INDEX CONCURRENTLY).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import { runStatement } from './db';

export const MIGRATION_FILE = /^(\d{4})_([a-z0-9][a-z0-9_-]{0,99})\.sql$/;
/**
 * The advisory lock key of migration runs: the first 8 bytes of
 * SHA-256("cdk-serverless-reference-architectures:schema-migrations") as a signed 64-bit integer.
 */
export const MIGRATION_LOCK_KEY = '5419004327160179942';

export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  readonly fileName: string;
  readonly sql: string;
  /** SHA-256 of the file's bytes, hex. */
  readonly checksum: string;
}

export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
}

/** The migrations cannot be applied as they are (the message says why and what to do). */
export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

export function sha256Hex(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

function label(m: { version: number; name: string }): string {
  return `${String(m.version).padStart(4, '0')}_${m.name}`;
}

/** Reads and checks the `*.sql` files of `dir` (other files are ignored), in version order. */
export function readMigrations(dir: string): MigrationFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  } catch (err) {
    throw new MigrationError(`Cannot read the migrations directory ${dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const problems: string[] = [];
  const files: MigrationFile[] = [];
  for (const fileName of names) {
    const match = MIGRATION_FILE.exec(fileName);
    if (!match) {
      problems.push(`${fileName} is not named NNNN_name.sql (4 digits, lower case letters, digits, _ and -)`);
      continue;
    }
    const content = readFileSync(join(dir, fileName));
    files.push({ version: Number(match[1]), name: match[2], fileName, sql: content.toString('utf8'), checksum: sha256Hex(content) });
  }
  files.sort((a, b) => a.version - b.version);
  for (let i = 1; i < files.length; i++) {
    if (files[i].version === files[i - 1].version) problems.push(`version ${files[i].version} is used by ${files[i - 1].fileName} and ${files[i].fileName}`);
  }
  const versions = new Set(files.map((f) => f.version));
  const highest = files.length === 0 ? 0 : files[files.length - 1].version;
  for (let v = 1; v <= highest; v++) {
    if (!versions.has(v)) problems.push(`version ${String(v).padStart(4, '0')} is missing (versions must be 1, 2, 3, ... without gaps)`);
  }
  if (files.length === 0 && problems.length === 0) problems.push('there are no NNNN_name.sql files');
  if (problems.length > 0) throw new MigrationError(`Invalid migrations in ${dir}: ${problems.join('; ')}`);
  return files;
}

/** The files still to apply, after checking them against the applied history. */
export function pendingMigrations(files: readonly MigrationFile[], applied: readonly AppliedMigration[]): MigrationFile[] {
  const byVersion = new Map(applied.map((a) => [a.version, a]));
  const changed = files.filter((f) => byVersion.has(f.version) && byVersion.get(f.version)!.checksum !== f.checksum);
  if (changed.length > 0) {
    throw new MigrationError(
      `Applied migrations were changed: ${changed.map((f) => `${f.fileName} (applied checksum ${byVersion.get(f.version)!.checksum}, file ${f.checksum})`).join(', ')}. ` +
      'Never edit an applied migration: revert the file and add a new migration instead.',
    );
  }
  const pending = files.filter((f) => !byVersion.has(f.version));
  const highestApplied = applied.reduce((max, a) => Math.max(max, a.version), 0);
  const belowApplied = pending.filter((f) => f.version < highestApplied);
  if (belowApplied.length > 0) {
    throw new MigrationError(
      `Migrations ${belowApplied.map((f) => f.fileName).join(', ')} are pending but version ${highestApplied} is already applied; ` +
      'add new migrations after the latest applied version.',
    );
  }
  return pending;
}

export interface ApplyOptions {
  /** How long to wait for a concurrent run's lock. */
  readonly lockTimeoutMs: number;
  /** statement_timeout and lock_timeout of the migration statements. */
  readonly statementTimeoutMs: number;
  /** Aborts the run (the invocation deadline): the connection is closed, the current migration rolled back. */
  readonly signal?: AbortSignal;
  readonly onApplied?: (migration: MigrationFile, durationMs: number) => void;
  /** Runs after the migrations, still under the lock (e.g. the application user's grants). */
  readonly afterMigrations?: (run: Statement) => Promise<void>;
}

export interface ApplyResult {
  readonly applied: number;
  /** The highest applied version in the database after the run. */
  readonly latestVersion: number;
  /** Applied versions that no file describes (a newer deployment applied them). */
  readonly unknownVersions: number[];
}

/** Runs one statement of the migration session with its timeouts. */
export type Statement = (text: string, values?: readonly unknown[]) => Promise<{ rows: Array<Record<string, unknown>>; rowCount: number | null }>;

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer     PRIMARY KEY CHECK (version > 0),
  name       text        NOT NULL,
  checksum   text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

const LOCK_NOT_AVAILABLE = '55P03';

function sqlState(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function describe(err: unknown): string {
  const code = sqlState(err);
  const message = err instanceof Error ? err.message : String(err);
  return code === undefined ? message : `${message} (SQLSTATE ${code})`;
}

/**
 * Applies the pending migrations on `client` (a dedicated connection: the advisory lock belongs
 * to its session, and closing it releases the lock and rolls back an unfinished migration).
 */
export async function applyMigrations(client: Client, files: readonly MigrationFile[], options: ApplyOptions): Promise<ApplyResult> {
  // The client-side limit backs up the server's timeouts (and a lost network).
  const run: Statement = (text, values) => runStatement(client, text, values, {
    timeoutMs: Math.max(options.lockTimeoutMs, options.statementTimeoutMs) + 1_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const setTimeouts = async (lockMs: number): Promise<void> => {
    // set_config takes parameters; SET does not.
    await run("SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)", [`${lockMs}ms`, `${options.statementTimeoutMs}ms`]);
  };

  await setTimeouts(options.lockTimeoutMs);
  try {
    await run('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
  } catch (err) {
    if (sqlState(err) === LOCK_NOT_AVAILABLE) {
      throw new MigrationError(`Another migration run holds the migration lock for more than ${options.lockTimeoutMs} ms; retry when it has finished`, { cause: err });
    }
    throw err;
  }
  try {
    await setTimeouts(options.statementTimeoutMs);
    await run(CREATE_MIGRATIONS_TABLE);
    const applied = (await run('SELECT version, name, checksum FROM schema_migrations ORDER BY version')).rows.map((r) => ({
      version: Number(r.version), name: String(r.name), checksum: String(r.checksum),
    }));
    const pending = pendingMigrations(files, applied);
    let appliedNow = 0;
    for (const migration of pending) {
      const started = Date.now();
      if (await applyOne(run, migration)) {
        appliedNow++;
        options.onApplied?.(migration, Date.now() - started);
      }
    }
    if (options.afterMigrations) await options.afterMigrations(run);
    const known = new Set(files.map((f) => f.version));
    const all = (await run('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => Number(r.version));
    return { applied: appliedNow, latestVersion: all.length === 0 ? 0 : all[all.length - 1], unknownVersions: all.filter((v) => !known.has(v)) };
  } finally {
    // Closing the session would release the lock too; unlocking keeps a reused session clean.
    await run('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
}

/**
 * One migration and its bookkeeping row in one transaction. The row is written first: should
 * another run have applied the version meanwhile (the lock makes that impossible, unless someone
 * bypasses it), the insert finds it and nothing runs twice. Returns whether it applied the file.
 */
async function applyOne(run: Statement, migration: MigrationFile): Promise<boolean> {
  await run('BEGIN');
  try {
    const inserted = await run(
      'INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING RETURNING version',
      [migration.version, migration.name, migration.checksum],
    );
    if (inserted.rowCount !== 1) {
      const existing = await run('SELECT checksum FROM schema_migrations WHERE version = $1', [migration.version]);
      await run('ROLLBACK');
      if (existing.rows[0]?.checksum !== migration.checksum) {
        throw new MigrationError(`Migration ${migration.fileName} was applied concurrently with a different checksum`);
      }
      return false;
    }
    await run(migration.sql);
    await run('COMMIT');
    return true;
  } catch (err) {
    await run('ROLLBACK').catch(() => undefined);
    if (err instanceof MigrationError) throw err;
    throw new MigrationError(`Migration ${label(migration)} failed and was rolled back: ${describe(err)}`, { cause: err });
  }
}
