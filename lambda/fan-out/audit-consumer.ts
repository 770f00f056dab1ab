/**
 * Fan-out audit consumer (SQS, subscribed to the order-events topic): stores every order event
 * once, keyed by eventId (`lib/audit.ts`). Reports partial batch failures. Configuration:
 * TABLE_NAME (required), FIFO (default false), POWERTOOLS_SERVICE_NAME (`lib/config.ts`).
 */
import { applyAudit } from './lib/audit';
import { createOrderEventConsumer } from './lib/consumer';

export const handler = createOrderEventConsumer('audit-consumer', applyAudit);
