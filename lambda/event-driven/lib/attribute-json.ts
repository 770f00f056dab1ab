/**
 * The JSON form of DynamoDB attribute values in the published events ("tagged JSON"): plain JSON
 * where JSON can say exactly what DynamoDB stored, a one-key tag object where it cannot.
 *
 * | DynamoDB | event JSON |
 * |---|---|
 * | S | string |
 * | N | number, when the IEEE double prints back to the same decimal value (e.g. `12.5`, `1e+100`); otherwise `{"$n": "<the decimal string as stored>"}` (e.g. 38-digit numbers, `0.1000000000000000000001`) |
 * | BOOL | boolean |
 * | NULL | null |
 * | L | array |
 * | M | object, except a map whose ONLY key is a tag name: `{"$m": {...}}` (so it cannot be read as a tag) |
 * | B | `{"$b": "<base64>"}` |
 * | SS | `{"$ss": [strings, sorted]}` |
 * | NS | `{"$ns": [decimal strings, sorted numerically]}` (always strings: sets are for exact values) |
 * | BS | `{"$bs": [base64 strings, sorted]}` |
 *
 * Decoding: an object with exactly one key that is a tag name is that tag; every other object is a
 * map. The mapping is lossless: `decodeAttribute(encodeAttribute(v))` is `v` with numbers in their
 * canonical decimal form and sets sorted (DynamoDB sets have no order).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export const TAG = {
  Number: '$n',
  Binary: '$b',
  StringSet: '$ss',
  NumberSet: '$ns',
  BinarySet: '$bs',
  Map: '$m',
} as const;

const TAG_NAMES: ReadonlySet<string> = new Set(Object.values(TAG));

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A value that is not a well-formed DynamoDB attribute value (a hostile or corrupt record). */
export class AttributeValueError extends Error {
  constructor(public readonly path: string, message: string) {
    super(`${path || '/'}: ${message}`);
    this.name = 'AttributeValueError';
  }
}

/** DynamoDB allows 32 levels of nesting; deeper input is rejected before it can exhaust the stack. */
export const MAX_DEPTH = 40;

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/;

/** A decimal number as sign, significant digits (no leading or trailing zeros) and exponent of the last digit. */
interface Decimal {
  readonly negative: boolean;
  readonly digits: string;
  readonly exponent: number;
}

export function parseDecimal(text: string): Decimal | undefined {
  const m = DECIMAL.exec(text.trim());
  if (!m) return undefined;
  const [, sign, int = '', frac = '', exp = '0'] = m;
  if (int === '' && frac === '') return undefined;
  let digits = `${int}${frac}`;
  let exponent = Number(exp) - frac.length;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return { negative: false, digits: '0', exponent: 0 };
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return { negative: sign === '-', digits, exponent };
}

/** The plain decimal notation (no exponent) of a number string, e.g. `1.5E3` -> `1500`, `-0.00` -> `0`. */
export function canonicalDecimal(text: string): string | undefined {
  const d = parseDecimal(text);
  if (d === undefined) return undefined;
  if (d.digits === '0') return '0';
  let body: string;
  if (d.exponent >= 0) {
    body = d.digits + '0'.repeat(d.exponent);
  } else {
    const point = d.digits.length + d.exponent;
    body = point > 0 ? `${d.digits.slice(0, point)}.${d.digits.slice(point)}` : `0.${'0'.repeat(-point)}${d.digits}`;
  }
  return d.negative ? `-${body}` : body;
}

function sameDecimal(a: Decimal, b: Decimal): boolean {
  return a.negative === b.negative && a.digits === b.digits && a.exponent === b.exponent;
}

/** The JSON number for a DynamoDB number string when it is exactly a double, else `undefined`. */
export function exactJsonNumber(text: string): number | undefined {
  const d = parseDecimal(text);
  if (d === undefined) return undefined;
  const n = Number(text.trim());
  if (!Number.isFinite(n)) return undefined;
  const back = parseDecimal(String(n));
  return back !== undefined && sameDecimal(d, back) ? (Object.is(n, -0) ? 0 : n) : undefined;
}

function compareDecimals(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function base64(value: unknown, path: string): string {
  // Lambda passes B as base64 text (JSON event); the SDK unmarshals it to bytes.
  if (typeof value === 'string') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new AttributeValueError(path, 'B is not base64');
    return value;
  }
  if (isBytes(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  throw new AttributeValueError(path, 'B must be base64 text or bytes');
}

function numberText(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length > 200 || parseDecimal(value) === undefined) {
    throw new AttributeValueError(path, 'N must be a decimal number string');
  }
  return value;
}

function stringList(value: unknown, path: string, kind: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw new AttributeValueError(path, `${kind} must be a non-empty array`);
  return value;
}

function checkString(value: unknown, path: string, kind: string): string {
  if (typeof value !== 'string') throw new AttributeValueError(path, `${kind} must be a string`);
  return value;
}

const sortStrings = (values: string[]): string[] => values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Encodes one attribute value; throws `AttributeValueError` for anything malformed. */
export function encodeAttribute(value: unknown, path = '', depth = 0): JsonValue {
  if (depth > MAX_DEPTH) throw new AttributeValueError(path, `nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AttributeValueError(path, 'not an attribute value');
  const types = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined && k !== '$unknown');
  if (types.length !== 1) throw new AttributeValueError(path, `an attribute value has exactly one type, got ${types.length}`);
  const type = types[0];
  const v = (value as Record<string, unknown>)[type];
  switch (type) {
    case 'S':
      return checkString(v, path, 'S');
    case 'N': {
      const text = numberText(v, path);
      const exact = exactJsonNumber(text);
      return exact !== undefined ? exact : { [TAG.Number]: canonicalDecimal(text)! };
    }
    case 'BOOL':
      if (typeof v !== 'boolean') throw new AttributeValueError(path, 'BOOL must be a boolean');
      return v;
    case 'NULL':
      if (v !== true) throw new AttributeValueError(path, 'NULL must be true');
      return null;
    case 'B':
      return { [TAG.Binary]: base64(v, path) };
    case 'SS':
      return { [TAG.StringSet]: sortStrings(stringList(v, path, 'SS').map((s, i) => checkString(s, `${path}/${i}`, 'an SS member'))) };
    case 'NS':
      return {
        [TAG.NumberSet]: stringList(v, path, 'NS').map((s, i) => canonicalDecimal(numberText(s, `${path}/${i}`))!).sort(compareDecimals),
      };
    case 'BS':
      return { [TAG.BinarySet]: sortStrings(stringList(v, path, 'BS').map((b, i) => base64(b, `${path}/${i}`))) };
    case 'L': {
      if (!Array.isArray(v)) throw new AttributeValueError(path, 'L must be an array');
      return v.map((e, i) => encodeAttribute(e, `${path}/${i}`, depth + 1));
    }
    case 'M': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AttributeValueError(path, 'M must be an object');
      const encoded = encodeAttributeMap(v as Record<string, unknown>, path, depth + 1);
      const keys = Object.keys(encoded);
      return keys.length === 1 && TAG_NAMES.has(keys[0]) ? { [TAG.Map]: encoded } : encoded;
    }
    default:
      throw new AttributeValueError(path, `unknown attribute type ${JSON.stringify(type.slice(0, 20))}`);
  }
}

/** Encodes an item (or its keys): an object of attribute name -> attribute value. */
export function encodeAttributeMap(map: Record<string, unknown>, path = '', depth = 0): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const name of Object.keys(map)) {
    // defineProperty: a `__proto__` attribute name becomes an own key, never the prototype.
    Object.defineProperty(out, name, {
      value: encodeAttribute(map[name], `${path}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The decimal text of a number DynamoDB can store (38 significant digits, 1e-130 <= |n| < 1e126, or 0), else throws. */
function storableDecimal(text: string, path: string, canonicalOnly = false): string {
  const d = parseDecimal(text);
  if (d === undefined) throw new AttributeValueError(path, 'not a decimal number');
  // `$n` and `$ns` carry the plain notation the publisher writes (the schema's pattern).
  if (canonicalOnly && canonicalDecimal(text) !== text) throw new AttributeValueError(path, 'not a decimal in plain notation');
  if (d.digits !== '0') {
    const magnitude = d.digits.length - 1 + d.exponent;
    if (d.digits.length > 38 || magnitude < -130 || magnitude > 125) {
      throw new AttributeValueError(path, 'a number DynamoDB cannot store (38 digits, 1e-130 <= |n| < 1e126)');
    }
  }
  return canonicalDecimal(text)!;
}

function storableString(text: string, path: string): string {
  if (LONE_SURROGATE.test(text)) throw new AttributeValueError(path, 'a string with an unpaired surrogate');
  return text;
}

function unique<T>(values: T[], keyOf: (v: T) => string, path: string): T[] {
  if (new Set(values.map(keyOf)).size !== values.length) throw new AttributeValueError(path, 'a set with duplicate members');
  return values;
}

/**
 * Decodes the JSON form back to a DynamoDB attribute value that DynamoDB can store; throws
 * `AttributeValueError` when it is not one (bad tags, numbers out of DynamoDB's range or precision,
 * unpaired surrogates, duplicate set members, empty or over-long attribute names).
 */
export function decodeAttribute(value: unknown, path = '', depth = 0): AttributeValue {
  if (depth > MAX_DEPTH) throw new AttributeValueError(path, `nested deeper than ${MAX_DEPTH} levels`);
  if (value === null) return { NULL: true };
  if (typeof value === 'boolean') return { BOOL: value };
  if (typeof value === 'string') return { S: storableString(value, path) };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new AttributeValueError(path, 'not a finite number');
    return { N: storableDecimal(String(value), path) };
  }
  if (Array.isArray(value)) return { L: value.map((e, i) => decodeAttribute(e, `${path}/${i}`, depth + 1)) };
  if (typeof value !== 'object') throw new AttributeValueError(path, `unsupported ${typeof value}`);
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && TAG_NAMES.has(keys[0])) {
    const v = obj[keys[0]];
    const strings = (kind: string): string[] => {
      if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string')) {
        throw new AttributeValueError(path, `${kind} must be a non-empty array of strings`);
      }
      return v as string[];
    };
    switch (keys[0]) {
      case TAG.Number: {
        if (typeof v !== 'string' || v.length > 200) throw new AttributeValueError(path, '$n must be a decimal string');
        return { N: storableDecimal(v, path, true) };
      }
      case TAG.Binary:
        return { B: Buffer.from(base64(v, path), 'base64') };
      case TAG.StringSet:
        return { SS: unique(strings('$ss').map((m) => storableString(m, path)), (m) => m, path) };
      case TAG.NumberSet:
        return { NS: unique(strings('$ns').map((m) => storableDecimal(m, path, true)), (m) => m, path) };
      case TAG.BinarySet:
        return { BS: unique(strings('$bs').map((b) => Buffer.from(base64(b, path), 'base64')), (b) => b.toString('base64'), path) };
      default: {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AttributeValueError(path, '$m must be an object');
        return { M: decodeAttributeMap(v as Record<string, unknown>, path, depth + 1) };
      }
    }
  }
  return { M: decodeAttributeMap(obj, path, depth + 1) };
}

export function decodeAttributeMap(map: Record<string, unknown>, path = '', depth = 0): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const name of Object.keys(map)) {
    if (name === '' || Buffer.byteLength(name, 'utf8') > 65_535) throw new AttributeValueError(path, 'an attribute name must be 1..65535 bytes');
    storableString(name, path);
    Object.defineProperty(out, name, {
      value: decodeAttribute(map[name], `${path}/${name}`, depth),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Deep equality of two encoded values (object key order ignored; sets are sorted by the encoding). */
export function jsonEquals(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as JsonValue[];
    return a.length === bb.length && a.every((v, i) => jsonEquals(v, bb[i]));
  }
  const ao = a as { [key: string]: JsonValue };
  const bo = b as { [key: string]: JsonValue };
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && jsonEquals(ao[k], bo[k]));
}
