/**
 * Schema migrations at deploy time: the `onEvent` handler of a CloudFormation custom resource
 * (CDK `custom-resources.Provider`), also invocable by hand with `{}`.
 *
 * - Create / Update (and `{}`): applies the pending `MIGRATIONS_DIR/NNNN_name.sql` files under
 *   the migration lock (`lib/migrations.ts`), then, with APP_USER_SECRET_ARN, creates or updates
 *   the API's least-privileged user (`lib/app-user.ts`). Returns
 *   `{ PhysicalResourceId: 'schema-migrations', Data: { applied: '<n>', latestVersion: '<v>' } }`.
 * - Delete: nothing (data is never dropped); returns the same PhysicalResourceId.
 * A failure throws: the Provider reports it to CloudFormation with this message.
 *
 * Connects as DB_USER (the admin user) through the proxy with an IAM token, over one dedicated
 * connection (the advisory lock belongs to its session, so the proxy pins it: right for this one
 * short session), closed at the end of every invocation.
 */
import type { Context } from 'aws-lambda';
import type { Client } from 'pg';
import { ensureAppUser, parseAppUserSecret } from './lib/app-user';
import { loadMigrateConfig } from './lib/config';
import { closeClient, connectClient } from './lib/db';
import { MigrationError, applyMigrations, readMigrations } from './lib/migrations';
import { lazy } from '../shared/aws-client';
import { invocationDeadline } from '../shared/deadline';
import { createLogger, startInvocation } from '../shared/logger';
import { cachedSecretString, createSecretsClient } from '../shared/secrets';

export const PHYSICAL_RESOURCE_ID = 'schema-migrations';

export interface MigrateEvent {
  readonly RequestType?: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties?: Record<string, unknown>;
}

export interface MigrateResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly applied: string; readonly latestVersion: string };
}

const config = loadMigrateConfig();
const logger = createLogger(PHYSICAL_RESOURCE_ID);
const secretsClient = lazy(createSecretsClient);

const REQUEST_TYPES = ['Create', 'Update', 'Delete'] as const;

export const handler = async (event: MigrateEvent | null | undefined, context?: Partial<Context>): Promise<MigrateResponse> => {
  const requestType = event?.RequestType;
  startInvocation(logger, context, { request_type: typeof requestType === 'string' ? requestType.slice(0, 40) : 'manual', ...(context?.awsRequestId ? { request_id: context.awsRequestId } : {}) });
  if (requestType !== undefined && !(REQUEST_TYPES as readonly string[]).includes(requestType)) {
    throw new MigrationError(`Unsupported RequestType ${JSON.stringify(String(requestType).slice(0, 40))}; expected Create, Update or Delete`);
  }
  if (requestType === 'Delete') {
    logger.info('delete: schema and data are kept');
    return { PhysicalResourceId: event?.PhysicalResourceId ?? PHYSICAL_RESOURCE_ID };
  }

  // Files first: a packaging mistake fails before any connection.
  const files = readMigrations(config.migrationsDir);
  const signal = invocationDeadline(context);
  const credentials = config.appUserSecretArn === undefined
    ? undefined
    : parseAppUserSecret(await cachedSecretString(config.appUserSecretArn, secretsClient).get(signal), config.db.user);

  let client: Client | undefined;
  try {
    client = await connectClient(config.db, { applicationName: PHYSICAL_RESOURCE_ID, ...(signal ? { signal } : {}) });
    const result = await applyMigrations(client, files, {
      lockTimeoutMs: config.lockTimeoutMs,
      statementTimeoutMs: config.db.statementTimeoutMs,
      ...(signal ? { signal } : {}),
      onApplied: (migration, durationMs) => logger.info('migration applied', { version: migration.version, name: migration.name, durationMs }),
      ...(credentials ? {
        afterMigrations: async (run) => {
          const { created } = await ensureAppUser(run, credentials);
          logger.info(created ? 'application user created' : 'application user updated', { username: credentials.username });
        },
      } : {}),
    });
    if (result.unknownVersions.length > 0) {
      logger.warn('the database has migrations this bundle does not know (applied by a newer deployment)', { versions: result.unknownVersions });
    }
    logger.info('migrations complete', { applied: result.applied, latestVersion: result.latestVersion });
    return { PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { applied: String(result.applied), latestVersion: String(result.latestVersion) } };
  } catch (err) {
    logger.error('migrations failed', err instanceof Error ? err : new Error(String(err)));
    throw err;
  } finally {
    if (client) await closeClient(client);
  }
};
