/**
 * Paging and optimistic concurrency of an HTTP collection (the resource API's items, the file
 * API's files): one set of variables with one set of defaults, the handler side of the
 * constructs' `CollectionApiProps`.
 *
 * | variable | default | rule |
 * |---|---|---|
 * | REQUIRE_IF_MATCH | `true` | `true`: replacing or deleting an existing entry without If-Match -> 428 |
 * | DEFAULT_PAGE_SIZE | 25 | 1..MAX_PAGE_SIZE |
 * | MAX_PAGE_SIZE | 100 | 1..1000 |
 */
import type { EnvReader } from './config';

export const COLLECTION_DEFAULTS = { requireIfMatch: true, defaultPageSize: 25, maxPageSize: 100 } as const;
export const MAX_PAGE_SIZE_LIMIT = 1000;

export interface CollectionSettings {
  readonly requireIfMatch: boolean;
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
}

/** Reads the collection variables; problems go to `reader` (call `reader.done()` after). */
export function readCollectionSettings(reader: EnvReader): CollectionSettings {
  const requireIfMatch = reader.booleanFlag('REQUIRE_IF_MATCH', COLLECTION_DEFAULTS.requireIfMatch);
  const maxPageSize = reader.integerInRange('MAX_PAGE_SIZE', COLLECTION_DEFAULTS.maxPageSize, 1, MAX_PAGE_SIZE_LIMIT);
  const defaultPageSize = reader.integerInRange('DEFAULT_PAGE_SIZE', Math.min(COLLECTION_DEFAULTS.defaultPageSize, maxPageSize), 1, MAX_PAGE_SIZE_LIMIT);
  if (defaultPageSize > maxPageSize) {
    reader.problem('DEFAULT_PAGE_SIZE', `must not exceed MAX_PAGE_SIZE (${maxPageSize}), got "${defaultPageSize}"`);
  }
  return { requireIfMatch, defaultPageSize, maxPageSize };
}
