/**
 * Configuration of the event-driven handlers, from environment variables, validated at cold start
 * (one `ConfigError` naming every problem).
 *
 * Publisher (`publisher.ts`):
 * | variable | default | rule |
 * |---|---|---|
 * | EVENT_BUS_NAME | (required) | bus name (`[A-Za-z0-9._-/]{1,256}`) or bus ARN `arn:<partition>:events:<region>:<account>:event-bus/<name>`; passed as given to PutEvents |
 * | EVENT_SOURCE | (required) | the events' `source`: 1..256 printable ASCII characters, not starting with `aws.` |
 * | ENTITY_NAME | (required) | `[a-z][a-z0-9-]{0,39}`: detail types `<entity>.created.v1`, `.updated.v1`, `.deleted.v1` |
 * | POWERTOOLS_METRICS_NAMESPACE | `ServerlessReferenceArchitectures` | namespace of the publisher's metrics |
 * | MAX_PUT_ATTEMPTS | 5 | 1..10 attempts per PutEvents request (the first included) |
 * | RETRY_BASE_DELAY_MS | 100 | 1..10000, full-jitter exponential backoff base |
 * | MAX_RETRY_DELAY_MS | 2000 | 1..60000, cap on one wait |
 * | POWERTOOLS_SERVICE_NAME | `event-publisher` | logger service name |
 *
 * Projection consumer (`projection-consumer.ts`):
 * | variable | default | rule |
 * |---|---|---|
 * | TABLE_NAME | (required) | projection table, `pk` (S) partition key and `sk` (S) sort key, TTL attribute `expiresAt` |
 * | TOMBSTONE_RETENTION_DAYS | 30 | 1..3650: a deleted item's tombstone gets `expiresAt` = deletion time + this |
 * | POWERTOOLS_SERVICE_NAME | `projection-consumer` | logger service name |
 */
import { EnvReader } from '../../shared/config';

export const ENTITY_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
/** A bus name, or the ARN of a bus (its name after `event-bus/`). */
export const EVENT_BUS_PATTERN = /^(?:[A-Za-z0-9._\-/]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._\-/]{1,256})$/;
/** PutEvents `Source`: up to 256 characters; `aws.` sources are reserved for AWS services. */
export const EVENT_SOURCE_PATTERN = /^(?!aws\.)[\x21-\x7e]{1,256}$/;
export const DEFAULT_METRICS_NAMESPACE = 'ServerlessReferenceArchitectures';

export interface RetryConfig {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export interface PublisherConfig {
  /** As given: a name or an ARN (PutEvents `EventBusName` accepts both). */
  readonly eventBus: string;
  /** The bus name alone, for the `EventBusName` metric dimension. */
  readonly eventBusName: string;
  readonly source: string;
  readonly entity: string;
  readonly metricsNamespace: string;
  readonly retry: RetryConfig;
}

/** `arn:...:event-bus/orders` -> `orders`; a name stays as it is. */
export function busNameOf(bus: string): string {
  return bus.startsWith('arn:') ? bus.slice(bus.indexOf(':event-bus/') + ':event-bus/'.length) : bus;
}

export function loadPublisherConfig(env: NodeJS.ProcessEnv = process.env): PublisherConfig {
  const reader = new EnvReader(env);
  const eventBus = reader.requiredString('EVENT_BUS_NAME', { pattern: EVENT_BUS_PATTERN });
  const config: PublisherConfig = {
    eventBus,
    eventBusName: busNameOf(eventBus),
    source: reader.requiredString('EVENT_SOURCE', { pattern: EVENT_SOURCE_PATTERN }),
    entity: reader.requiredString('ENTITY_NAME', { pattern: ENTITY_NAME_PATTERN }),
    metricsNamespace: reader.stringWithDefault('POWERTOOLS_METRICS_NAMESPACE', DEFAULT_METRICS_NAMESPACE, { pattern: /^[\x21-\x7e]{1,255}$/ }),
    retry: {
      attempts: reader.integerInRange('MAX_PUT_ATTEMPTS', 5, 1, 10),
      baseDelayMs: reader.integerInRange('RETRY_BASE_DELAY_MS', 100, 1, 10_000),
      maxDelayMs: reader.integerInRange('MAX_RETRY_DELAY_MS', 2_000, 1, 60_000),
    },
  };
  reader.done();
  return config;
}

export interface ConsumerConfig {
  readonly tableName: string;
  readonly tombstoneRetentionSeconds: number;
}

export function loadConsumerConfig(env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  const reader = new EnvReader(env);
  const config: ConsumerConfig = {
    tableName: reader.requiredString('TABLE_NAME', { pattern: /^[A-Za-z0-9_.-]{3,255}$|^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/ }),
    tombstoneRetentionSeconds: reader.integerInRange('TOMBSTONE_RETENTION_DAYS', 30, 1, 3650) * 86_400,
  };
  reader.done();
  return config;
}
