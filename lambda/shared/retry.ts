/**
 * Retries of transient failures with exponential backoff and full jitter
 * (delay = random(0, min(maxDelayMs, baseDelayMs * 2^retry))), stopping early when an
 * invocation deadline fires. The SDK's own retries run inside each attempt; these add rounds
 * with longer pauses for sustained throttling.
 */
export interface RetryOptions {
  /** Total attempts, the first included (>= 1). */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Whether a failure may be retried; anything else is thrown at once. */
  readonly isRetryable: (err: unknown) => boolean;
  /** No retry is started once this fires; the last error is thrown. */
  readonly signal?: AbortSignal;
  /** @default Math.random */
  readonly random?: () => number;
}

export function backoffDelayMs(retry: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry);
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** Waits `ms`, or less when `signal` aborts: a wait between retries never outlives the invocation's deadline. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Calls `fn` until it succeeds, fails with a non-retryable error, or the attempts run out. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= options.attempts || !options.isRetryable(err) || options.signal?.aborted) throw err;
      await sleep(backoffDelayMs(attempt - 1, options), options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}
