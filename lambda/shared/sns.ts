/**
 * SNS client factory with timeouts and retries. The endpoint comes from the standard
 * `AWS_ENDPOINT_URL_SNS` variable when set; create clients lazily (`lazySnsClient`).
 */
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';

export const SNS_CLIENT_DEFAULTS = {
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 3_000,
  maxAttempts: 3,
} as const;

/** PublishBatch limit: entries per call. */
export const SNS_BATCH_LIMITS = {
  maxEntries: 10,
} as const;

export function createSnsClient(config: SNSClientConfig = {}): SNSClient {
  return new SNSClient({
    maxAttempts: SNS_CLIENT_DEFAULTS.maxAttempts,
    requestHandler: {
      connectionTimeout: SNS_CLIENT_DEFAULTS.connectionTimeoutMs,
      requestTimeout: SNS_CLIENT_DEFAULTS.requestTimeoutMs,
    },
    ...config,
  });
}

/** A memoized getter: the client is created on first use, once per execution environment. */
export function lazySnsClient(config: SNSClientConfig = {}): () => SNSClient {
  let client: SNSClient | undefined;
  return () => {
    client ??= createSnsClient(config);
    return client;
  };
}
