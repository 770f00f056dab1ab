/**
 * From an SQS record to a validated order event: SNS envelope (both delivery forms, see
 * `shared/sns-envelope.ts`) -> JSON -> strict event validation -> the filtering attributes, when
 * present, must agree with the event (a disagreement means the subscription filter saw other
 * values than the consumer would process). Every failure is a `PoisonMessageError`.
 */
import type { SQSRecord } from 'aws-lambda';
import { PoisonMessageError } from './errors';
import { checkOrderEvent, formatProblems, parseOccurredAt, type OrderEvent } from './order-event';
import { parseSnsRecord, SnsEnvelopeError, type SnsMessage } from '../../shared/sns-envelope';

/** Message attributes the publisher sets, by name, with their SNS data type (filter policies use them). */
export const ORDER_ATTRIBUTES = {
  type: 'String',
  amount: 'Number',
  customerId: 'String',
  currency: 'String',
} as const;

export const PoisonReason = {
  BadEnvelope: 'BadEnvelope',
  BadJson: 'BadJson',
  InvalidEvent: 'InvalidEvent',
  AttributeMismatch: 'AttributeMismatch',
} as const;
export type PoisonReason = (typeof PoisonReason)[keyof typeof PoisonReason];

export interface OrderMessage {
  readonly event: OrderEvent;
  readonly occurredAtMs: number;
  readonly sns: SnsMessage;
}

function checkAttributes(event: OrderEvent, sns: SnsMessage): string | undefined {
  for (const [name, type] of Object.entries(ORDER_ATTRIBUTES) as Array<[keyof typeof ORDER_ATTRIBUTES, string]>) {
    const attribute = sns.attributes[name];
    if (attribute === undefined) continue;
    if (attribute.type !== type) return `attribute ${name} must have type ${type}`;
    const matches = name === 'amount'
      ? attribute.value.trim() !== '' && Number(attribute.value) === event.amount
      : attribute.value === event[name];
    if (!matches) return `attribute ${name} does not match the event`;
  }
  return undefined;
}

/** Parses and validates one record; throws `PoisonMessageError` with the reason. */
export function parseOrderMessage(record: SQSRecord): OrderMessage {
  let sns: SnsMessage;
  try {
    sns = parseSnsRecord(record);
  } catch (err) {
    if (err instanceof SnsEnvelopeError) throw new PoisonMessageError(PoisonReason.BadEnvelope, err.message);
    throw err;
  }
  let body: unknown;
  try {
    body = JSON.parse(sns.message);
  } catch {
    throw new PoisonMessageError(PoisonReason.BadJson, 'the message is not JSON');
  }
  const checked = checkOrderEvent(body);
  if (checked.problems) throw new PoisonMessageError(PoisonReason.InvalidEvent, `invalid order event: ${formatProblems(checked.problems.slice(0, 5))}`);
  const mismatch = checkAttributes(checked.event, sns);
  if (mismatch !== undefined) throw new PoisonMessageError(PoisonReason.AttributeMismatch, mismatch);
  return { event: checked.event, occurredAtMs: parseOccurredAt(checked.event.occurredAt)!, sns };
}
