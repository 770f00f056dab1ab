/**
 * Layout of the one table shared by the three consumers (`pk` S partition key, `sk` S sort key).
 * Ids are safe (no `#`, see `order-event.ts`), so the prefixes cannot collide.
 *
 * | consumer | pk | sk | attributes |
 * |---|---|---|---|
 * | audit | `AUDIT#<eventId>` | `EVENT` | the event fields, `occurredAtMs`, `snsMessageId`, `topicArn`, `publishedAt`, `delivery`, `sqsMessageId`, `recordedAt` |
 * | high-value | `HV#<customerId>` | `ORDER#<orderId>` | `customerId`, `orderId`, `eventTypes` (SS: high-value event types seen) |
 * | high-value | `HV#<customerId>` | `TOTAL#<currency>#<YYYY-MM>` | `customerId`, `currency`, `month`, `totalAmount` (N), `eventCount` (N), `eventIds` (SS: the events summed) |
 * | projection | `ORDER#<orderId>` | `STATUS` | `orderId`, `customerId`, `status`, `statusRank`, `eventId`, `occurredAt`, `occurredAtMs`, `amount`, `currency` |
 * | projection | `TYPECOUNT#<type>` | `HOUR#<YYYY-MM-DDTHH>#<shard 00..15>` | `type`, `hour`, `eventCount` (N), `eventIds` (SS: the events counted) |
 *
 * Months and hours are UTC, from `occurredAt`. A customer's total in a currency is the sum of
 * `totalAmount` over `Query(pk = HV#<customerId>, begins_with(sk, TOTAL#<currency>#))`; the count
 * of a type is the sum of `eventCount` over `Query(pk = TYPECOUNT#<type>)` (or a range of hours).
 * The sets bound the items: a DynamoDB item holds at most 400 KB, about 9,000 event ids, i.e.
 * 9,000 high-value events per customer, currency and month, and ~140,000 events of one type per
 * hour (16 shards). A write beyond that fails (ValidationException) and the message reaches the DLQ.
 */
import { createHash } from 'node:crypto';
import type { OrderEvent, OrderEventType } from './order-event';

export const TYPE_COUNT_SHARDS = 16;

export interface TableKey {
  readonly pk: string;
  readonly sk: string;
}

export function auditKey(eventId: string): TableKey {
  return { pk: `AUDIT#${eventId}`, sk: 'EVENT' };
}

export function highValueOrderKey(event: Pick<OrderEvent, 'customerId' | 'orderId'>): TableKey {
  return { pk: `HV#${event.customerId}`, sk: `ORDER#${event.orderId}` };
}

/** `YYYY-MM` (UTC) of epoch milliseconds. */
export function utcMonth(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** `YYYY-MM-DDTHH` (UTC) of epoch milliseconds. */
export function utcHour(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13);
}

export function highValueTotalKey(customerId: string, currency: string, month: string): TableKey {
  return { pk: `HV#${customerId}`, sk: `TOTAL#${currency}#${month}` };
}

export function orderStatusKey(orderId: string): TableKey {
  return { pk: `ORDER#${orderId}`, sk: 'STATUS' };
}

/** The shard of an eventId: the first byte of its SHA-256, modulo the shard count (stable, well spread). */
export function typeCountShard(eventId: string): number {
  return createHash('sha256').update(eventId).digest()[0] % TYPE_COUNT_SHARDS;
}

export function typeCountKey(type: OrderEventType, hour: string, eventId: string): TableKey {
  const shard = String(typeCountShard(eventId)).padStart(2, '0');
  return { pk: `TYPECOUNT#${type}`, sk: `HOUR#${hour}#${shard}` };
}
