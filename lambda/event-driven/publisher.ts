/**
 * Event-driven microservice publisher (reference handler of `EventDrivenMicroservice`):
 * DynamoDB Streams (NEW_AND_OLD_IMAGES) -> domain events on an EventBridge bus.
 *
 * Each stream record becomes one event, `<ENTITY_NAME>.created|updated|deleted.v1` (contract:
 * `lib/change-event.ts`, values: `lib/attribute-json.ts`, JSON Schemas:
 * `lib/event-driven/schemas/`), published with batched PutEvents (`lib/publish.ts`). The event
 * source mapping must enable `ReportBatchItemFailures`: the answer names the FIRST record not
 * published, `{ batchItemFailures: [{ itemIdentifier: <its SequenceNumber> }] }`, and Lambda
 * resumes the shard there; the records after it are sent again with the same event ids.
 * A malformed record (which DynamoDB never sends) is reported the same way, so it is retried until
 * the mapping's retry limit and then goes to its on-failure destination: never silently dropped.
 *
 * Metrics (EMF, namespace POWERTOOLS_METRICS_NAMESPACE, one dimension `EventBusName` = the bus name):
 * `PublishedEvents`, `FailedPutEventsEntries`, `UnpublishedChanges`, `TruncatedEvents` (all Count).
 * Configuration: `lib/config.ts`.
 */
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { awsClientConfig, lazy } from '../shared/aws-client';
import { errorSummary } from '../shared/aws-errors';
import { invocationDeadline } from '../shared/deadline';
import { createLogger, startInvocation } from '../shared/logger';
import { loadPublisherConfig } from './lib/config';
import { publishBatch, type RecordFailure } from './lib/publish';

/** Metric names; the construct's alarms use exactly these, dimension `EventBusName`. */
export const PublisherMetric = {
  PublishedEvents: 'PublishedEvents',
  FailedPutEventsEntries: 'FailedPutEventsEntries',
  UnpublishedChanges: 'UnpublishedChanges',
  /** Events published without their images (over 254 KB): content filters on `item` miss them. */
  TruncatedEvents: 'TruncatedEvents',
} as const;
export const EVENT_BUS_DIMENSION = 'EventBusName';

const config = loadPublisherConfig();
const logger = createLogger('event-publisher');
const metrics = new Metrics({ namespace: config.metricsNamespace });
// Exactly one dimension: drop Powertools' default `service` dimension.
metrics.clearDefaultDimensions();
metrics.setDefaultDimensions({ [EVENT_BUS_DIMENSION]: config.eventBusName });
// lib/publish.ts owns the retry budget: the SDK makes one attempt per call.
const eventBridge = lazy(() => new EventBridgeClient(awsClientConfig('caller')));

/** A record that is not a stream record at all (no SequenceNumber): the whole batch fails and Lambda bisects it. */
export class UnidentifiableRecordError extends Error {
  constructor(index: number) {
    super(`record ${index} has no dynamodb.SequenceNumber: it cannot be reported on its own`);
    this.name = 'UnidentifiableRecordError';
  }
}

function describeFailure(failure: RecordFailure | undefined): Record<string, unknown> {
  if (failure === undefined) return {};
  switch (failure.reason) {
    case 'invalid':
      return { reason: failure.reason, error: errorSummary(failure.error) };
    case 'rejected':
      return { reason: failure.reason, errorCode: failure.errorCode, errorMessage: failure.errorMessage?.slice(0, 300) };
    case 'call-failed':
      return { reason: failure.reason, error: failure.error };
    default:
      return { reason: failure.reason };
  }
}

export const handler = async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
  startInvocation(logger, context);
  const records: DynamoDBRecord[] = Array.isArray(event?.Records) ? event.Records : [];
  const outcome = await publishBatch(records, {
    client: eventBridge(),
    options: { entity: config.entity, source: config.source, eventBus: config.eventBus },
    retry: config.retry,
    abortSignal: invocationDeadline(context),
  });

  metrics.addMetric(PublisherMetric.PublishedEvents, MetricUnit.Count, outcome.publishedEvents);
  metrics.addMetric(PublisherMetric.FailedPutEventsEntries, MetricUnit.Count, outcome.failedEntries);
  metrics.addMetric(PublisherMetric.UnpublishedChanges, MetricUnit.Count, outcome.unpublishedRecords);
  metrics.addMetric(PublisherMetric.TruncatedEvents, MetricUnit.Count, outcome.truncatedEvents);
  metrics.publishStoredMetrics();

  const summary = {
    records: records.length,
    publishedEvents: outcome.publishedEvents,
    unchangedRecords: outcome.unchangedRecords,
    truncatedEvents: outcome.truncatedEvents,
    failedEntries: outcome.failedEntries,
    calls: outcome.calls,
  };
  if (outcome.firstFailedIndex === undefined) {
    logger.info('batch published', summary);
    return { batchItemFailures: [] };
  }
  const first = records[outcome.firstFailedIndex];
  const sequenceNumber = first?.dynamodb?.SequenceNumber;
  const failure = outcome.failures.get(outcome.firstFailedIndex);
  if (typeof sequenceNumber !== 'string' || sequenceNumber === '') {
    logger.error('batch failed', { ...summary, firstFailed: describeFailure(failure) });
    throw new UnidentifiableRecordError(outcome.firstFailedIndex);
  }
  logger.warn('batch partially published, Lambda resumes from the first unpublished record', {
    ...summary,
    unpublishedRecords: outcome.unpublishedRecords,
    firstFailedSequenceNumber: sequenceNumber,
    firstFailedEventId: first.eventID,
    firstFailed: describeFailure(failure),
  });
  return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
};
