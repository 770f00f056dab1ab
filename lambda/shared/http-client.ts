/**
 * Outbound HTTP GET with a per-attempt timeout, a response size limit, an overall deadline and
 * retries with exponential backoff and full jitter (AWS Architecture Blog, "Exponential Backoff
 * and Jitter") on network errors, timeouts, 408, 429 and 5xx. `Retry-After` (delay-seconds or an
 * HTTP-date) is honoured, capped at `maxDelayMs`. Redirects are not followed (a 3xx fails): a
 * redirect could carry a credential header to another origin.
 *
 * Error messages name the URL without its query string (which may hold a key or a cursor).
 */

/** Statuses worth retrying besides 5xx. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429]);

export interface RetryPolicy {
  /** Attempts in total, including the first (1 = no retry). */
  readonly maxAttempts: number;
  /** Backoff before retry n (1-based) is random in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))). */
  readonly baseDelayMs: number;
  /** Cap on every wait, also on a `Retry-After`. */
  readonly maxDelayMs: number;
}

export interface GetRequest {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Timeout of one attempt, from sending the request to the last byte of the body. */
  readonly timeoutMs: number;
  /** A larger body fails the request (not retried). */
  readonly maxBodyBytes: number;
  readonly retry: RetryPolicy;
  /** Epoch milliseconds after which no attempt starts and no wait ends. @default no deadline */
  readonly deadlineAt?: number;
  /** Called before each wait, e.g. to log it. */
  readonly onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: OutboundRequestError;
}

export interface GetResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  /** Attempts made, 1 when the first one succeeded. */
  readonly attempts: number;
}

/** Injectable for unit tests; the defaults are the real clock, timers, `fetch` and `Math.random`. */
export interface HttpClientDeps {
  readonly fetch: typeof fetch;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

export const DEFAULT_HTTP_CLIENT_DEPS: HttpClientDeps = {
  fetch: (input, init) => fetch(input, init),
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

// ---------------------------------------------------------------- errors

/** Base class of every failure of an outbound request. */
export class OutboundRequestError extends Error {
  /** Whether another attempt may succeed. */
  public readonly retryable: boolean;

  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.retryable = retryable;
  }
}

/** The peer answered with a non-2xx status. */
export class UpstreamStatusError extends OutboundRequestError {
  public readonly status: number;
  /** The `Retry-After` wait in milliseconds, when the peer sent a valid one (uncapped). */
  public readonly retryAfterMs?: number;

  constructor(url: string, status: number, retryAfterMs?: number) {
    const retryable = isRetryableStatus(status);
    const hint = status >= 300 && status < 400 ? ' (redirects are not followed: configure the final URL)' : '';
    super(`GET ${redactUrl(url)} returned HTTP ${status}${hint}`, retryable);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Connection refused or reset, DNS failure, TLS failure... */
export class UpstreamNetworkError extends OutboundRequestError {
  constructor(url: string, cause: unknown) {
    super(`GET ${redactUrl(url)} failed: ${describeCause(cause)}`, true, { cause });
  }
}

/** One attempt took longer than its timeout. */
export class UpstreamTimeoutError extends OutboundRequestError {
  constructor(url: string, timeoutMs: number) {
    super(`GET ${redactUrl(url)} timed out after ${timeoutMs} ms`, true);
  }
}

export class ResponseTooLargeError extends OutboundRequestError {
  constructor(url: string, maxBytes: number) {
    super(`GET ${redactUrl(url)} returned a body larger than ${maxBytes} bytes`, false);
  }
}

/** The overall deadline left no time for the next attempt or wait. */
export class DeadlineExceededError extends OutboundRequestError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
  }
}

/** The request could not even be built (e.g. an invalid header value): not retried. */
export class RequestSetupError extends OutboundRequestError {
  constructor(url: string, cause: unknown) {
    super(`GET ${redactUrl(url)} could not be sent: ${describeCause(cause)}`, false, { cause });
  }
}

// ---------------------------------------------------------------- helpers

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status) || (status >= 500 && status <= 599);
}

/** `scheme://host[:port]/path` without query string, fragment or user info. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Errors may come from another realm (e.g. a test sandbox): duck-typed, never `instanceof Error`. */
function describeCause(cause: unknown): string {
  const message = (cause as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return String(cause);
  const inner = (cause as { cause?: unknown }).cause;
  const code = typeof (inner as { code?: unknown } | null | undefined)?.code === 'string' ? (inner as { code: string }).code : undefined;
  return code !== undefined ? `${message} (${code})` : message;
}

const DELAY_SECONDS = /^\s*(\d{1,10})\s*$/;
const HTTP_DATE_START = /^\s*[A-Za-z]/;

/**
 * The wait a `Retry-After` value asks for, in milliseconds (0 for a date in the past), or
 * `undefined` when absent or invalid. Not capped.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const seconds = DELAY_SECONDS.exec(value);
  if (seconds) return Number(seconds[1]) * 1000;
  if (!HTTP_DATE_START.test(value) || value.length > 64) return undefined;
  const at = Date.parse(value);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Full jitter: random in [0, min(maxDelayMs, baseDelayMs * 2^(attempt-1))). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * ceiling);
}

function isAbortOrTimeout(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** undici reports every network failure as `TypeError: fetch failed` with the reason as `cause`. */
function isNetworkFailure(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | null;
  return e?.name === 'TypeError' && e.message === 'fetch failed';
}

async function readBody(response: Response, url: string, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(url, maxBytes);
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(url, maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Discards a body we do not read, so the connection can be reused. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

// ---------------------------------------------------------------- the request

interface AttemptResult {
  readonly response?: GetResponse;
  readonly error?: OutboundRequestError;
}

async function attemptOnce(request: GetRequest, attempt: number, deps: HttpClientDeps): Promise<AttemptResult> {
  const remaining = request.deadlineAt === undefined ? Number.POSITIVE_INFINITY : request.deadlineAt - deps.now();
  if (remaining <= 0) {
    throw new DeadlineExceededError(`GET ${redactUrl(request.url)} not attempted: the time budget is exhausted`);
  }
  const timeoutMs = Math.max(1, Math.floor(Math.min(request.timeoutMs, remaining)));
  const limitedByDeadline = timeoutMs < request.timeoutMs;
  try {
    const response = await deps.fetch(request.url, {
      method: 'GET',
      headers: { accept: 'application/json', ...request.headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status < 200 || response.status > 299) {
      await discard(response);
      const error = new UpstreamStatusError(request.url, response.status, parseRetryAfter(response.headers.get('retry-after'), deps.now()));
      if (!error.retryable) throw error;
      return { error };
    }
    const body = await readBody(response, request.url, request.maxBodyBytes);
    return { response: { status: response.status, headers: response.headers, body, attempts: attempt } };
  } catch (err) {
    if (err instanceof OutboundRequestError) throw err;
    if (isAbortOrTimeout(err)) {
      if (limitedByDeadline) {
        throw new DeadlineExceededError(`GET ${redactUrl(request.url)} was cut off by the time budget after ${timeoutMs} ms`);
      }
      return { error: new UpstreamTimeoutError(request.url, timeoutMs) };
    }
    if (isNetworkFailure(err)) return { error: new UpstreamNetworkError(request.url, err) };
    throw new RequestSetupError(request.url, err);
  }
}

/**
 * GETs `request.url`: returns the first 2xx response (body read in full, within the limit), or
 * throws an `OutboundRequestError`: the last retryable failure once `maxAttempts` are used, a
 * non-retryable one at once, or `DeadlineExceededError` when the deadline leaves no room.
 */
export async function getWithRetry(request: GetRequest, deps: HttpClientDeps = DEFAULT_HTTP_CLIENT_DEPS): Promise<GetResponse> {
  for (let attempt = 1; ; attempt++) {
    const { response, error } = await attemptOnce(request, attempt, deps);
    if (response) return response;
    const failure = error!;
    if (attempt >= request.retry.maxAttempts) throw failure;
    const retryAfter = failure instanceof UpstreamStatusError ? failure.retryAfterMs : undefined;
    const delayMs = Math.min(request.retry.maxDelayMs, retryAfter ?? backoffDelay(attempt, request.retry, deps.random));
    if (request.deadlineAt !== undefined && deps.now() + delayMs >= request.deadlineAt) {
      throw new DeadlineExceededError(`${failure.message}; no retry: waiting ${delayMs} ms would exceed the time budget`, { cause: failure });
    }
    request.onRetry?.({ attempt, delayMs, error: failure });
    await deps.sleep(delayMs);
  }
}
