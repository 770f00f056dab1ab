/**
 * SQS client factory with timeouts and retries. The endpoint comes from the standard
 * `AWS_ENDPOINT_URL_SQS` variable when set; create clients lazily (`lazySqsClient`).
 */
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { AWS_CLIENT_DEFAULTS, awsClientConfig, lazy } from './aws-client';

export const SQS_CLIENT_DEFAULTS = AWS_CLIENT_DEFAULTS;

/** SendMessageBatch limits: entries per call and total payload bytes per call. */
export const SQS_BATCH_LIMITS = {
  maxEntries: 10,
  maxBatchBytes: 262_144,
} as const;

export function createSqsClient(config: SQSClientConfig = {}): SQSClient {
  return new SQSClient({ ...awsClientConfig(), ...config });
}

/** A memoized getter: the client is created on first use, once per execution environment. */
export function lazySqsClient(config: SQSClientConfig = {}): () => SQSClient {
  return lazy(() => createSqsClient(config));
}

/**
 * JSON text in which every character outside printable ASCII is escaped (`\uXXXX`): SQS rejects
 * message bodies with characters outside its XML-based set (e.g. U+FFFE, lone surrogates).
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
