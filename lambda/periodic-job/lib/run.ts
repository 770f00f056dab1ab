/**
 * One run of the poller: take the job's lease, fetch every page, upsert the changed records page
 * by page, record the run, and release the lease. The run record is put as `running` first and
 * replaced by the final one (`succeeded` or `failed` with the error); a failed run is then thrown
 * as `RunFailedError`. When another run holds the lease, the run does nothing but record itself
 * as `skipped`: the run in progress fetches the same source. A run whose API credential is not
 * set yet (the created secret's placeholder) is recorded as `skipped` too, and sends nothing.
 *
 * Failure semantics: records written before the failure are individually correct (each is an item
 * the API served, with its hash); nothing marks the set complete except a `succeeded` run record;
 * the next run fetches everything again and writes only what changed.
 */
import { randomUUID } from 'node:crypto';
import { authHeaderValue, CredentialNotSetError } from './auth';
import { InvalidItemPolicy, type PollerConfig } from './config';
import { InvalidItemError, extractItems, parseBody, validateItem, type ValidItem } from './items';
import { firstPageUrl, nextPageUrl, type PageResult } from './paging';
import { RunStatus, SkipReason, type LeaseClaim, type RecordStore, type RunCounts, type RunRecord } from './store';
import { DeadlineExceededError, UpstreamStatusError, getWithRetry, type HttpClientDeps, DEFAULT_HTTP_CLIENT_DEPS } from '../../shared/http-client';
import type { Logger } from '../../shared/logger';

/** Thrown by the handler for every failed run, after the run is recorded as failed (when possible). */
export class RunFailedError extends Error {
  public readonly runId: string;

  constructor(runId: string, message: string, options?: { cause?: unknown }) {
    super(`Run ${runId} failed: ${message}`, options);
    this.name = 'RunFailedError';
    this.runId = runId;
  }
}

/** The source has more pages than MAX_PAGES, or its paging loops. */
export class PagingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PagingError';
  }
}

export interface RunDeps {
  readonly config: PollerConfig;
  readonly store: RecordStore;
  readonly logger: Logger;
  /** The credential (cached by the caller), `undefined` without SECRET_ARN. */
  readonly token: () => Promise<string | undefined>;
  /** Called when the API rejected the credential (401/403), e.g. to re-read the secret next time. */
  readonly onCredentialRejected?: () => void;
  readonly http?: HttpClientDeps;
  readonly now?: () => number;
}

export interface RunInput {
  /** Epoch ms after which the run stops and fails. */
  readonly deadlineAt: number;
  /** Epoch ms until which the run holds the job's lease: after the invocation must have ended. */
  readonly leaseUntil: number;
  readonly requestId?: string;
  readonly scheduledTime?: string;
  /** Aborts the final run-record write (just before the invocation times out). */
  readonly finalWriteSignal?: AbortSignal;
}

export interface RunSummary extends RunCounts {
  readonly runId: string;
  readonly status: typeof RunStatus.Succeeded;
  readonly startedAt: string;
  readonly endedAt: string;
}

/** A run that did nothing: another run held the lease, or nobody has set the API credential yet. */
export interface SkippedRunSummary {
  readonly runId: string;
  readonly status: typeof RunStatus.Skipped;
  readonly reason: SkipReason;
  readonly startedAt: string;
  /** `lease-held`: the run in progress. */
  readonly leaseHolder?: string;
  /** `lease-held`: when its lease ends (ISO), unless it releases it first. */
  readonly leaseUntil?: string;
}

const MAX_ERROR_MESSAGE = 1000;
const MAX_LOGGED_INVALID = 10;

class Counter implements RunCounts {
  public pages = 0;
  public fetched = 0;
  public changed = 0;
  public unchanged = 0;
  public invalid = 0;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A deadline signal for DynamoDB calls of the run. */
function deadlineSignal(deadlineAt: number, now: number): AbortSignal {
  return AbortSignal.timeout(Math.max(1, deadlineAt - now));
}

/**
 * Runs a DynamoDB call under the run's deadline. A call the deadline cut off fails as the
 * deadline it is, whichever step of the run it interrupted: the run record and the logs then say
 * `DeadlineExceededError` rather than the SDK's bare `AbortError`.
 */
async function withinDeadline<T>(deadlineAt: number, now: () => number, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = deadlineSignal(deadlineAt, now());
  try {
    return await call(signal);
  } catch (err) {
    if (signal.aborted) throw new DeadlineExceededError(`The time budget ran out while ${what}`, { cause: err });
    throw err;
  }
}

export async function runJob(deps: RunDeps, input: RunInput): Promise<RunSummary | SkippedRunSummary> {
  const { config, store, logger } = deps;
  const now = deps.now ?? Date.now;
  const runId = randomUUID();
  const startMs = now();
  const startedAt = iso(startMs);
  const base = {
    runId,
    jobName: config.jobName,
    startedAt,
    ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
    ...(input.scheduledTime !== undefined ? { scheduledTime: input.scheduledTime } : {}),
    ...(config.runRetentionDays > 0 ? { expiresAt: Math.floor(startMs / 1000) + config.runRetentionDays * 86_400 } : {}),
  };
  logger.appendKeys({ runId });
  let claim: LeaseClaim;
  try {
    claim = await store.claimLease(runId, startMs, input.leaseUntil, input.requestId, deadlineSignal(input.deadlineAt, now()));
  } catch (err) {
    logger.error('could not take the lease', { error: { name: errorName(err), message: errorMessage(err) } });
    // The claim may have applied with its answer lost. The release is conditioned on this run
    // holding the lease, so it undoes exactly that, and Lambda's retry of this run is not skipped.
    await releaseLease(deps, runId, input.finalWriteSignal);
    throw new RunFailedError(runId, `the lease could not be taken: ${errorMessage(err)}`, { cause: err });
  }
  if (!claim.acquired) return skip(deps, input, base, claim);
  try {
    return await runHoldingLease(deps, input, base);
  } finally {
    await releaseLease(deps, runId, input.finalWriteSignal);
  }
}

type RunBase = Pick<RunRecord, 'runId' | 'jobName' | 'startedAt' | 'requestId' | 'scheduledTime' | 'expiresAt'>;

async function runHoldingLease(deps: RunDeps, input: RunInput, base: RunBase): Promise<RunSummary | SkippedRunSummary> {
  const { store, logger } = deps;
  const now = deps.now ?? Date.now;
  const { runId, startedAt } = base;
  const startMs = Date.parse(startedAt);
  const counts = new Counter();
  try {
    await store.putRun({ ...base, status: RunStatus.Running, ...counts }, deadlineSignal(input.deadlineAt, now()));
  } catch (err) {
    logger.error('could not record the start of the run', { error: { name: errorName(err), message: errorMessage(err) } });
    throw new RunFailedError(runId, `the run record could not be written: ${errorMessage(err)}`, { cause: err });
  }

  let failure: unknown;
  try {
    await fetchAndStore(deps, input, runId, counts);
  } catch (err) {
    failure = err;
  }

  // Not a failure to retry or alarm on as one: the run cannot do anything until a person acts.
  const notSet = failure instanceof CredentialNotSetError;
  const endMs = now();
  const final: RunRecord = {
    ...base,
    ...counts,
    status: notSet ? RunStatus.Skipped : failure === undefined ? RunStatus.Succeeded : RunStatus.Failed,
    endedAt: iso(endMs),
    durationMs: endMs - startMs,
    ...(notSet ? { skipReason: SkipReason.CredentialNotSet } : {}),
    ...(failure !== undefined ? { errorName: errorName(failure), errorMessage: errorMessage(failure) } : {}),
  };
  try {
    await store.putRun(final, input.finalWriteSignal);
  } catch (err) {
    logger.error('could not record the end of the run', { error: { name: errorName(err), message: errorMessage(err) } });
    if (failure === undefined) throw new RunFailedError(runId, `the run record could not be written: ${errorMessage(err)}`, { cause: err });
  }
  const summary = { ...counts, durationMs: final.durationMs };
  if (notSet) {
    logger.warn('run skipped: the API credential is not set', {
      secretArn: deps.config.secretArn, error: { name: errorName(failure), message: errorMessage(failure) },
    });
    return { runId, status: RunStatus.Skipped, reason: SkipReason.CredentialNotSet, startedAt };
  }
  if (failure !== undefined) {
    logger.error('run failed', { ...summary, error: { name: errorName(failure), message: errorMessage(failure) } });
    throw new RunFailedError(runId, errorMessage(failure), { cause: failure });
  }
  logger.info('run succeeded', summary);
  return { runId, status: RunStatus.Succeeded, startedAt, endedAt: final.endedAt!, ...counts };
}

/** Records a run that found the lease held. Not a failure: nothing is retried, no alarm fires. */
async function skip(deps: RunDeps, input: RunInput, base: RunBase, held: Extract<LeaseClaim, { acquired: false }>): Promise<SkippedRunSummary> {
  const { store, logger } = deps;
  const now = deps.now ?? Date.now;
  const endMs = now();
  const leaseUntil = Number.isFinite(held.until) ? iso(held.until) : 'unknown';
  logger.warn('run skipped: another run holds the lease', { leaseHolder: held.holder, leaseUntil });
  try {
    await store.putRun({
      ...base,
      ...new Counter(),
      status: RunStatus.Skipped,
      skipReason: SkipReason.LeaseHeld,
      endedAt: iso(endMs),
      durationMs: endMs - Date.parse(base.startedAt),
      leaseHolder: held.holder,
    }, input.finalWriteSignal);
  } catch (err) {
    logger.warn('could not record the skipped run', { error: { name: errorName(err), message: errorMessage(err) } });
  }
  const { runId, startedAt } = base;
  return { runId, status: RunStatus.Skipped, reason: SkipReason.LeaseHeld, startedAt, leaseHolder: held.holder, leaseUntil };
}

/**
 * Releases the lease, or leaves it to expire: a release that fails delays the next run by at
 * most the rest of this invocation's time, so it is logged and the run's outcome stands.
 */
async function releaseLease(deps: RunDeps, runId: string, signal: AbortSignal | undefined): Promise<void> {
  const now = deps.now ?? Date.now;
  try {
    if (!(await deps.store.releaseLease(runId, now(), signal))) {
      deps.logger.warn('the lease had passed to another run before this run released it');
    }
  } catch (err) {
    deps.logger.warn('could not release the lease; it expires on its own', { error: { name: errorName(err), message: errorMessage(err) } });
  }
}

async function fetchAndStore(deps: RunDeps, input: RunInput, runId: string, counts: Counter): Promise<void> {
  const { config, store, logger } = deps;
  const now = deps.now ?? Date.now;
  const token = await deps.token();
  const headers: Record<string, string> = token === undefined ? {} : { [config.authHeader]: authHeaderValue(token, config.authScheme) };
  const visited = new Set<string>();
  let url: string | undefined = firstPageUrl(config);
  while (url !== undefined) {
    if (counts.pages >= config.maxPages) {
      throw new PagingError(`The source has more than MAX_PAGES (${config.maxPages}) pages`);
    }
    visited.add(url);
    const page = await fetchPage(deps, url, headers, input.deadlineAt);
    counts.pages++;
    counts.fetched += page.items.length;
    const valid: ValidItem[] = [];
    for (const [index, raw] of page.items.entries()) {
      const checked = validateItem(raw, config.idField);
      if (checked.valid) {
        valid.push(checked);
        continue;
      }
      if (config.onInvalidItem === InvalidItemPolicy.Fail) {
        throw new InvalidItemError(`Item ${index} of page ${counts.pages} is invalid: ${checked.reason}`);
      }
      counts.invalid++;
      if (counts.invalid <= MAX_LOGGED_INVALID) logger.warn('invalid item skipped', { page: counts.pages, index, reason: checked.reason });
    }
    if (valid.length > 0) {
      if (now() >= input.deadlineAt) throw new DeadlineExceededError('The time budget is exhausted before storing the page');
      const written = await withinDeadline(input.deadlineAt, now, 'storing the page',
        (signal) => store.upsertChanged(valid, runId, new Date(now()).toISOString(), signal));
      counts.changed += written.changed;
      counts.unchanged += written.unchanged;
    }
    const next = nextPageUrl(config, page, counts.pages);
    if (next !== undefined && visited.has(next)) {
      throw new PagingError(`Paging loops: page ${counts.pages + 1} would repeat an earlier request`);
    }
    url = next;
  }
}

async function fetchPage(deps: RunDeps, url: string, headers: Record<string, string>, deadlineAt: number): Promise<PageResult> {
  const { config, logger } = deps;
  let response;
  try {
    response = await getWithRetry({
      url,
      headers,
      timeoutMs: config.requestTimeoutMs,
      maxBodyBytes: config.maxResponseBytes,
      retry: { maxAttempts: config.maxAttempts, baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.maxRetryDelayMs },
      deadlineAt,
      onRetry: ({ attempt, delayMs, error }) => logger.warn('retrying request', { attempt, delayMs, reason: error.message }),
    }, deps.http ?? DEFAULT_HTTP_CLIENT_DEPS);
  } catch (err) {
    if (err instanceof UpstreamStatusError && (err.status === 401 || err.status === 403)) deps.onCredentialRejected?.();
    throw err;
  }
  const body = parseBody(response.body);
  return { url, body, items: extractItems(body, config.itemsPath), headers: response.headers };
}

/** Duck-typed: errors may come from another realm (DOMException, a sandbox). */
function errorName(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.length > 0 ? name.slice(0, 100) : 'Error';
}

function errorMessage(err: unknown): string {
  const raw = (err as { message?: unknown } | null)?.message;
  const message = typeof raw === 'string' ? raw : String(err);
  return message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}...` : message;
}
