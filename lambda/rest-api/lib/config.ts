/**
 * Configuration of the REST resource service, from environment variables, validated at cold start.
 *
 * | variable | default | rule |
 * |---|---|---|
 * | TABLE_NAME | (required) | DynamoDB table with `pk` (S) partition key and `sk` (S) sort key |
 * | ITEM_OWNER_CLAIM | none | an authorizer claim (e.g. `sub`): every item belongs to the caller it names, and a request only ever sees its own caller's items |
 *
 * and the resource contract's variables (RESOURCE_NAME, REQUIRE_IF_MATCH, MAX_BODY_BYTES,
 * DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ITEM_SCHEMA, CORS_ALLOW_ORIGINS): see
 * `lambda/shared/resource-api/config.ts`.
 */
import { EnvReader } from '../../shared/config';
import { readResourceApiSettings, type ResourceApiSettings } from '../../shared/resource-api/config';
import { OWNER_CLAIM_PATTERN } from '../../shared/resource-api/owner';

export interface RestApiConfig extends ResourceApiSettings {
  readonly tableName: string;
  /** The authorizer claim that owns items; `undefined`: one shared collection. */
  readonly ownerClaim?: string;
}

/** Reads and validates the configuration; throws one `ConfigError` listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RestApiConfig {
  const reader = new EnvReader(env);
  const tableName = reader.requiredString('TABLE_NAME');
  const settings = readResourceApiSettings(reader);
  const ownerClaim = reader.optionalString('ITEM_OWNER_CLAIM', { pattern: OWNER_CLAIM_PATTERN });
  reader.done();
  return { tableName, ...settings, ...(ownerClaim !== undefined ? { ownerClaim } : {}) };
}
