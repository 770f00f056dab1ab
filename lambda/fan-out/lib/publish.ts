/**
 * Publisher logic. The invocation payload is either ONE order event (published with `Publish`)
 * or `{ "events": [ ... ] }` with 1..10 events (published with one `PublishBatch`). Every event
 * is validated first (`order-event.ts`; a missing eventId is generated); any problem throws an
 * `OrderEventValidationError` listing all of them and nothing is published.
 *
 * Each message is the event as JSON, with the message attributes that subscription filter
 * policies use: `type` (String), `amount` (Number), `customerId` (String), `currency` (String).
 * With FIFO=true: MessageGroupId = customerId (per-customer order), MessageDeduplicationId = eventId.
 * Returns `{ messageIds, eventIds }`, in input order. When SNS rejects some entries of a batch, a
 * `PartialPublishError` says which (the others are published); retrying the whole batch with the
 * returned eventIds is safe: the consumers apply each eventId once.
 */
import { randomUUID } from 'node:crypto';
import { PublishBatchCommand, PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import type { PublisherConfig } from './config';
import { OrderEventValidationError, PartialPublishError } from './errors';
import { checkOrderEvent, type OrderEvent } from './order-event';
import type { ErrorDetail } from '../../shared/http-errors';
import { SNS_BATCH_LIMITS } from '../../shared/sns';

export interface PublishRequest {
  readonly events: OrderEvent[];
  /** `true` for the `{ events: [...] }` form. */
  readonly batch: boolean;
}

export interface PublishResult {
  readonly messageIds: string[];
  readonly eventIds: string[];
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Validates the payload; generates missing eventIds. Throws `OrderEventValidationError`. */
export function parsePublishRequest(payload: unknown, newId: () => string = randomUUID): PublishRequest {
  const isBatch = payload !== null && typeof payload === 'object' && !Array.isArray(payload) && 'events' in payload;
  if (!isBatch) {
    const checked = checkOrderEvent(payload, { eventIdOptional: true });
    if (checked.problems) throw new OrderEventValidationError(checked.problems);
    return { events: [withId(checked.event, newId)], batch: false };
  }
  const { events, ...rest } = payload as { events: unknown };
  const problems: ErrorDetail[] = Object.keys(rest).slice(0, 5).map((k) => ({ path: `/${k.slice(0, 40)}`, message: 'is not an allowed field next to events' }));
  if (!Array.isArray(events) || events.length < 1 || events.length > SNS_BATCH_LIMITS.maxEntries) {
    problems.push({ path: '/events', message: `must be an array of 1..${SNS_BATCH_LIMITS.maxEntries} order events, got ${Array.isArray(events) ? `${events.length} items` : describe(events)}` });
    throw new OrderEventValidationError(problems);
  }
  const valid: OrderEvent[] = [];
  const seen = new Map<string, number>();
  events.forEach((value: unknown, index) => {
    const checked = checkOrderEvent(value, { eventIdOptional: true, pathPrefix: `/events/${index}` });
    if (checked.problems) {
      problems.push(...checked.problems);
      return;
    }
    if (checked.event.eventId !== '') {
      const first = seen.get(checked.event.eventId);
      if (first !== undefined) problems.push({ path: `/events/${index}/eventId`, message: `duplicates /events/${first}/eventId` });
      else seen.set(checked.event.eventId, index);
    }
    valid.push(checked.event);
  });
  if (problems.length > 0) throw new OrderEventValidationError(problems);
  return { events: valid.map((event) => withId(event, newId)), batch: true };
}

function withId(event: OrderEvent, newId: () => string): OrderEvent {
  return event.eventId === '' ? { ...event, eventId: newId() } : event;
}

/** The message attributes of an event (names and types are the filter policy contract). */
export function messageAttributes(event: OrderEvent): Record<string, MessageAttributeValue> {
  return {
    type: { DataType: 'String', StringValue: event.type },
    amount: { DataType: 'Number', StringValue: String(event.amount) },
    customerId: { DataType: 'String', StringValue: event.customerId },
    currency: { DataType: 'String', StringValue: event.currency },
  };
}

function fifoFields(event: OrderEvent, fifo: boolean): { MessageGroupId?: string; MessageDeduplicationId?: string } {
  return fifo ? { MessageGroupId: event.customerId, MessageDeduplicationId: event.eventId } : {};
}

export interface PublishDeps {
  readonly sns: SNSClient;
  readonly config: PublisherConfig;
  readonly abortSignal?: AbortSignal;
}

export async function publishEvents(request: PublishRequest, deps: PublishDeps): Promise<PublishResult> {
  const { topicArn, fifo } = deps.config;
  const eventIds = request.events.map((e) => e.eventId);
  if (!request.batch) {
    const [event] = request.events;
    const out = await deps.sns.send(new PublishCommand({
      TopicArn: topicArn,
      Message: JSON.stringify(event),
      MessageAttributes: messageAttributes(event),
      ...fifoFields(event, fifo),
    }), { abortSignal: deps.abortSignal });
    return { messageIds: [out.MessageId ?? ''], eventIds };
  }
  const out = await deps.sns.send(new PublishBatchCommand({
    TopicArn: topicArn,
    PublishBatchRequestEntries: request.events.map((event, index) => ({
      Id: String(index),
      Message: JSON.stringify(event),
      MessageAttributes: messageAttributes(event),
      ...fifoFields(event, fifo),
    })),
  }), { abortSignal: deps.abortSignal });
  const messageIds: Array<string | undefined> = request.events.map(() => undefined);
  for (const ok of out.Successful ?? []) {
    const index = Number(ok.Id);
    if (Number.isInteger(index) && index >= 0 && index < messageIds.length) messageIds[index] = ok.MessageId;
  }
  const failures = (out.Failed ?? []).map((f) => ({ index: Number(f.Id), code: f.Code, message: f.Message, senderFault: f.SenderFault }));
  const missing = messageIds.flatMap((id, index) => (id === undefined && !failures.some((f) => f.index === index) ? [{ index, code: 'NoResult' }] : []));
  const all = [...failures, ...missing].sort((a, b) => a.index - b.index);
  if (all.length > 0) {
    const list = all.map((f) => `/events/${f.index} (${f.code ?? 'Unknown'})`).join(', ');
    throw new PartialPublishError(
      `${all.length} of ${request.events.length} events were not published: ${list}; retry them with the same eventIds`,
      messageIds,
      eventIds,
      all,
    );
  }
  return { messageIds: messageIds as string[], eventIds };
}
