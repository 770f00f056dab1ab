/**
 * Lambda Kinesis events from records read back from a (local) stream, and from raw data, plus a
 * model of how Lambda redelivers after a partial failure (from the lowest failed sequence number
 * of each shard).
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { lambdaKinesisRecord, type ShardRecord } from '../../local/engines/kinesis';

export { lambdaKinesisRecord, streamArn, type LambdaRecordInput } from '../../local/engines/kinesis';

/** Converts records read with GetRecords into Lambda records. */
export function fromShardRecords(stream: string, records: readonly ShardRecord[]): KinesisStreamRecord[] {
  return records.map(({ shardId, record }) => lambdaKinesisRecord({
    shardId,
    stream,
    sequenceNumber: record.SequenceNumber!,
    partitionKey: record.PartitionKey!,
    data: Buffer.from(record.Data!).toString('base64'),
    approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp ?? new Date(0)).getTime() / 1000,
  }));
}

let syntheticSequence = 49_590_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;

/** A Lambda record with the given base64 data and a fresh sequence number (no stream needed). */
export function syntheticRecord(data: string, shardId = 'shardId-000000000000', partitionKey = 'pk'): KinesisStreamRecord {
  syntheticSequence += 1n;
  return lambdaKinesisRecord({
    shardId,
    stream: 'synthetic',
    sequenceNumber: syntheticSequence.toString(),
    partitionKey,
    data,
    approximateArrivalTimestamp: 1_735_689_600.123,
  });
}

export function toBase64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64');
}

/** Groups records into Lambda-style batches, in order, per shard (as one event source mapping would). */
export function batchesOf(records: readonly KinesisStreamRecord[], size: number): KinesisStreamEvent[] {
  const out: KinesisStreamEvent[] = [];
  for (let i = 0; i < records.length; i += size) out.push({ Records: records.slice(i, i + size) });
  return out;
}

function compareSequence(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * What Lambda delivers again after `response`: for each shard with a failure, every record of the
 * batch from the lowest failed sequence number on.
 */
export function redelivery(event: KinesisStreamEvent, response: KinesisStreamBatchResponse | void): KinesisStreamEvent {
  const failed = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
  const lowestByShard = new Map<string, string>();
  for (const record of event.Records) {
    if (!failed.includes(record.kinesis.sequenceNumber)) continue;
    const shard = record.eventID.slice(0, record.eventID.lastIndexOf(':'));
    const lowest = lowestByShard.get(shard);
    if (lowest === undefined || compareSequence(record.kinesis.sequenceNumber, lowest) < 0) lowestByShard.set(shard, record.kinesis.sequenceNumber);
  }
  return {
    Records: event.Records.filter((record) => {
      const lowest = lowestByShard.get(record.eventID.slice(0, record.eventID.lastIndexOf(':')));
      return lowest !== undefined && compareSequence(record.kinesis.sequenceNumber, lowest) >= 0;
    }),
  };
}
