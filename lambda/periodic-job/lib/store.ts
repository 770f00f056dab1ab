/**
 * Table layout (one table, `pk` (S) partition key, `sk` (S) sort key):
 *
 * | item | pk | sk | other attributes |
 * |---|---|---|---|
 * | record | `record#<JOB_NAME>` | `String(id)` | `id` (as served: S or N), `data` (the item as served, a map), `contentHash` (`sha256:<hex>` of its canonical JSON), `updatedAt` (ISO time of the last write), `updatedByRunId` |
 * | run | `run#<JOB_NAME>` | `<startedAt ISO>#<runId>` | `runId`, `jobName`, `status` (`running`, `succeeded`, `failed`, `skipped`), `startedAt`, `endedAt`, `durationMs`, `pages`, `fetched`, `changed`, `unchanged`, `invalid`, `errorName`?, `errorMessage`?, `skipReason`? (`lease-held`, `credential-not-set`), `leaseHolder`? (the run a skipped run found running), `requestId`, `scheduledTime`?, `expiresAt`? (epoch seconds) |
 * | lease | `lease#<JOB_NAME>` | `lease` | `holder` (run id), `holderRequestId`? (Lambda request id), `leaseUntil` (epoch ms; 0 once released), `acquiredAt`, `releasedAt`? |
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
 * The lease keeps runs of a job apart without reserved concurrency (which a new account's
 * concurrency quota may not allow): a run starts only after a put of the lease item conditioned
 * on `attribute_not_exists(pk) OR leaseUntil <= :now OR holder = :me` succeeded. `holder = :me`
 * makes a repeat of the run's own put (its answer lost) succeed rather than lock the run out of
 * its own lease; `holderRequestId = :request` lets Lambda's retry of the same event (same request
 * id) take over from a run that crashed. The lease lasts until the invocation must have ended, so
 * a run that crashes holds it at most that long against other events; a run releases it when it
 * ends, also when it failed, so that Lambda's retry of a failed run is not turned away.
 *
 * DynamoDB operations: BatchGetItem, PutItem (records, runs and the lease).
 */
import { BatchGetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ValidItem } from './items';
import { isConditionalCheckFailed, itemOfRefusal, jsonToMarshallable } from '../../shared/dynamodb';

export const RECORD_PREFIX = 'record#';
export const RUN_PREFIX = 'run#';
export const LEASE_PREFIX = 'lease#';
export const LEASE_SORT_KEY = 'lease';
/** BatchGetItem's limit. */
const BATCH_GET_MAX_KEYS = 100;
const UNPROCESSED_MAX_ROUNDS = 8;
const UNPROCESSED_BASE_DELAY_MS = 50;

export const RunStatus = {
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  /** Another run held the lease: this one did nothing. */
  Skipped: 'skipped',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** Why a run was skipped. */
export const SkipReason = {
  /** Another run held the job's lease. */
  LeaseHeld: 'lease-held',
  /** The API credential still holds the created secret's placeholder. */
  CredentialNotSet: 'credential-not-set',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

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
  readonly skipReason?: SkipReason;
  /** Runs skipped because of the lease: the run that held it. */
  readonly leaseHolder?: string;
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

/** The outcome of asking for the lease: won, or held by another run until `until` (epoch ms). */
export type LeaseClaim =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly holder: string; readonly until: number };

export function runSortKey(startedAt: string, runId: string): string {
  return `${startedAt}#${runId}`;
}

/**
 * The string and number attributes of the item DynamoDB returned with a failed condition
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), which the DocumentClient leaves in
 * AttributeValue form.
 */
function refusedItem(refused: unknown): Record<string, string | number> | undefined {
  const item = itemOfRefusal(refused);
  if (item === undefined) return undefined;
  const scalars: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (typeof value?.S === 'string') scalars[name] = value.S;
    else if (typeof value?.N === 'string') scalars[name] = Number(value.N);
  }
  return scalars;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class RecordStore {
  private readonly options: StoreOptions;
  private readonly recordPk: string;
  private readonly leasePk: string;

  constructor(options: StoreOptions) {
    this.options = options;
    this.recordPk = `${RECORD_PREFIX}${options.jobName}`;
    this.leasePk = `${LEASE_PREFIX}${options.jobName}`;
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
   * with the failed condition (`ALL_OLD`), or, from an engine that does not return it, a
   * consistent read.
   */
  private async writerRunId(key: string, refused: unknown, abortSignal?: AbortSignal): Promise<string | undefined> {
    const item = refusedItem(refused) ?? await this.consistentRead({ pk: this.recordPk, sk: key }, ['updatedByRunId'], abortSignal);
    const stored = item?.updatedByRunId;
    // Left unprocessed (throttled): unknown, so the record is counted as not written by this run.
    return typeof stored === 'string' ? stored : undefined;
  }

  /** One item's attributes, read consistently; `undefined` when absent or left unprocessed. */
  private async consistentRead(
    key: Record<string, string>, names: readonly string[], abortSignal?: AbortSignal,
  ): Promise<Record<string, unknown> | undefined> {
    // BatchGetItem, not GetItem: the one read the construct grants.
    const out = await this.options.db().send(new BatchGetCommand({
      RequestItems: {
        [this.options.tableName]: {
          Keys: [key],
          ProjectionExpression: names.map((_, i) => `#a${i}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
          ConsistentRead: true,
        },
      },
    }), { abortSignal });
    return out.Responses?.[this.options.tableName]?.[0];
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

  /**
   * Takes the job's lease for `runId` until `until` (epoch ms) unless another run holds it at
   * `now`. A refused claim reports the holder from the refusal's `ALL_OLD` item.
   */
  public async claimLease(runId: string, now: number, until: number, requestId?: string, abortSignal?: AbortSignal): Promise<LeaseClaim> {
    // Lambda retries an asynchronous event under the same request id: a retry of a run that
    // crashed (and so never released the lease) takes the lease over at once, instead of being
    // skipped while the dead run's lease lasts.
    const sameEvent = requestId !== undefined ? ' OR holderRequestId = :request' : '';
    try {
      await this.options.db().send(new PutCommand({
        TableName: this.options.tableName,
        Item: {
          pk: this.leasePk,
          sk: LEASE_SORT_KEY,
          holder: runId,
          leaseUntil: until,
          acquiredAt: new Date(now).toISOString(),
          ...(requestId !== undefined ? { holderRequestId: requestId } : {}),
        },
        ConditionExpression: `attribute_not_exists(pk) OR leaseUntil <= :now OR holder = :me${sameEvent}`,
        ExpressionAttributeValues: { ':now': now, ':me': runId, ...(requestId !== undefined ? { ':request': requestId } : {}) },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }), { abortSignal });
      return { acquired: true };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const held = refusedItem(err) ?? await this.consistentRead({ pk: this.leasePk, sk: LEASE_SORT_KEY }, ['holder', 'leaseUntil'], abortSignal)
        // Who holds it is for the run record only: not knowing must not fail a run that is rightly skipped.
        .catch(() => undefined);
      return {
        acquired: false,
        holder: typeof held?.holder === 'string' ? held.holder : 'unknown',
        until: Number(held?.leaseUntil ?? Number.NaN),
      };
    }
  }

  /**
   * Ends `runId`'s lease (`leaseUntil` 0), unless another run holds it by now. Keeps the item, so
   * that the table shows the last holder. Returns whether this run still held it.
   */
  public async releaseLease(runId: string, now: number, abortSignal?: AbortSignal): Promise<boolean> {
    try {
      await this.options.db().send(new PutCommand({
        TableName: this.options.tableName,
        Item: { pk: this.leasePk, sk: LEASE_SORT_KEY, holder: runId, leaseUntil: 0, releasedAt: new Date(now).toISOString() },
        ConditionExpression: 'holder = :me',
        ExpressionAttributeValues: { ':me': runId },
      }), { abortSignal });
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /** Puts the run record (the whole item: the `running` record is replaced by the final one). */
  public async putRun(run: RunRecord, abortSignal?: AbortSignal): Promise<void> {
    await this.options.db().send(new PutCommand({
      TableName: this.options.tableName,
      Item: { pk: `${RUN_PREFIX}${this.options.jobName}`, sk: runSortKey(run.startedAt, run.runId), ...run },
    }), { abortSignal });
  }
}
