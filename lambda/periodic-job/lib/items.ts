/**
 * Reading a page: the items array at `ITEMS_PATH`, and each item checked and keyed.
 *
 * An item is valid when it is a JSON object, DynamoDB-storable as it is (`checkDynamoStorable`:
 * number range, nesting <= 32, key lengths, no lone surrogates, no `__proto__` key), at most
 * `MAX_RECORD_BYTES` when stored, and has at `ID_FIELD` either a string of 1..512 characters
 * (code points) and at most 1024 UTF-8 bytes (the sort key limit) or a finite number.
 * The sort key of a record is `String(id)`: the ids `7` and `"7"` address the same record.
 */
import { contentHash } from '../../shared/canonical-json';
import { checkDynamoStorable } from '../../shared/validate';

/** Stored data per record, estimated: DynamoDB items are at most 400 KB including keys and system attributes. */
export const MAX_RECORD_BYTES = 350_000;
export const MAX_ID_CHARS = 512;
export const MAX_ID_BYTES = 1024;

/** The response body is not what the configuration describes (not JSON, no items array...). */
export class MalformedResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedResponseError';
  }
}

/** An item that fails validation with `ON_INVALID_ITEM=fail`. */
export class InvalidItemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidItemError';
  }
}

/** Follows a dot path through own properties of objects (and array indexes); `found: false` when absent. */
export function readPath(value: unknown, path: readonly string[]): { found: true; value: unknown } | { found: false } {
  let current = value;
  for (const segment of path) {
    if (Array.isArray(current) && /^(?:0|[1-9]\d{0,8})$/.test(segment)) {
      const index = Number(segment);
      if (index >= current.length) return { found: false };
      current = current[index];
    } else if (current !== null && typeof current === 'object' && !Array.isArray(current) && Object.prototype.hasOwnProperty.call(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}

export function describePath(path: readonly string[]): string {
  return path.length === 0 ? 'the body' : JSON.stringify(path.join('.'));
}

/** Parses a page body (UTF-8 JSON); throws `MalformedResponseError`. */
export function parseBody(body: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new MalformedResponseError('The response body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedResponseError('The response body is not valid JSON');
  }
}

/** The items array of a parsed page; throws `MalformedResponseError` when there is none. */
export function extractItems(body: unknown, itemsPath: readonly string[]): unknown[] {
  const found = readPath(body, itemsPath);
  if (!found.found) throw new MalformedResponseError(`The response has no items at ${describePath(itemsPath)}`);
  if (!Array.isArray(found.value)) throw new MalformedResponseError(`The response's ${describePath(itemsPath)} is not an array`);
  return found.value;
}

export interface ValidItem {
  readonly valid: true;
  /** The sort key: `String(id)`. */
  readonly key: string;
  readonly id: string | number;
  readonly item: Record<string, unknown>;
  readonly hash: string;
}

export interface InvalidItem {
  readonly valid: false;
  readonly reason: string;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function checkId(id: unknown): string | undefined {
  if (typeof id === 'number') return Number.isFinite(id) ? undefined : 'the id is not a finite number';
  if (typeof id !== 'string') return `the id is ${id === null ? 'null' : Array.isArray(id) ? 'an array' : `of type ${typeof id}`}, not a string or number`;
  const chars = [...id].length;
  if (chars < 1 || chars > MAX_ID_CHARS) return `the id must be 1..${MAX_ID_CHARS} characters, got ${chars}`;
  if (LONE_SURROGATE.test(id)) return 'the id contains an unpaired surrogate';
  if (Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) return `the id must be at most ${MAX_ID_BYTES} UTF-8 bytes`;
  return undefined;
}

/** Checks one item; never throws (the input may be any JSON value). */
export function validateItem(value: unknown, idField: readonly string[]): ValidItem | InvalidItem {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { valid: false, reason: `the item is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `of type ${typeof value}`}, not an object` };
  }
  const found = readPath(value, idField);
  if (!found.found) return { valid: false, reason: `the item has no id at ${describePath(idField)}` };
  const idProblem = checkId(found.value);
  if (idProblem !== undefined) return { valid: false, reason: idProblem };
  const { problems, sizeBytes } = checkDynamoStorable(value, { maxProblems: 1 });
  if (problems.length > 0) return { valid: false, reason: `the item cannot be stored: ${problems[0].path}: ${problems[0].message}` };
  if (sizeBytes > MAX_RECORD_BYTES) return { valid: false, reason: `the item is larger than ${MAX_RECORD_BYTES} bytes` };
  const id = found.value as string | number;
  const item = value as Record<string, unknown>;
  return { valid: true, key: String(id), id, item, hash: contentHash(item) };
}
