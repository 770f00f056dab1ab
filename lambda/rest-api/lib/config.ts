/**
 * Configuration of the REST resource service, from environment variables, validated at cold start.
 *
 * | variable | default | rule |
 * |---|---|---|
 * | TABLE_NAME | (required) | DynamoDB table with `pk` (S) partition key and `sk` (S) sort key |
 *
 * and the resource contract's variables (RESOURCE_NAME, REQUIRE_IF_MATCH, MAX_BODY_BYTES,
 * DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ITEM_SCHEMA, CORS_ALLOW_ORIGINS, ITEM_OWNER_CLAIM): see
 * `lambda/shared/resource-api/config.ts`.
 */
import { EnvReader } from '../../shared/config';
import { readResourceApiSettings, type ResourceApiSettings } from '../../shared/resource-api/config';

export interface RestApiConfig extends ResourceApiSettings {
  readonly tableName: string;
}

/** Reads and validates the configuration; throws one `ConfigError` listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RestApiConfig {
  const reader = new EnvReader(env);
  const tableName = reader.requiredString('TABLE_NAME');
  const settings = readResourceApiSettings(reader);
  reader.done();
  return { tableName, ...settings };
}
