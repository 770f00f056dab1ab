/**
 * Records that can never succeed go to the rejected-records queue with their reason and Kinesis
 * metadata, in SendMessageBatch calls (at most 10 entries and 256 KB each). Entries that SQS does
 * not accept are retried a few times; what still fails is returned, so the caller reports those
 * records as batch item failures (a rejected record is never dropped silently).
 *
 * Message body (JSON, every non-ASCII character escaped):
 * ```json
 * { "reason": "SchemaViolation", "message": "id: must be ...",
 *   "kinesis": { "eventID": "shardId-000000000000:4959...", "eventSourceARN": "arn:aws:kinesis:...",
 *                "shardId": "shardId-000000000000", "sequenceNumber": "4959...", "partitionKey": "...",
 *                "approximateArrivalTimestamp": 1700000000.123 },
 *   "data": "<the record's base64 data, when at most 196608 characters>", "dataLength": 1234, "dataTruncated": false }
 * ```
 * Delivery is at least once (a redelivered batch sends its rejected records again): deduplicate by
 * `kinesis.eventID`.
 */
import { SendMessageBatchCommand, type SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { KinesisStreamRecord } from 'aws-lambda';
import type { Rejection } from './event';
import { isTransientAwsError } from '../../shared/aws-errors';
import { batchesWithin } from '../../shared/batching';
import { withRetries, type RetryOptions } from '../../shared/retry';
import { SQS_BATCH_LIMITS, asciiJson } from '../../shared/sqs';

/** Longest base64 data copied into a message (the rest of the body stays under 64 KB). */
export const MAX_INLINE_DATA_CHARS = 196_608;

export interface RejectedRecord {
  readonly record: KinesisStreamRecord;
  readonly rejection: Rejection;
}

export interface RejectedMessage {
  readonly reason: string;
  readonly message: string;
  readonly kinesis: {
    readonly eventID?: string;
    readonly eventSourceARN?: string;
    readonly shardId?: string;
    readonly sequenceNumber?: string;
    readonly partitionKey?: string;
    readonly approximateArrivalTimestamp?: number;
  };
  readonly data?: string;
  readonly dataLength: number;
  readonly dataTruncated: boolean;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `shardId-000000000000` from an eventID `shardId-000000000000:<sequence number>`. */
export function shardIdOf(eventID: unknown): string | undefined {
  if (typeof eventID !== 'string') return undefined;
  const colon = eventID.lastIndexOf(':');
  return colon > 0 ? eventID.slice(0, colon) : undefined;
}

export function rejectedMessage({ record, rejection }: RejectedRecord): RejectedMessage {
  const kinesis = (record as Partial<KinesisStreamRecord> | undefined)?.kinesis as Partial<KinesisStreamRecord['kinesis']> | undefined;
  const data = stringOrUndefined(kinesis?.data);
  const arrival = kinesis?.approximateArrivalTimestamp;
  const inline = data !== undefined && data.length <= MAX_INLINE_DATA_CHARS;
  return {
    reason: rejection.reason,
    message: rejection.message,
    kinesis: {
      eventID: stringOrUndefined(record?.eventID),
      eventSourceARN: stringOrUndefined(record?.eventSourceARN),
      shardId: shardIdOf(record?.eventID),
      sequenceNumber: stringOrUndefined(kinesis?.sequenceNumber),
      partitionKey: stringOrUndefined(kinesis?.partitionKey),
      approximateArrivalTimestamp: typeof arrival === 'number' && Number.isFinite(arrival) ? arrival : undefined,
    },
    ...(inline ? { data } : {}),
    dataLength: data?.length ?? 0,
    dataTruncated: data !== undefined && !inline,
  };
}

export interface SendRejectedOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly retry: Omit<RetryOptions, 'isRetryable' | 'signal'>;
  readonly abortSignal?: AbortSignal;
}

interface PendingEntry {
  readonly entry: SendMessageBatchRequestEntry;
  readonly item: RejectedRecord;
  readonly bytes: number;
}

/** Splits entries into SendMessageBatch calls within the entry and size limits. */
function packBatches(entries: readonly PendingEntry[]): PendingEntry[][] {
  return batchesWithin(entries, (entry) => entry.bytes, SQS_BATCH_LIMITS.maxEntries, SQS_BATCH_LIMITS.maxBatchBytes);
}

/** An entry SQS did not accept: `senderFault` failures are not retried. */
class EntryFailure extends Error {
  constructor(public readonly code: string, public readonly senderFault: boolean, message: string) {
    super(message);
    this.name = 'EntryFailure';
  }
}

/**
 * Sends every rejected record; returns those that could not be sent with the error.
 * Never throws.
 */
export async function sendRejected(items: readonly RejectedRecord[], options: SendRejectedOptions): Promise<Map<RejectedRecord, unknown>> {
  const failures = new Map<RejectedRecord, unknown>();
  const entries: PendingEntry[] = items.map((item, i) => {
    const body = asciiJson(rejectedMessage(item));
    return { item, entry: { Id: `r${i}`, MessageBody: body }, bytes: Buffer.byteLength(body) };
  });
  for (const batch of packBatches(entries)) {
    let pending = batch;
    try {
      await withRetries(async () => {
        const out = await options.sqs.send(new SendMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: pending.map((p) => p.entry),
        }), { abortSignal: options.abortSignal });
        const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        // An entry neither successful nor failed is treated as failed (never assumed sent).
        const ok = new Set((out.Successful ?? []).map((s) => s.Id));
        const stillPending = pending.filter((p) => !ok.has(p.entry.Id));
        for (const p of stillPending) {
          const f = failed.get(p.entry.Id);
          failures.set(p.item, new EntryFailure(f?.Code ?? 'Unknown', f?.SenderFault === true, f?.Message ?? 'SQS did not report the entry'));
        }
        for (const p of pending) if (ok.has(p.entry.Id)) failures.delete(p.item);
        pending = stillPending.filter((p) => !(failures.get(p.item) as EntryFailure).senderFault);
        if (pending.length > 0) throw failures.get(pending[0].item);
      }, { ...options.retry, signal: options.abortSignal, isRetryable: (err) => err instanceof EntryFailure || isTransientAwsError(err) });
    } catch (err) {
      for (const p of pending) failures.set(p.item, failures.get(p.item) ?? err);
    }
  }
  return failures;
}
