/**
 * `/config.json`: what the deployed SPA reads at start-up, so one build runs in any stack. The
 * construct writes it with `BucketDeployment` (deploy-time values resolved by CloudFormation).
 */

/** The OpenID Connect endpoints the SPA uses (given in full, so the SPA fetches no discovery document). */
export interface WebAppAuthMetadata {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly revocation_endpoint?: string;
  readonly userinfo_endpoint?: string;
  readonly end_session_endpoint: string;
  readonly jwks_uri?: string;
}

export interface WebAppRuntimeConfig {
  /** The path prefix CloudFront routes to the API, e.g. `/api`; the SPA calls `${apiBasePath}/${resourceName}`. */
  readonly apiBasePath: string;
  /** The API's collection, e.g. `items`. */
  readonly resourceName: string;
  readonly auth: {
    /** The OIDC issuer (Cognito: `https://cognito-idp.<region>.amazonaws.com/<pool id>`). */
    readonly authority: string;
    readonly clientId: string;
    /** Scopes asked for: `openid`, `email`, `profile` and the API scope the authorizer requires. */
    readonly scopes: readonly string[];
    /** The redirect path the app client allows, e.g. `/auth/callback`. */
    readonly redirectPath: string;
    /** Where the sign-in service returns after sign-out, e.g. `/`. */
    readonly postLogoutRedirectPath: string;
    /**
     * Cognito's logout endpoint takes the return URL as `logout_uri` (plus `client_id`) instead of
     * OIDC's `post_logout_redirect_uri`: when set, the SPA sends it under this name as well.
     */
    readonly logoutUriParameter?: string;
    readonly metadata: WebAppAuthMetadata;
  };
}

/**
 * The reference SPA's item: a to-do style note. The construct passes it to the API as its
 * `itemSchema` (unless you give your own), so the API enforces what the form allows.
 */
export const WEB_APP_ITEM_SCHEMA = {
  type: 'object',
  required: ['title'],
  additionalProperties: false,
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 200 },
    notes: { type: 'string', maxLength: 2000 },
    done: { type: 'boolean' },
  },
};

/** The identifier of the user pool's resource server for the API. */
export const API_RESOURCE_SERVER = 'api';

/** The OAuth scope the API's authorizer requires (resource server `api`, scope named after the resource). */
export function apiScope(resourceName: string): string {
  return `${API_RESOURCE_SERVER}/${resourceName}`;
}
