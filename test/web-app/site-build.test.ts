/**
 * The site build (`scripts/build-web.ts`) and the rules the SPA's sources keep so that the
 * CloudFront CSP never has to be loosened. The browser test proves the same things at run time;
 * these fail faster and name the file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebAppRuntimeConfig } from '../../lib/web-app/runtime-config';
import { buildWebApp, renderIndexHtml, SCRIPT_PLACEHOLDER, STYLESHEET_PLACEHOLDER, WEB_DIR, WEB_SCRIPT_BUDGET_BYTES, type WebAppBuild } from '../../scripts/build-web';
import { ConfigError, parseConfig } from '../../web/src/config';

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function buildInto(): Promise<WebAppBuild> {
  const dir = mkdtempSync(join(tmpdir(), 'web-build-test-'));
  scratch.push(dir);
  return buildWebApp(dir);
}

describe('buildWebApp', () => {
  let first: WebAppBuild;
  let second: WebAppBuild;
  beforeAll(async () => {
    [first, second] = await Promise.all([buildInto(), buildInto()]);
  });

  test('writes index.html and two content-hashed assets, nothing else (no config.json)', () => {
    expect(first.files).toEqual(['assets/' + first.scriptPath.split('/').pop(), 'assets/' + first.stylesheetPath.split('/').pop(), 'index.html'].sort());
    expect(first.scriptPath).toMatch(/^\/assets\/app-[0-9a-f]{12}\.js$/);
    expect(first.stylesheetPath).toMatch(/^\/assets\/app-[0-9a-f]{12}\.css$/);
    expect(readdirSync(first.outDir).sort()).toEqual(['assets', 'index.html']);
  });

  test('is deterministic: the same sources give the same names and bytes', () => {
    expect(second.files).toEqual(first.files);
    for (const file of first.files) {
      expect(readFileSync(join(second.outDir, file)).equals(readFileSync(join(first.outDir, file)))).toBe(true);
    }
  });

  test('index.html references the built files and holds no inline code', () => {
    const html = readFileSync(join(first.outDir, 'index.html'), 'utf8');
    expect(html).toContain(`<script type="module" src="${first.scriptPath}"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="${first.stylesheetPath}">`);
    expect(html).not.toContain('%APP_');
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|javascript:/i);
  });

  test(`the script (sign-in library included) stays within ${WEB_SCRIPT_BUDGET_BYTES / 1024} KB minified`, () => {
    expect(first.scriptBytes).toBeLessThanOrEqual(WEB_SCRIPT_BUDGET_BYTES);
  });

  test('the bundle uses no eval, Function constructor or HTML-parsing DOM sink', () => {
    const script = readFileSync(join(first.outDir, first.scriptPath), 'utf8');
    expect(script).not.toMatch(/\beval\(|new Function\(|\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write/);
  });
});

describe('renderIndexHtml', () => {
  test('fills each placeholder once', () => {
    expect(renderIndexHtml(`${SCRIPT_PLACEHOLDER} ${STYLESHEET_PLACEHOLDER}`, '/a.js', '/a.css')).toBe('/a.js /a.css');
  });

  test('fails when a placeholder is missing or repeated', () => {
    expect(() => renderIndexHtml(STYLESHEET_PLACEHOLDER, '/a.js', '/a.css')).toThrow(/%APP_SCRIPT% exactly once, found 0/);
    expect(() => renderIndexHtml(`${SCRIPT_PLACEHOLDER}${SCRIPT_PLACEHOLDER}${STYLESHEET_PLACEHOLDER}`, '/a.js', '/a.css')).toThrow(/found 2/);
  });
});

describe('the SPA sources', () => {
  const sources = readdirSync(join(WEB_DIR, 'src')).filter((f) => f.endsWith('.ts'));
  test.each(sources)('%s builds the DOM without HTML strings, inline styles or eval', (file) => {
    // Comments may name the forbidden APIs (to say why they are not used): only the code counts.
    const code = readFileSync(join(WEB_DIR, 'src', file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|\.style\b|setAttribute\(\s*'style'|setAttribute\(\s*'on/);
  });

  test('index.html has no inline script, style or event handler', () => {
    const html = readFileSync(join(WEB_DIR, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
  });
});

describe('parseConfig (config.json)', () => {
  const valid: WebAppRuntimeConfig = {
    apiBasePath: '/api',
    resourceName: 'items',
    auth: {
      authority: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
      clientId: 'client123',
      scopes: ['openid', 'email', 'profile', 'api/items'],
      redirectPath: '/auth/callback',
      postLogoutRedirectPath: '/',
      logoutUriParameter: 'logout_uri',
      metadata: {
        issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
        authorization_endpoint: 'https://app.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
        token_endpoint: 'https://app.auth.eu-west-1.amazoncognito.com/oauth2/token',
        revocation_endpoint: 'https://app.auth.eu-west-1.amazoncognito.com/oauth2/revoke',
        end_session_endpoint: 'https://app.auth.eu-west-1.amazoncognito.com/logout',
      },
    },
  };

  test('accepts a WebAppRuntimeConfig as the construct writes it', () => {
    expect(parseConfig(JSON.parse(JSON.stringify(valid)))).toEqual(valid);
  });

  test.each([
    ['auth.clientId', { ...valid, auth: { ...valid.auth, clientId: '' } }, /auth\.clientId must be a non-empty string/],
    ['auth.redirectPath', { ...valid, auth: { ...valid.auth, redirectPath: 'callback' } }, /auth\.redirectPath must be a path starting with "\/"/],
    ['auth.metadata.token_endpoint', { ...valid, auth: { ...valid.auth, metadata: { ...valid.auth.metadata, token_endpoint: 'oauth2/token' } } }, /token_endpoint must be an absolute URL/],
    ['auth.scopes', { ...valid, auth: { ...valid.auth, scopes: [] } }, /auth\.scopes must be a non-empty list/],
    ['the root', null, /config must be an object/],
  ])('fails naming %s when it is wrong', (_field, config, message) => {
    expect(() => parseConfig(config)).toThrow(ConfigError);
    expect(() => parseConfig(config)).toThrow(message);
  });
});
