/**
 * Configuration of the REST resource service, from environment variables, validated at cold start.
 *
 * | variable | default | rule |
 * |---|---|---|
 * | TABLE_NAME | (required) | DynamoDB table with `pk` (S) partition key and `sk` (S) sort key |
 * | RESOURCE_NAME | `items` | `^[a-z][a-z0-9-]{0,62}$`; the paths are `/<name>` and `/<name>/{id}` |
 * | REQUIRE_IF_MATCH | `true` | `true`: PUT/DELETE without If-Match -> 428 |
 * | MAX_BODY_BYTES | 65536 | 1..262144 |
 * | DEFAULT_PAGE_SIZE | 25 | 1..MAX_PAGE_SIZE |
 * | MAX_PAGE_SIZE | 100 | 1..1000 |
 * | ITEM_SCHEMA | none | a JSON Schema (draft-07, or 2020-12 via `$schema`) for the client fields |
 * | CORS_ALLOW_ORIGINS | none | `*` or comma separated origins |
 */
import { compileItemSchema, type ItemValidator } from './schema';
import { EnvReader } from '../../shared/config';
import { parseCorsOrigins, type CorsConfig } from '../../shared/http';

export const RESOURCE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** DynamoDB items are at most 400 KB; the body limit keeps every stored item below it. */
export const MAX_BODY_BYTES_LIMIT = 262_144;

export interface RestApiConfig {
  readonly tableName: string;
  readonly resourceName: string;
  readonly requireIfMatch: boolean;
  readonly maxBodyBytes: number;
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
  readonly validateItem?: ItemValidator;
  readonly cors?: CorsConfig;
}

/** Response headers a browser client needs to read. */
export const EXPOSED_HEADERS = ['ETag', 'Location', 'Idempotent-Replayed'] as const;

/** Reads and validates the configuration; throws one `ConfigError` listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RestApiConfig {
  const reader = new EnvReader(env);
  const tableName = reader.requiredString('TABLE_NAME');
  const resourceName = reader.stringWithDefault('RESOURCE_NAME', 'items', { pattern: RESOURCE_NAME_PATTERN });
  const requireIfMatch = reader.booleanFlag('REQUIRE_IF_MATCH', true);
  const maxBodyBytes = reader.integerInRange('MAX_BODY_BYTES', 65_536, 1, MAX_BODY_BYTES_LIMIT);
  const maxPageSize = reader.integerInRange('MAX_PAGE_SIZE', 100, 1, 1000);
  const defaultPageSize = reader.integerInRange('DEFAULT_PAGE_SIZE', Math.min(25, maxPageSize), 1, 1000);
  if (defaultPageSize > maxPageSize) {
    reader.problem('DEFAULT_PAGE_SIZE', `must not exceed MAX_PAGE_SIZE (${maxPageSize}), got "${defaultPageSize}"`);
  }
  const validateItem = reader.parsed('ITEM_SCHEMA', compileItemSchema);
  const origins = reader.parsed('CORS_ALLOW_ORIGINS', (value) => {
    const parsed = parseCorsOrigins(value);
    if (typeof parsed === 'object' && 'problem' in parsed) throw new Error(`${parsed.problem}, got ${JSON.stringify(value)}`);
    return parsed;
  });
  reader.done();
  return {
    tableName,
    resourceName,
    requireIfMatch,
    maxBodyBytes,
    defaultPageSize,
    maxPageSize,
    ...(validateItem ? { validateItem } : {}),
    ...(origins ? { cors: { allowOrigins: origins, exposeHeaders: EXPOSED_HEADERS } } : {}),
  };
}
