/**
 * Fan-out publisher: invoked directly (Lambda Invoke) with one order event, or `{ "events": [...] }`
 * (1..10), validates it and publishes it to the SNS topic with the filtering attributes
 * `type` (String), `amount` (Number), `customerId` (String), `currency` (String) - see
 * `lib/publish.ts`. Returns `{ messageIds, eventIds }`; throws `OrderEventValidationError`
 * (nothing published) for invalid input. Configuration: TOPIC_ARN (required), FIFO (default
 * false), POWERTOOLS_SERVICE_NAME (`lib/config.ts`).
 */
import type { Context } from 'aws-lambda';
import { invocationDeadline } from '../shared/deadline';
import { isHttpError } from '../shared/http-errors';
import { createLogger, startInvocation } from '../shared/logger';
import { lazySnsClient } from '../shared/sns';
import { loadPublisherConfig } from './lib/config';
import { parsePublishRequest, publishEvents, type PublishResult } from './lib/publish';

const config = loadPublisherConfig();
const logger = createLogger('order-publisher');
const sns = lazySnsClient();

export const handler = async (payload: unknown, context?: Context): Promise<PublishResult> => {
  startInvocation(logger, context);
  try {
    const request = parsePublishRequest(payload);
    const result = await publishEvents(request, { sns: sns(), config, abortSignal: invocationDeadline(context) });
    logger.info('published', { count: result.messageIds.length, eventIds: result.eventIds, messageIds: result.messageIds });
    return result;
  } catch (err) {
    if (isHttpError(err) && err.statusCode < 500) logger.info('request rejected', { error: err.code, reason: err.message });
    else logger.error('publish failed', err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
};
