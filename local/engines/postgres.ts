/**
 * PostgreSQL for the local runner and the handler tests: PGlite (PostgreSQL compiled to
 * WebAssembly) served over the wire protocol on 127.0.0.1 by pglite-socket, so handlers use the
 * normal `pg` client.
 *
 * - PGlite runs in a worker thread: its CommonJS build loads Node built-ins with dynamic
 *   `import()`, which jest's module sandbox rejects (it would need --experimental-vm-modules).
 *   `query`/`exec` run on that same PGlite instance through messages, never through a second
 *   wire connection.
 * - PGlite is ONE backend session. Clients can connect one after another; several may be open,
 *   but only one may be busy at a time: pglite-socket passes the messages of concurrent clients
 *   on one by one, so one client's Parse can replace another's unnamed statement between its
 *   Parse and its Bind. Session state (advisory locks, settings, the current role) is shared by
 *   all, and the startup packet's user, database and parameters are ignored (every client is
 *   `postgres` on database `postgres`, and no password is asked for).
 * - `startSerializingFront` makes concurrent clients safe: it lets one client at a time reach the
 *   engine, from its first message until the engine is idle again outside a transaction (as RDS
 *   Proxy multiplexes at transaction boundaries); the others wait. `startLocalPostgres` is both.
 * - A freshly initialised data directory is cached in the OS temp directory (initdb takes ~4 s,
 *   loading the cached copy ~1 s), so each test file and each local run can afford its own engine.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export const PGLITE_VERSION = '0.5.14';

export interface PgliteOptions {
  /** Client connections the socket server accepts at once (each handler instance keeps one open). @default 32 */
  readonly maxConnections?: number;
}

export interface QueryRows<T = Record<string, unknown>> {
  readonly rows: T[];
  readonly affectedRows?: number;
}

export interface PgliteEngine {
  /** The socket server's port on 127.0.0.1 (stable across `restartServer`). */
  readonly port: number;
  /** Runs one statement on the PGlite instance itself (parameters `$1..`), not over the wire. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryRows<T>>;
  /** Runs a script of statements on the PGlite instance itself. */
  exec(sql: string): Promise<void>;
  /** Stops the socket server, which drops every client connection, then listens again on the same port. */
  restartServer(): Promise<void>;
  /** Client connections the socket server holds now. */
  activeConnections(): Promise<number>;
  /** Waits until no client is connected (a closed client is released asynchronously). */
  waitForNoConnections(timeoutMs?: number): Promise<void>;
  /** An empty database again: drops the public schema's objects, every non-system role and advisory lock. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- engine (worker thread)

/** Runs in the worker: plain Node (CommonJS), no jest sandbox. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglitePath);
const { PGLiteSocketServer } = require(workerData.socketPath);
const fs = require('node:fs');

let db;
let server;
let port = 0;

async function listen() {
  server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: workerData.maxConnections });
  await server.start();
  port = Number(server.getServerConn().split(':').pop());
}

const operations = {
  async start() {
    if (fs.existsSync(workerData.cacheFile)) {
      try {
        db = await PGlite.create({ loadDataDir: new Blob([fs.readFileSync(workerData.cacheFile)]) });
      } catch {
        db = undefined; // a damaged cache is replaced below
      }
    }
    let dump;
    if (!db) {
      db = await PGlite.create();
      dump = Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer());
    }
    await listen();
    return { port, dump };
  },
  async query({ sql, params }) {
    const result = await db.query(sql, params);
    return { rows: result.rows, affectedRows: result.affectedRows };
  },
  async exec({ sql }) {
    await db.exec(sql);
    return null;
  },
  async restartServer() {
    await server.stop();
    await listen();
    return null;
  },
  async stats() {
    return server.getStats();
  },
  async stop() {
    await server.stop();
    await db.close();
    return null;
  },
};

parentPort.on('message', async ({ id, operation, args }) => {
  try {
    parentPort.postMessage({ id, result: await operations[operation](args) });
  } catch (err) {
    parentPort.postMessage({ id, error: { message: String(err && err.message), code: err && err.code } });
  }
});
`;

/** SQL that empties the database between tests (run on the instance itself). */
const RESET_SQL = `
SELECT pg_advisory_unlock_all();
DO $reset$
DECLARE r record;
BEGIN
  FOR r IN SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' AND rolname <> current_user LOOP
    EXECUTE format('DROP OWNED BY %I CASCADE', r.rolname);
    EXECUTE format('DROP ROLE %I', r.rolname);
  END LOOP;
END
$reset$;
DROP SCHEMA public CASCADE;
CREATE SCHEMA public;
`;

export class PgliteError extends Error {
  public readonly code?: string;

  constructor(message: string, code?: string) {
    super(message);
    this.name = 'PgliteError';
    this.code = code;
  }
}

function cacheFile(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return join(tmpdir(), `pglite-${PGLITE_VERSION}-initdb-${uid}.tar`);
}

export async function startPglite(options: PgliteOptions = {}): Promise<PgliteEngine> {
  const cache = cacheFile();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      pglitePath: require.resolve('@electric-sql/pglite'),
      socketPath: require.resolve('@electric-sql/pglite-socket'),
      maxConnections: options.maxConnections ?? 32,
      cacheFile: cache,
    },
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  worker.on('message', (message: { id: number; result?: unknown; error?: { message: string; code?: string } }) => {
    const call = pending.get(message.id);
    if (!call) return;
    pending.delete(message.id);
    if (message.error) call.reject(new PgliteError(message.error.message, message.error.code));
    else call.resolve(message.result);
  });
  worker.on('error', (err) => {
    for (const call of pending.values()) call.reject(err);
    pending.clear();
  });
  const call = <T>(operation: string, args?: unknown): Promise<T> => new Promise<T>((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    worker.postMessage({ id, operation, args });
  });

  const started = await call<{ port: number; dump?: Uint8Array }>('start');
  if (started.dump) {
    // Written under a unique name and renamed: parallel test workers never read half a file.
    const partial = `${cache}.${process.pid}-${randomBytes(4).toString('hex')}`;
    writeFileSync(partial, started.dump);
    renameSync(partial, cache);
  }
  const port = started.port;

  const engine: PgliteEngine = {
    port,
    query: <T>(sql: string, params: readonly unknown[] = []) => call<QueryRows<T>>('query', { sql, params }),
    exec: (sql) => call<void>('exec', { sql }),
    restartServer: () => call<void>('restartServer'),
    activeConnections: async () => (await call<{ activeConnections: number }>('stats')).activeConnections,
    async waitForNoConnections(timeoutMs = 5_000) {
      const until = Date.now() + timeoutMs;
      while ((await engine.activeConnections()) > 0) {
        if (Date.now() > until) throw new Error('a client connection is still open');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    reset: () => call<void>('exec', { sql: RESET_SQL }),
    async stop() {
      try {
        await call('stop');
      } finally {
        await worker.terminate();
      }
    },
  };
  return engine;
}


// ---------------------------------------------------------------- one transaction at a time

/** Startup-phase request codes (in place of the protocol version). */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
/** Protocol 3.0: a startup packet. */
const PROTOCOL_3 = 196608;
/** Larger startup packets are not PostgreSQL clients. */
const MAX_STARTUP_BYTES = 10_000;
/** Frontend messages that end with a ReadyForQuery: a simple query, a Sync, a function call. */
const ENDS_WITH_READY = new Set(['Q', 'S', 'F']);
/** Extended-protocol messages: after one of them the client holds the engine until its Sync. */
const EXTENDED = new Set(['P', 'B', 'D', 'E', 'C', 'H']);
const READY_FOR_QUERY = 0x5a; // 'Z'

/** Splits a byte stream into whole protocol messages (startup packets first, then typed messages). */
class MessageReader {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(public startup: boolean) {}

  public push(data: Buffer): Buffer[] {
    this.chunks.push(data);
    this.size += data.length;
    const messages: Buffer[] = [];
    for (;;) {
      const headerSize = this.startup ? 8 : 5;
      if (this.size < headerSize) break;
      if (this.chunks[0]!.length < headerSize) this.chunks = [Buffer.concat(this.chunks)];
      const head = this.chunks[0]!;
      const length = this.startup ? head.readInt32BE(0) : 1 + head.readInt32BE(1);
      if (length < headerSize - (this.startup ? 0 : 1) || (this.startup && length > MAX_STARTUP_BYTES)) throw new Error('not the PostgreSQL protocol');
      if (this.size < length) break;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks);
      messages.push(all.subarray(0, length));
      const rest = all.subarray(length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
      // A startup packet ends the startup phase; SSL and GSS requests come before it.
      if (this.startup && all.readInt32BE(4) === PROTOCOL_3) this.startup = false;
    }
    return messages;
  }
}

/** One client connection and its own connection to the engine. */
interface Session {
  readonly client: Socket;
  upstream?: Socket;
  /** Whole client messages held back until the session's turn. */
  readonly held: Buffer[];
  /** ReadyForQuery messages the engine owes for what was passed on. */
  owed: number;
  /** An extended-protocol message was passed on after the last Sync. */
  inSequence: boolean;
  /** The engine's last transaction status: `I` idle, `T` in a transaction, `E` in a failed one. */
  status: string;
  closed: boolean;
}

export interface SerializingFront {
  /** The port clients connect to, on 127.0.0.1. */
  readonly port: number;
  /** Client connections open now. */
  connections(): number;
  /** Sessions waiting for their turn now. */
  waiting(): number;
  stop(): Promise<void>;
}

/**
 * A TCP front for a single-session engine: each client gets its own connection to the engine, and
 * one client at a time may use it, from its first message until the engine says it is idle
 * outside a transaction (ReadyForQuery `I`, every Sync answered). A client in a transaction keeps
 * the turn until COMMIT or ROLLBACK, or until it disconnects (pglite-socket then rolls it back).
 * TLS is refused (`N`), as a server without TLS does; cancel requests are not passed on.
 */
export async function startSerializingFront(upstreamPort: number): Promise<SerializingFront> {
  const sessions = new Set<Session>();
  const queue: Session[] = [];
  let owner: Session | undefined;

  const passOn = (session: Session): void => {
    for (const message of session.held.splice(0)) {
      if (session.upstream === undefined) {
        // The startup packet: the engine answers it with a ReadyForQuery.
        session.upstream = openUpstream(session);
        session.owed++;
      } else if (ENDS_WITH_READY.has(String.fromCharCode(message[0]!))) {
        session.owed++;
        session.inSequence = false;
      } else if (EXTENDED.has(String.fromCharCode(message[0]!))) {
        session.inSequence = true;
      }
      session.upstream.write(message);
    }
  };
  const grant = (): void => {
    while (owner === undefined && queue.length > 0) {
      const next = queue.shift()!;
      if (next.closed) continue;
      owner = next;
      passOn(next);
    }
  };
  const release = (session: Session): void => {
    if (owner !== session) return;
    owner = undefined;
    grant();
  };
  const request = (session: Session): void => {
    if (owner === undefined) owner = session;
    if (owner === session) passOn(session);
    else if (!queue.includes(session)) queue.push(session);
  };
  const readyForQuery = (session: Session): void => {
    session.owed = Math.max(0, session.owed - 1);
    if (session.owed === 0 && session.status === 'I' && !session.inSequence && session.held.length === 0) release(session);
  };
  const close = (session: Session): void => {
    if (session.closed) return;
    session.closed = true;
    sessions.delete(session);
    session.client.destroy();
    session.upstream?.destroy();
    release(session);
  };

  /** Connects to the engine and watches its answers for ReadyForQuery messages. */
  function openUpstream(session: Session): Socket {
    const upstream = connect(upstreamPort, '127.0.0.1');
    upstream.setNoDelay(true);
    upstream.on('error', () => close(session));
    upstream.on('close', () => close(session));
    let header = Buffer.alloc(0);
    let type = 0;
    let remaining = 0;
    upstream.on('data', (data: Buffer) => {
      session.client.write(data);
      let offset = 0;
      while (offset < data.length) {
        if (remaining > 0) {
          // ReadyForQuery's body is one byte: the transaction status.
          if (type === READY_FOR_QUERY) session.status = String.fromCharCode(data[offset]!);
          const take = Math.min(remaining, data.length - offset);
          offset += take;
          remaining -= take;
          if (remaining === 0 && type === READY_FOR_QUERY) readyForQuery(session);
          continue;
        }
        const part = data.subarray(offset, offset + 5 - header.length);
        header = Buffer.concat([header, part]);
        offset += part.length;
        if (header.length < 5) break;
        type = header[0]!;
        remaining = header.readInt32BE(1) - 4;
        header = Buffer.alloc(0);
      }
    });
    return upstream;
  }

  const server: Server = createServer((client) => {
    client.setNoDelay(true);
    const session: Session = { client, held: [], owed: 0, inSequence: false, status: 'I', closed: false };
    sessions.add(session);
    const reader = new MessageReader(true);
    client.on('error', () => close(session));
    client.on('close', () => close(session));
    client.on('data', (data: Buffer) => {
      let messages: Buffer[];
      try {
        messages = reader.push(data);
      } catch {
        close(session);
        return;
      }
      for (const message of messages) {
        if (session.upstream === undefined && session.held.length === 0) {
          const code = message.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            client.write('N'); // no TLS on loopback: the client continues in plain text or gives up
            continue;
          }
          if (code !== PROTOCOL_3) {
            // A cancel request (80877102) or an unknown one: nothing to cancel through a single session.
            close(session);
            return;
          }
        }
        session.held.push(message);
      }
      if (session.held.length > 0) request(session);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => sessions.size,
    waiting: () => queue.filter((s) => !s.closed).length,
    async stop() {
      for (const session of [...sessions]) close(session);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface LocalPostgres {
  /** Where clients connect (the serializing front), on 127.0.0.1. */
  readonly port: number;
  readonly engine: PgliteEngine;
  readonly front: SerializingFront;
  stop(): Promise<void>;
}

/** PGlite behind the serializing front: any number of clients, one transaction at a time. */
export async function startLocalPostgres(options: PgliteOptions = {}): Promise<LocalPostgres> {
  const engine = await startPglite({ maxConnections: 64, ...options });
  let front: SerializingFront;
  try {
    front = await startSerializingFront(engine.port);
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return {
    port: front.port,
    engine,
    front,
    async stop() {
      await front.stop();
      await engine.stop();
    },
  };
}
