/**
 * Loaders of the event-driven handlers (cold start in an isolated module registry with a given
 * environment), the v1 event schemas compiled with ajv, and helpers shared by their tests.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { lambdaContext } from './api-gateway-events';
import type { BusEvent } from './event-bus';
import { isolatedRequire, REPO_ROOT, type Env } from './load-handler';
import { toChangeEvent } from '../../lambda/event-driven/lib/change-event';

export const PUBLISHER_ENV_VARS = [
  'EVENT_BUS_NAME',
  'EVENT_SOURCE',
  'ENTITY_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_METRICS_DISABLED',
  'MAX_PUT_ATTEMPTS',
  'RETRY_BASE_DELAY_MS',
  'MAX_RETRY_DELAY_MS',
  'POWERTOOLS_SERVICE_NAME',
] as const;

export const CONSUMER_ENV_VARS = ['TABLE_NAME', 'TOMBSTONE_RETENTION_DAYS', 'POWERTOOLS_SERVICE_NAME'] as const;

export const TEST_SOURCE = 'com.example.orders';
export const TEST_ENTITY = 'order';

export interface LoadedPublisher {
  readonly handler: (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse>;
  /** `@aws-sdk/client-eventbridge` of the handler's registry. */
  readonly clientEventBridge: typeof import('@aws-sdk/client-eventbridge');
  invoke(event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse>;
}

/** A context with a generous deadline (the tests never depend on it firing). */
export function streamContext(remainingMs = 60_000): Context {
  return lambdaContext({ functionName: 'event-publisher', getRemainingTimeInMillis: () => remainingMs });
}

/**
 * Cold-starts the publisher. Metrics are off unless `env` turns them on; retries wait 1..4 ms
 * (the backoff itself is not what these tests measure).
 */
export function loadPublisher(env: Env): LoadedPublisher {
  const { module, others } = isolatedRequire<{ handler: LoadedPublisher['handler'] }>(
    'lambda/event-driven/publisher',
    { POWERTOOLS_METRICS_DISABLED: 'true', RETRY_BASE_DELAY_MS: '1', MAX_RETRY_DELAY_MS: '4', ...env },
    PUBLISHER_ENV_VARS,
    ['@aws-sdk/client-eventbridge'],
  );
  return {
    handler: module.handler,
    invoke: (event, context = streamContext()) => module.handler(event, context),
    clientEventBridge: others[0] as typeof import('@aws-sdk/client-eventbridge'),
  };
}

export interface ProjectionResult {
  readonly eventId: string;
  readonly outcome: 'applied' | 'duplicate' | 'stale';
}

export interface LoadedConsumer {
  readonly clientDynamodb: typeof import('@aws-sdk/client-dynamodb');
  invoke(event: unknown, context?: Context): Promise<ProjectionResult>;
}

export function loadConsumer(env: Env): LoadedConsumer {
  const { module, others } = isolatedRequire<{ handler: (event: unknown, context?: Context) => Promise<ProjectionResult> }>(
    'lambda/event-driven/projection-consumer',
  env,
  CONSUMER_ENV_VARS,
  ['@aws-sdk/client-dynamodb'],
  );
  return {
    invoke: (event, context = lambdaContext({ functionName: 'projection-consumer', getRemainingTimeInMillis: () => 60_000 })) => module.handler(event, context),
    clientDynamodb: others[0] as typeof import('@aws-sdk/client-dynamodb'),
  };
}

export const SCHEMA_DIR = join(REPO_ROOT, 'lib', 'event-driven', 'schemas');
export const CHANGES = ['created', 'updated', 'deleted'] as const;
export type Change = (typeof CHANGES)[number];

/** The published JSON Schema of a change, as a parsed object. */
export function schemaOf(change: Change): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, `entity-${change}.v1.json`), 'utf8')) as Record<string, unknown>;
}

let validators: Record<Change, ValidateFunction> | undefined;

/** ajv (strict) validators of the three schemas, `$schema` removed (ajv 8 speaks draft-07; the schemas use only keywords common to both). */
export function detailValidators(): Record<Change, ValidateFunction> {
  if (validators) return validators;
  const ajv = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
  const compile = (change: Change): ValidateFunction => {
    const { $schema, ...schema } = schemaOf(change);
    return ajv.compile(schema);
  };
  validators = { created: compile('created'), updated: compile('updated'), deleted: compile('deleted') };
  return validators;
}

/** Validates an event's detail against the schema its detail type names; returns ajv's errors (empty when valid). */
export function schemaErrors(detailType: string, detail: unknown): string[] {
  const change = /\.(created|updated|deleted)\.v1$/.exec(detailType)?.[1] as Change | undefined;
  if (change === undefined) return [`unknown detail type ${detailType}`];
  const validate = detailValidators()[change];
  return validate(detail) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** An event as the bus delivers it to a rule's target. */
export type TestEnvelope = BusEvent;

/** The EventBridge event a rule target receives for each record's published entry (as the publisher builds it). */
export function envelopesOf(records: readonly DynamoDBRecord[], entity = TEST_ENTITY): TestEnvelope[] {
  return records.flatMap((record) => {
    const conversion = toChangeEvent(record, { entity, source: TEST_SOURCE, eventBus: 'bus' });
    if (conversion.kind !== 'event') return [];
    return [{
      'version': '0' as const,
      'id': randomUUID(),
      'detail-type': conversion.entry.DetailType!,
      'source': conversion.entry.Source!,
      'account': '123456789012',
      'time': `${conversion.detail.occurredAt.slice(0, 19)}Z`,
      'region': 'us-east-1',
      'resources': conversion.entry.Resources ?? [],
      'detail': JSON.parse(conversion.entry.Detail!) as Record<string, unknown>,
    }];
  });
}
