/**
 * A stable content hash of a JSON value: SHA-256 (hex) of its canonical JSON, i.e. `JSON.stringify`
 * with object keys sorted by UTF-16 code units, no whitespace, at every level. Two values that
 * are equal as JSON (whatever their key order) have the same hash.
 * The input must be depth-checked (the functions recurse), e.g. with `checkDynamoStorable`.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `sha256:<hex>` of the canonical JSON (the prefix names the algorithm, should it ever change). */
export function contentHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex')}`;
}
