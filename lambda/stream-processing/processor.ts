/**
 * Kinesis Data Streams -> DynamoDB stream processor (reference handler of `StreamProcessor`).
 *
 * Each record holds a JSON telemetry event `{ id, source, type, timestamp, payload }`
 * (`lib/event.ts`). The handler keeps, in one table (`lib/keys.ts`), the latest event per source
 * and exact per-source, per-minute counts, with idempotent single-item conditional writes: a
 * retried, bisected or replayed batch changes nothing. Records that can never succeed go to the
 * rejected-records queue at once (`lib/rejected.ts`); transient failures are reported as
 * `batchItemFailures` (the event source mapping must enable `ReportBatchItemFailures`), and Lambda
 * resumes the shard from the lowest failed sequence number.
 * Configuration: `lib/config.ts` (validated at cold start).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { KinesisStreamBatchResponse, KinesisStreamHandler, KinesisStreamRecord } from 'aws-lambda';
import { awsClientConfig } from '../shared/aws-client';
import { invocationDeadline } from '../shared/deadline';
import { JSON_NUMBER_OPTIONS, lazyDocumentClient } from '../shared/dynamodb';
import { createLogger, startInvocation } from '../shared/logger';
import { lazySqsClient } from '../shared/sqs';
import { loadConfig } from './lib/config';
import { errorSummary } from '../shared/aws-errors';
import { processRecords, type RecordOutcome } from './lib/process';

const config = loadConfig();
const logger = createLogger('stream-processor');
// lib/process.ts and lib/rejected.ts retry within the invocation deadline: the SDK tries once.
const db = lazyDocumentClient({ ...JSON_NUMBER_OPTIONS, clientConfig: awsClientConfig('caller') });
const sqs = lazySqsClient(awsClientConfig('caller'));
const processor = new BatchProcessor(EventType.KinesisDataStreams);

/** A record whose writes did not all happen: Powertools reports it in `batchItemFailures`. */
class RecordNotProcessedError extends Error {
  constructor(public readonly original: unknown) {
    const { name, message } = errorSummary(original);
    super(`${name}: ${message}`);
    this.name = 'RecordNotProcessedError';
  }
}

export const handler: KinesisStreamHandler = async (event, context): Promise<KinesisStreamBatchResponse> => {
  startInvocation(logger, context);
  const records: KinesisStreamRecord[] = Array.isArray(event?.Records) ? event.Records : [];
  const outcomes = await processRecords(records, {
    config,
    db: db(),
    sqs: sqs(),
    abortSignal: invocationDeadline(context),
  });
  logSummary(records, outcomes);
  return processPartialResponse({ Records: records }, async (record: KinesisStreamRecord) => {
    const outcome = outcomes.get(record);
    if (outcome?.status === 'failed') throw new RecordNotProcessedError(outcome.error);
  }, processor, { context, throwOnFullBatchFailure: false });
};

function logSummary(records: readonly KinesisStreamRecord[], outcomes: ReadonlyMap<KinesisStreamRecord, RecordOutcome>): void {
  const counts = { processed: 0, rejected: 0, failed: 0 };
  const reasons: Record<string, number> = {};
  let firstError: unknown;
  for (const outcome of outcomes.values()) {
    counts[outcome.status]++;
    if (outcome.status === 'rejected') reasons[outcome.reason] = (reasons[outcome.reason] ?? 0) + 1;
    if (outcome.status === 'failed') firstError ??= outcome.error;
  }
  const summary = { records: records.length, ...counts, rejectedReasons: reasons };
  if (counts.failed > 0) logger.warn('batch partially failed, failed records will be retried', { ...summary, firstError: errorSummary(firstError) });
  else logger.info('batch processed', summary);
}
