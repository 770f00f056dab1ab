/**
 * The web application's stack on 127.0.0.1, in one process, for the browser test:
 * dynalite with one `pk`/`sk` table, the **built** API bundle (`assets/rest-api/api/index.mjs`)
 * behind the API Gateway stand-in, oidc-provider standing in for Cognito, the CloudFront stand-in
 * serving the built site with its `/config.json`, and a control server for the test.
 *
 * Run as a child process: `node --import tsx test/web-app/local-stack.ts [bundle] [siteDir]`
 * (oidc-provider and jose are ESM-only; jest runs ts-jest CommonJS). It prints one line
 * `LOCAL_STACK_READY {json}` (see `LocalStackInfo`) and stops when its stdin closes (so it never
 * outlives the test process, however that ends) or on SIGTERM.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyHandler } from 'aws-lambda';
import { ApiGateway } from './api-gateway';
import { createIdentityProvider } from './identity-provider';
import { READY_MARKER, type LocalStackInfo } from './protocol';
import { createSiteHandler } from './site-server';
import { apiScope, WEB_APP_ITEM_SCHEMA, type WebAppAuthMetadata, type WebAppRuntimeConfig } from '../../lib/web-app/runtime-config';
import { listenOnLoopback } from '../../local/engines/loopback';
import { startDynalite } from '../helpers/dynalite';

const ROOT = join(__dirname, '..', '..');
const RESOURCE_NAME = 'items';
const CLIENT_ID = 'web-app-local-client';


/** A server whose handler is attached later: the origins must be known before the handlers are made. */
function lateServer(): { server: Server; attach(handler: (req: IncomingMessage, res: ServerResponse) => void): void } {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler === undefined) {
      res.writeHead(503).end();
      return;
    }
    handler(req, res);
  });
  return { server, attach: (h) => { handler = h; } };
}

async function main(): Promise<void> {
  const bundle = process.argv[2] ?? join(ROOT, 'assets', 'rest-api', 'api', 'index.mjs');
  const siteDir = process.argv[3] ?? join(ROOT, 'assets', 'web-app', 'site');

  const dynamo = await startDynalite();
  const tableName = await dynamo.createTable('web-app-items');

  const site = lateServer();
  const identity = lateServer();
  const siteOrigin = await listenOnLoopback(site.server);
  const providerOrigin = await listenOnLoopback(identity.server);

  // The handler's configuration, as the construct sets it; read by the bundle at import.
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    RESOURCE_NAME,
    ITEM_OWNER_CLAIM: 'sub',
    ITEM_SCHEMA: JSON.stringify(WEB_APP_ITEM_SCHEMA),
    REQUIRE_IF_MATCH: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: APIGatewayProxyHandler };

  const redirectPath = '/auth/callback';
  const postLogoutRedirectPath = '/';
  const provider = await createIdentityProvider({
    issuer: providerOrigin,
    siteOrigin,
    clientId: CLIENT_ID,
    redirectPath,
    postLogoutRedirectPath,
    apiAudience: `${siteOrigin}/api`,
    apiScope: apiScope(RESOURCE_NAME),
    oidcScopes: ['openid', 'email', 'profile'],
  });
  identity.attach(provider.handle);

  // The endpoints come from the provider's own discovery document, as the construct takes them from Cognito's.
  const discovery = (await (await fetch(`${providerOrigin}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  const metadata: WebAppAuthMetadata = {
    issuer: discovery.issuer,
    authorization_endpoint: discovery.authorization_endpoint,
    token_endpoint: discovery.token_endpoint,
    revocation_endpoint: discovery.revocation_endpoint,
    userinfo_endpoint: discovery.userinfo_endpoint,
    end_session_endpoint: discovery.end_session_endpoint,
    jwks_uri: discovery.jwks_uri,
  };
  const config: WebAppRuntimeConfig = {
    apiBasePath: '/api',
    resourceName: RESOURCE_NAME,
    auth: {
      authority: providerOrigin,
      clientId: CLIENT_ID,
      scopes: ['openid', 'email', 'profile', apiScope(RESOURCE_NAME)],
      redirectPath,
      postLogoutRedirectPath,
      logoutUriParameter: 'logout_uri',
      metadata,
    },
  };

  const api = await ApiGateway.create({
    handler,
    resourceName: RESOURCE_NAME,
    issuer: providerOrigin,
    jwksUri: discovery.jwks_uri,
    requiredScope: apiScope(RESOURCE_NAME),
  });
  site.attach(createSiteHandler({ siteDir, config, authOrigin: new URL(metadata.token_endpoint).origin, api }));

  const control = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control.invalid');
    const answer = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'POST') return answer(405, { message: 'POST only' });
    switch (url.pathname) {
      case '/expire-access-tokens': return answer(200, { expired: api.expireAccessTokensSeenSoFar() });
      case '/revoke-refresh-tokens': return answer(200, { revoked: provider.revokeRefreshTokens() });
      case '/fail-next-api-request': {
        const status = Number(url.searchParams.get('status') ?? '503');
        api.failNextRequest(status);
        return answer(200, { status });
      }
      default: return answer(404, { message: `no control ${url.pathname}` });
    }
  });
  const controlOrigin = await listenOnLoopback(control);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const server of [site.server, identity.server, control]) server.closeAllConnections();
    void Promise.all([site.server, identity.server, control].map((s) => new Promise((resolve) => s.close(resolve))))
      .then(() => dynamo.stop())
      .finally(() => process.exit(0));
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const info: LocalStackInfo = { siteOrigin, providerOrigin, controlOrigin, tableName, config };
  process.stdout.write(`${READY_MARKER}${JSON.stringify(info)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('local stack failed to start:', err);
    process.exit(1);
  });
}
