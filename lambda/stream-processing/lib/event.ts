/**
 * Telemetry events: decoding a Kinesis record (base64 -> strict UTF-8 -> JSON -> schema) into a
 * normalized `TelemetryEvent`, or a `Rejection` saying why it can never be processed.
 *
 * Schema (a JSON object with exactly these members):
 * - `id`: 1..128 printable ASCII characters (0x21..0x7e). With `source` and the minute of
 *   `timestamp` it identifies the event for counting: a producer retry with the same id is
 *   counted once.
 * - `source`: 1..128 of `A-Z a-z 0-9 . _ : / -`, starting with a letter or digit.
 * - `type`: 1..64 of the same characters.
 * - `timestamp`: either an integer of epoch milliseconds, or an ISO-8601 / RFC 3339 date-time
 *   string with seconds and an explicit offset (`2025-01-31T12:00:00Z`,
 *   `2025-01-31T13:00:00.123+01:00`; fractions beyond milliseconds are truncated). It must lie in
 *   1970-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z. It is stored normalized to UTC
 *   milliseconds.
 * - `payload`: a JSON object that DynamoDB can store (see `shared/validate.ts`) of at most
 *   `MAX_PAYLOAD_BYTES` (estimated stored size).
 */
import * as z from 'zod/mini';
import { checkDynamoStorable } from '../../shared/validate';

/** Why a record was rejected: the `reason` of a rejected-queue message. */
export const RejectReason = {
  /** The Lambda record lacks `kinesis.data` or other metadata. */
  MalformedRecord: 'MalformedRecord',
  InvalidBase64: 'InvalidBase64',
  RecordTooLarge: 'RecordTooLarge',
  InvalidUtf8: 'InvalidUtf8',
  InvalidJson: 'InvalidJson',
  SchemaViolation: 'SchemaViolation',
  PayloadTooLarge: 'PayloadTooLarge',
  /** The count item of the event's source, minute and shard reached DynamoDB's 400 KB item limit. */
  CountBucketFull: 'CountBucketFull',
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

export interface Rejection {
  readonly reason: RejectReason;
  /** Human readable; never echoes more than a short excerpt of the input. */
  readonly message: string;
}

export interface TelemetryEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  /** Normalized ISO-8601 UTC with milliseconds. */
  readonly timestamp: string;
  readonly epochMillis: number;
  readonly payload: Record<string, unknown>;
}

export const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
export const SOURCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
export const TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
/** 9999-12-31T23:59:59.999Z */
export const MAX_EPOCH_MILLIS = 253_402_300_799_999;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Bytes of JSON around the payload that a valid record may carry (ids, names, timestamp, spacing). */
const ENVELOPE_ALLOWANCE_BYTES = 16_384;

/** Epoch milliseconds of an ISO-8601 date-time with offset, or `undefined` when invalid. */
export function parseIsoDateTime(value: string): number | undefined {
  const m = ISO_DATE_TIME.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  // Rejects Feb 30, hour 24, second 60 (no leap seconds), ... : the fields must survive a round trip.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day
    || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    return undefined;
  }
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return date.getTime() - offsetMinutes * 60_000;
}

const epochMillis = z.number().check(
  z.refine((n) => Number.isSafeInteger(n) && n >= 0 && n <= MAX_EPOCH_MILLIS, 'must be an integer of epoch milliseconds in 0..253402300799999'),
);
const isoTimestamp = z.string().check(
  z.maxLength(40),
  z.refine((s) => parseIsoDateTime(s) !== undefined, 'must be an ISO-8601 date-time with seconds and an offset, e.g. 2025-01-31T12:00:00Z'),
);

const eventSchema = z.strictObject({
  id: z.string().check(z.regex(ID_PATTERN, 'must be 1..128 printable ASCII characters')),
  source: z.string().check(z.regex(SOURCE_PATTERN, 'must be 1..128 of A-Z a-z 0-9 . _ : / - starting with a letter or digit')),
  type: z.string().check(z.regex(TYPE_PATTERN, 'must be 1..64 of A-Z a-z 0-9 . _ : / - starting with a letter or digit')),
  timestamp: z.union([epochMillis, isoTimestamp]),
  payload: z.record(z.string(), z.unknown()),
});

const TIMESTAMP_RULE = 'must be an integer of epoch milliseconds or an ISO-8601 date-time string';

/** zod/mini carries no locale: the messages of structural issues are written here. */
function issueMessage(issue: z.core.$ZodIssue, input: object): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown members ${issue.keys.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`;
  }
  if (issue.code === 'invalid_union' && issue.path[0] === 'timestamp') return TIMESTAMP_RULE;
  if (issue.code === 'invalid_type') {
    const key = issue.path[0];
    if (issue.path.length === 1 && typeof key === 'string' && !Object.prototype.hasOwnProperty.call(input, key)) return 'is required';
    return issue.path[0] === 'payload' ? 'must be a JSON object' : `must be a ${issue.expected}`;
  }
  return issue.message;
}

function reject(reason: RejectReason, message: string): Rejection {
  return { reason, message };
}

/** Validates a parsed JSON value against the schema. */
export function validateEvent(value: unknown, maxPayloadBytes: number): TelemetryEvent | Rejection {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return reject(RejectReason.SchemaViolation, 'the record is not a JSON object');
  }
  const result = z.safeParse(eventSchema, value);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => {
      const path = issue.path.map((p) => String(p).slice(0, 40)).join('.');
      return `${path === '' ? '(root)' : path}: ${issueMessage(issue, value)}`;
    });
    return reject(RejectReason.SchemaViolation, problems.join('; '));
  }
  const data = result.data;
  // The payload as parsed (zod copies records, and a copy would silently drop a `__proto__` key).
  const payload = (value as { payload: unknown }).payload;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return reject(RejectReason.SchemaViolation, 'payload: must be a JSON object');
  }
  const { problems, sizeBytes } = checkDynamoStorable(payload);
  if (problems.length > 0) {
    return reject(RejectReason.SchemaViolation, `payload${problems[0].path === '/' ? '' : problems[0].path.slice(0, 80)}: ${problems[0].message}`);
  }
  if (sizeBytes > maxPayloadBytes) {
    return reject(RejectReason.PayloadTooLarge, `payload is about ${sizeBytes} bytes, more than ${maxPayloadBytes}`);
  }
  const ms = typeof data.timestamp === 'number' ? data.timestamp : parseIsoDateTime(data.timestamp)!;
  if (ms < 0 || ms > MAX_EPOCH_MILLIS) {
    return reject(RejectReason.SchemaViolation, 'timestamp: must lie in 1970-01-01T00:00:00Z..9999-12-31T23:59:59.999Z');
  }
  return {
    id: data.id,
    source: data.source,
    type: data.type,
    timestamp: new Date(ms).toISOString(),
    epochMillis: ms,
    payload: payload as Record<string, unknown>,
  };
}

/** Decodes the base64 `data` of a Kinesis record and validates the event it holds. */
export function decodeEvent(data: unknown, maxPayloadBytes: number): TelemetryEvent | Rejection {
  if (typeof data !== 'string') return reject(RejectReason.MalformedRecord, 'the record has no base64 data');
  const maxRecordBytes = maxPayloadBytes + ENVELOPE_ALLOWANCE_BYTES;
  // 4 base64 characters encode 3 bytes: reject clearly oversized input before decoding it.
  if (Math.floor((data.length * 3) / 4) > maxRecordBytes + 2) {
    return reject(RejectReason.RecordTooLarge, `the record data exceeds ${maxRecordBytes} bytes`);
  }
  if (!BASE64.test(data)) return reject(RejectReason.InvalidBase64, 'the record data is not valid base64');
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length > maxRecordBytes) return reject(RejectReason.RecordTooLarge, `the record data exceeds ${maxRecordBytes} bytes`);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return reject(RejectReason.InvalidUtf8, 'the record data is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return reject(RejectReason.InvalidJson, 'the record data is not valid JSON');
  }
  return validateEvent(value, maxPayloadBytes);
}

export function isRejection(value: TelemetryEvent | Rejection): value is Rejection {
  return 'reason' in value;
}
