/**
 * Publishes the events of one stream batch with PutEvents and says which stream record is the
 * first one not published (DynamoDB Streams checkpoint semantics: Lambda resumes there).
 *
 * - Requests hold at most 10 entries and 256 KB (entry sizes as EventBridge counts them), in
 *   record order; up to `MAX_PARALLEL_REQUESTS` requests are in flight.
 * - Each request has ONE retry budget (`retry.attempts` attempts in all, the SDK client makes one
 *   attempt per call): a whole call failing with throttling, a timeout, a server fault or a network
 *   error is sent again; when some entries come back with an `ErrorCode`, only those are sent
 *   again. Entries with a code that cannot succeed on a retry (`PERMANENT_ENTRY_ERRORS`) are not
 *   retried. Waits are full-jitter exponential backoff and end at the invocation deadline.
 * - A response lost after EventBridge applied the call (a reset, a timeout) is retried too: the
 *   resent entries carry the same `eventId`, so consumers see a duplicate, not a new change.
 * - Once a request has failed for good, requests whose records all come after the failed record
 *   are not started (Lambda sends them again anyway).
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { DynamoDBRecord } from 'aws-lambda';
import { toChangeEvent, PUT_EVENTS_LIMITS, type ChangeEventOptions } from './change-event';
import type { RetryConfig } from './config';
import { classifyAwsError, errorSummary } from '../../shared/aws-errors';
import { batchesWithin } from '../../shared/batching';
import { createLimiter } from '../../shared/concurrency';
import { backoffDelayMs, sleep } from '../../shared/retry';

export const MAX_PARALLEL_REQUESTS = 4;

/** Entry error codes that fail the same way on every attempt. */
export const PERMANENT_ENTRY_ERRORS: ReadonlySet<string> = new Set([
  'MalformedDetail',
  'InvalidArgument',
  'ValidationException',
  'AccessDeniedException',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
  'ResourceNotFoundException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
]);

export interface PendingEvent {
  /** Index of its stream record in the batch. */
  readonly recordIndex: number;
  readonly entry: PutEventsRequestEntry;
  readonly sizeBytes: number;
  readonly eventId: string;
}

/** Why a record was not published. */
export type RecordFailure =
  | { readonly reason: 'invalid'; readonly error: Error }
  | { readonly reason: 'rejected'; readonly errorCode: string; readonly errorMessage?: string }
  | { readonly reason: 'call-failed'; readonly error: { name: string; message: string } }
  | { readonly reason: 'not-attempted' };

export interface BatchOutcome {
  /** Index of the first record not published; `undefined` when every record was. */
  readonly firstFailedIndex?: number;
  /** Records whose change is not on the bus after this invocation (the first failed one and every later unpublished one). */
  readonly unpublishedRecords: number;
  /** Entries EventBridge accepted. */
  readonly publishedEvents: number;
  /** Entries returned with an `ErrorCode`, over every attempt. */
  readonly failedEntries: number;
  /** Records that publish nothing (a MODIFY without a changed attribute). */
  readonly unchangedRecords: number;
  readonly truncatedEvents: number;
  readonly calls: number;
  /** Per failed record index, the reason. */
  readonly failures: ReadonlyMap<number, RecordFailure>;
}

export interface PublishDeps {
  readonly client: EventBridgeClient;
  readonly options: ChangeEventOptions;
  readonly retry: RetryConfig;
  readonly abortSignal?: AbortSignal;
  /** @default Math.random */
  readonly random?: () => number;
}

/** Splits events (in order) into PutEvents requests of at most 10 entries and 256 KB. */
export function toRequests(events: readonly PendingEvent[]): PendingEvent[][] {
  return batchesWithin(events, (event) => event.sizeBytes, PUT_EVENTS_LIMITS.maxEntries, PUT_EVENTS_LIMITS.maxBytes);
}

interface RequestResult {
  readonly failed: Map<PendingEvent, RecordFailure>;
  readonly accepted: number;
  readonly failedEntries: number;
  readonly calls: number;
}

/** Sends one request's events with one retry budget; returns the events that were not published. */
async function sendRequest(events: readonly PendingEvent[], deps: PublishDeps): Promise<RequestResult> {
  let pending = [...events];
  const failed = new Map<PendingEvent, RecordFailure>();
  let accepted = 0;
  let failedEntries = 0;
  let calls = 0;
  for (let attempt = 1; pending.length > 0; attempt++) {
    let lastFailure: RecordFailure;
    let retryable: PendingEvent[] = [];
    try {
      calls++;
      const out = await deps.client.send(new PutEventsCommand({ Entries: pending.map((e) => e.entry) }), { abortSignal: deps.abortSignal });
      const results = out.Entries ?? [];
      for (const [i, event] of pending.entries()) {
        const result = results[i];
        if (result?.EventId !== undefined && result.EventId !== '' && result.ErrorCode === undefined) {
          accepted++;
          continue;
        }
        const errorCode = result?.ErrorCode ?? 'NoResult';
        if (result?.ErrorCode !== undefined) failedEntries++;
        const failure: RecordFailure = { reason: 'rejected', errorCode, ...(result?.ErrorMessage !== undefined ? { errorMessage: result.ErrorMessage } : {}) };
        if (PERMANENT_ENTRY_ERRORS.has(errorCode)) failed.set(event, failure);
        else retryable.push(event);
        lastFailure = failure;
      }
    } catch (err) {
      const kind = classifyAwsError(err);
      lastFailure = { reason: 'call-failed', error: errorSummary(err) };
      if (kind === 'throttling' || kind === 'timeout' || kind === 'transient') {
        retryable = pending;
      } else {
        for (const event of pending) failed.set(event, lastFailure);
        break;
      }
    }
    pending = retryable;
    if (pending.length === 0) break;
    if (attempt >= deps.retry.attempts || deps.abortSignal?.aborted) {
      for (const event of pending) failed.set(event, lastFailure!);
      break;
    }
    await sleep(backoffDelayMs(attempt - 1, { ...deps.retry, random: deps.random }), deps.abortSignal);
    if (deps.abortSignal?.aborted) {
      for (const event of pending) failed.set(event, lastFailure!);
      break;
    }
  }
  return { failed, accepted, failedEntries, calls };
}

/** Converts and publishes the records of one stream batch. Never throws. */
export async function publishBatch(records: readonly DynamoDBRecord[], deps: PublishDeps): Promise<BatchOutcome> {
  const failures = new Map<number, RecordFailure>();
  const events: PendingEvent[] = [];
  let unchangedRecords = 0;
  let truncatedEvents = 0;
  let firstInvalid: number | undefined;
  for (const [index, record] of records.entries()) {
    const conversion = toChangeEvent(record, deps.options);
    if (conversion.kind === 'invalid') {
      failures.set(index, { reason: 'invalid', error: conversion.error });
      firstInvalid = index;
      // Records after it are sent again from it on: publishing them now would only duplicate.
      break;
    }
    if (conversion.kind === 'unchanged') {
      unchangedRecords++;
      continue;
    }
    if (conversion.detail.truncated) truncatedEvents++;
    events.push({ recordIndex: index, entry: conversion.entry, sizeBytes: conversion.sizeBytes, eventId: conversion.detail.eventId });
  }

  let stopAt = firstInvalid ?? Number.POSITIVE_INFINITY;
  let publishedEvents = 0;
  let failedEntries = 0;
  let calls = 0;
  const published = new Set<number>();
  const limit = createLimiter(MAX_PARALLEL_REQUESTS);
  await Promise.all(toRequests(events).map((request) => limit(async () => {
    if (request[0].recordIndex > stopAt) {
      for (const event of request) failures.set(event.recordIndex, { reason: 'not-attempted' });
      return;
    }
    const result = await sendRequest(request, deps);
    publishedEvents += result.accepted;
    failedEntries += result.failedEntries;
    calls += result.calls;
    for (const event of request) {
      const failure = result.failed.get(event);
      if (failure === undefined) {
        published.add(event.recordIndex);
      } else {
        failures.set(event.recordIndex, failure);
        stopAt = Math.min(stopAt, event.recordIndex);
      }
    }
  })));

  const firstFailedIndex = failures.size > 0 ? Math.min(...failures.keys()) : undefined;
  let unpublishedRecords = 0;
  if (firstFailedIndex !== undefined) {
    const eventRecords = new Set(events.map((e) => e.recordIndex));
    for (let i = firstFailedIndex; i < records.length; i++) {
      if (published.has(i)) continue;
      if (eventRecords.has(i) || i === firstInvalid) unpublishedRecords++;
      else if (firstInvalid !== undefined && i > firstInvalid) unpublishedRecords++; // not even converted
    }
  }
  return { firstFailedIndex, unpublishedRecords, publishedEvents, failedEntries, unchangedRecords, truncatedEvents, calls, failures };
}
