/**
 * Throughput of the stream processor's reference handler against a naive baseline, both on an
 * in-process dynalite (so the figures compare request patterns, not AWS latency):
 * - reference: `lambda/stream-processing/processor.ts` on 10,000 synthetic Kinesis records in
 *   batches of 500 from 10 sources (grouped, conditional, bounded-parallel writes; exact counts);
 * - naive: one PutItem per record, sequentially, keeping only the latest event (no counts, no
 *   ordering guarantee): the baseline to beat.
 * Run: npx tsx -e "require('./scripts/bench/stream-processing').benchStreamProcessing().then(console.log)"
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
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

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function benchStreamProcessing(): Promise<{ events: number; handlerEventsPerSecond: number; naiveEventsPerSecond: number }> {
  // dynalite ships no types.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const createTable = async (name: string): Promise<string> => {
    await raw.send(new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
    }));
    return name;
  };
  try {
    const records = syntheticRecords();
    const batches: KinesisStreamEvent[] = [];
    for (let i = 0; i < records.length; i += BATCH_SIZE) batches.push({ Records: records.slice(i, i + BATCH_SIZE) });

    // The handler reads its configuration at import: set it first.
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      TABLE_NAME: await createTable('bench-reference'),
      REJECTED_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-rejected',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const { handler } = (await import('../../lambda/stream-processing/processor.js')) as { handler: KinesisStreamHandler };
    const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    const handlerSeconds = await timed(async () => {
      for (const batch of batches) {
        const result = await handler(batch, context, () => undefined);
        if (result && result.batchItemFailures.length > 0) throw new Error(`reference handler reported ${result.batchItemFailures.length} failures`);
      }
    });

    const naiveTable = await createTable('bench-naive');
    const naiveClient = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
    const naive = naiveHandler(DynamoDBDocumentClient.from(naiveClient), naiveTable);
    const naiveSeconds = await timed(async () => {
      for (const batch of batches) await naive(batch);
    });
    naiveClient.destroy();

    return {
      events: EVENTS,
      handlerEventsPerSecond: Math.round(EVENTS / handlerSeconds),
      naiveEventsPerSecond: Math.round(EVENTS / naiveSeconds),
    };
  } finally {
    raw.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
