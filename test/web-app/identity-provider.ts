/**
 * `oidc-provider` standing in for the Cognito user pool and its hosted sign-in pages, configured
 * the way the WebApplication construct configures Cognito:
 * - one public app client (no secret, `token_endpoint_auth_method: 'none'`), PKCE required,
 *   authorization code + refresh token grants, redirect and sign-out URLs on the site's origin;
 * - access tokens are JWTs for a resource server carrying its scope (`api/items`), like Cognito's
 *   resource-server scopes; ID tokens carry `email` and `name`;
 * - refresh tokens are issued without `offline_access` (Cognito always issues them);
 * - no consent screen (Cognito has none): the grant is created on sign-in;
 * - CORS on the token endpoint for the site's origin only;
 * - sign-out ends the session and returns to the site at once, like Cognito's `/logout`.
 * Pages are plain HTML with no outside resources (the default pages load Google Fonts).
 *
 * Runs in the tsx child process (oidc-provider is ESM-only); `revokeRefreshTokens()` lets the
 * test make renewal fail.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Adapter, AdapterPayload, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { TEST_ACCOUNTS } from './accounts';

export interface IdentityProviderOptions {
  /** e.g. `http://127.0.0.1:4001`: the provider's origin, also its issuer. */
  readonly issuer: string;
  readonly siteOrigin: string;
  readonly clientId: string;
  readonly redirectPath: string;
  readonly postLogoutRedirectPath: string;
  /** The resource server (the API) access tokens are for, and the scope they carry. */
  readonly apiAudience: string;
  readonly apiScope: string;
  /** OIDC scopes the client may ask for besides the API scope. */
  readonly oidcScopes: readonly string[];
}

export interface IdentityProvider {
  readonly issuer: string;
  /** The node request handler (login pages, then the provider's own routes). */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Forgets every refresh token (as if revoked or expired): the next renewal fails with `invalid_grant`. */
  revokeRefreshTokens(): number;
}

export async function createIdentityProvider(options: IdentityProviderOptions): Promise<IdentityProvider> {
  const { default: Provider, errors } = await import('oidc-provider');
  const storage = new ModelStorage();
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const configuration: Configuration = {
    adapter: (model) => storage.adapter(model),
    clients: [{
      client_id: options.clientId,
      client_name: 'Items web application',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [options.siteOrigin + options.redirectPath],
      post_logout_redirect_uris: [options.siteOrigin + options.postLogoutRedirectPath],
    }],
    jwks: { keys: [{ ...signingKey, kid: 'local-signing-key', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: [...options.oidcScopes],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    // ID tokens carry the scopes' claims (as Cognito's do), so the SPA needs no userinfo call.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    clientBasedCORS: (_ctx, origin) => origin === options.siteOrigin,
    findAccount: async (_ctx, sub) => {
      const account = TEST_ACCOUNTS.find((a) => a.sub === sub);
      if (account === undefined) return undefined;
      return {
        accountId: account.sub,
        claims: () => ({ sub: account.sub, email: account.email, email_verified: true, name: account.name, preferred_username: account.username }),
      };
    },
    // First-party client, no consent screen: the grant is made on sign-in with what was asked.
    loadExistingGrant: async (ctx) => {
      const { client, session, result, provider } = ctx.oidc;
      if (client === undefined || session?.accountId === undefined) return undefined;
      const existingId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const existing = existingId === undefined ? undefined : await provider.Grant.find(existingId);
      if (existing !== undefined) return existing;
      const grant = new provider.Grant({ accountId: session.accountId, clientId: client.clientId });
      grant.addOIDCScope(options.oidcScopes.join(' '));
      grant.addOIDCClaims(['email', 'email_verified', 'name', 'preferred_username']);
      grant.addResourceScope(options.apiAudience, options.apiScope);
      await grant.save();
      return grant;
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<h1>Sign-in error</h1>${Object.entries(out).map(([k, v]) => `<p>${escapeHtml(k)}: ${escapeHtml(v)}</p>`).join('')}`);
    },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 86_400, Interaction: 600, Session: 86_400, Grant: 86_400 },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // The SPA sends no `resource` parameter (Cognito has none): every token is for the API.
        defaultResource: async () => options.apiAudience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          if (resourceIndicator !== options.apiAudience) throw new errors.InvalidTarget();
          return { scope: options.apiScope, audience: options.apiAudience, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        // Cognito's /logout asks nothing: confirm the provider's own form at once.
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = page('Signing out', `<p>Signing out…</p>${form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>')}
            <script>document.getElementById('op.logoutForm').submit();</script>`);
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<h1>Signed out</h1>');
        },
      },
    },
  };

  const provider = new Provider(options.issuer, configuration);
  const providerHandler = provider.callback();

  async function interactionStep(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid || details.prompt.name !== 'login') {
      // Consent never comes up (see loadExistingGrant); anything else is a bug in this stand-in.
      send(res, 400, page('Sign-in error', `<p>Unexpected prompt ${escapeHtml(details.prompt.name)}</p>`));
      return;
    }
    if (req.method === 'POST' && action === 'login') {
      const form = new URLSearchParams(await readBody(req));
      const account = TEST_ACCOUNTS.find((a) => a.username === form.get('username') && a.password === form.get('password'));
      if (account === undefined) {
        send(res, 200, loginPage(uid, form.get('username') ?? '', 'Incorrect username or password.'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
      return;
    }
    send(res, 200, loginPage(uid, typeof details.params.login_hint === 'string' ? details.params.login_hint : '', undefined));
  }

  return {
    issuer: options.issuer,
    handle: (req, res) => {
      const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/.exec(new URL(req.url ?? '/', options.issuer).pathname);
      if (match === null) {
        providerHandler(req, res);
        return;
      }
      interactionStep(req, res, match[1], match[2]).catch((err: unknown) => {
        if (!res.headersSent) send(res, 400, page('Sign-in error', `<p>${escapeHtml(err instanceof Error ? err.message : String(err))}</p>`));
        else res.end();
      });
    },
    revokeRefreshTokens: () => storage.destroyAll('RefreshToken'),
  };
}

function loginPage(uid: string, username: string, error: string | undefined): string {
  return page('Sign in', `
    <h1>Sign in</h1>
    ${error === undefined ? '' : `<p role="alert">${escapeHtml(error)}</p>`}
    <form method="post" action="/interaction/${escapeHtml(uid)}/login">
      <p><label for="username">Username</label><br><input id="username" name="username" autocomplete="username" required value="${escapeHtml(username)}" autofocus></p>
      <p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>
      <p><button type="submit">Sign in</button></p>
    </form>`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * In-memory storage for every provider model, with expiry, and a way to drop a whole model
 * (the provider's own memory adapter keeps its store private).
 */
class ModelStorage {
  private readonly entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();

  adapter(model: string): Adapter {
    const key = (id: string): string => `${model}:${id}`;
    const find = (id: string): AdapterPayload | undefined => {
      const entry = this.entries.get(key(id));
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= Date.now()) {
        this.entries.delete(key(id));
        return undefined;
      }
      return entry.payload;
    };
    const findWhere = (predicate: (payload: AdapterPayload) => boolean): AdapterPayload | undefined => {
      for (const [k, entry] of this.entries) {
        if (k.startsWith(`${model}:`) && entry.expiresAt > Date.now() && predicate(entry.payload)) return entry.payload;
      }
      return undefined;
    };
    return {
      upsert: async (id, payload, expiresIn) => {
        this.entries.set(key(id), { payload, expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity });
      },
      find: async (id) => find(id),
      findByUid: async (uid) => findWhere((p) => p.uid === uid),
      findByUserCode: async (userCode) => findWhere((p) => p.userCode === userCode),
      consume: async (id) => {
        const payload = find(id);
        if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        this.entries.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const [k, entry] of this.entries) {
          if (entry.payload.grantId === grantId) this.entries.delete(k);
        }
      },
    };
  }

  /** Deletes every stored entity of `model`; returns how many there were. */
  destroyAll(model: string): number {
    let count = 0;
    for (const k of [...this.entries.keys()]) {
      if (k.startsWith(`${model}:`)) {
        this.entries.delete(k);
        count += 1;
      }
    }
    return count;
  }
}
