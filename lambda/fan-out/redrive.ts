/**
 * Fan-out DLQ redrive (operations): invoked with `{ "subscriber": "<name>", "maxMessagesPerSecond"?: n }`
 * to move the subscriber's DLQ messages back to its source queue (SQS StartMessageMoveTask), or
 * `{ "subscriber": "<name>", "action": "status" }` for the move tasks (ListMessageMoveTasks) - see
 * `lib/redrive.ts`. Configuration: REDRIVE_TARGETS (required JSON), POWERTOOLS_SERVICE_NAME.
 */
import type { Context } from 'aws-lambda';
import { invocationDeadline } from '../shared/deadline';
import { isHttpError } from '../shared/http-errors';
import { createLogger, startInvocation } from '../shared/logger';
import { lazySqsClient } from '../shared/sqs';
import { loadRedriveConfig } from './lib/config';
import { parseRedriveRequest, redrive, type RedriveResult } from './lib/redrive';

const config = loadRedriveConfig();
const logger = createLogger('dlq-redrive');
const sqs = lazySqsClient();

export const handler = async (payload: unknown, context?: Context): Promise<RedriveResult> => {
  startInvocation(logger, context);
  try {
    const result = await redrive(parseRedriveRequest(payload), { sqs: sqs(), config, abortSignal: invocationDeadline(context) });
    logger.info('redrive', { ...result });
    return result;
  } catch (err) {
    if (isHttpError(err) && err.statusCode < 500) logger.info('request rejected', { error: err.code, reason: err.message });
    else logger.error('redrive failed', err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
};
