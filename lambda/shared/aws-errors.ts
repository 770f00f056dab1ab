/**
 * Classifies AWS SDK v3 failures for callers that retry on their own (`withRetries`): throttling,
 * timeouts, server faults and network errors are transient; everything else (access denied,
 * validation, a missing resource) would fail again the same way.
 *
 * Standalone on purpose: it imports no SDK client, so a handler that uses it does not pull one
 * into its bundle (`./dynamodb` would add the DynamoDB client, ~340 KB minified).
 */

const THROTTLING_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
]);

const TIMEOUT_NAMES: ReadonlySet<string> = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

const SERVER_FAULT_NAMES: ReadonlySet<string> = new Set([
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceException',
]);

const SDK_WRAPPER = /^AWS SDK error wrapper for (\w+)/;

const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * What a failed AWS call means to the caller, the one classification every handler uses:
 * - `conditional`: a conditional write's condition was false (DynamoDB); not a failure of the call.
 * - `aborted`: the caller's own deadline (its `AbortSignal`) fired: never retried, since retrying
 *   past the deadline is what the deadline prevents.
 * - `throttling`, `timeout` (the client's request timeout: the request may have applied),
 *   `transient` (a server fault or a network error): worth another attempt within the deadline.
 * - `permanent`: access denied, validation, a missing resource: it would fail the same way again.
 */
export type AwsFailure = 'conditional' | 'aborted' | 'throttling' | 'timeout' | 'transient' | 'permanent';

export function classifyAwsError(err: unknown): AwsFailure {
  if (typeof err !== 'object' || err === null) return 'permanent';
  const e = err as {
    name?: unknown; code?: unknown; $fault?: unknown; $retryable?: { throttling?: unknown }; $metadata?: { httpStatusCode?: unknown };
  };
  const status = e.$metadata?.httpStatusCode;
  // The SDK wraps what its HTTP handler throws when it is not an Error of this realm (a reset
  // socket can surface so): "AWS SDK error wrapper for TimeoutError: socket hang up".
  const wrapped = e.name === 'Error' ? SDK_WRAPPER.exec((err as { message?: unknown }).message as string ?? '')?.[1] : undefined;
  const name = wrapped ?? (typeof e.name === 'string' ? e.name : '');
  if (name === 'ConditionalCheckFailedException') return 'conditional';
  if (name === 'AbortError') return 'aborted';
  if (THROTTLING_NAMES.has(name) || status === 429 || e.$retryable?.throttling === true) return 'throttling';
  if (TIMEOUT_NAMES.has(name)) return 'timeout';
  if (SERVER_FAULT_NAMES.has(name) || (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code))) return 'transient';
  if ((typeof e.$retryable === 'object' && e.$retryable !== null) || e.$fault === 'server' || (typeof status === 'number' && status >= 500)) return 'transient';
  return 'permanent';
}

/** The error's `name`, when it has a string one. */
export function awsErrorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string'
    ? (err as { name: string }).name
    : undefined;
}

/** A failure worth another attempt: throttling, a timeout or a transient fault (never `aborted`). */
export function isTransientAwsError(err: unknown): boolean {
  const kind = classifyAwsError(err);
  return kind === 'throttling' || kind === 'timeout' || kind === 'transient';
}

/** Name and message of a failure for a log field or a reason, the message shortened. */
export function errorSummary(err: unknown, maxMessageLength = 300): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message.slice(0, maxMessageLength) };
  return { name: typeof err, message: String(err).slice(0, maxMessageLength) };
}
