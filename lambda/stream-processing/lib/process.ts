/**
 * One Kinesis batch: decode every record, then (in parallel)
 * - send the records that can never succeed to the rejected-records queue, and
 * - apply the valid events to DynamoDB with grouped, bounded-parallel, idempotent writes:
 *   one conditional PutItem per source (the batch's latest event of that source) and one
 *   conditional UpdateItem per count item and chunk of up to 50 ids; when some id of the chunk
 *   was counted before (a retried, bisected or replayed batch) the counted ids are read
 *   (GetItem, unless DynamoDB returned them with the failed condition) and the rest is added.
 * Returns an outcome per record; a record is `failed` only when some write it needs did not
 * happen (transient errors after retries, or its rejection could not be queued).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamRecord } from 'aws-lambda';
import type { StreamProcessorConfig } from './config';
import { RejectReason, decodeEvent, isRejection, type Rejection, type TelemetryEvent } from './event';
import { countShard, countSk, minuteOf, sourcePk } from './keys';
import { sendRejected, type RejectedRecord } from './rejected';
import { MAX_IDS_PER_UPDATE, addToCount, isItemTooLarge, putLatest, readCounted, type CountKey, type WriteTarget } from './writer';
import { isTransientAwsError } from '../../shared/aws-errors';
import { createLimiter } from '../../shared/concurrency';
import { withRetries, type RetryOptions } from '../../shared/retry';

export type RecordOutcome =
  | { readonly status: 'processed' }
  | { readonly status: 'rejected'; readonly reason: RejectReason }
  | { readonly status: 'failed'; readonly error: unknown };

export interface ProcessDeps {
  readonly config: StreamProcessorConfig;
  readonly db: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** Aborts outbound calls shortly before the invocation times out. */
  readonly abortSignal?: AbortSignal;
  /** The one retry budget of each write (the SDK clients make one attempt per call). */
  readonly retry?: Omit<RetryOptions, 'isRetryable' | 'signal'>;
}

/** Grouped attempts per chunk before counting its remaining ids one by one. */
const MAX_GROUPED_ROUNDS = 3;

export const DEFAULT_WRITE_RETRY = { attempts: 4, baseDelayMs: 50, maxDelayMs: 1_000 } as const;

interface ValidRecord {
  readonly record: KinesisStreamRecord;
  readonly event: TelemetryEvent;
}

interface CountGroup {
  readonly key: CountKey;
  /** id -> the records carrying it (a producer retry may put one event twice). */
  readonly byId: Map<string, ValidRecord[]>;
}

/** `a` is later than `b` in (epochMillis, id) order. */
function isLater(a: TelemetryEvent, b: TelemetryEvent): boolean {
  return a.epochMillis > b.epochMillis || (a.epochMillis === b.epochMillis && a.id > b.id);
}

function chunk<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

export async function processRecords(records: readonly KinesisStreamRecord[], deps: ProcessDeps): Promise<Map<KinesisStreamRecord, RecordOutcome>> {
  const outcomes = new Map<KinesisStreamRecord, RecordOutcome>();
  const rejected: RejectedRecord[] = [];
  const valid: ValidRecord[] = [];
  for (const record of records) {
    const data = (record as Partial<KinesisStreamRecord> | undefined)?.kinesis?.data;
    const result: TelemetryEvent | Rejection = decodeEvent(data, deps.config.maxPayloadBytes);
    if (isRejection(result)) rejected.push({ record, rejection: result });
    else valid.push({ record, event: result });
  }

  const retry = deps.retry ?? DEFAULT_WRITE_RETRY;
  const [overflow] = await Promise.all([
    applyEvents(valid, deps, retry, outcomes),
    queueRejected(rejected, deps, retry, outcomes),
  ]);
  // Events whose count item is full can never be counted: rejected too (after the writes).
  if (overflow.length > 0) await queueRejected(overflow, deps, retry, outcomes);
  for (const record of records) if (!outcomes.has(record)) outcomes.set(record, { status: 'processed' });
  return outcomes;
}

async function queueRejected(
  items: readonly RejectedRecord[],
  deps: ProcessDeps,
  retry: Omit<RetryOptions, 'isRetryable' | 'signal'>,
  outcomes: Map<KinesisStreamRecord, RecordOutcome>,
): Promise<void> {
  if (items.length === 0) return;
  const failures = await sendRejected(items, { sqs: deps.sqs, queueUrl: deps.config.rejectedQueueUrl, retry, abortSignal: deps.abortSignal });
  for (const item of items) {
    const error = failures.get(item);
    if (error !== undefined) outcomes.set(item.record, { status: 'failed', error });
    else if (outcomes.get(item.record)?.status !== 'failed') outcomes.set(item.record, { status: 'rejected', reason: item.rejection.reason });
  }
}

/** Applies the valid events; returns the records to reject because their count item is full. */
async function applyEvents(
  valid: readonly ValidRecord[],
  deps: ProcessDeps,
  retry: Omit<RetryOptions, 'isRetryable' | 'signal'>,
  outcomes: Map<KinesisStreamRecord, RecordOutcome>,
): Promise<RejectedRecord[]> {
  const latest = new Map<string, ValidRecord>();
  const groups = new Map<string, CountGroup>();
  for (const v of valid) {
    const current = latest.get(v.event.source);
    if (current === undefined || isLater(v.event, current.event)) latest.set(v.event.source, v);
    const minute = minuteOf(v.event.epochMillis);
    const key: CountKey = { pk: sourcePk(v.event.source), sk: countSk(minute, countShard(v.event.id, deps.config.countShards)), minute };
    const groupId = `${key.pk}\u0000${key.sk}`;
    let group = groups.get(groupId);
    if (!group) {
      group = { key, byId: new Map() };
      groups.set(groupId, group);
    }
    const carriers = group.byId.get(v.event.id);
    if (carriers) carriers.push(v);
    else group.byId.set(v.event.id, [v]);
  }

  const limit = createLimiter(deps.config.maxParallelWrites);
  const target: WriteTarget = { db: deps.db, tableName: deps.config.tableName, abortSignal: deps.abortSignal };
  const write = <T>(fn: () => Promise<T>): Promise<T> =>
    limit(() => withRetries(fn, { ...retry, isRetryable: isTransientAwsError, signal: deps.abortSignal }));
  const fail = (v: ValidRecord, error: unknown): void => {
    outcomes.set(v.record, { status: 'failed', error });
  };
  const overflow: RejectedRecord[] = [];

  const failIds = (group: CountGroup, ids: readonly string[], err: unknown): void => {
    for (const id of ids) {
      for (const v of group.byId.get(id)!) {
        if (isItemTooLarge(err)) {
          overflow.push({ record: v.record, rejection: { reason: RejectReason.CountBucketFull, message: `the count item ${group.key.sk} of this source is full (400 KB)` } });
        } else {
          fail(v, err);
        }
      }
    }
  };

  /**
   * Counts `ids` exactly once: a grouped conditional update; when some id is counted already (a
   * retried or replayed batch), the ids not yet counted are added in another grouped update
   * (a few rounds, in case of concurrent writers), then one by one.
   */
  const countChunk = async (group: CountGroup, chunkIds: readonly string[]): Promise<void> => {
    let ids = chunkIds;
    try {
      for (let round = 0; round < MAX_GROUPED_ROUNDS && ids.length > 1; round++) {
        const pending = ids;
        const result = await write(() => addToCount(target, group.key, pending));
        if (result.added) return;
        const counted = result.counted ?? await write(() => readCounted(target, group.key));
        ids = pending.filter((id) => !counted.has(id));
      }
    } catch (err) {
      if (!isItemTooLarge(err)) return failIds(group, ids, err);
      // Nearly full: the ids one by one fill what still fits.
    }
    await Promise.all(ids.map(async (id) => {
      try {
        await write(() => addToCount(target, group.key, [id])); // not added: counted before
      } catch (err) {
        failIds(group, [id], err);
      }
    }));
  };

  await Promise.all([
    ...[...latest.values()].map((v) => write(() => putLatest(target, v.event)).catch((err: unknown) => fail(v, err))),
    ...[...groups.values()].flatMap((group) => chunk([...group.byId.keys()], MAX_IDS_PER_UPDATE).map((ids) => countChunk(group, ids))),
  ]);
  return overflow;
}
