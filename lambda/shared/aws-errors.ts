/**
 * Classifies AWS SDK v3 failures for callers that retry on their own (`withRetries`): throttling,
 * timeouts, server faults and network errors are transient; everything else (access denied,
 * validation, a missing resource) would fail again the same way.
 *
 * Standalone on purpose: it imports no SDK client, so a handler that uses it does not pull one
 * into its bundle (`./dynamodb` would add the DynamoDB client, ~340 KB minified).
 */

const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/** The error's `name`, when it has a string one. */
export function awsErrorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string'
    ? (err as { name: string }).name
    : undefined;
}

/**
 * A failure worth another attempt. An `AbortError` is not: it means the caller's own deadline
 * fired, and retrying past it is exactly what the deadline is there to prevent.
 */
export function isTransientAwsError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown; $fault?: unknown; $retryable?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (e.name === 'AbortError') return false;
  if (typeof e.name === 'string' && TRANSIENT_ERROR_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return true;
  if (typeof e.$retryable === 'object' && e.$retryable !== null) return true;
  const status = e.$metadata?.httpStatusCode;
  return e.$fault === 'server' || status === 429 || (typeof status === 'number' && status >= 500);
}

/** Name and message of a failure for a log field or a reason, the message shortened. */
export function errorSummary(err: unknown, maxMessageLength = 300): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message.slice(0, maxMessageLength) };
  return { name: typeof err, message: String(err).slice(0, maxMessageLength) };
}
