/**
 * The shared shape of the three SQS consumers: configuration, Logger, DocumentClient and batch
 * processor at module scope; per record: parse (`message.ts`) then apply (one idempotent,
 * conditional-write function per consumer). Failures are reported as `batchItemFailures`
 * (the event source mapping must enable `ReportBatchItemFailures`):
 * - a poison message (bad JSON, bad envelope, invalid event) fails every delivery and reaches the
 *   queue's DLQ after maxReceiveCount receives; it is logged with its reason;
 * - a DynamoDB failure fails that message only (retried after the visibility timeout);
 * - with FIFO=true, `SqsFifoPartialProcessorAsync` fails every message after the first failure,
 *   so that no message group is processed out of order.
 */
import {
  BatchProcessor,
  EventType,
  SqsFifoPartialProcessorAsync,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSHandler, SQSRecord } from 'aws-lambda';
import { loadConsumerConfig, type ConsumerConfig } from './config';
import { PoisonMessageError } from './errors';
import { parseOrderMessage, type OrderMessage } from './message';
import { invocationDeadline } from '../../shared/deadline';
import { JSON_NUMBER_OPTIONS, lazyDocumentClient, type DynamoDBDocumentClient } from '../../shared/dynamodb';
import { createLogger, startInvocation } from '../../shared/logger';

/** What applying one message did: `duplicate` = everything was already recorded (a redelivery). */
export type ApplyOutcome = 'applied' | 'duplicate';

export interface ApplyDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly abortSignal?: AbortSignal;
  readonly sqsMessageId: string;
}

export type ApplyFunction = (message: OrderMessage, deps: ApplyDeps) => Promise<ApplyOutcome>;

function errorSummary(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message.slice(0, 300) };
  return { name: typeof err, message: String(err).slice(0, 300) };
}

/** Builds a consumer's handler; call it at module scope (it validates the configuration). */
export type OrderEventConsumer = SQSHandler & ((event: SQSEvent, context: Context) => Promise<SQSBatchResponse>);

export function createOrderEventConsumer(defaultServiceName: string, apply: ApplyFunction): OrderEventConsumer {
  const config: ConsumerConfig = loadConsumerConfig();
  const logger = createLogger(defaultServiceName);
  const db = lazyDocumentClient(JSON_NUMBER_OPTIONS);
  const processor = config.fifo ? new SqsFifoPartialProcessorAsync() : new BatchProcessor(EventType.SQS);

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    startInvocation(logger, context);
    const records: SQSRecord[] = Array.isArray(event?.Records) ? event.Records : [];
    const deps = { db: db(), tableName: config.tableName, abortSignal: invocationDeadline(context) };
    const counts = { applied: 0, duplicate: 0, poison: 0, failed: 0 };

    const recordHandler = async (record: SQSRecord): Promise<void> => {
      const sqsMessageId = typeof record?.messageId === 'string' ? record.messageId : 'unknown';
      let message: OrderMessage;
      try {
        message = parseOrderMessage(record);
      } catch (err) {
        counts.poison++;
        const reason = err instanceof PoisonMessageError ? err.reason : 'Unexpected';
        logger.warn('poison message: it fails every delivery and reaches the DLQ after maxReceiveCount receives', {
          messageId: sqsMessageId,
          reason,
          problem: errorSummary(err).message,
        });
        throw err;
      }
      try {
        counts[await apply(message, { ...deps, sqsMessageId })]++;
      } catch (err) {
        counts.failed++;
        logger.error('message failed, it will be retried', { messageId: sqsMessageId, eventId: message.event.eventId, error: errorSummary(err) });
        throw err;
      }
    };

    const response = await processPartialResponse({ Records: records }, recordHandler, processor, { context, throwOnFullBatchFailure: false });
    const failures = response.batchItemFailures.length;
    const summary = { records: records.length, ...counts, notAttempted: failures - counts.poison - counts.failed, fifo: config.fifo };
    if (failures > 0) logger.warn('batch partially failed', summary);
    else logger.info('batch processed', summary);
    return response;
  };
}
