/**
 * PostgreSQL connections through RDS Proxy with the `pg` client.
 *
 * - Authentication: with IAM auth the password is a function, so `pg` asks for a fresh token
 *   (`@aws-sdk/rds-signer`, signed locally, valid 15 minutes) on every connect; no password
 *   lives in the environment.
 * - TLS (`verify-full`): certificate chain against Node's CA store (which trusts the Amazon
 *   roots of RDS Proxy's ACM certificates) and host name verification.
 * - Timeouts: a connect timeout; `statement_timeout` and `lock_timeout` sent as startup
 *   parameters (no `SET` statement, which would pin the proxy session); a client-side backstop a
 *   little longer than the statement timeout; and the invocation deadline, whichever comes first.
 * - `Database` keeps one connection per execution environment, runs one statement at a time on
 *   it, and replaces it after a connection-level failure (see `isConnectionLost`).
 */
import { isIP } from 'node:net';
import { Signer } from '@aws-sdk/rds-signer';
import { Client, type ClientConfig, type QueryResult, type QueryResultRow } from 'pg';
import type { DbConfig } from './config';
import { ServiceUnavailableError } from '../../shared/http-errors';
import type { Logger } from '../../shared/logger';

/** The client-side limit exceeds the server's statement_timeout by this much, so the server's (clean) cancellation normally wins. */
export const CLIENT_TIMEOUT_SLACK_MS = 1_000;
/** A connection idle for longer is checked (`SELECT 1`, safe to repeat) before a statement that may not be retried. */
export const VERIFY_IDLE_CONNECTION_AFTER_MS = 10_000;
/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 1;

export interface ConnectOptions {
  /** `application_name`, visible in `pg_stat_activity`. */
  readonly applicationName: string;
  /** Aborts the connect (the invocation deadline). */
  readonly signal?: AbortSignal;
}

/** The `pg` client configuration for `config`. */
export function clientConfig(config: DbConfig, options: ConnectOptions): ClientConfig {
  return {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    // pg calls the function on each connect: every connection gets a token valid for 15 minutes.
    ...(config.iamAuth ? { password: iamAuthToken(config) } : {}),
    ssl: config.tls === 'verify-full'
      // SNI must be a host name: an IP address is verified against the certificate's IP entries instead.
      ? { rejectUnauthorized: true, ...(isIP(config.host) === 0 ? { servername: config.host } : {}) }
      : false,
    connectionTimeoutMillis: config.connectTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    lock_timeout: config.statementTimeoutMs,
    application_name: options.applicationName,
  };
}

const signers = new Map<string, Signer>();

/** A token provider for `config`'s host, port, user and region (one signer per combination). */
function iamAuthToken(config: DbConfig): () => Promise<string> {
  const key = `${config.host}:${config.port}:${config.user}:${config.region}`;
  let signer = signers.get(key);
  if (!signer) {
    signer = new Signer({ hostname: config.host, port: config.port, username: config.user, region: config.region });
    signers.set(key, signer);
  }
  const current = signer;
  return () => current.getAuthToken();
}

/** The signal's abort as a rejected promise (never settles without one). */
function aborted(signal: AbortSignal | undefined, what: string): { promise: Promise<never>; dispose: () => void } {
  if (!signal) return { promise: new Promise<never>(() => undefined), dispose: () => undefined };
  let onAbort: () => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(new DatabaseTimeoutError(`${what} was aborted at the invocation deadline`));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/** A connect or statement exceeded its time budget; the connection it used was closed. */
export class DatabaseTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseTimeoutError';
  }
}

/**
 * Opens a connection. Errors on an idle connection are reported through `onBroken` (a `pg`
 * client without an `error` listener would crash the process).
 */
export async function connectClient(config: DbConfig, options: ConnectOptions & { onBroken?: (err: Error) => void }): Promise<Client> {
  const client = new Client(clientConfig(config, options));
  client.on('error', (err) => options.onBroken?.(err));
  client.on('end', () => options.onBroken?.(new Error('Connection terminated')));
  const abort = aborted(options.signal, 'Connecting to the database');
  try {
    // Race subscribes to both: a connect that fails after the deadline is not an unhandled rejection.
    await Promise.race([client.connect(), abort.promise]);
    return client;
  } catch (err) {
    closeQuietly(client);
    throw err;
  } finally {
    abort.dispose();
  }
}

/** Ends a connection without waiting; `pg` destroys the socket when a statement is still running. */
export function closeQuietly(client: Client): void {
  client.end().catch(() => undefined);
}

/** Ends a connection and waits (at most `timeoutMs`) until the server saw it go, which releases its session locks. */
export async function closeClient(client: Client, timeoutMs = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Runs one statement with the client-side timeout and the deadline; on either, the connection is
 * closed (the server rolls back what it did not commit) and a `DatabaseTimeoutError` thrown.
 */
export async function runStatement<R extends QueryResultRow>(
  client: Client,
  text: string,
  values: readonly unknown[] | undefined,
  options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
): Promise<QueryResult<R>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseTimeoutError(`The statement did not complete within ${options.timeoutMs} ms`)), options.timeoutMs);
  });
  const abort = aborted(options.signal, 'The statement');
  const running = values === undefined ? client.query<R>(text) : client.query<R>(text, values as unknown[]);
  try {
    return await Promise.race([running, timeout, abort.promise]);
  } catch (err) {
    if (err instanceof DatabaseTimeoutError) closeQuietly(client);
    throw err;
  } finally {
    clearTimeout(timer);
    abort.dispose();
  }
}

// ---------------------------------------------------------------- error classification

const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);
/** SQLSTATEs after which the server closes the session: admin_shutdown, crash_shutdown, cannot_connect_now. */
const SESSION_ENDING_SQLSTATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03']);
const CONNECTION_LOST_MESSAGES = [
  'Connection terminated',
  'timeout expired',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];
/**
 * Failures that clear up on their own: too many connections / insufficient resources (class 53),
 * lock_not_available (lock_timeout), query_canceled (statement_timeout), serialization failures and
 * deadlocks. The connection stays usable.
 */
const TRANSIENT_SQLSTATES: ReadonlySet<string> = new Set(['55P03', '57014', '40001', '40P01']);

function field(err: unknown, name: 'code' | 'severity' | 'message'): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const value = (err as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** The connection is gone or unusable: discard it and connect again for the next statement. */
export function isConnectionLost(err: unknown): boolean {
  if (err instanceof DatabaseTimeoutError) return true;
  const code = field(err, 'code');
  if (code !== undefined && (CONNECTION_ERROR_CODES.has(code) || SESSION_ENDING_SQLSTATES.has(code) || code.startsWith('08'))) return true;
  const severity = field(err, 'severity');
  if (severity === 'FATAL' || severity === 'PANIC') return true;
  const message = field(err, 'message') ?? '';
  return CONNECTION_LOST_MESSAGES.some((m) => message.startsWith(m));
}

/** A failure a client may retry after a pause (503 with Retry-After); a refused login is not one. */
export function isTransientDatabaseError(err: unknown): boolean {
  if (isAuthorizationFailure(err)) return false;
  if (isConnectionLost(err)) return true;
  const code = field(err, 'code');
  return code !== undefined && (TRANSIENT_SQLSTATES.has(code) || code.startsWith('53'));
}

/** The server refused the login (SQLSTATE class 28: a wrong user, password or token). */
export function isAuthorizationFailure(err: unknown): boolean {
  return field(err, 'code')?.startsWith('28') === true;
}

/**
 * Data the server refuses to store (a NUL character in a string, an invalid byte sequence, a value
 * beyond an implementation limit): a client mistake the request validation should have caught.
 */
export function isUnstorableData(err: unknown): boolean {
  const code = field(err, 'code');
  return code === '22P05' || code === '22021' || code === '54000';
}

// ---------------------------------------------------------------- the API's connection

export interface StatementOptions {
  /**
   * The statement may run twice without changing the outcome (a read): after a connection-level
   * failure on a reused connection it is retried once on a fresh one. Other statements may have
   * run before the connection broke, so their request gets a 503 instead.
   */
  readonly retrySafe: boolean;
}

/** Runs statements; one invocation's view of `Database`, bounded by its deadline. */
export interface Queryable {
  query<R extends QueryResultRow>(text: string, values: readonly unknown[], options: StatementOptions): Promise<QueryResult<R>>;
}

export interface DatabaseOptions {
  readonly applicationName: string;
  readonly logger?: Logger;
  /** @default VERIFY_IDLE_CONNECTION_AFTER_MS */
  readonly verifyIdleAfterMs?: number;
}

/** `pg` clients have these (they forward to the socket); @types/pg does not declare them. */
interface SocketReference {
  ref(): void;
  unref(): void;
}

interface Connection {
  readonly client: Client;
  broken: boolean;
  lastUsedAt: number;
}

/**
 * One connection, reused across invocations, created on first use. A connection-level failure
 * discards it; the next statement connects again. Statements run one at a time (an execution
 * environment serves one invocation at a time; tests may send several).
 */
export class Database {
  private connection?: Connection;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: DbConfig, private readonly options: DatabaseOptions) {}

  /** Statements bounded by `signal` (the invocation deadline). */
  public session(signal?: AbortSignal): Queryable {
    return { query: (text, values, options) => this.query(text, values, options, signal) };
  }

  public query<R extends QueryResultRow>(
    text: string, values: readonly unknown[], options: StatementOptions, signal?: AbortSignal,
  ): Promise<QueryResult<R>> {
    const run = this.queue.then(() => this.runWithReconnect<R>(text, values, options, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Closes the connection (tests; Lambda just freezes the environment). */
  public async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.client.end().catch(() => undefined);
  }

  private async runWithReconnect<R extends QueryResultRow>(
    text: string, values: readonly unknown[], options: StatementOptions, signal?: AbortSignal,
  ): Promise<QueryResult<R>> {
    const { connection, reused } = await this.acquire(options, signal);
    try {
      return await this.execute<R>(connection, text, values, signal);
    } catch (err) {
      if (!isConnectionLost(err)) throw err;
      this.discard(connection);
      const timedOut = err instanceof DatabaseTimeoutError;
      if (!options.retrySafe) throw new StatementOutcomeUnknownError(err);
      if (!(reused && !timedOut && signal?.aborted !== true)) throw unavailable(err);
      this.options.logger?.warn('database connection lost; retrying the read on a new connection', { reason: errorText(err) });
      const fresh = await this.connect(signal);
      try {
        return await this.execute<R>(fresh, text, values, signal);
      } catch (retryErr) {
        if (isConnectionLost(retryErr)) {
          this.discard(fresh);
          throw unavailable(retryErr);
        }
        throw retryErr;
      }
    }
  }

  private async acquire(options: StatementOptions, signal?: AbortSignal): Promise<{ connection: Connection; reused: boolean }> {
    const current = this.connection;
    if (current && !current.broken) {
      const idleMs = Date.now() - current.lastUsedAt;
      if (options.retrySafe || idleMs < (this.options.verifyIdleAfterMs ?? VERIFY_IDLE_CONNECTION_AFTER_MS)) {
        return { connection: current, reused: true };
      }
      // A write must not be the first statement on a connection that may have died while the
      // environment was frozen: check it with a statement that can be repeated.
      try {
        await this.execute(current, 'SELECT 1', [], signal);
        return { connection: current, reused: true };
      } catch (err) {
        if (!isConnectionLost(err)) throw err;
        this.discard(current);
        this.options.logger?.warn('idle database connection lost; connecting again', { reason: errorText(err) });
      }
    } else if (current) {
      this.discard(current);
    }
    return { connection: await this.connect(signal), reused: false };
  }

  private async connect(signal?: AbortSignal): Promise<Connection> {
    let connection: Connection | undefined;
    try {
      const client = await connectClient(this.config, {
        applicationName: this.options.applicationName,
        signal,
        onBroken: () => {
          if (connection) connection.broken = true;
        },
      });
      connection = { client, broken: false, lastUsedAt: Date.now() };
      this.connection = connection;
      return connection;
    } catch (err) {
      // The statement never reached the server: when the cause is transient (unreachable, too
      // many connections, a timeout) the request can be retried as it is. A refused login or TLS
      // handshake needs an operator (500).
      if (isTransientDatabaseError(err)) throw unavailable(err);
      throw err;
    }
  }

  private async execute<R extends QueryResultRow>(
    connection: Connection, text: string, values: readonly unknown[], signal?: AbortSignal,
  ): Promise<QueryResult<R>> {
    // An idle connection does not keep a Node process alive (outside Lambda: scripts, tests);
    // one with a statement in flight does.
    const client = connection.client as Client & SocketReference;
    client.ref();
    try {
      const result = await runStatement<R>(connection.client, text, values, {
        timeoutMs: this.config.statementTimeoutMs + CLIENT_TIMEOUT_SLACK_MS,
        ...(signal ? { signal } : {}),
      });
      connection.lastUsedAt = Date.now();
      return result;
    } finally {
      client.unref();
    }
  }

  private discard(connection: Connection): void {
    connection.broken = true;
    if (this.connection === connection) this.connection = undefined;
    closeQuietly(connection.client);
  }
}

/**
 * The connection was lost (or the deadline hit) while a statement that changes data ran: it may
 * or may not have committed. A 503 unless the caller settles it by reading (the item store does).
 */
export class StatementOutcomeUnknownError extends ServiceUnavailableError {
  constructor(cause: unknown) {
    super('The write was sent but its outcome is unknown: retry it with the same Idempotency-Key or If-Match', RETRY_AFTER_SECONDS, cause);
  }
}

/** 503 with Retry-After; the cause is logged by the handler, never shown to the client. */
export function unavailable(cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError(undefined, RETRY_AFTER_SECONDS, cause);
}

function errorText(err: unknown): string {
  const code = field(err, 'code');
  const message = field(err, 'message') ?? String(err);
  return code === undefined ? message : `${message} (${code})`;
}
