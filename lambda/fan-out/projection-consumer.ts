/**
 * Fan-out projection consumer (SQS, subscribed to the order-events topic): the current status of
 * each order (never moving backwards) and exact per-type event counts (`lib/projection.ts`).
 * Reports partial batch failures. Configuration: TABLE_NAME (required), FIFO (default false),
 * POWERTOOLS_SERVICE_NAME (`lib/config.ts`).
 */
import { createOrderEventConsumer } from './lib/consumer';
import { applyProjection } from './lib/projection';

export const handler = createOrderEventConsumer('projection-consumer', applyProjection);
