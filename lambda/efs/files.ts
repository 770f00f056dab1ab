/**
 * File API on an EFS access point: API Gateway REST API (Lambda proxy integration, v1 payload,
 * binary media types `*\/*`) -> files under MOUNT_PATH.
 *
 * Routes `/files` (GET, HEAD: paginated listing) and `/files/{path+}` (GET, HEAD, PUT, DELETE)
 * with atomic writes, ETags, If-Match / If-None-Match under a per-path lock that holds across
 * instances, and path checks that keep every operation inside the root.
 * Configuration: see `lib/config.ts` (validated at cold start).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyHandler, APIGatewayProxyResult } from 'aws-lambda';
import { loadConfig } from './lib/config';
import { DEFAULT_LOCK_OPTIONS } from './lib/lock';
import { route, type RouteDeps } from './lib/routes';
import { MountUnavailableError, isTransientFsError } from './lib/safe-fs';
import { invocationDeadline } from '../shared/deadline';
import { errorResponse } from '../shared/http';
import { ServiceUnavailableError } from '../shared/http-errors';
import { answerApiError, createLogger, startApiInvocation } from '../shared/logger';

const config = loadConfig();
const logger = createLogger('efs-files');
const deps: RouteDeps = {
  config,
  lock: {
    ...DEFAULT_LOCK_OPTIONS,
    onStaleLockBroken: (details) => logger.warn('broke a stale file lock: a writer died holding it', details),
  },
};

export const handler: APIGatewayProxyHandler = async (event, context): Promise<APIGatewayProxyResult> => {
  const request: APIGatewayProxyEvent = event ?? ({} as APIGatewayProxyEvent);
  const requestId = startApiInvocation(logger, request, context);
  const abortSignal = invocationDeadline(context);
  try {
    return await untilDeadline(route(request, { ...deps, abortSignal }), abortSignal);
  } catch (caught) {
    // A stale NFS handle, I/O errors and timeouts of the mount are transient: 503 with Retry-After.
    const err = isTransientFsError(caught) ? new ServiceUnavailableError(undefined, 1, caught) : caught;
    if (err instanceof MountUnavailableError) {
      logger.error('MOUNT_PATH is missing or not a directory: the EFS mount failed', { mountPath: config.mountPath, cause: String(err.cause) });
      return errorResponse(err, requestId);
    }
    return answerApiError(logger, caught, err, requestId);
  }
};

/**
 * File system calls cannot be cancelled, and a hung NFS call would otherwise run into the Lambda
 * timeout (a bare 502 from API Gateway). Answering 503 at the deadline is safe: nothing is
 * published after it fires (the lock's lease check), and a retried PUT or DELETE is conditional
 * or idempotent.
 */
async function untilDeadline<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ServiceUnavailableError('The file storage did not answer in time, retry later', 1));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
