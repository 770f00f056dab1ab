/**
 * Table layout (one table, `pk` (S) partition key, `sk` (S) sort key):
 *
 * | item | pk | sk | other attributes |
 * |---|---|---|---|
 * | record | `record#<JOB_NAME>` | `String(id)` | `id` (as served: S or N), `data` (the item as served, a map), `contentHash` (`sha256:<hex>` of its canonical JSON), `updatedAt` (ISO time of the last write), `updatedByRunId` |
 * | run | `run#<JOB_NAME>` | `<startedAt ISO>#<runId>` | `runId`, `jobName`, `status` (`running`, `succeeded`, `failed`), `startedAt`, `endedAt`, `durationMs`, `pages`, `fetched`, `changed`, `unchanged`, `invalid`, `errorName`?, `errorMessage`?, `requestId`, `scheduledTime`?, `expiresAt`? (epoch seconds) |
 *
 * A record is written only when its content changed: existing hashes are read first
 * (`BatchGetItem`, unprocessed keys retried with backoff), then each new or changed record is put
 * with the condition `attribute_not_exists(pk) OR contentHash <> :hash`, so a concurrent or
 * duplicate run writing the same content is a no-op. A put refused after the SDK retried it is
 * counted as changed when the stored record names this run (`updatedByRunId`): its earlier
 * attempt applied and the answer was lost. An unchanged record is not touched at all
 * (no "last seen" write), so a run over unchanged data writes nothing but its run record.
 * Runs of a job, newest first: Query `pk = run#<JOB_NAME>`, `ScanIndexForward: false`.
 *
 * DynamoDB operations: BatchGetItem, PutItem.
 */
import { BatchGetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ValidItem } from './items';
import { isConditionalCheckFailed, jsonToMarshallable } from '../../shared/dynamodb';

export const RECORD_PREFIX = 'record#';
export const RUN_PREFIX = 'run#';
/** BatchGetItem's limit. */
const BATCH_GET_MAX_KEYS = 100;
const UNPROCESSED_MAX_ROUNDS = 8;
const UNPROCESSED_BASE_DELAY_MS = 50;

export const RunStatus = {
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

export interface RunCounts {
  readonly pages: number;
  /** Items received, valid or not. */
  readonly fetched: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly invalid: number;
}

export interface RunRecord extends RunCounts {
  readonly runId: string;
  readonly jobName: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly errorName?: string;
  readonly errorMessage?: string;
  readonly requestId?: string;
  readonly scheduledTime?: string;
  readonly expiresAt?: number;
}

export interface StoreOptions {
  readonly db: () => DynamoDBDocumentClient;
  readonly tableName: string;
  readonly jobName: string;
  readonly writeConcurrency: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** DynamoDB kept returning unprocessed keys. */
export class UnprocessedKeysError extends Error {
  constructor(count: number) {
    super(`DynamoDB left ${count} keys unprocessed after ${UNPROCESSED_MAX_ROUNDS} rounds`);
    this.name = 'UnprocessedKeysError';
  }
}

export function runSortKey(startedAt: string, runId: string): string {
  return `${startedAt}#${runId}`;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class RecordStore {
  private readonly options: StoreOptions;
  private readonly recordPk: string;

  constructor(options: StoreOptions) {
    this.options = options;
    this.recordPk = `${RECORD_PREFIX}${options.jobName}`;
  }

  /** The stored content hash of each key that exists. */
  public async existingHashes(keys: readonly string[], abortSignal?: AbortSignal): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX_KEYS) {
      let pending: Array<Record<string, unknown>> = unique.slice(i, i + BATCH_GET_MAX_KEYS).map((sk) => ({ pk: this.recordPk, sk }));
      for (let round = 0; pending.length > 0; round++) {
        if (round >= UNPROCESSED_MAX_ROUNDS) throw new UnprocessedKeysError(pending.length);
        if (round > 0) await (this.options.sleep ?? defaultSleep)(Math.floor(Math.random() * UNPROCESSED_BASE_DELAY_MS * 2 ** round));
        const out = await this.options.db().send(new BatchGetCommand({
          RequestItems: {
            [this.options.tableName]: {
              Keys: pending,
              ProjectionExpression: '#sk, #hash',
              ExpressionAttributeNames: { '#sk': 'sk', '#hash': 'contentHash' },
              ConsistentRead: true,
            },
          },
        }), { abortSignal });
        for (const item of out.Responses?.[this.options.tableName] ?? []) {
          if (typeof item.sk === 'string' && typeof item.contentHash === 'string') hashes.set(item.sk, item.contentHash);
        }
        pending = (out.UnprocessedKeys?.[this.options.tableName]?.Keys ?? []) as Array<Record<string, unknown>>;
      }
    }
    return hashes;
  }

  /**
   * Puts the record unless the stored one already has this content hash.
   * Returns `true` when written (also by an earlier attempt whose answer was lost), `false` when
   * the stored content was already equal.
   */
  public async upsert(record: ValidItem, runId: string, now: string, abortSignal?: AbortSignal): Promise<boolean> {
    try {
      await this.options.db().send(new PutCommand({
        TableName: this.options.tableName,
        Item: {
          pk: this.recordPk,
          sk: record.key,
          id: record.id,
          data: jsonToMarshallable(record.item),
          contentHash: record.hash,
          updatedAt: now,
          updatedByRunId: runId,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR contentHash <> :hash',
        ExpressionAttributeValues: { ':hash': record.hash },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }), { abortSignal });
      return true;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // The stored content already has this hash. When the SDK sent the put more than once, an
      // earlier attempt of this very put may be what stored it (its answer lost): then the record
      // changed in this run, and the run must count it so, as a single attempt would have.
      const attempts = (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      if (attempts <= 1) return false;
      return (await this.writerRunId(record.key, err, abortSignal)) === runId;
    }
  }

  /**
   * The run that last wrote a record, after its put was refused: from the item DynamoDB returned
   * with the failed condition (`ALL_OLD`, in AttributeValue form: the DocumentClient does not
   * unmarshall an error's item), or, from an engine that does not return it, a consistent read.
   */
  private async writerRunId(key: string, refused: unknown, abortSignal?: AbortSignal): Promise<string | undefined> {
    const returned = (refused as { Item?: { updatedByRunId?: { S?: unknown } } }).Item?.updatedByRunId?.S;
    if (typeof returned === 'string') return returned;
    // BatchGetItem, not GetItem: the one read the construct grants.
    const out = await this.options.db().send(new BatchGetCommand({
      RequestItems: {
        [this.options.tableName]: {
          Keys: [{ pk: this.recordPk, sk: key }],
          ProjectionExpression: '#run',
          ExpressionAttributeNames: { '#run': 'updatedByRunId' },
          ConsistentRead: true,
        },
      },
    }), { abortSignal });
    const stored = out.Responses?.[this.options.tableName]?.[0]?.updatedByRunId;
    // Left unprocessed (throttled): unknown, so the record is counted as not written by this run.
    return typeof stored === 'string' ? stored : undefined;
  }

  /**
   * Writes only the records whose hash differs from the stored one, `writeConcurrency` at a time.
   * Within one call the last item of a repeated key wins. Returns the changed and unchanged counts.
   */
  public async upsertChanged(
    records: readonly ValidItem[],
    runId: string,
    now: string,
    abortSignal?: AbortSignal,
  ): Promise<{ changed: number; unchanged: number }> {
    const latest = new Map<string, ValidItem>();
    for (const r of records) latest.set(r.key, r);
    const stored = await this.existingHashes([...latest.keys()], abortSignal);
    const toWrite = [...latest.values()].filter((r) => stored.get(r.key) !== r.hash);
    let changed = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < toWrite.length) {
        const record = toWrite[next++];
        if (await this.upsert(record, runId, now, abortSignal)) changed++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.writeConcurrency, toWrite.length) }, worker));
    return { changed, unchanged: records.length - changed };
  }

  /** Puts the run record (the whole item: the `running` record is replaced by the final one). */
  public async putRun(run: RunRecord, abortSignal?: AbortSignal): Promise<void> {
    await this.options.db().send(new PutCommand({
      TableName: this.options.tableName,
      Item: { pk: `${RUN_PREFIX}${this.options.jobName}`, sk: runSortKey(run.startedAt, run.runId), ...run },
    }), { abortSignal });
  }
}
