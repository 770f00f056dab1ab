/**
 * The relational microservice example through the local runner: PGlite stands in for Aurora
 * PostgreSQL behind the RDS Proxy endpoint, the schema migrations run (as their custom resource's
 * Create) before the API serves, and the API's function keeps its connections to it. Then the
 * front that lets one transaction at a time reach PGlite's single session.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { RelationalMicroserviceExampleStack } from '../../examples/rds-proxy';
import { startLocalPostgres, type LocalPostgres } from '../../local/engines/postgres';
import { runStack, synthToAssembly, createThenGet, useLocalStack } from '../helpers/local-runner';

const IDENTITY = { 'x-local-identity': 'arn:aws:iam::123456789012:user/alice' };

/** The local database's port, as start-up reports it. */
function databasePort(summary: string): number {
  const port = /database \S+ \(aurora-postgresql[^)]*\): PGlite [^\n]* at 127\.0\.0\.1:(\d+)/.exec(summary)?.[1];
  if (port === undefined) throw new Error(`start-up named no database:\n${summary}`);
  return Number(port);
}

describe('the relational microservice example, run locally', () => {
  const running = useLocalStack((app) => new RelationalMicroserviceExampleStack(app, 'RelationalMicroserviceExample'));

  test('start-up runs the schema migrations before the API serves', async () => {
    expect(running.local.summary).toMatch(/Custom::SchemaMigrations \w+: Create ran \(\S+MigrationsFunction\w+\) \{"applied":"\d+","latestVersion":"\d+"\}/);
    const client = new Client({ host: '127.0.0.1', port: databasePort(running.local.summary), user: 'postgres' });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => Number(r.version))).toEqual(rows.map((_, i) => i + 1));
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });

  test('creates an item over HTTP, then gets it', async () => {
    await createThenGet(`${running.local.apiUrl()}/items`, IDENTITY, { name: 'first' });
  });

  test('concurrent requests, each on its own execution environment and connection, all succeed', async () => {
    const base = running.local.apiUrl();
    const names = ['a', 'b', 'c', 'd'];
    const statuses = await Promise.all(names.map(async (name) => (await fetch(`${base}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...IDENTITY },
      body: JSON.stringify({ name: `concurrent-${name}` }),
    })).status));
    expect(statuses).toEqual([201, 201, 201, 201]);
    const listed = await (await fetch(`${base}/items?limit=100`, { headers: IDENTITY })).json() as { items: Array<{ name: string }> };
    expect(listed.items.map((i) => i.name).filter((n) => n.startsWith('concurrent-')).sort()).toEqual(names.map((n) => `concurrent-${n}`));
  });

  test('the handlers run with plain TCP to 127.0.0.1 and say what is not emulated', () => {
    expect(running.local.summary).toMatch(/RDS Proxy \S+ -> database \S+ at 127\.0\.0\.1:\d+/);
    expect(running.local.summary).toMatch(/one transaction through at a time/);
    expect(running.local.notEmulated.join('\n')).toMatch(/RDS Proxy \S+: IAM authentication .*TLS .*pinning/);
  });
});

describe('start-up with a failing migration', () => {
  test('fails, naming the custom resource and the function\'s error', async () => {
    let stackId = '';
    const assemblyDir = synthToAssembly((app) => { stackId = new RelationalMicroserviceExampleStack(app, 'BrokenMigrations').artifactId; });
    try {
      // A broken migration shipped with the function: the next file of its asset's migrations folder.
      const template = JSON.parse(readFileSync(join(assemblyDir, `${stackId}.template.json`), 'utf8')) as {
        Resources: Record<string, { Properties?: { Code?: { S3Key?: string }; Environment?: { Variables?: Record<string, unknown> } } }>;
      };
      const migrate = Object.values(template.Resources).find((r) => r.Properties?.Environment?.Variables?.MIGRATIONS_DIR !== undefined)!;
      const folder = join(assemblyDir, `asset.${migrate.Properties!.Code!.S3Key!.replace(/\.zip$/, '')}`, 'migrations');
      const next = String(readdirSync(folder).filter((f) => f.endsWith('.sql')).length + 1).padStart(4, '0');
      writeFileSync(join(folder, `${next}_broken.sql`), 'CREATE TABLE broken (;');

      await expect(runStack(assemblyDir, stackId)).rejects.toThrow(
        /Custom::SchemaMigrations Items\w+ failed at start-up: \S+MigrationsFunction\w+ answered \w+: .*syntax error/);
    } finally {
      rmSync(assemblyDir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- the front

/** A raw protocol connection, to send exactly the messages a test needs. */
class RawClient {
  /** Connects and completes the startup (user postgres; the engine asks for no password). */
  public static async open(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const client = new RawClient(socket);
    const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), cstring('user'), cstring('postgres'), Buffer.from([0])]);
    socket.write(Buffer.concat([int32(body.length + 4), body]));
    await client.until('Z');
    return client;
  }

  private received = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (data: Buffer) => {
      this.received = Buffer.concat([this.received, data]);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  public send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** Waits for a message of `type`, then returns (and forgets) everything received up to it. */
  public async until(type: string): Promise<string> {
    for (;;) {
      let offset = 0;
      while (offset + 5 <= this.received.length) {
        const length = 1 + this.received.readInt32BE(offset + 1);
        if (offset + length > this.received.length) break;
        if (String.fromCharCode(this.received[offset]!) === type) {
          const text = this.received.subarray(0, offset + length).toString('latin1');
          this.received = this.received.subarray(offset + length);
          return text;
        }
        offset += length;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  public close(): void {
    this.socket.destroy();
  }
}

const cstring = (text: string): Buffer => Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0])]);
function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}
const message = (type: string, body: Buffer): Buffer => Buffer.concat([Buffer.from(type, 'latin1'), int32(body.length + 4), body]);
const parse = (sql: string): Buffer => message('P', Buffer.concat([cstring(''), cstring(sql), Buffer.from([0, 0])]));
const bindExecuteSync = (): Buffer[] => [
  message('B', Buffer.concat([cstring(''), cstring(''), Buffer.from([0, 0, 0, 0, 0, 0])])),
  message('E', Buffer.concat([cstring(''), int32(0)])),
  message('S', Buffer.alloc(0)),
];
const flush = (): Buffer => message('H', Buffer.alloc(0));
const query = (sql: string): Buffer => message('Q', cstring(sql));

/** Yields to the event loop until `condition` holds (no time limit: jest's timeout ends a hang). */
async function eventually(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('the local PostgreSQL front (one transaction at a time)', () => {
  let postgres: LocalPostgres;
  beforeAll(async () => {
    postgres = await startLocalPostgres();
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  test('another client\'s statement waits until an extended-protocol sequence ends with its Sync', async () => {
    const first = await RawClient.open(postgres.port);
    const second = await RawClient.open(postgres.port);
    try {
      first.send(parse("SELECT 'first' AS who"), flush());
      await first.until('1'); // ParseComplete: the first client holds the session
      second.send(parse("SELECT 'second' AS who"), ...bindExecuteSync());
      await eventually(() => postgres.front.waiting() === 1);
      first.send(...bindExecuteSync());
      // Without the front, the second Parse would replace the first's unnamed statement.
      expect(await first.until('Z')).toMatch(/first/);
      expect(await second.until('Z')).toMatch(/second/);
    } finally {
      first.close();
      second.close();
    }
  });

  test('a transaction keeps the session until it ends, or until its client disconnects', async () => {
    const first = await RawClient.open(postgres.port);
    const second = new Client({ host: '127.0.0.1', port: postgres.port, user: 'postgres' });
    try {
      first.send(query('CREATE TABLE IF NOT EXISTS turns (n int)'));
      await first.until('Z');
      first.send(query('BEGIN; INSERT INTO turns VALUES (1)'));
      await first.until('Z');
      // Even the second client's startup waits: the session is inside the first one's transaction.
      const connected = second.connect();
      await eventually(() => postgres.front.waiting() === 1);
      first.close(); // the engine rolls the open transaction back
      await connected;
      const { rows } = await second.query<{ rows_seen: string }>('SELECT count(*) AS rows_seen FROM turns');
      expect(rows).toEqual([{ rows_seen: '0' }]);
    } finally {
      first.close();
      await second.end();
    }
  });
});
