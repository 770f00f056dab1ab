/**
 * The resource API contract's settings, shared by every back end (DynamoDB, PostgreSQL), read
 * from environment variables with the caller's `EnvReader` (which reports every problem at once).
 *
 * | variable | default | rule |
 * |---|---|---|
 * | RESOURCE_NAME | `items` | `^[a-z][a-z0-9-]{0,62}$`; the paths are `/<name>` and `/<name>/{id}` |
 * | REQUIRE_IF_MATCH, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE | see `../collection-config.ts` | |
 * | MAX_BODY_BYTES | 65536 | 1..262144 |
 * | ITEM_SCHEMA | none | a JSON Schema (draft-07, or 2020-12 via `$schema`) for the client fields |
 * | CORS_ALLOW_ORIGINS | none | `*` or comma separated origins |
 * | ITEM_OWNER_CLAIM | none | an authorizer claim (e.g. `sub`): every item belongs to the caller it names, and a request only ever sees its own caller's items |
 */
import { compileItemSchema, type ItemValidator } from './schema';
import { readCollectionSettings, type CollectionSettings } from '../collection-config';
import type { EnvReader } from '../config';
import { parseCorsOrigins, type CorsConfig } from '../http';
import { OWNER_CLAIM_PATTERN } from './owner';

export const RESOURCE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** DynamoDB items are at most 400 KB; the body limit keeps every stored item below it (on every back end, for one contract). */
export const MAX_BODY_BYTES_LIMIT = 262_144;

/** Response headers a browser client needs to read. */
export const EXPOSED_HEADERS = ['ETag', 'Location', 'Idempotent-Replayed'] as const;

export interface ResourceApiSettings extends CollectionSettings {
  readonly resourceName: string;
  readonly maxBodyBytes: number;
  readonly validateItem?: ItemValidator;
  readonly cors?: CorsConfig;
  /** The authorizer claim that owns items (`requestOwner`); `undefined`: one collection shared by every caller. */
  readonly ownerClaim?: string;
}

/** Reads the contract's variables in a fixed order; problems go to `reader` (call `reader.done()` after). */
export function readResourceApiSettings(reader: EnvReader): ResourceApiSettings {
  const resourceName = reader.stringWithDefault('RESOURCE_NAME', 'items', { pattern: RESOURCE_NAME_PATTERN });
  const collection = readCollectionSettings(reader);
  const maxBodyBytes = reader.integerInRange('MAX_BODY_BYTES', 65_536, 1, MAX_BODY_BYTES_LIMIT);
  const validateItem = reader.parsed('ITEM_SCHEMA', compileItemSchema);
  const origins = reader.parsed('CORS_ALLOW_ORIGINS', (value) => {
    const parsed = parseCorsOrigins(value);
    if (typeof parsed === 'object' && 'problem' in parsed) throw new Error(`${parsed.problem}, got ${JSON.stringify(value)}`);
    return parsed;
  });
  const ownerClaim = reader.optionalString('ITEM_OWNER_CLAIM', { pattern: OWNER_CLAIM_PATTERN });
  return {
    resourceName,
    ...collection,
    maxBodyBytes,
    ...(validateItem ? { validateItem } : {}),
    ...(origins ? { cors: { allowOrigins: origins, exposeHeaders: EXPOSED_HEADERS } } : {}),
    ...(ownerClaim !== undefined ? { ownerClaim } : {}),
  };
}
