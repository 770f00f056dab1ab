/**
 * Item ids: canonical UUIDs (8-4-4-4-12 hex, any case on input, lower case when stored).
 * With an `Idempotency-Key`, the id is derived from it: a UUIDv8 (RFC 9562 custom layout) whose
 * bits come from SHA-256(resource name, key), so retries of one request address one item.
 */
import { createHash, randomUUID } from 'node:crypto';
import { canonicalJson } from '../canonical-json';
import { BadRequestError } from '../http-errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** 1..128 printable ASCII characters, not starting or ending with a space. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Validates a path id and returns its canonical (lower case) form; 400 otherwise. */
export function parseItemId(value: string | undefined): string {
  if (value === undefined || !isUuid(value)) throw new BadRequestError('The item id must be a UUID');
  return value.toLowerCase();
}

export function newItemId(): string {
  return randomUUID();
}

/** Validates an `Idempotency-Key` header value; 400 otherwise. */
export function parseIdempotencyKey(value: string): string {
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new BadRequestError('The Idempotency-Key header must be 1..128 printable ASCII characters');
  }
  return value;
}

/** The item id for an idempotency key, stable for a resource name and key. */
export function idFromIdempotencyKey(resourceName: string, key: string): string {
  const bytes = createHash('sha256').update(`${resourceName}\n${key}`, 'utf8').digest().subarray(0, 16);
  bytes[6] = 0x80 + (bytes[6] % 0x10); // version 8 in the high nibble
  bytes[8] = 0x80 + (bytes[8] % 0x40); // RFC 9562 variant: high bits 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** SHA-256 of the request's client fields in a canonical form (object keys sorted). */
export function requestHash(data: unknown): string {
  return createHash('sha256').update(canonicalJson(data), 'utf8').digest('base64url');
}


/** Whether `id` was derived from an Idempotency-Key (UUIDv8); generated ids are random UUIDv4s. */
export function isIdempotencyKeyId(id: string): boolean {
  return isUuid(id) && id[14] === '8';
}
