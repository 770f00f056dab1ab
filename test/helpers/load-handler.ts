/**
 * Loads a handler module with a given environment, in an isolated module registry
 * (`jest.isolateModules`), so that its cold-start code (config validation, module-scope clients)
 * runs again with exactly that environment. The environment is restored afterwards; handlers read
 * their configuration at import and create SDK clients lazily on first use.
 */
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyHandler, APIGatewayProxyResult, Context } from 'aws-lambda';
import { lambdaContext } from './api-gateway-events';

export const REPO_ROOT = join(__dirname, '..', '..');

/** Every variable the REST API handler reads; unset before each load unless given. */
export const REST_API_ENV_VARS = [
  'TABLE_NAME',
  'RESOURCE_NAME',
  'REQUIRE_IF_MATCH',
  'MAX_BODY_BYTES',
  'DEFAULT_PAGE_SIZE',
  'MAX_PAGE_SIZE',
  'ITEM_SCHEMA',
  'CORS_ALLOW_ORIGINS',
  'ITEM_OWNER_CLAIM',
  'POWERTOOLS_SERVICE_NAME',
] as const;

/** Logs are silent in tests unless a test asks otherwise. */
const QUIET_ENV = { POWERTOOLS_LOG_LEVEL: 'SILENT' } as const;

export type Env = Record<string, string | undefined>;

/**
 * Requires `modulePath` (absolute, or relative to the repository root) and the `alsoRequire`
 * modules in one fresh registry, with `env` applied over the current environment after unsetting
 * `clear`. Throws what the module's cold start throws.
 */
export function isolatedRequire<T>(
  modulePath: string,
  env: Env,
  clear: readonly string[] = [],
  alsoRequire: readonly string[] = [],
): { module: T; others: unknown[] } {
  const saved: Env = {};
  const keys = new Set([...clear, ...Object.keys(QUIET_ENV), ...Object.keys(env)]);
  for (const key of keys) saved[key] = process.env[key];
  try {
    for (const key of clear) delete process.env[key];
    for (const [key, value] of Object.entries({ ...QUIET_ENV, ...env })) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    let loaded: T | undefined;
    const others: unknown[] = [];
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(modulePath.startsWith('/') ? modulePath : join(REPO_ROOT, modulePath)) as T;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      for (const other of alsoRequire) others.push(require(other));
    });
    return { module: loaded as T, others };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

export type Invoke = (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult>;

export interface LoadedRestApi {
  readonly handler: APIGatewayProxyHandler;
  /** Calls the handler with a fresh Lambda context and awaits its result. */
  readonly invoke: Invoke;
  /** `@aws-sdk/lib-dynamodb` from the handler's registry (to mock its DocumentClient). */
  readonly libDynamodb: typeof import('@aws-sdk/lib-dynamodb');
}

/** Cold-starts `lambda/rest-api/api.ts` with `env` (other REST API variables unset). */
export function loadRestApi(env: Env): LoadedRestApi {
  const { module, others } = isolatedRequire<{ handler: APIGatewayProxyHandler }>(
    'lambda/rest-api/api',
    env,
    REST_API_ENV_VARS,
    ['@aws-sdk/lib-dynamodb'],
  );
  const handler = module.handler;
  const invoke: Invoke = async (event, context = lambdaContext()) => {
    const result = await handler(event, context, () => undefined);
    if (!result) throw new Error('handler returned no result');
    return result;
  };
  return { handler, invoke, libDynamodb: others[0] as typeof import('@aws-sdk/lib-dynamodb') };
}
