/**
 * Checks that a parsed JSON value can be stored in DynamoDB as it is, so that a client's bad
 * input is a 400 here and never a `ValidationException` (500) from DynamoDB later:
 * - numbers finite and in DynamoDB's range: 0, or 1e-130 <= |n| < 1e126
 *   (`JSON.parse('1e400')` is `Infinity`, `JSON.parse('1e-400')` is `0` and fine);
 * - nesting depth (objects and arrays) at most `maxDepth`, the value itself being depth 1;
 * - object keys 1..`maxKeyLength` characters;
 * - strings and keys well-formed UTF-16 (no lone surrogates, which cannot be encoded as UTF-8);
 * - no `__proto__` key (the SDK's serializers assign keys to plain objects and would drop it).
 * It also estimates the stored size (an upper bound under DynamoDB's item size rules: strings and
 * keys in UTF-8 bytes, +1 byte per list/map element, +3 per list/map).
 */
import { ValidationError, type ErrorDetail } from './http-errors';

export interface StorableOptions {
  /** @default 32 (DynamoDB's limit on nested attributes) */
  readonly maxDepth?: number;
  /** @default 255 */
  readonly maxKeyLength?: number;
  /** Stop after this many problems. @default 20 */
  readonly maxProblems?: number;
}

export const DYNAMODB_NUMBER_LIMITS = {
  /** |n| must be below this. */
  maxExclusive: 1e126,
  /** a non-zero |n| must be at least this. */
  minPositive: 1e-130,
} as const;

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Escapes one JSON pointer reference token (RFC 6901). */
export function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function isStorableNumber(n: number): boolean {
  if (!Number.isFinite(n)) return false;
  const abs = Math.abs(n);
  return abs === 0 || (abs >= DYNAMODB_NUMBER_LIMITS.minPositive && abs < DYNAMODB_NUMBER_LIMITS.maxExclusive);
}

/**
 * Bytes DynamoDB counts for a number, as the dynalite engine computes it (DynamoDB documents
 * "about one byte per two significant digits, plus one"): 1 + ceil(digits / 2), one more when both
 * the digit count and the decimal exponent are even, one more for a minus sign.
 */
function numberSize(n: number): number {
  if (n === 0) return 1;
  const [mantissa, exponent] = Math.abs(n).toExponential().split('e');
  const digits = mantissa.replace('.', '').length;
  const alignment = digits % 2 === 0 && Number(exponent) % 2 === 0 ? 1 : 0;
  return 1 + Math.ceil(digits / 2) + alignment + (n < 0 ? 1 : 0);
}

/**
 * Returns the problems (empty when storable) and the estimated DynamoDB size of the value in bytes.
 * Never throws; does not recurse (safe on arbitrarily deep input).
 */
export function checkDynamoStorable(value: unknown, options: StorableOptions = {}): { problems: ErrorDetail[]; sizeBytes: number } {
  const maxDepth = options.maxDepth ?? 32;
  const maxKeyLength = options.maxKeyLength ?? 255;
  const maxProblems = options.maxProblems ?? 20;
  const problems: ErrorDetail[] = [];
  let sizeBytes = 0;
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 1 }];
  while (stack.length > 0 && problems.length < maxProblems) {
    const { value: v, path, depth } = stack.pop()!;
    const where = path === '' ? '/' : path;
    if (v === null || typeof v === 'boolean') {
      sizeBytes += 1;
    } else if (typeof v === 'number') {
      if (!isStorableNumber(v)) {
        problems.push({ path: where, message: 'number is out of range (must be 0 or 1e-130 <= |n| < 1e126)' });
      } else {
        sizeBytes += numberSize(v);
      }
    } else if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) problems.push({ path: where, message: 'string contains an unpaired surrogate' });
      sizeBytes += Buffer.byteLength(v, 'utf8');
    } else if (Array.isArray(v) || typeof v === 'object') {
      if (depth > maxDepth) {
        problems.push({ path: where, message: `nesting is deeper than ${maxDepth} levels` });
        continue;
      }
      sizeBytes += 3;
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) {
          sizeBytes += 1;
          stack.push({ value: v[i], path: `${path}/${i}`, depth: depth + 1 });
        }
      } else {
        const entries = Object.entries(v as Record<string, unknown>);
        for (let i = entries.length - 1; i >= 0; i--) {
          const [key, child] = entries[i];
          const childPath = `${path}/${pointerToken(key)}`;
          if (key.length === 0 || key.length > maxKeyLength) {
            problems.push({ path: childPath, message: `object keys must be 1..${maxKeyLength} characters` });
          } else if (key === '__proto__') {
            problems.push({ path: childPath, message: 'the object key __proto__ is not supported' });
          } else if (LONE_SURROGATE.test(key)) {
            problems.push({ path: childPath, message: 'object key contains an unpaired surrogate' });
          }
          sizeBytes += 1 + Buffer.byteLength(key, 'utf8');
          stack.push({ value: child, path: childPath, depth: depth + 1 });
        }
      }
    } else {
      problems.push({ path: where, message: `unsupported value of type ${typeof v}` });
    }
  }
  return { problems, sizeBytes };
}

/** Throws a 400 `ValidationError` with one detail per problem; returns the estimated size. */
export function assertDynamoStorable(value: unknown, options: StorableOptions = {}): number {
  const { problems, sizeBytes } = checkDynamoStorable(value, options);
  if (problems.length > 0) {
    const first = problems[0];
    throw new ValidationError(`The request body cannot be stored: ${first.path}: ${first.message}`, problems);
  }
  return sizeBytes;
}
