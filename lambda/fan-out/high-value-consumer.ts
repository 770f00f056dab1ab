/**
 * Fan-out high-value consumer (SQS, subscribed with the filter `amount >= 100`): per customer, a
 * flag item per order and exact running totals per currency and month (`lib/high-value.ts`).
 * Reports partial batch failures. Configuration: TABLE_NAME (required), FIFO (default false),
 * POWERTOOLS_SERVICE_NAME (`lib/config.ts`).
 */
import { createOrderEventConsumer } from './lib/consumer';
import { applyHighValue } from './lib/high-value';

export const handler = createOrderEventConsumer('high-value-consumer', applyHighValue);
