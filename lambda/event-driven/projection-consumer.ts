/**
 * Event-driven microservice reference consumer: an EventBridge rule target (asynchronous Lambda
 * invocation) that keeps an idempotent, order-safe projection of the source items
 * (`lib/projection.ts`): one conditional PutItem per event, keyed by the item's keys, ordered by
 * `detail.version`; deletes leave a tombstone with a TTL (`expiresAt`).
 *
 * Errors: an event that is not a valid v1 change event throws `MalformedEventError` (nothing is
 * written); a DynamoDB failure (after the SDK's retries) is thrown as it is. Either way Lambda's
 * asynchronous retries run and then the event goes to the function's on-failure destination or
 * DLQ: never silently dropped. Returns `{ eventId, outcome: 'applied' | 'duplicate' | 'stale' }`.
 * Configuration: TABLE_NAME (required), TOMBSTONE_RETENTION_DAYS (default 30) - `lib/config.ts`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { awsClientConfig, lazy } from '../shared/aws-client';
import { errorSummary } from '../shared/aws-errors';
import { invocationDeadline } from '../shared/deadline';
import { createLogger, startInvocation } from '../shared/logger';
import { loadConsumerConfig } from './lib/config';
import { MalformedEventError, applyChangeEvent, parseChangeEvent, type ProjectionOutcome } from './lib/projection';

export { MalformedEventError };

const config = loadConsumerConfig();
const logger = createLogger('projection-consumer');
// The SDK's standard retries (3 attempts) are the one retry budget of each write.
const db = lazy(() => new DynamoDBClient(awsClientConfig('sdk')));

export interface ProjectionResult {
  readonly eventId: string;
  readonly outcome: ProjectionOutcome;
}

export const handler = async (event: unknown, context?: Context): Promise<ProjectionResult> => {
  const envelopeId = event !== null && typeof event === 'object' ? (event as { id?: unknown }).id : undefined;
  startInvocation(logger, context, typeof envelopeId === 'string' && /^[\x21-\x7e]{1,128}$/.test(envelopeId) ? { eventBridgeId: envelopeId } : {});
  let parsed;
  try {
    parsed = parseChangeEvent(event);
  } catch (err) {
    logger.error('malformed event: not applied; after the asynchronous retries it goes to the failure destination', {
      error: errorSummary(err),
    });
    throw err;
  }
  try {
    const outcome = await applyChangeEvent(parsed, {
      db: db(),
      tableName: config.tableName,
      tombstoneRetentionSeconds: config.tombstoneRetentionSeconds,
      abortSignal: invocationDeadline(context),
      // Lambda's asynchronous retries of one event keep its request id: their writes are one write.
      ...(typeof context?.awsRequestId === 'string' && context.awsRequestId !== '' ? { writeToken: context.awsRequestId } : {}),
    });
    logger.info('event projected', { eventId: parsed.eventId, change: parsed.change, version: parsed.version, outcome });
    return { eventId: parsed.eventId, outcome };
  } catch (err) {
    logger.error('projection failed, Lambda retries the event', { eventId: parsed.eventId, error: errorSummary(err) });
    throw err;
  }
};
