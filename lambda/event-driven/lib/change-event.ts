/**
 * One DynamoDB Streams record -> one domain event (a PutEvents entry), the published contract v1:
 *
 * - detail type `<entity>.created.v1` (INSERT), `<entity>.updated.v1` (MODIFY), `<entity>.deleted.v1` (REMOVE);
 * - detail `{ eventId, entity, change, keys, version, occurredAt, item?, changedFields, previous?, truncated?, expired? }`
 *   (JSON Schemas: lib/event-driven/schemas/entity-{created,updated,deleted}.v1.json), values in the
 *   tagged JSON form of `attribute-json.ts`;
 * - `eventId` is the record's `eventID` and `version` its `SequenceNumber` zero-padded to 40 digits: a
 *   replayed or retried record publishes the same event again, never a new id;
 * - a MODIFY whose images are equal (no top-level attribute changed) publishes nothing;
 * - an entry above 254 KB (256 KB less room for the delivered event's envelope) drops `item` and `previous` and says `truncated: true`, then, if still too
 *   large, `changedFields` as well. With `keys` and `eventId` bounded by DynamoDB (keys <= 2048 + 1024
 *   bytes, at most 6 JSON bytes per byte when escaped) the last form stays under about 25 KB, so every
 *   change can be published; should it not fit anyway, the record is invalid (reported, never dropped).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { DynamoDBRecord } from 'aws-lambda';
import { AttributeValueError, encodeAttributeMap, jsonEquals, type JsonValue } from './attribute-json';

export const ChangeType = {
  Created: 'created',
  Updated: 'updated',
  Deleted: 'deleted',
} as const;
export type ChangeType = (typeof ChangeType)[keyof typeof ChangeType];

const CHANGE_OF_EVENT_NAME: Readonly<Record<string, ChangeType>> = {
  INSERT: ChangeType.Created,
  MODIFY: ChangeType.Updated,
  REMOVE: ChangeType.Deleted,
};

/** PutEvents limits, and how EventBridge counts an entry's size. */
export const PUT_EVENTS_LIMITS = {
  maxEntries: 10,
  /** Per entry and per request: 256 KB. */
  maxBytes: 262_144,
  /**
   * Largest entry the publisher sends untruncated. The event EventBridge delivers is the entry plus
   * its envelope (id, account, region, time, version and their JSON), so an entry at the limit
   * becomes an event over 256 KB that a target with that limit refuses; 2 KB leaves room for it.
   */
  maxEventEntryBytes: 262_144 - 2_048,
  /** Bytes counted for the entry's `Time`. */
  timeBytes: 14,
} as const;

/** Digits of `version`: stream sequence numbers have up to 40. */
export const VERSION_WIDTH = 40;

/** The principal of DynamoDB's own TTL deletions. */
export const TTL_PRINCIPAL = 'dynamodb.amazonaws.com';

export type EncodedMap = { [key: string]: JsonValue };

export interface ChangeDetail {
  readonly eventId: string;
  readonly entity: string;
  readonly change: ChangeType;
  readonly keys: EncodedMap;
  readonly version: string;
  readonly occurredAt: string;
  readonly item?: EncodedMap;
  readonly changedFields?: string[];
  readonly previous?: EncodedMap;
  readonly truncated?: true;
  readonly expired?: true;
}

export interface ChangeEventOptions {
  readonly entity: string;
  readonly source: string;
  /** PutEvents `EventBusName`: name or ARN. */
  readonly eventBus: string;
}

/** A stream record that can never become an event (malformed or hostile): reported, never dropped. */
export class InvalidStreamRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStreamRecordError';
  }
}

export type RecordConversion =
  | { readonly kind: 'event'; readonly entry: PutEventsRequestEntry; readonly sizeBytes: number; readonly detail: ChangeDetail }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'invalid'; readonly error: Error };

const EVENT_ID = /^[\x21-\x7e]{1,128}$/;
const SEQUENCE_NUMBER = /^\d{1,40}$/;
const STREAM_ARN = /^(arn:aws[a-z-]*:dynamodb:[a-z0-9-]*:\d{12}:table\/[A-Za-z0-9_.-]{3,255})\/stream\/[\x21-\x7e]+$/;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** EventBridge's size of an entry: Time (14 bytes) + Source + DetailType + Detail + Resources, in UTF-8 bytes. */
export function entrySize(entry: PutEventsRequestEntry): number {
  return PUT_EVENTS_LIMITS.timeBytes + utf8(entry.Source ?? '') + utf8(entry.DetailType ?? '') + utf8(entry.Detail ?? '')
    + (entry.Resources ?? []).reduce((sum, r) => sum + utf8(r), 0);
}

export function detailType(entity: string, change: ChangeType): string {
  return `${entity}.${change}.v1`;
}

/** `123` -> `000...000123` (40 digits): string order is numeric order. */
export function versionOf(sequenceNumber: string): string {
  return sequenceNumber.padStart(VERSION_WIDTH, '0');
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function image(value: unknown, name: string): Record<string, AttributeValue> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidStreamRecordError(`dynamodb.${name} is missing`);
  return value as Record<string, AttributeValue>;
}

function occurredAtOf(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > 253_402_300_799) {
    throw new InvalidStreamRecordError('dynamodb.ApproximateCreationDateTime must be epoch seconds');
  }
  return new Date(Math.round(seconds * 1000)).toISOString();
}

/** The top-level attribute names whose values differ (added, removed or changed), sorted. */
export function changedFieldsOf(oldItem: EncodedMap, newItem: EncodedMap): string[] {
  const names = new Set([...Object.keys(oldItem), ...Object.keys(newItem)]);
  const has = (o: EncodedMap, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
  return [...names].filter((k) => !(has(oldItem, k) && has(newItem, k) && jsonEquals(oldItem[k], newItem[k]))).sort(byCodeUnit);
}

function pick(map: EncodedMap, names: readonly string[]): EncodedMap {
  const out: EncodedMap = {};
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(map, name)) {
      Object.defineProperty(out, name, { value: map[name], enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

/** Builds the full detail of a record (without any size consideration). Throws `InvalidStreamRecordError`. */
export function detailOf(record: DynamoDBRecord, entity: string): ChangeDetail | undefined {
  if (record === null || typeof record !== 'object') throw new InvalidStreamRecordError('the record is not an object');
  const change = typeof record.eventName === 'string' ? CHANGE_OF_EVENT_NAME[record.eventName] : undefined;
  if (change === undefined) throw new InvalidStreamRecordError('eventName must be INSERT, MODIFY or REMOVE');
  if (typeof record.eventID !== 'string' || !EVENT_ID.test(record.eventID)) throw new InvalidStreamRecordError('eventID must be 1..128 printable characters');
  const ddb = record.dynamodb;
  if (ddb === null || typeof ddb !== 'object') throw new InvalidStreamRecordError('dynamodb is missing');
  if (typeof ddb.SequenceNumber !== 'string' || !SEQUENCE_NUMBER.test(ddb.SequenceNumber)) {
    throw new InvalidStreamRecordError('dynamodb.SequenceNumber must be 1..40 digits');
  }
  const occurredAt = occurredAtOf(ddb.ApproximateCreationDateTime);
  let keys: EncodedMap;
  let oldItem: EncodedMap | undefined;
  let newItem: EncodedMap | undefined;
  try {
    keys = encodeAttributeMap(image(ddb.Keys, 'Keys'), '/keys');
    if (Object.keys(keys).length === 0) throw new InvalidStreamRecordError('dynamodb.Keys is empty');
    if (change !== ChangeType.Created) oldItem = encodeAttributeMap(image(ddb.OldImage, 'OldImage (the stream view type must be NEW_AND_OLD_IMAGES)'), '/old');
    if (change !== ChangeType.Deleted) newItem = encodeAttributeMap(image(ddb.NewImage, 'NewImage (the stream view type must be NEW_AND_OLD_IMAGES)'), '/new');
  } catch (err) {
    if (err instanceof AttributeValueError) throw new InvalidStreamRecordError(`malformed attribute value at ${err.message}`);
    throw err;
  }
  const base = { eventId: record.eventID, entity, change, keys, version: versionOf(ddb.SequenceNumber), occurredAt };
  if (change === ChangeType.Created) {
    return { ...base, item: newItem!, changedFields: Object.keys(newItem!).sort(byCodeUnit) };
  }
  if (change === ChangeType.Deleted) {
    const identity = record.userIdentity as { type?: unknown; principalId?: unknown } | undefined;
    const expired = identity?.type === 'Service' && identity.principalId === TTL_PRINCIPAL;
    return { ...base, item: oldItem!, changedFields: Object.keys(oldItem!).sort(byCodeUnit), ...(expired ? { expired: true as const } : {}) };
  }
  const changedFields = changedFieldsOf(oldItem!, newItem!);
  if (changedFields.length === 0) return undefined;
  return { ...base, item: newItem!, changedFields, previous: pick(oldItem!, changedFields) };
}

/** The table ARN of a stream ARN (`.../table/<name>/stream/<label>`), for the entry's `Resources`. */
export function tableArnOf(eventSourceArn: unknown): string | undefined {
  return typeof eventSourceArn === 'string' ? STREAM_ARN.exec(eventSourceArn)?.[1] : undefined;
}

function entryOf(detail: ChangeDetail, record: DynamoDBRecord, options: ChangeEventOptions): PutEventsRequestEntry {
  const table = tableArnOf(record.eventSourceARN);
  return {
    EventBusName: options.eventBus,
    Source: options.source,
    DetailType: detailType(options.entity, detail.change),
    Detail: JSON.stringify(detail),
    Time: new Date(detail.occurredAt),
    Resources: table !== undefined ? [table] : [],
  };
}

/** Converts one record; never throws. */
export function toChangeEvent(record: DynamoDBRecord, options: ChangeEventOptions): RecordConversion {
  let detail: ChangeDetail | undefined;
  try {
    detail = detailOf(record, options.entity);
  } catch (err) {
    return { kind: 'invalid', error: err instanceof Error ? err : new InvalidStreamRecordError(String(err)) };
  }
  if (detail === undefined) return { kind: 'unchanged' };
  const { item, previous, changedFields, ...rest } = detail;
  // Smaller forms, in order, until one fits in an entry.
  const forms: ChangeDetail[] = [detail, { ...rest, changedFields, truncated: true }, { ...rest, truncated: true }];
  for (const form of forms) {
    const entry = entryOf(form, record, options);
    const sizeBytes = entrySize(entry);
    if (sizeBytes <= PUT_EVENTS_LIMITS.maxEventEntryBytes) return { kind: 'event', entry, sizeBytes, detail: form };
  }
  return { kind: 'invalid', error: new InvalidStreamRecordError('the event exceeds 256 KB even without item, previous and changedFields') };
}
