/**
 * The part of `oidc-provider` (9.x, ESM, ships no types) that the local identity provider of the
 * browser test uses. Loaded with `await import('oidc-provider')` in the tsx child process only.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** What the provider stores per model (`Session`, `AccessToken`, `RefreshToken`, `Grant`, ...). */
  export interface AdapterPayload {
    readonly [key: string]: unknown;
    readonly grantId?: string;
    readonly uid?: string;
    readonly userCode?: string;
    consumed?: number;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientMetadata {
    readonly client_id: string;
    readonly client_name?: string;
    readonly token_endpoint_auth_method: 'none';
    readonly grant_types: readonly string[];
    readonly response_types: readonly string[];
    readonly redirect_uris: readonly string[];
    readonly post_logout_redirect_uris: readonly string[];
  }

  export interface Account {
    readonly accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface ResourceServer {
    readonly scope: string;
    readonly audience?: string;
    readonly accessTokenTTL?: number;
    readonly accessTokenFormat?: 'jwt' | 'opaque';
    readonly jwt?: { readonly sign?: { readonly alg: string } };
  }

  export class Grant {
    constructor(properties: { accountId: string; clientId: string });
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: readonly string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
    static find(id: string): Promise<Grant | undefined>;
  }

  export interface KoaContextWithOIDC {
    readonly host: string;
    type: string;
    body: unknown;
    readonly oidc: {
      readonly client?: { readonly clientId: string };
      readonly session?: { readonly accountId?: string; grantIdFor(clientId: string): string | undefined };
      readonly result?: { readonly consent?: { readonly grantId?: string } };
      readonly provider: Provider;
    };
  }

  export interface Configuration {
    readonly adapter: (model: string) => Adapter;
    readonly clients: readonly ClientMetadata[];
    readonly jwks: { readonly keys: readonly object[] };
    readonly cookies: { readonly keys: readonly string[] };
    readonly claims: Readonly<Record<string, readonly string[]>>;
    readonly conformIdTokenClaims: boolean;
    readonly scopes: readonly string[];
    readonly pkce: { readonly required: () => boolean };
    readonly clientBasedCORS: (ctx: KoaContextWithOIDC, origin: string) => boolean;
    readonly findAccount: (ctx: KoaContextWithOIDC, sub: string) => Promise<Account | undefined>;
    readonly loadExistingGrant: (ctx: KoaContextWithOIDC) => Promise<Grant | undefined>;
    readonly issueRefreshToken: (ctx: KoaContextWithOIDC, client: { grantTypeAllowed(type: string): boolean }) => Promise<boolean>;
    readonly interactions: { readonly url: (ctx: KoaContextWithOIDC, interaction: { readonly uid: string }) => Promise<string> };
    readonly renderError: (ctx: KoaContextWithOIDC, out: Record<string, string>, error: Error) => Promise<void>;
    readonly ttl: Readonly<Record<string, number>>;
    readonly features: {
      readonly devInteractions: { readonly enabled: boolean };
      readonly revocation: { readonly enabled: boolean };
      readonly resourceIndicators: {
        readonly enabled: boolean;
        readonly defaultResource: () => Promise<string>;
        readonly useGrantedResource: () => Promise<boolean>;
        readonly getResourceServerInfo: (ctx: KoaContextWithOIDC, resourceIndicator: string) => Promise<ResourceServer>;
      };
      readonly rpInitiatedLogout: {
        readonly enabled: boolean;
        readonly logoutSource: (ctx: KoaContextWithOIDC, form: string) => Promise<void>;
        readonly postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => Promise<void>;
      };
    };
  }

  export interface InteractionDetails {
    readonly uid: string;
    readonly prompt: { readonly name: string };
    readonly params: Readonly<Record<string, unknown>>;
  }

  export class Provider {
    constructor(issuer: string, configuration: Configuration);
    readonly issuer: string;
    readonly Grant: typeof Grant;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export const errors: {
    readonly InvalidTarget: new (description?: string) => Error;
  };

  export default Provider;
}
