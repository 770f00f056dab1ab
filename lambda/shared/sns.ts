/**
 * SNS client factory with timeouts and retries. The endpoint comes from the standard
 * `AWS_ENDPOINT_URL_SNS` variable when set; create clients lazily (`lazySnsClient`).
 */
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { AWS_CLIENT_DEFAULTS, awsClientConfig, lazy } from './aws-client';

export const SNS_CLIENT_DEFAULTS = AWS_CLIENT_DEFAULTS;

/** PublishBatch limit: entries per call. */
export const SNS_BATCH_LIMITS = {
  maxEntries: 10,
} as const;

export function createSnsClient(config: SNSClientConfig = {}): SNSClient {
  return new SNSClient({ ...awsClientConfig(), ...config });
}

/** A memoized getter: the client is created on first use, once per execution environment. */
export function lazySnsClient(config: SNSClientConfig = {}): () => SNSClient {
  return lazy(() => createSnsClient(config));
}
