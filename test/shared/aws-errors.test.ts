import { classifyAwsError, isTransientAwsError, type AwsFailure } from '../../lambda/shared/aws-errors';

/** An error as the SDK throws it: a name, and what the service and the retry strategy say of it. */
function sdkError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(name), { name, ...extra });
}

test.each<[string, unknown, AwsFailure, boolean]>([
  ['a failed condition', sdkError('ConditionalCheckFailedException', { $fault: 'client', $metadata: { httpStatusCode: 400 } }), 'conditional', false],
  ['the caller\'s deadline', sdkError('AbortError'), 'aborted', false],
  ['DynamoDB throttling', sdkError('ProvisionedThroughputExceededException', { $fault: 'client', $metadata: { httpStatusCode: 400 } }), 'throttling', true],
  ['an HTTP 429', sdkError('SomethingNew', { $metadata: { httpStatusCode: 429 } }), 'throttling', true],
  ['the retry strategy\'s throttling mark', sdkError('X', { $retryable: { throttling: true } }), 'throttling', true],
  ['the client\'s request timeout', sdkError('TimeoutError'), 'timeout', true],
  ['a timeout the SDK wrapped', Object.assign(new Error('AWS SDK error wrapper for TimeoutError: socket hang up'), { $metadata: { attempts: 1 } }), 'timeout', true],
  ['another wrapped failure', new Error('AWS SDK error wrapper for ValidationException: bad'), 'permanent', false],
  ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient', true],
  ['a server fault', sdkError('InternalServerError', { $fault: 'server', $metadata: { httpStatusCode: 500 } }), 'transient', true],
  ['any 5xx', sdkError('Unknown', { $metadata: { httpStatusCode: 503 } }), 'transient', true],
  ['access denied', sdkError('AccessDeniedException', { $fault: 'client', $metadata: { httpStatusCode: 400 } }), 'permanent', false],
  ['a validation error', sdkError('ValidationException', { $fault: 'client', $metadata: { httpStatusCode: 400 } }), 'permanent', false],
  ['not an object', 'boom', 'permanent', false],
])('%s is %s (retried: %s)', (_what, err, kind, retried) => {
  expect(classifyAwsError(err)).toBe(kind);
  expect(isTransientAwsError(err)).toBe(retried);
});
