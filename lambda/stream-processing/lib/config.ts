/**
 * Configuration of the stream processor, from environment variables, validated at cold start.
 *
 * | variable | default | rule |
 * |---|---|---|
 * | TABLE_NAME | (required) | DynamoDB table with `pk` (S) partition key and `sk` (S) sort key |
 * | REJECTED_QUEUE_URL | (required) | `https://...` (or `http://` for a local endpoint) SQS queue URL for records that can never succeed |
 * | MAX_PARALLEL_WRITES | 10 | 1..100 DynamoDB writes in flight per invocation |
 * | COUNT_SHARDS | 1 | 1..100 count items per source and minute (see `keys.ts`): raise it for sources above about 3,000 (128-character ids) to 10,000 (UUIDs) events per minute; do not change it while records of the stream's retention may still be replayed |
 * | MAX_PAYLOAD_BYTES | 102400 | 1..307200: largest `payload` (estimated DynamoDB size) accepted |
 * | POWERTOOLS_SERVICE_NAME | `stream-processor` | logger service name |
 */
import { EnvReader } from '../../shared/config';

export const QUEUE_URL_PATTERN = /^https?:\/\/[^\s/]+\/\S+$/;
/** Keeps the latest item (payload + about 1 KB of fields) under DynamoDB's 400 KB item limit. */
export const MAX_PAYLOAD_BYTES_LIMIT = 307_200;

export interface StreamProcessorConfig {
  readonly tableName: string;
  readonly rejectedQueueUrl: string;
  readonly maxParallelWrites: number;
  readonly countShards: number;
  readonly maxPayloadBytes: number;
}

/** Reads and validates the configuration; throws one `ConfigError` listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): StreamProcessorConfig {
  const reader = new EnvReader(env);
  const config: StreamProcessorConfig = {
    tableName: reader.requiredString('TABLE_NAME'),
    rejectedQueueUrl: reader.requiredString('REJECTED_QUEUE_URL', { pattern: QUEUE_URL_PATTERN }),
    maxParallelWrites: reader.integerInRange('MAX_PARALLEL_WRITES', 10, 1, 100),
    countShards: reader.integerInRange('COUNT_SHARDS', 1, 1, 100),
    maxPayloadBytes: reader.integerInRange('MAX_PAYLOAD_BYTES', 102_400, 1, MAX_PAYLOAD_BYTES_LIMIT),
  };
  reader.done();
  return config;
}
