/**
 * DynamoDB for the local runner: dynalite behind a proxy that adds what dynalite lacks, DynamoDB
 * Streams. For a table with a stream, every write (PutItem, UpdateItem, DeleteItem,
 * BatchWriteItem) runs alone on that table: the proxy reads the old image, passes the request on
 * unchanged, and after a success reads the new image and records the change (`StreamLog`), so a
 * stream-triggered function sees what DynamoDB Streams would deliver. Other requests pass through.
 * Not emulated: transactions (dynalite has none), TTL deletion, PartiQL.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { DynamoDBClient, GetItemCommand, CreateTableCommand, type AttributeValue, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, readBody } from './aws-protocol';
import { StreamLog, type Item, type StreamViewType } from './dynamodb-stream';
import { requireEngine } from './engine-package';
import { closeServer, listenOnLoopback } from './loopback';
import { createLimiter } from '../../lambda/shared/concurrency';

/** dynalite ships no types. */
type Dynalite = (options: Record<string, unknown>) => Server;

export interface TableDefinition {
  readonly name: string;
  readonly keySchema: ReadonlyArray<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
  readonly attributeDefinitions: ReadonlyArray<{ AttributeName: string; AttributeType: 'S' | 'N' | 'B' }>;
  readonly globalSecondaryIndexes?: ReadonlyArray<{ IndexName: string; KeySchema: unknown[]; Projection: unknown }>;
  readonly localSecondaryIndexes?: ReadonlyArray<{ IndexName: string; KeySchema: unknown[]; Projection: unknown }>;
  /** The table's stream, when it has one. */
  readonly streamViewType?: StreamViewType;
}

export interface LocalDynamoDb {
  /** The endpoint functions use (the stream-capturing proxy). */
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  createTable(definition: TableDefinition): Promise<void>;
  /** The stream of a table, when it has one. */
  stream(tableName: string): StreamLog | undefined;
  stop(): Promise<void>;
}

type Key = Record<string, AttributeValue>;

interface Change { readonly table: string; readonly key: Key }
type KeyNames = (table: string) => readonly string[] | undefined;

/** The keys a write request changes, per table, or `undefined` for a request that writes nothing. */
function changesOf(operation: string, body: Record<string, unknown>, keyNames: KeyNames): Change[] {
  const keyOf = (table: string, item: Item): Key => Object.fromEntries((keyNames(table) ?? []).map((n) => [n, item[n]!]));
  switch (operation) {
    case 'PutItem': return [{ table: String(body.TableName), key: keyOf(String(body.TableName), body.Item as Item) }];
    case 'UpdateItem':
    case 'DeleteItem':
      return [{ table: String(body.TableName), key: body.Key as Key }];
    case 'BatchWriteItem': {
      const changes: Change[] = [];
      const requestItems = (body.RequestItems ?? {}) as Record<string, Array<Record<string, { Item?: Item; Key?: Key }>>>;
      for (const [table, requests] of Object.entries(requestItems)) {
        for (const r of requests) {
          if (r.PutRequest?.Item !== undefined) changes.push({ table, key: keyOf(table, r.PutRequest.Item) });
          if (r.DeleteRequest?.Key !== undefined) changes.push({ table, key: r.DeleteRequest.Key });
        }
      }
      return changes;
    }
    default: return [];
  }
}

interface Answer { readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: Buffer }

function forward(target: string, path: string, method: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${target}${path}`, { method, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function startLocalDynamoDb(options: { clock?: () => number } = {}): Promise<LocalDynamoDb> {
  const engine = requireEngine<Dynalite>('dynalite')({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const engineEndpoint = await listenOnLoopback(engine);
  const client = new DynamoDBClient({ endpoint: engineEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const tables = new Map<string, { keyNames: string[]; stream?: StreamLog; serial: ReturnType<typeof createLimiter> }>();

  const readItem = async (table: string, key: Key): Promise<Item | undefined> =>
    (await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

  const proxy = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        // Not JSON: dynalite answers it with its own SerializationException.
      }
      const streamed = changesOf(operation, parsed, (t) => tables.get(t)?.keyNames).filter((c) => tables.get(c.table)?.stream !== undefined);
      const pass = () => forward(engineEndpoint, req.url ?? '/', req.method ?? 'POST', req.headers, body);
      let answer;
      if (streamed.length === 0) {
        answer = await pass();
      } else {
        // One writer per streamed table at a time, so the images read around the write are its own.
        const names = [...new Set(streamed.map((c) => c.table))].sort();
        const run = async (index: number): Promise<Answer> => {
          if (index === names.length) {
            const before = await Promise.all(streamed.map((c) => readItem(c.table, c.key)));
            const result = await pass();
            if (result.status === 200) {
              for (const [i, change] of streamed.entries()) {
                const after = await readItem(change.table, change.key);
                tables.get(change.table)!.stream!.recordChange(change.key, after, before[i]);
              }
            }
            return result;
          }
          return tables.get(names[index]!)!.serial(() => run(index + 1));
        };
        answer = await run(0);
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) }));
    });
  });
  const endpoint = await listenOnLoopback(proxy);

  return {
    endpoint,
    client,
    async createTable(definition) {
      const input: CreateTableCommandInput = {
        TableName: definition.name,
        KeySchema: [...definition.keySchema],
        AttributeDefinitions: [...definition.attributeDefinitions],
        BillingMode: 'PAY_PER_REQUEST',
        ...(definition.globalSecondaryIndexes?.length ? { GlobalSecondaryIndexes: definition.globalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'] } : {}),
        ...(definition.localSecondaryIndexes?.length ? { LocalSecondaryIndexes: definition.localSecondaryIndexes as CreateTableCommandInput['LocalSecondaryIndexes'] } : {}),
      };
      await client.send(new CreateTableCommand(input));
      tables.set(definition.name, {
        keyNames: definition.keySchema.map((k) => k.AttributeName),
        stream: definition.streamViewType !== undefined
          ? new StreamLog(definition.name, { region: LOCAL_REGION, account: LOCAL_ACCOUNT, clock: options.clock }, definition.streamViewType)
          : undefined,
        serial: createLimiter(1),
      });
    },
    stream: (tableName) => tables.get(tableName)?.stream,
    async stop() {
      client.destroy();
      await Promise.all([proxy, engine].map(closeServer));
    },
  };
}
