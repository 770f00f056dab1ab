/**
 * Powertools Logger setup shared by the handlers: structured JSON logs with the service name from
 * `POWERTOOLS_SERVICE_NAME` (or a per-handler default) and per-invocation correlation keys.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorResponse, getHeader, type HeaderSource } from './http';
import { isHttpError } from './http-errors';

export { Logger };

export function createLogger(defaultServiceName: string): Logger {
  const fromEnv = process.env.POWERTOOLS_SERVICE_NAME;
  return new Logger({ serviceName: fromEnv !== undefined && fromEnv !== '' ? fromEnv : defaultServiceName });
}

/** Client-supplied ids are logged only when short and printable. */
const SAFE_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * Starts an invocation on the logger, for every handler: clears the previous invocation's keys
 * (a warm container reuses the logger), adds the Lambda context when there is one, and appends
 * `keys` to every line of this invocation.
 */
export function startInvocation(logger: Logger, context: Partial<Context> | undefined, keys: Record<string, unknown> = {}): void {
  logger.resetKeys();
  if (context && typeof context.functionName === 'string' && typeof context.awsRequestId === 'string') {
    logger.addContext(context as Context);
  }
  if (Object.keys(keys).length > 0) logger.appendKeys(keys);
}

/**
 * Starts an API Gateway invocation on the logger: clears the previous invocation's keys, adds the
 * Lambda context, and appends `apigw_request_id` and `correlation_id` (from `x-correlation-id`,
 * else `x-amzn-trace-id`, else the API Gateway request id). Returns the request id used in
 * responses: API Gateway's, else the Lambda request id.
 */
export function startApiInvocation(
  logger: Logger,
  event: HeaderSource & { readonly requestContext?: Partial<APIGatewayProxyEvent['requestContext']> | null },
  context: Partial<Context> | undefined,
): string {
  const apiRequestId = typeof event.requestContext?.requestId === 'string' ? event.requestContext.requestId : undefined;
  const requestId = apiRequestId ?? (typeof context?.awsRequestId === 'string' ? context.awsRequestId : 'unknown');
  const correlation = [getHeader(event, 'x-correlation-id'), getHeader(event, 'x-amzn-trace-id')]
    .find((v): v is string => v !== undefined && SAFE_ID.test(v));
  startInvocation(logger, context, {
    ...(apiRequestId !== undefined ? { apigw_request_id: apiRequestId } : {}),
    correlation_id: correlation ?? requestId,
  });
  return requestId;
}

/**
 * The error answer of an API handler: client mistakes (4xx) are logged at INFO with their reason,
 * everything else at ERROR with the original `caught` error; the body never carries internals.
 * `err` is what `caught` maps to (e.g. a 503 for a throttle).
 */
export function answerApiError(logger: Logger, caught: unknown, err: unknown, requestId: string): APIGatewayProxyResult {
  if (isHttpError(err) && err.statusCode < 500) {
    logger.info('request rejected', { statusCode: err.statusCode, error: err.code, reason: err.message });
  } else {
    logger.error('request failed', caught instanceof Error ? caught : new Error(String(caught)));
  }
  return errorResponse(err, requestId);
}
