/**
 * A local DynamoDB engine (dynalite) on 127.0.0.1 for handler tests.
 *
 * `startDynalite()` listens on a free port, points the SDK at it through the standard
 * `AWS_ENDPOINT_URL_DYNAMODB` variable (read by the SDK when a client is created), sets a region
 * and dummy credentials (restored by `stop()`), and returns a handle to create tables, read them
 * raw and stop the engine.
 */
import type { Server } from 'node:http';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { listenOnLoopback } from '../../local/engines/loopback';
// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

export interface LocalDynamo {
  readonly endpoint: string;
  /** A low-level client for test set-up and raw reads (not the handler's client). */
  readonly client: DynamoDBClient;
  /** Creates a table with `pk` (S) partition key and `sk` (S) sort key; returns its name. */
  createTable(name?: string): Promise<string>;
  deleteTable(name: string): Promise<void>;
  /** Every item of the table in raw AttributeValue form, sorted by pk then sk. */
  scanAll(tableName: string): Promise<Array<Record<string, AttributeValue>>>;
  stop(): Promise<void>;
}

const TEST_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
} as const;

let tableCounter = 0;

export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = await listenOnLoopback(server);
  const overridden = [...Object.keys(TEST_ENV), 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];
  const saved = Object.fromEntries(overridden.map((key) => [key, process.env[key]]));
  Object.assign(process.env, TEST_ENV, { AWS_ENDPOINT_URL_DYNAMODB: endpoint });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;

  const client = new DynamoDBClient({ endpoint, region: TEST_ENV.AWS_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

  return {
    endpoint,
    client,
    async createTable(name = `t${process.pid}-${++tableCounter}`) {
      await client.send(new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }));
      return name;
    },
    async deleteTable(name) {
      await client.send(new DeleteTableCommand({ TableName: name }));
    },
    async scanAll(tableName) {
      const items: Array<Record<string, AttributeValue>> = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items.sort((a, b) => {
        const ka = `${a.pk?.S}\u0000${a.sk?.S}`;
        const kb = `${b.pk?.S}\u0000${b.sk?.S}`;
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
    },
    /** Stops the engine and restores the environment variables it set. */
    async stop() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}

/** A dynalite engine and one table for a whole test file; read the fields inside tests. */
export interface DynaliteTable {
  readonly dynamo: LocalDynamo;
  readonly tableName: string;
}

/** Registers the hooks that start dynalite with one `pk`/`sk` table before the file's tests and stop it after. */
export function useDynaliteTable(): DynaliteTable {
  let dynamo: LocalDynamo | undefined;
  let tableName: string | undefined;
  beforeAll(async () => {
    dynamo = await startDynalite();
    tableName = await dynamo.createTable();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  return {
    get dynamo() { return dynamo!; },
    get tableName() { return tableName!; },
  };
}
