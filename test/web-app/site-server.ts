/**
 * The CloudFront distribution of the web application, locally: every response carries the
 * response-headers policy (the exact CSP of `webAppContentSecurityPolicy`, HSTS, nosniff,
 * X-Frame-Options DENY, Referrer-Policy, Permissions-Policy, COOP); `/api/*` runs the API prefix strip function and goes to
 * the API Gateway stand-in; everything else runs the SPA route fallback function and is served
 * from the built site (the bucket) plus the deploy-time `/config.json`, with the cache headers
 * the construct sets (`no-cache` on `index.html` and `config.json`, a year and `immutable` on
 * `/assets/*`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { rawHeaderPairs, type ApiGateway } from './api-gateway';
import { webAppContentSecurityPolicy } from '../../lib/web-app/content-security-policy';
import { API_PREFIX_STRIP_CODE, SPA_ROUTE_FALLBACK_CODE, loadEdgeFunction } from '../../lib/web-app/edge-functions';
import type { WebAppRuntimeConfig } from '../../lib/web-app/runtime-config';

export interface SiteServerOptions {
  /** The built site, `assets/web-app/site`. */
  readonly siteDir: string;
  readonly config: WebAppRuntimeConfig;
  /** The origin allowed by the CSP's connect-src besides 'self': the token endpoint's. */
  readonly authOrigin: string;
  readonly api: ApiGateway;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export const NO_CACHE = 'no-cache';
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The headers the construct's response headers policy (`SecurityHeaders`) adds to every response. */
export function securityHeaders(authOrigin: string): Record<string, string> {
  return {
    'content-security-policy': webAppContentSecurityPolicy(authOrigin),
    'strict-transport-security': 'max-age=63072000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'strict-origin-when-cross-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    'cross-origin-opener-policy': 'same-origin',
  };
}

export function createSiteHandler(options: SiteServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const stripApiPrefix = loadEdgeFunction(API_PREFIX_STRIP_CODE);
  const spaRouteFallback = loadEdgeFunction(SPA_ROUTE_FALLBACK_CODE);
  const policyHeaders = securityHeaders(options.authOrigin);
  const configJson = JSON.stringify(options.config);

  function reply(res: ServerResponse, status: number, headers: Record<string, string | string[]>, body?: string | Buffer): void {
    res.writeHead(status, { ...headers, ...policyHeaders });
    res.end(body);
  }

  async function serveApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const request = stripApiPrefix({ request: { uri: url.pathname, method: req.method ?? 'GET', querystring: {}, headers: {} } });
    const functionHeaders = (request.headers ?? {}) as Record<string, { value: string }>;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const response = await options.api.handle({
      method: req.method ?? 'GET',
      path: request.uri,
      query: url.search.replace(/^\?/, ''),
      // The viewer's headers, with those the function sets replacing any the viewer sent.
      headers: [
        ...rawHeaderPairs(req.rawHeaders).filter(([name]) => !(name.toLowerCase() in functionHeaders)),
        ...Object.entries(functionHeaders).map(([name, header]) => [name, header.value] as const),
      ],
      body: Buffer.concat(chunks),
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    });
    reply(res, response.status, response.headers, req.method === 'HEAD' ? undefined : response.body);
  }

  function serveSite(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // The default behaviour allows GET and HEAD only; CloudFront refuses the rest with 403.
      reply(res, 403, { 'content-type': 'text/plain' }, 'This distribution is not configured to allow the HTTP request method that was used for this request.');
      return;
    }
    const { uri } = spaRouteFallback({ request: { uri: url.pathname, method: req.method, querystring: {}, headers: {} } });
    if (uri === '/config.json') {
      reply(res, 200, { 'content-type': CONTENT_TYPES['.json'], 'cache-control': NO_CACHE }, req.method === 'HEAD' ? undefined : configJson);
      return;
    }
    const file = siteFile(options.siteDir, uri);
    if (file === undefined) {
      // What S3 behind an origin access control answers for a key it does not have.
      reply(res, 403, { 'content-type': 'application/xml' }, '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
      return;
    }
    const cacheControl = uri.startsWith('/assets/') ? IMMUTABLE : NO_CACHE;
    const body = readFileSync(file);
    reply(res, 200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': cacheControl }, req.method === 'HEAD' ? undefined : body);
  }

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://site.invalid');
    const serve = url.pathname.startsWith('/api/') ? serveApi(req, res, url) : Promise.resolve(serveSite(req, res, url));
    serve.catch((err: unknown) => {
      // A handler crash is a Lambda error: API Gateway answers 502.
      console.error('site server error', err);
      if (!res.headersSent) reply(res, 502, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal server error' }));
      else res.end();
    });
  };
}

/** The file of `uri` inside `siteDir`, or `undefined` (missing, a directory, or outside the folder). */
function siteFile(siteDir: string, uri: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(uri);
  } catch {
    return undefined;
  }
  const file = normalize(join(siteDir, decoded));
  if (!file.startsWith(siteDir + sep)) return undefined;
  return existsSync(file) && statSync(file).isFile() ? file : undefined;
}
