/**
 * `/config.json`: the deployment's settings, written by the construct at deploy time, so that one
 * build of the site runs in any stack. Read once at start-up and checked, so a broken deployment
 * fails with a message that names the field instead of somewhere inside the sign-in library.
 */
import type { WebAppAuthMetadata, WebAppRuntimeConfig } from '../../lib/web-app/runtime-config';

export type { WebAppRuntimeConfig };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export async function loadConfig(location = '/config.json'): Promise<WebAppRuntimeConfig> {
  // no-store: a redeployed stack (new client id, new API) must never meet a cached config.
  const response = await fetch(location, { cache: 'no-store', headers: { accept: 'application/json' } });
  if (!response.ok) throw new ConfigError(`${location} answered ${response.status}`);
  return parseConfig(await response.json());
}

/** Checks the shape of `WebAppRuntimeConfig`; throws a `ConfigError` naming the first bad field. */
export function parseConfig(value: unknown): WebAppRuntimeConfig {
  const root = record(value, 'config');
  const auth = record(root.auth, 'auth');
  const metadata = record(auth.metadata, 'auth.metadata');
  const scopes = auth.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string' && s !== '')) {
    throw new ConfigError('auth.scopes must be a non-empty list of scope names');
  }
  const optionalUrl = (key: keyof WebAppAuthMetadata): Record<string, string> =>
    metadata[key] === undefined ? {} : { [key]: url(metadata[key], `auth.metadata.${key}`) };
  return {
    apiBasePath: path(root.apiBasePath, 'apiBasePath'),
    resourceName: text(root.resourceName, 'resourceName'),
    auth: {
      authority: url(auth.authority, 'auth.authority'),
      clientId: text(auth.clientId, 'auth.clientId'),
      scopes: scopes as string[],
      redirectPath: path(auth.redirectPath, 'auth.redirectPath'),
      postLogoutRedirectPath: path(auth.postLogoutRedirectPath, 'auth.postLogoutRedirectPath'),
      ...(auth.logoutUriParameter === undefined ? {} : { logoutUriParameter: text(auth.logoutUriParameter, 'auth.logoutUriParameter') }),
      metadata: {
        issuer: url(metadata.issuer, 'auth.metadata.issuer'),
        authorization_endpoint: url(metadata.authorization_endpoint, 'auth.metadata.authorization_endpoint'),
        token_endpoint: url(metadata.token_endpoint, 'auth.metadata.token_endpoint'),
        end_session_endpoint: url(metadata.end_session_endpoint, 'auth.metadata.end_session_endpoint'),
        ...optionalUrl('revocation_endpoint'),
        ...optionalUrl('userinfo_endpoint'),
        ...optionalUrl('jwks_uri'),
      },
    },
  };
}

function record(value: unknown, name: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${name} must be an object`);
  return value as Record<string, unknown>;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${name} must be a non-empty string`);
  return value;
}

function path(value: unknown, name: string): string {
  const given = text(value, name);
  if (!given.startsWith('/')) throw new ConfigError(`${name} must be a path starting with "/", got "${given}"`);
  return given;
}

function url(value: unknown, name: string): string {
  const given = text(value, name);
  if (!URL.canParse(given)) throw new ConfigError(`${name} must be an absolute URL, got "${given}"`);
  return given;
}
