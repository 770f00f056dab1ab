/**
 * A Kinesis or DynamoDB Streams event source mapping, as Lambda runs one (Lambda developer guide,
 * "How Lambda processes records from Kinesis / DynamoDB streams"): per shard, in order, batches
 * of up to `BatchSize` records; a batch that fails is retried, split in two when
 * `BisectBatchOnFunctionError` is on, until `MaximumRetryAttempts` (-1: until the records
 * expire) — then its description goes to the on-failure destination and the shard moves on. With
 * `ReportBatchItemFailures` the function names the first record that failed, and the shard
 * resumes from it (checkpointing). `FilterCriteria` drops records that match no filter.
 *
 * Retries are paced by a short backoff (pacing only: nothing depends on how long it is).
 */
import { randomUUID } from 'node:crypto';
import { sleep } from '../../lambda/shared/retry';
import { compileEventPattern, type EventPatternMatcher } from '../engines/event-pattern';
import type { InvokeOutcome } from '../functions';

export interface ShardRecord {
  readonly sequence: string;
  /** The record as Lambda delivers it. */
  readonly record: unknown;
  /** Epoch seconds the record arrived. */
  readonly arrival: number;
}

export interface ShardReader {
  shardIds(): Promise<string[]>;
  /** Up to `limit` records of the shard after the `after` sequence number (from the start when undefined), in order. */
  read(shardId: string, after: string | undefined, limit: number): Promise<ShardRecord[]>;
  /** The last sequence number now in the shard (for `StartingPosition: LATEST`). */
  latest(shardId: string): Promise<string | undefined>;
}

export interface StreamMappingDefinition {
  readonly kind: 'kinesis' | 'dynamodb';
  readonly sourceArn: string;
  readonly functionArn: string;
  readonly batchSize: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly bisectOnError: boolean;
  /** -1: retry until the records expire. */
  readonly maximumRetryAttempts: number;
  readonly reportBatchItemFailures: boolean;
  readonly onFailureArn?: string;
  readonly filters: readonly unknown[];
}

export interface StreamMappingDependencies {
  invoke(functionArn: string, event: unknown): Promise<InvokeOutcome>;
  /** Sends the description of a batch given up on to the on-failure destination. */
  deliverFailure(arn: string, body: string): Promise<void>;
  log(line: string): void;
}

/** Lambda's default batch size for stream sources. */
export const DEFAULT_STREAM_BATCH_SIZE = 100;
/** How long a shard with nothing new waits before reading again. */
const IDLE_POLL_MS = 100;
const MAX_BACKOFF_MS = 2_000;

export class StreamMapping {
  private stopped = false;
  /** Ends the shards' waits at once when the mapping stops. */
  private readonly abort = new AbortController();
  private readonly loops: Array<Promise<void>> = [];
  private readonly idleWaiters: Array<{ shardId: string; cycle: number; resolve: () => void }> = [];
  /** Per shard: cycles of reading that found nothing new. */
  private readonly idleCycles = new Map<string, number>();
  private readonly matchers: EventPatternMatcher[];
  /** Batches given up on, for inspection. */
  public readonly failedBatches: unknown[] = [];

  constructor(
    public readonly definition: StreamMappingDefinition,
    private readonly reader: ShardReader,
    private readonly deps: StreamMappingDependencies,
  ) {
    this.matchers = definition.filters.map((pattern) => compileEventPattern(pattern));
  }

  public async start(): Promise<void> {
    for (const shardId of await this.reader.shardIds()) {
      const start = this.definition.startingPosition === 'LATEST' ? await this.reader.latest(shardId) : undefined;
      this.idleCycles.set(shardId, 0);
      this.loops.push(this.poll(shardId, start));
    }
  }

  /** Resolves once every shard has read to its end after this call, with nothing in flight. */
  public async settled(): Promise<void> {
    if (this.stopped) return;
    await Promise.all([...this.idleCycles.keys()].map((shardId) => new Promise<void>((resolve) => {
      // Two idle cycles from now: the first may have started before the caller's last write.
      this.idleWaiters.push({ shardId, cycle: (this.idleCycles.get(shardId) ?? 0) + 2, resolve: () => resolve() });
      this.wakeIdleWaiters(shardId);
    })));
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await Promise.all(this.loops);
    // Nothing moves once stopped: whoever waits for the mapping to settle is let go.
    for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
  }

  private wakeIdleWaiters(shardId: string): void {
    const cycle = this.idleCycles.get(shardId) ?? 0;
    for (let i = this.idleWaiters.length - 1; i >= 0; i--) {
      const waiter = this.idleWaiters[i]!;
      if (waiter.shardId === shardId && cycle >= waiter.cycle) {
        this.idleWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  private async poll(shardId: string, startAfter: string | undefined): Promise<void> {
    let after = startAfter;
    while (!this.stopped) {
      let records: ShardRecord[];
      try {
        records = await this.reader.read(shardId, after, this.definition.batchSize);
      } catch (error) {
        if (this.stopped) return;
        this.deps.log(`event source mapping ${this.definition.sourceArn}: reading ${shardId} failed: ${String(error)}`);
        await sleep(MAX_BACKOFF_MS, this.abort.signal);
        continue;
      }
      if (records.length === 0) {
        this.idleCycles.set(shardId, (this.idleCycles.get(shardId) ?? 0) + 1);
        this.wakeIdleWaiters(shardId);
        await sleep(IDLE_POLL_MS, this.abort.signal);
        continue;
      }
      const kept = this.matchers.length === 0
        ? records
        : records.filter((r) => this.matchers.some((match) => match(filterView(this.definition.kind, r.record))));
      if (kept.length > 0) await this.process(shardId, kept);
      after = records[records.length - 1]!.sequence;
    }
  }

  /** Processes a batch to its end: delivered, or given up on to the on-failure destination. */
  private async process(shardId: string, batch: readonly ShardRecord[]): Promise<void> {
    let pending = batch;
    let attempts = 0;
    while (pending.length > 0 && !this.stopped) {
      const outcome = await this.deps.invoke(this.definition.functionArn, { Records: pending.map((r) => r.record) });
      let failedFrom: number | undefined;
      if (!outcome.ok) failedFrom = 0;
      else if (this.definition.reportBatchItemFailures) failedFrom = firstReportedFailure(outcome.payload, pending);
      if (failedFrom === undefined) return;
      if (failedFrom > 0) {
        // Checkpoint: the records before the first failure are done.
        pending = pending.slice(failedFrom);
        attempts = 0;
        continue;
      }
      attempts++;
      const exhausted = this.definition.maximumRetryAttempts >= 0 && attempts > this.definition.maximumRetryAttempts;
      if (!outcome.ok && this.definition.bisectOnError && pending.length > 1 && !exhausted) {
        const half = Math.ceil(pending.length / 2);
        await this.process(shardId, pending.slice(0, half));
        pending = pending.slice(half);
        attempts = 0;
        continue;
      }
      if (exhausted) {
        await this.giveUp(shardId, pending, outcome, attempts);
        return;
      }
      await sleep(Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(attempts, 6)), this.abort.signal);
    }
  }

  private async giveUp(shardId: string, batch: readonly ShardRecord[], outcome: InvokeOutcome, attempts: number): Promise<void> {
    const info = {
      shardId,
      startSequenceNumber: batch[0]!.sequence,
      endSequenceNumber: batch[batch.length - 1]!.sequence,
      approximateArrivalOfFirstRecord: new Date(batch[0]!.arrival * 1000).toISOString(),
      approximateArrivalOfLastRecord: new Date(batch[batch.length - 1]!.arrival * 1000).toISOString(),
      batchSize: batch.length,
      streamArn: this.definition.sourceArn,
    };
    const description = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.definition.functionArn,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: attempts,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(outcome.ok ? {} : { functionError: 'Unhandled' }) },
      version: '1.0',
      timestamp: new Date().toISOString(),
      [this.definition.kind === 'kinesis' ? 'KinesisBatchInfo' : 'DDBStreamBatchInfo']: info,
    };
    this.failedBatches.push(description);
    if (this.definition.onFailureArn === undefined) {
      this.deps.log(`event source mapping ${this.definition.sourceArn}: gave up on ${batch.length} records of ${shardId} (no on-failure destination)`);
      return;
    }
    await this.deps.deliverFailure(this.definition.onFailureArn, JSON.stringify(description)).catch((error: unknown) =>
      this.deps.log(`event source mapping ${this.definition.sourceArn}: the on-failure destination refused a batch: ${String(error)}`));
  }
}

/** The index of the first record the function reported failed; `undefined` when none (an unknown id fails the whole batch, as in Lambda). */
function firstReportedFailure(payload: unknown, batch: readonly ShardRecord[]): number | undefined {
  const failures = (payload as { batchItemFailures?: Array<{ itemIdentifier?: unknown } | null> } | null)?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return undefined;
  let lowest: number | undefined;
  for (const failure of failures) {
    // A null entry, a null or empty identifier or a bad key name fails the whole batch, like an unknown identifier.
    const index = batch.findIndex((r) => r.sequence === failure?.itemIdentifier);
    if (index < 0) return 0;
    lowest = lowest === undefined ? index : Math.min(lowest, index);
  }
  return lowest;
}

/** What a filter pattern sees: Kinesis data as parsed JSON where it is JSON, as Lambda filters it. */
function filterView(kind: StreamMappingDefinition['kind'], record: unknown): unknown {
  if (kind !== 'kinesis') return record;
  const kinesis = (record as { kinesis: { data: string } }).kinesis;
  let data: unknown = kinesis.data;
  try {
    data = JSON.parse(Buffer.from(kinesis.data, 'base64').toString('utf8'));
  } catch {
    // Not JSON: filters see the base64 text, and only a pattern without `data` can match.
  }
  return { ...(record as object), data, kinesis: { ...kinesis, data } };
}
