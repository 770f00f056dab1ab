/**
 * The single-table layout (partition key `pk`, sort key `sk`, both strings):
 *
 * | item | pk | sk | attributes |
 * |---|---|---|---|
 * | latest event of a source | `SOURCE#<source>` | `LATEST` | `id`, `source`, `type`, `timestamp` (ISO UTC), `epochMillis` (N), `payload` (M) |
 * | count of a source in one minute, shard k | `SOURCE#<source>` | `COUNT#<YYYY-MM-DDTHH:MM>#<kk>` | `minute` (S), `eventCount` (N), `counted` (SS of event ids) |
 *
 * `kk` is `fnv1a32(id) mod COUNT_SHARDS`, two digits. The count of a minute is the SUM of
 * `eventCount` over its shards: `Query pk = SOURCE#<source> AND begins_with(sk, 'COUNT#<minute>#')`
 * (or `sk BETWEEN 'COUNT#<from minute>' AND 'COUNT#<to minute>#~'` for a range), ConsistentRead
 * when exactness matters right after a write. `eventCount` always equals the size of `counted`:
 * both change in one conditional UpdateItem.
 */

export const LATEST_SK = 'LATEST';
const SOURCE_PREFIX = 'SOURCE#';
const COUNT_PREFIX = 'COUNT#';

export function sourcePk(source: string): string {
  return `${SOURCE_PREFIX}${source}`;
}

/** `YYYY-MM-DDTHH:MM` (UTC) of epoch milliseconds. */
export function minuteOf(epochMillis: number): string {
  return new Date(epochMillis).toISOString().slice(0, 16);
}

/** FNV-1a 32-bit hash of the UTF-16 code units of `value` (ids are ASCII, so of its bytes). */
/* eslint-disable no-bitwise -- a hash function is bit arithmetic */
export function fnv1a32(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
/* eslint-enable no-bitwise */

export function countShard(id: string, shards: number): number {
  return fnv1a32(id) % shards;
}

export function countSk(minute: string, shard: number): string {
  return `${COUNT_PREFIX}${minute}#${String(shard).padStart(2, '0')}`;
}

/** The sort key prefix of every count item of one minute. */
export function countSkPrefix(minute: string): string {
  return `${COUNT_PREFIX}${minute}#`;
}
