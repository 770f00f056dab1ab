/**
 * Sign-in with `oidc-client-ts`: authorization code flow with PKCE (S256, automatic), no client
 * secret, tokens kept in `sessionStorage` (gone when the tab closes, never shared between tabs).
 *
 * Renewal uses the refresh token only: iframe-based silent renew and session monitoring are
 * off because the CSP forbids frames (`default-src 'none'` covers `frame-src`), and no
 * `silent_redirect_uri` is configured, so the library cannot fall back to an iframe either.
 */
import { UserManager, WebStorageStateStore, type User } from 'oidc-client-ts';
import type { WebAppRuntimeConfig } from './config';
import type { ItemFields } from './items-api';

/** What survives the sign-in redirect, carried in the OAuth `state` (stored by the library, not in the URL). */
export interface SignInState {
  /** What the user had typed in the create form when their session expired. */
  readonly draft?: ItemFields;
}

export interface SignedInUser {
  readonly accessToken: string;
  /** The email, else the name, else the subject: what the header shows. */
  readonly displayName: string;
}

export class Auth {
  private readonly manager: UserManager;
  private readonly settings: WebAppRuntimeConfig['auth'];
  private readonly origin: string;
  /** The renewal in flight: concurrent 401s share one refresh (a rotated refresh token works once). */
  private renewal?: Promise<SignedInUser | undefined>;

  constructor(settings: WebAppRuntimeConfig['auth'], origin: string = window.location.origin) {
    this.settings = settings;
    this.origin = origin;
    this.manager = new UserManager({
      authority: settings.authority,
      client_id: settings.clientId,
      redirect_uri: origin + settings.redirectPath,
      post_logout_redirect_uri: origin + settings.postLogoutRedirectPath,
      response_type: 'code',
      scope: settings.scopes.join(' '),
      // Given in full by config.json: no discovery request (the CSP's connect-src allows the
      // token endpoint's origin for the token calls, nothing else of the sign-in service).
      metadata: { ...settings.metadata },
      // Tokens, and the sign-in state (which may hold a draft the user typed), stay in this tab.
      userStore: new WebStorageStateStore({ store: window.sessionStorage }),
      stateStore: new WebStorageStateStore({ store: window.sessionStorage }),
      automaticSilentRenew: false,
      monitorSession: false,
      // The ID token carries email and name; the userinfo endpoint would need another origin.
      loadUserInfo: false,
    });
  }

  /** True when the browser is on the redirect path (coming back from the sign-in service). */
  isSignInCallback(location: Location = window.location): boolean {
    return location.pathname === this.settings.redirectPath;
  }

  /** Exchanges the authorization code (with the PKCE verifier) for tokens; returns the state given to `signIn`. */
  async completeSignIn(url: string = window.location.href): Promise<SignInState> {
    const user = await this.manager.signinRedirectCallback(url);
    return isSignInState(user.state) ? user.state : {};
  }

  /** Redirects to the sign-in service. */
  async signIn(state: SignInState = {}): Promise<void> {
    await this.manager.signinRedirect({ state });
  }

  /**
   * The session kept in this tab: the signed-in user (the access token renewed first when it has
   * expired), `expired` when there was one that can no longer be renewed, or `signed-out`.
   */
  async restoreSession(): Promise<{ readonly user: SignedInUser } | 'expired' | 'signed-out'> {
    const user = await this.manager.getUser();
    if (user === null) return 'signed-out';
    if (user.expired !== true) return { user: signedInUser(user) };
    const renewed = await this.renew();
    return renewed === undefined ? 'expired' : { user: renewed };
  }

  /** The access token to send, renewed first when it has expired; `undefined` when signed out. */
  async accessToken(): Promise<string | undefined> {
    const user = await this.manager.getUser();
    if (user === null) return undefined;
    if (user.expired !== true) return user.access_token;
    return (await this.renew())?.accessToken;
  }

  /**
   * Gets fresh tokens with the refresh token (one call to the token endpoint). On failure (no
   * refresh token, revoked, expired) the stored user is removed and `undefined` returned:
   * the caller asks the user to sign in again.
   */
  renew(): Promise<SignedInUser | undefined> {
    this.renewal ??= this.refresh().finally(() => {
      this.renewal = undefined;
    });
    return this.renewal;
  }

  private async refresh(): Promise<SignedInUser | undefined> {
    const user = await this.manager.getUser();
    if (user?.refresh_token === undefined) {
      await this.manager.removeUser();
      return undefined;
    }
    try {
      const renewed = await this.manager.signinSilent();
      return renewed === null ? undefined : signedInUser(renewed);
    } catch {
      await this.manager.removeUser();
      return undefined;
    }
  }

  /**
   * Revokes the refresh token, forgets the tokens and ends the session at the sign-in service, which returns to
   * `postLogoutRedirectPath`. Cognito's logout endpoint wants `client_id` and its own name for
   * the return URL (`logout_uri`); OIDC providers take `post_logout_redirect_uri`: both are sent.
   */
  async signOut(): Promise<void> {
    const user = await this.manager.getUser();
    if (user === null) {
      // Nothing to end here; the library would add client_id itself without an id_token_hint.
      await this.manager.removeUser();
      window.location.assign(this.settings.postLogoutRedirectPath);
      return;
    }
    // Revoke the refresh token first (the user pool client has token revocation on), so a copy
    // of it is useless after sign-out. Best effort: signing out must not depend on it, and the
    // token expires on its own.
    if (user.refresh_token !== undefined && this.settings.metadata.revocation_endpoint !== undefined) {
      try {
        await this.manager.revokeTokens(['refresh_token']);
      } catch {
        // Already revoked or expired, or the endpoint is unreachable: carry on signing out.
      }
    }
    const returnUrl = this.origin + this.settings.postLogoutRedirectPath;
    const extraQueryParams: Record<string, string> = { client_id: this.settings.clientId };
    if (this.settings.logoutUriParameter !== undefined) extraQueryParams[this.settings.logoutUriParameter] = returnUrl;
    await this.manager.signoutRedirect({ extraQueryParams });
  }
}

function signedInUser(user: User): SignedInUser {
  const profile = user.profile;
  const displayName = [profile.email, profile.name, profile.preferred_username, profile.sub]
    .find((value): value is string => typeof value === 'string' && value !== '') ?? 'you';
  return { accessToken: user.access_token, displayName };
}

function isSignInState(value: unknown): value is SignInState {
  return value !== null && typeof value === 'object';
}
