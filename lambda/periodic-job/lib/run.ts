/**
 * One run of the poller: fetch every page, upsert the changed records page by page, and record
 * the run. The run record is put as `running` first and replaced by the final one
 * (`succeeded` or `failed` with the error); a failed run is then thrown as `RunFailedError`.
 *
 * Failure semantics: records written before the failure are individually correct (each is an item
 * the API served, with its hash); nothing marks the set complete except a `succeeded` run record;
 * the next run fetches everything again and writes only what changed.
 */
import { randomUUID } from 'node:crypto';
import { authHeaderValue } from './auth';
import { InvalidItemPolicy, type PollerConfig } from './config';
import { InvalidItemError, extractItems, parseBody, validateItem, type ValidItem } from './items';
import { firstPageUrl, nextPageUrl, type PageResult } from './paging';
import { RunStatus, type RecordStore, type RunCounts, type RunRecord } from './store';
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

export async function runJob(deps: RunDeps, input: RunInput): Promise<RunSummary> {
  const { config, store, logger } = deps;
  const now = deps.now ?? Date.now;
  const runId = randomUUID();
  const startMs = now();
  const startedAt = iso(startMs);
  const counts = new Counter();
  const base = {
    runId,
    jobName: config.jobName,
    startedAt,
    ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
    ...(input.scheduledTime !== undefined ? { scheduledTime: input.scheduledTime } : {}),
    ...(config.runRetentionDays > 0 ? { expiresAt: Math.floor(startMs / 1000) + config.runRetentionDays * 86_400 } : {}),
  };
  logger.appendKeys({ runId });
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

  const endMs = now();
  const final: RunRecord = {
    ...base,
    ...counts,
    status: failure === undefined ? RunStatus.Succeeded : RunStatus.Failed,
    endedAt: iso(endMs),
    durationMs: endMs - startMs,
    ...(failure !== undefined ? { errorName: errorName(failure), errorMessage: errorMessage(failure) } : {}),
  };
  try {
    await store.putRun(final, input.finalWriteSignal);
  } catch (err) {
    logger.error('could not record the end of the run', { error: { name: errorName(err), message: errorMessage(err) } });
    if (failure === undefined) throw new RunFailedError(runId, `the run record could not be written: ${errorMessage(err)}`, { cause: err });
  }
  const summary = { ...counts, durationMs: final.durationMs };
  if (failure !== undefined) {
    logger.error('run failed', { ...summary, error: { name: errorName(failure), message: errorMessage(failure) } });
    throw new RunFailedError(runId, errorMessage(failure), { cause: failure });
  }
  logger.info('run succeeded', summary);
  return { runId, status: RunStatus.Succeeded, startedAt, endedAt: final.endedAt!, ...counts };
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
