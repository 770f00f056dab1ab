/**
 * SQS client factory with timeouts and retries. The endpoint comes from the standard
 * `AWS_ENDPOINT_URL_SQS` variable when set; create clients lazily (`lazySqsClient`).
 */
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

export const SQS_CLIENT_DEFAULTS = {
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 3_000,
  maxAttempts: 3,
} as const;

/** SendMessageBatch limits: entries per call and total payload bytes per call. */
export const SQS_BATCH_LIMITS = {
  maxEntries: 10,
  maxBatchBytes: 262_144,
} as const;

export function createSqsClient(config: SQSClientConfig = {}): SQSClient {
  return new SQSClient({
    maxAttempts: SQS_CLIENT_DEFAULTS.maxAttempts,
    requestHandler: {
      connectionTimeout: SQS_CLIENT_DEFAULTS.connectionTimeoutMs,
      requestTimeout: SQS_CLIENT_DEFAULTS.requestTimeoutMs,
    },
    ...config,
  });
}

/** A memoized getter: the client is created on first use, once per execution environment. */
export function lazySqsClient(config: SQSClientConfig = {}): () => SQSClient {
  let client: SQSClient | undefined;
  return () => {
    client ??= createSqsClient(config);
    return client;
  };
}

/**
 * JSON text in which every character outside printable ASCII is escaped (`\uXXXX`): SQS rejects
 * message bodies with characters outside its XML-based set (e.g. U+FFFE, lone surrogates).
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
