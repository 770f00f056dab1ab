/**
 * Secrets Manager access with timeouts, and a per-execution-environment cache: the secret is
 * read on first use (never at import, so a cold start needs no network) and kept until
 * `invalidate()` (e.g. after the peer rejected the credential, so that a rotated secret is
 * picked up by the next invocation). A failed read is not cached.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_CLIENT_DEFAULTS, awsClientConfig } from './aws-client';

export { SecretsManagerClient };

export const SECRETS_CLIENT_DEFAULTS = AWS_CLIENT_DEFAULTS;

export function createSecretsClient(): SecretsManagerClient {
  return new SecretsManagerClient(awsClientConfig());
}

/** The secret has no `SecretString` (binary secrets are not supported). */
export class SecretFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFormatError';
  }
}

export interface CachedSecret {
  /** The `SecretString` of the current version, read once and cached. */
  get(abortSignal?: AbortSignal): Promise<string>;
  /** Forgets the cached value: the next `get()` reads the secret again. */
  invalidate(): void;
}

/**
 * A cached reader of one secret (`GetSecretValue` with `SecretId` only, i.e. the `AWSCURRENT`
 * version). The client is created on first use.
 */
export function cachedSecretString(secretId: string, clientFactory: () => SecretsManagerClient = createSecretsClient): CachedSecret {
  let client: SecretsManagerClient | undefined;
  let pending: Promise<string> | undefined;
  return {
    get(abortSignal) {
      pending ??= (async () => {
        client ??= clientFactory();
        const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal });
        if (typeof out.SecretString !== 'string') {
          throw new SecretFormatError('The secret has no SecretString (binary secrets are not supported)');
        }
        return out.SecretString;
      })();
      const current = pending;
      current.catch(() => {
        if (pending === current) pending = undefined;
      });
      return current;
    },
    invalidate() {
      pending = undefined;
    },
  };
}
