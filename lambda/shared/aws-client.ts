/**
 * What every AWS SDK client of the handlers shares: each attempt is bounded (connection and
 * request timeouts that throw, not just warn), the SDK retries with backoff, and clients are
 * created on first use, once per execution environment, so that the endpoint variables
 * (`AWS_ENDPOINT_URL_<SERVICE>`) can be set by a test before the first call.
 */
export const AWS_CLIENT_DEFAULTS = {
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 3_000,
  maxAttempts: 3,
} as const;

/**
 * Who retries a failed call, so that an operation has one retry budget: the SDK (its standard
 * strategy, `maxAttempts`), or the caller's own loop (`withRetries`, bounded by the invocation
 * deadline), for which the SDK then makes one attempt per call. Both at once would multiply.
 */
export type RetryOwner = 'sdk' | 'caller';

/** Config shared by every client: spread it first, then the client's own settings. */
export function awsClientConfig(retries: RetryOwner = 'sdk') {
  return {
    maxAttempts: retries === 'sdk' ? AWS_CLIENT_DEFAULTS.maxAttempts : 1,
    requestHandler: {
      connectionTimeout: AWS_CLIENT_DEFAULTS.connectionTimeoutMs,
      requestTimeout: AWS_CLIENT_DEFAULTS.requestTimeoutMs,
      // Without it, @smithy/node-http-handler only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
    },
  };
}

/** A memoized getter: `create` runs on the first call only. */
export function lazy<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= create();
    return value;
  };
}
