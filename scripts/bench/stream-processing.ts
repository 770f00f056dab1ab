/**
 * Throughput of the stream processor's reference handler against a naive baseline, both on an
 * in-process dynalite behind a loopback proxy that counts requests and, in a second round, adds a
 * fixed delay per request to model the network round trip to DynamoDB (a few ms in-region):
 * - reference: `lambda/stream-processing/processor.ts` on 10,000 synthetic Kinesis records in
 *   batches of 500 from 10 sources (grouped, conditional, bounded-parallel writes; exact counts);
 * - naive: one PutItem per record, sequentially, keeping only the latest event (no counts, no
 *   ordering guarantee): the baseline to beat.
 * Run: npx tsx -e "require('./scripts/bench/stream-processing').benchStreamProcessing().then(console.log)"
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamEvent, KinesisStreamHandler, KinesisStreamRecord } from 'aws-lambda';

const EVENTS = 10_000;
/** A Kinesis event source mapping tuned for throughput (Lambda's default is 100, the maximum 10,000). */
const BATCH_SIZE = 500;
const SOURCES = 10;
const MINUTES = 10;

function syntheticRecords(): KinesisStreamRecord[] {
  const start = Date.UTC(2025, 0, 31, 12, 0, 0);
  return Array.from({ length: EVENTS }, (_, i) => {
    const event = {
      id: `evt-${i.toString(36).padStart(6, '0')}`,
      source: `sensor-${i % SOURCES}`,
      type: 'temperature',
      timestamp: start + Math.floor((i / EVENTS) * MINUTES * 60_000),
      payload: { value: i % 100, unit: 'C' },
    };
    const sequenceNumber = (49_590_000_000_000_000_000n + BigInt(i)).toString();
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: event.source,
        sequenceNumber,
        data: Buffer.from(JSON.stringify(event)).toString('base64'),
        approximateArrivalTimestamp: start / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/bench',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/bench',
    };
  });
}

/** The baseline: one unconditional PutItem per record, one at a time (latest only, no counts). */
function naiveHandler(db: DynamoDBDocumentClient, tableName: string): (event: KinesisStreamEvent) => Promise<void> {
  return async (event) => {
    for (const record of event.Records) {
      const e = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as { id: string; source: string; timestamp: number; payload: unknown };
      await db.send(new PutCommand({ TableName: tableName, Item: { pk: `SOURCE#${e.source}`, sk: 'LATEST', ...e } }));
    }
  };
}

/** Round trips modelled in the second round: DynamoDB answers in-region in single-digit ms. */
export const MODELLED_LATENCY_MS = 4;

interface ProxyState { latencyMs: number; requests: number }

/** Forwards every request to `target` after `state.latencyMs`, counting them. */
async function startLatencyProxy(target: string, state: ProxyState): Promise<{ server: Server; endpoint: string }> {
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      state.requests++;
      setTimeout(() => {
        const upstream = request(`${target}${req.url}`, { method: req.method, headers: req.headers, agent }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.on('error', (err) => res.destroy(err));
        upstream.end(Buffer.concat(chunks));
      }, state.latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  server.on('close', () => agent.destroy());
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export interface StreamBenchRound {
  readonly latencyMs: number;
  readonly handlerEventsPerSecond: number;
  readonly naiveEventsPerSecond: number;
  readonly handlerRequests: number;
  readonly naiveRequests: number;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function benchStreamProcessing(): Promise<{ events: number; rounds: StreamBenchRound[] }> {
  // dynalite ships no types.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  const engine = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => engine.listen(0, '127.0.0.1', () => resolve()));
  const state: ProxyState = { latencyMs: 0, requests: 0 };
  const proxy = await startLatencyProxy(`http://127.0.0.1:${(engine.address() as AddressInfo).port}`, state);
  const endpoint = proxy.endpoint;
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const freshTable = async (name: string): Promise<string> => {
    await raw.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
    await raw.send(new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
    }));
    return name;
  };
  const naiveClient = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  try {
    const records = syntheticRecords();
    const batches: KinesisStreamEvent[] = [];
    for (let i = 0; i < records.length; i += BATCH_SIZE) batches.push({ Records: records.slice(i, i + BATCH_SIZE) });

    // The handler reads its configuration at import: set it first. Its table is recreated per round.
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      TABLE_NAME: 'bench-reference',
      REJECTED_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-rejected',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const { handler } = (await import('../../lambda/stream-processing/processor.js')) as { handler: KinesisStreamHandler };
    const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    const naive = naiveHandler(DynamoDBDocumentClient.from(naiveClient), 'bench-naive');

    const rounds: StreamBenchRound[] = [];
    for (const latencyMs of [0, MODELLED_LATENCY_MS]) {
      await freshTable('bench-reference');
      await freshTable('bench-naive');
      state.latencyMs = latencyMs;
      state.requests = 0;
      const handlerSeconds = await timed(async () => {
        for (const batch of batches) {
          const result = await handler(batch, context, () => undefined);
          if (result && result.batchItemFailures.length > 0) throw new Error(`reference handler reported ${result.batchItemFailures.length} failures`);
        }
      });
      const handlerRequests = state.requests;
      state.requests = 0;
      const naiveSeconds = await timed(async () => {
        for (const batch of batches) await naive(batch);
      });
      rounds.push({
        latencyMs,
        handlerEventsPerSecond: Math.round(EVENTS / handlerSeconds),
        naiveEventsPerSecond: Math.round(EVENTS / naiveSeconds),
        handlerRequests,
        naiveRequests: state.requests,
      });
      state.latencyMs = 0;
    }
    return { events: EVENTS, rounds };
  } finally {
    naiveClient.destroy();
    raw.destroy();
    await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
    await new Promise<void>((resolve) => engine.close(() => resolve()));
  }
}
