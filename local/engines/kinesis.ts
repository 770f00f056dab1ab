/**
 * A local Kinesis engine (kinesalite) on 127.0.0.1, for the local runner and stream handler tests:
 * create a stream, put records with the real SDK client, read them back with
 * GetShardIterator/GetRecords.
 * kinesalite rejects the SDK's default HTTP/2, so the client uses `NodeHttpHandler` (HTTP/1.1).
 */
import type { Server } from 'node:http';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordsCommand,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamRecord } from 'aws-lambda';
import { requireEngine } from './engine-package';
import { listenOnLoopback } from './loopback';
/** kinesalite ships no types. */
type Kinesalite = (options: Record<string, unknown>) => Server;

export const TEST_REGION = 'us-east-1';
export const TEST_ACCOUNT = '123456789012';

/** A record read back from a shard, with its shard id. */
export interface ShardRecord {
  readonly shardId: string;
  readonly record: KinesisRecord;
}

export interface PutInput {
  readonly partitionKey: string;
  /** Bytes (or a UTF-8 string) stored as the record data. */
  readonly data: Uint8Array | string;
}

export interface LocalKinesis {
  readonly endpoint: string;
  readonly client: KinesisClient;
  /** Creates an ACTIVE stream with `shards` shards; returns its ARN. */
  createStream(name: string, shards: number): Promise<string>;
  /** PutRecords in calls of at most 500; fails the test when a record is not accepted. */
  putRecords(stream: string, records: readonly PutInput[]): Promise<void>;
  /** The stream's shard ids. */
  shardIds(stream: string): Promise<string[]>;
  /** Every record of every shard from TRIM_HORIZON, in shard then sequence order. */
  readAll(stream: string): Promise<ShardRecord[]>;
  stop(): Promise<void>;
}

export async function startKinesalite(): Promise<LocalKinesis> {
  const server = requireEngine<Kinesalite>('kinesalite')({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 50 });
  const endpoint = await listenOnLoopback(server);
  const client = new KinesisClient({
    endpoint,
    region: TEST_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
  });

  async function shardIds(stream: string): Promise<string[]> {
    const out = await client.send(new DescribeStreamCommand({ StreamName: stream }));
    return (out.StreamDescription?.Shards ?? []).map((s) => s.ShardId!);
  }

  return {
    endpoint,
    client,
    async createStream(name, shards) {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      for (let i = 0; i < 100; i++) {
        const out = await client.send(new DescribeStreamCommand({ StreamName: name }));
        if (out.StreamDescription?.StreamStatus === 'ACTIVE') return out.StreamDescription.StreamARN!;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`stream ${name} did not become ACTIVE`);
    },
    async putRecords(stream, records) {
      for (let i = 0; i < records.length; i += 500) {
        const slice = records.slice(i, i + 500);
        const out = await client.send(new PutRecordsCommand({
          StreamName: stream,
          Records: slice.map((r) => ({ PartitionKey: r.partitionKey, Data: typeof r.data === 'string' ? Buffer.from(r.data, 'utf8') : r.data })),
        }));
        if ((out.FailedRecordCount ?? 0) > 0) throw new Error(`PutRecords failed for ${out.FailedRecordCount} records`);
      }
    },
    shardIds,
    async readAll(stream) {
      const all: ShardRecord[] = [];
      for (const shardId of await shardIds(stream)) {
        let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        while (iterator) {
          const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          for (const record of page.Records ?? []) all.push({ shardId, record });
          if ((page.Records ?? []).length === 0 || page.MillisBehindLatest === 0) break;
          iterator = page.NextShardIterator;
        }
      }
      return all;
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

export function streamArn(stream: string): string {
  return `arn:aws:kinesis:${TEST_REGION}:${TEST_ACCOUNT}:stream/${stream}`;
}

export interface LambdaRecordInput {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** Base64 data as Lambda delivers it. */
  readonly data: string;
  /** Epoch seconds with a fraction. */
  readonly approximateArrivalTimestamp: number;
  readonly stream: string;
}

/** One record in the shape Lambda delivers to a Kinesis event source mapping. */
export function lambdaKinesisRecord(input: LambdaRecordInput): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: input.partitionKey,
      sequenceNumber: input.sequenceNumber,
      data: input.data,
      approximateArrivalTimestamp: input.approximateArrivalTimestamp,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${input.shardId}:${input.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${TEST_ACCOUNT}:role/stream-processor-role`,
    awsRegion: TEST_REGION,
    eventSourceARN: streamArn(input.stream),
  };
}
