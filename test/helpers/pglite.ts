/**
 * PostgreSQL for handler tests: the engine is the local runner's (`local/engines/postgres.ts`:
 * PGlite served over the wire protocol on 127.0.0.1, one backend session, so only one client may
 * be busy at a time), with the test conveniences around it.
 *
 * - `usePglite` starts one engine for a test file; `pgliteEnv` is a handler's environment for it.
 * - `startWireProxy` sits between a handler and the engine and plays the network and the RDS
 *   Proxy: it records statements, asks for a password, drops connections mid-request and answers
 *   with PostgreSQL errors that a single-session engine cannot produce (lock timeouts, too many
 *   connections, administrator shutdown).
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { startPglite, type PgliteEngine, type PgliteOptions } from '../../local/engines/postgres';

export { PgliteError, startPglite, type PgliteEngine, type PgliteOptions, type QueryRows } from '../../local/engines/postgres';

/** Environment for a handler that connects straight to the engine (no TLS, no IAM token). */
export function pgliteEnv(port: number): Record<string, string> {
  return {
    DB_HOST: '127.0.0.1',
    DB_PORT: String(port),
    DB_NAME: 'postgres',
    DB_USER: 'postgres',
    DB_IAM_AUTH: 'false',
    DB_TLS: 'disable',
  };
}

/** Registers hooks that start one engine before the file's tests and stop it after; read `engine` inside tests. */
export function usePglite(options: PgliteOptions = {}): { readonly engine: PgliteEngine } {
  let engine: PgliteEngine | undefined;
  beforeAll(async () => {
    engine = await startPglite(options);
  });
  afterAll(async () => {
    await engine?.stop();
  });
  return {
    get engine() {
      if (!engine) throw new Error('the PGlite engine is not started (use it inside tests or hooks)');
      return engine;
    },
  };
}

// ---------------------------------------------------------------- wire proxy (faults)

/** A PostgreSQL error as the server sends it. */
export interface WireError {
  /** SQLSTATE, e.g. `55P03`. */
  readonly code: string;
  readonly message: string;
  /** `ERROR` keeps the connection; `FATAL` closes it after the message. @default 'ERROR' */
  readonly severity?: 'ERROR' | 'FATAL';
}

export interface WireProxy {
  readonly port: number;
  /** SQL text of every simple query and Parse message, in the order clients sent them. */
  readonly statements: string[];
  /** Cleartext passwords the clients sent (only with `requirePassword`). */
  readonly passwords: string[];
  /** Client connections accepted so far. */
  readonly connections: number;
  /** Ask each new client for a cleartext password (as RDS Proxy does for IAM auth) before passing it on. */
  requirePassword(required: boolean): void;
  /** Answer each new connection with this FATAL error instead of passing it on (`undefined` to stop). */
  rejectConnections(error: WireError | undefined): void;
  /**
   * The next statement matching `pattern` loses its connection: `before` it reaches the engine, or
   * `after` the engine ran it (its answer is discarded).
   */
  dropNext(pattern: RegExp, when: 'before' | 'after'): void;
  /** The next statement matching `pattern` is answered with `error` and never reaches the engine. */
  failNext(pattern: RegExp, error: WireError): void;
  /** The next statement matching `pattern` never reaches the engine and is never answered (a hung server). */
  hangNext(pattern: RegExp): void;
  /** Runs `action` (e.g. a concurrent change on the engine) just before the next statement matching `pattern` is passed on. */
  beforeNext(pattern: RegExp, action: () => Promise<void>): void;
  /** Drops every open connection now, as a proxy that closes idle clients does. */
  dropAll(): void;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;

/** One backend message: type, int32 length (itself included), body. */
function backendMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function errorResponse(error: WireError): Buffer {
  const field = (code: string, value: string): Buffer => Buffer.concat([Buffer.from(code, 'latin1'), Buffer.from(value, 'utf8'), Buffer.from([0])]);
  const severity = error.severity ?? 'ERROR';
  return backendMessage('E', Buffer.concat([
    field('S', severity), field('V', severity), field('C', error.code), field('M', error.message), Buffer.from([0]),
  ]));
}

const READY_FOR_QUERY = backendMessage('Z', Buffer.from('I', 'latin1'));
const AUTH_CLEARTEXT = backendMessage('R', Buffer.from([0, 0, 0, 3]));

/** The SQL text of a simple Query ('Q') or Parse ('P') message. */
function statementText(type: string, body: Buffer): string | undefined {
  if (type === 'Q') return body.subarray(0, body.indexOf(0)).toString('utf8');
  if (type === 'P') {
    const afterName = body.indexOf(0) + 1;
    return body.subarray(afterName, body.indexOf(0, afterName)).toString('utf8');
  }
  return undefined;
}

type Rule =
  | { kind: 'drop'; pattern: RegExp; when: 'before' | 'after' }
  | { kind: 'fail'; pattern: RegExp; error: WireError }
  | { kind: 'hang'; pattern: RegExp }
  | { kind: 'before'; pattern: RegExp; action: () => Promise<void> };

export async function startWireProxy(upstreamPort: number): Promise<WireProxy> {
  const statements: string[] = [];
  const passwords: string[] = [];
  const sockets = new Set<Socket>();
  let rules: Rule[] = [];
  let askPassword = false;
  let rejectWith: WireError | undefined;
  let connections = 0;

  const takeRule = (sql: string): Rule | undefined => {
    const index = rules.findIndex((r) => r.pattern.test(sql));
    if (index < 0) return undefined;
    const [rule] = rules.splice(index, 1);
    return rule;
  };

  const server: Server = createServer((client) => {
    connections++;
    sockets.add(client);
    // Messages are forwarded one by one: without this, Nagle's algorithm delays small writes.
    client.setNoDelay(true);
    let upstream: Socket | undefined;
    let buffered = Buffer.alloc(0);
    let startup: Buffer | undefined;
    let phase: 'startup' | 'password' | 'messages' = 'startup';
    /** Messages held back until a rule decides (extended protocol: up to Sync). */
    let held: Buffer[] = [];
    let mode: 'pass' | 'hang' | { kind: 'fail'; error: WireError } | { kind: 'drop-after' } = 'pass';
    let discardUpstream = false;
    let discarded = Buffer.alloc(0);
    let chain = Promise.resolve();

    const destroy = (): void => {
      client.destroy();
      upstream?.destroy();
    };
    client.on('error', () => upstream?.destroy());
    client.on('close', () => {
      sockets.delete(client);
      upstream?.destroy();
    });

    const openUpstream = (first: Buffer): void => {
      upstream = connect(upstreamPort, '127.0.0.1');
      upstream.setNoDelay(true);
      sockets.add(upstream);
      upstream.on('close', () => {
        sockets.delete(upstream!);
        client.destroy();
      });
      upstream.on('error', () => client.destroy());
      upstream.on('data', (data: Buffer) => {
        if (!discardUpstream) {
          client.write(data);
          return;
        }
        // The engine ran the statement; its answer (up to ReadyForQuery) never reaches the client.
        discarded = Buffer.concat([discarded, data]);
        while (discarded.length >= 5 && discarded.length >= discarded.readInt32BE(1) + 1) {
          if (discarded[0] === 0x5a /* Z */) {
            destroy();
            return;
          }
          discarded = discarded.subarray(discarded.readInt32BE(1) + 1);
        }
      });
      upstream.write(first);
    };

    const handleMessage = async (type: string, message: Buffer): Promise<void> => {
      const sql = statementText(type, message.subarray(5));
      if (sql !== undefined) {
        statements.push(sql);
        const rule = takeRule(sql);
        if (rule?.kind === 'before') await rule.action();
        if (rule?.kind === 'drop' && rule.when === 'before') {
          destroy();
          return;
        }
        if (rule?.kind === 'drop') mode = { kind: 'drop-after' };
        if (rule?.kind === 'fail') mode = { kind: 'fail', error: rule.error };
        if (rule?.kind === 'hang') mode = 'hang';
      }
      if (mode === 'hang') return; // swallowed, for good
      if (mode === 'pass') {
        upstream?.write(message);
        return;
      }
      held.push(message);
      // A simple query is one message; an extended-protocol statement ends with Sync.
      if (type !== 'Q' && type !== 'S') return;
      if (mode.kind === 'fail') {
        const fatal = mode.error.severity === 'FATAL';
        client.write(fatal ? errorResponse(mode.error) : Buffer.concat([errorResponse(mode.error), READY_FOR_QUERY]));
        if (fatal) destroy();
      } else {
        discardUpstream = true;
        upstream?.write(Buffer.concat(held));
      }
      held = [];
      mode = 'pass';
    };

    const consume = async (): Promise<void> => {
      for (;;) {
        if (phase === 'startup') {
          if (buffered.length < 8) return;
          const length = buffered.readInt32BE(0);
          if (buffered.length < length) return;
          const message = buffered.subarray(0, length);
          buffered = buffered.subarray(length);
          const code = message.readInt32BE(4);
          if (code === SSL_REQUEST) {
            client.write('N'); // no TLS on loopback
            continue;
          }
          if (code === CANCEL_REQUEST) {
            client.destroy();
            return;
          }
          if (rejectWith) {
            client.end(errorResponse({ ...rejectWith, severity: 'FATAL' }));
            return;
          }
          startup = Buffer.from(message);
          if (askPassword) {
            phase = 'password';
            client.write(AUTH_CLEARTEXT);
          } else {
            phase = 'messages';
            openUpstream(startup);
          }
          continue;
        }
        if (buffered.length < 5) return;
        const length = buffered.readInt32BE(1) + 1;
        if (buffered.length < length) return;
        const message = Buffer.from(buffered.subarray(0, length));
        buffered = buffered.subarray(length);
        const type = String.fromCharCode(message[0]);
        if (phase === 'password') {
          if (type !== 'p') {
            client.destroy();
            return;
          }
          passwords.push(message.subarray(5, message.length - 1).toString('utf8'));
          phase = 'messages';
          openUpstream(startup!);
          continue;
        }
        await handleMessage(type, message);
      }
    };

    client.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      // One message at a time, in order, even while an action runs.
      chain = chain.then(consume).catch(() => destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    statements,
    passwords,
    get connections() {
      return connections;
    },
    requirePassword(required) {
      askPassword = required;
    },
    rejectConnections(error) {
      rejectWith = error;
    },
    dropNext(pattern, when) {
      rules.push({ kind: 'drop', pattern, when });
    },
    failNext(pattern, error) {
      rules.push({ kind: 'fail', pattern, error });
    },
    hangNext(pattern) {
      rules.push({ kind: 'hang', pattern });
    },
    beforeNext(pattern, action) {
      rules.push({ kind: 'before', pattern, action });
    },
    dropAll() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      rules = [];
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
