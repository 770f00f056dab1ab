/// <reference lib="dom" />
/**
 * The web application in a real browser: the built SPA, served the way CloudFront serves it
 * (CSP and security headers, edge functions), signing in against an OpenID provider standing in
 * for Cognito, calling the built API bundle through an API Gateway stand-in with a JWT authorizer,
 * on dynalite. Chromium is the one `@sparticuz/chromium` ships (or a local one named by
 * `CHROMIUM_EXECUTABLE_PATH`, see chromium.ts); playwright-core drives it.
 *
 * The flows share one browser context and run in order, like one person's session: alice signs
 * in, works with her items, meets failures, signs out; bob then signs in by keyboard only. Every
 * step waits on conditions (locators, requests, responses), never on time. Screenshots of each
 * step go to test-reports/web-app/. After every flow the monitor must be clean: no CSP
 * violation, no console or page error, no request outside 127.0.0.1, and every deliberately
 * provoked failure seen exactly once.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Request } from 'playwright-core';
import { ALICE, BOB, type TestAccount } from './accounts';
import { BrowserMonitor, settle } from './browser-monitor';
import { DROPPED_FLAGS, testChromium, type ChromiumLaunch } from './chromium';
import { prepareAssets } from './site-assets';
import { IMMUTABLE, NO_CACHE, securityHeaders } from './site-server';
import { startLocalStack, type LocalStack } from './stack-process';
import { webAppContentSecurityPolicy } from '../../lib/web-app/content-security-policy';

const REPORT_DIR = join(__dirname, '..', '..', 'test-reports', 'web-app');
const SESSION_EXPIRED = 'Your session has expired - sign in again';

let stack: LocalStack;
let launch: ChromiumLaunch;
let browser: Browser;

beforeAll(async () => {
  rmSync(REPORT_DIR, { recursive: true, force: true });
  mkdirSync(REPORT_DIR, { recursive: true });
  const assets = await prepareAssets();
  [stack, launch] = await Promise.all([startLocalStack(assets), testChromium()]);
  browser = await chromium.launch({ executablePath: launch.executablePath, args: launch.args, headless: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

// ---------------------------------------------------------------- helpers

async function newMonitoredContext(): Promise<{ context: BrowserContext; monitor: BrowserMonitor; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, colorScheme: 'light' });
  const monitor = await BrowserMonitor.attach(context);
  const page = await context.newPage();
  return { context, monitor, page };
}

async function snap(page: Page, step: string): Promise<void> {
  await page.screenshot({ path: join(REPORT_DIR, `${step}.png`), fullPage: true });
}

async function expectClean(page: Page, monitor: BrowserMonitor): Promise<void> {
  await settle(page);
  expect(monitor.problems()).toEqual([]);
}

function apiUrl(path = ''): string {
  return `${stack.siteOrigin}/api/items${path}`;
}

function isApiCall(method: string, path = ''): (r: Request) => boolean {
  return (r) => r.method() === method && r.url().split('?')[0] === apiUrl(path);
}

function isTokenCall(grantType: string): (r: Request) => boolean {
  return (r) => r.method() === 'POST' && r.url() === stack.config.auth.metadata.token_endpoint && new URLSearchParams(r.postData() ?? '').get('grant_type') === grantType;
}

/** The list item showing `title` (its heading), in the "Saved items" list. */
function itemCard(page: Page, title: string): Locator {
  return page.getByRole('list', { name: 'Saved items' }).getByRole('listitem')
    .filter({ has: page.getByRole('heading', { name: title, exact: true }) });
}

async function fillSignInForm(page: Page, account: TestAccount): Promise<void> {
  await page.getByLabel('Username').fill(account.username);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The signed-in user's access token, as the SPA keeps it (sessionStorage, oidc-client-ts's key). */
async function accessTokenIn(page: Page): Promise<string> {
  const key = `oidc.user:${stack.config.auth.authority}:${stack.config.auth.clientId}`;
  const stored = await page.evaluate((k) => window.sessionStorage.getItem(k), key);
  if (stored === null) throw new Error('no signed-in user in sessionStorage');
  return (JSON.parse(stored) as { access_token: string }).access_token;
}

async function callApi(token: string, method: string, path = '', init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(apiUrl(path), {
    method,
    headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

/** Presses Tab until `target` has the focus (a keyboard user can reach it); fails after `max` presses. */
async function tabTo(page: Page, target: Locator, max = 20): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  throw new Error(`${target.toString()} was not reached with ${max} Tab presses`);
}

async function isFocused(target: Locator): Promise<boolean> {
  return target.evaluate((el) => el === document.activeElement);
}

// ---------------------------------------------------------------- the site as CloudFront serves it

describe('the local CloudFront stand-in', () => {
  test('sends the CSP and security headers, the cache headers, and routes through the edge functions', async () => {
    const policy = webAppContentSecurityPolicy(stack.providerOrigin);
    const index = await fetch(`${stack.siteOrigin}/`);
    const html = await index.text();
    expect(index.status).toBe(200);
    for (const [name, value] of Object.entries(securityHeaders(stack.providerOrigin))) expect(index.headers.get(name)).toBe(value);
    expect(index.headers.get('content-security-policy')).toBe(policy);
    expect(index.headers.get('cache-control')).toBe(NO_CACHE);
    // No inline code in the page: one external module script, one stylesheet, no style attributes.
    expect(html).toMatch(/<script type="module" src="\/assets\/app-[0-9a-f]{12}\.js"><\/script>/);
    expect(html).toMatch(/<link rel="stylesheet" href="\/assets\/app-[0-9a-f]{12}\.css">/);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);

    const script = /src="(\/assets\/app-[0-9a-f]{12}\.js)"/.exec(html)![1];
    const asset = await fetch(`${stack.siteOrigin}${script}`);
    expect(asset.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('content-security-policy')).toBe(policy);

    const config = await fetch(`${stack.siteOrigin}/config.json`);
    expect(config.headers.get('cache-control')).toBe(NO_CACHE);
    expect(await config.json()).toEqual(stack.config);

    // SPA routes (no file extension) get index.html; a missing file stays an error.
    const route = await fetch(`${stack.siteOrigin}/auth/callback?code=x`);
    expect(route.status).toBe(200);
    expect(await route.text()).toBe(html);
    expect((await fetch(`${stack.siteOrigin}/missing.js`)).status).toBe(403);

    // /api/* reaches API Gateway, never the SPA fallback: its own 401 and 403 answers.
    const anonymous = await fetch(apiUrl());
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ message: 'Unauthorized' });
    expect(anonymous.headers.get('content-security-policy')).toBe(policy);
    const forged = await callApi('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'GET');
    expect(forged.status).toBe(401);
    const unknown = await fetch(`${stack.siteOrigin}/api/other`);
    expect(unknown.status).toBe(403);
    expect(await unknown.json()).toEqual({ message: 'Missing Authentication Token' });
  });
});

// ---------------------------------------------------------------- the CSP is enforced

describe('Chromium enforces the site\'s Content-Security-Policy', () => {
  test('runs without the @sparticuz/chromium flags that disable web security or break a second context', () => {
    if (launch.source === 'sparticuz') {
      expect(launch.droppedArgs.sort()).toEqual(['--allow-running-insecure-content', '--disable-web-security', '--single-process']);
    }
    for (const flag of Object.keys(DROPPED_FLAGS)) expect(launch.args).not.toContain(flag);
  });

  test('negative controls: inline code, HTML sinks, frames and other origins are blocked and reported', async () => {
    const { context, monitor, page } = await newMonitoredContext();
    try {
      // 1. A page of the site with injected inline code, as an HTML injection would leave it,
      //    served with the site's own headers (CSP included).
      await page.route(`${stack.siteOrigin}/csp-probe`, async (route) => {
        const site = await route.fetch({ url: `${stack.siteOrigin}/` });
        await route.fulfill({
          response: site,
          body: '<!doctype html><html><head><style>p { color: rgb(0, 0, 255); }</style>'
            + '<script>window.parserInlineRan = true;</script></head><body>'
            + '<p id="styled" style="color: rgb(255, 0, 0)">styled</p>'
            + '<button id="handler" onclick="window.inlineHandlerRan = true">inline handler</button></body></html>',
        });
      });
      await page.goto(`${stack.siteOrigin}/csp-probe`);
      await page.locator('#handler').click();
      const injected = await page.evaluate(() => ({
        script: (window as unknown as Record<string, unknown>).parserInlineRan,
        handler: (window as unknown as Record<string, unknown>).inlineHandlerRan,
        color: getComputedStyle(document.getElementById('styled')!).color,
      }));
      expect(injected).toEqual({ script: undefined, handler: undefined, color: expect.not.stringMatching(/rgb\((255, 0, 0|0, 0, 255)\)/) });

      // 2. The real app: script-driven injection.
      await page.goto(stack.siteOrigin);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      // An inline <script> added by script (CDP): its text is a Trusted Types sink, refused.
      const addScript = await page.addScriptTag({ content: 'window.addedScriptRan = true;' }).then(() => 'added', (err: Error) => err.message);
      expect(addScript).toMatch(/TrustedScript/);
      // Every HTML sink throws: Trusted Types are required and no policy may be created.
      const sinks = await page.evaluate(() => {
        const outcome = (action: () => void): string => {
          try {
            action();
            return 'allowed';
          } catch (err) {
            return String(err);
          }
        };
        return {
          insertAdjacentHTML: outcome(() => document.body.insertAdjacentHTML('beforeend', '<b>injected</b>')),
          eventHandlerAttribute: outcome(() => document.body.setAttribute('onclick', 'window.x = 1')),
          createPolicy: outcome(() => (window as unknown as { trustedTypes: { createPolicy(name: string, rules: object): unknown } }).trustedTypes.createPolicy('escape', {})),
        };
      });
      expect(sinks.insertAdjacentHTML).toMatch(/TrustedHTML/);
      expect(sinks.eventHandlerAttribute).toMatch(/TrustedScript/);
      expect(sinks.createPolicy).toMatch(/Policy "escape" disallowed/);
      // A frame (an iframe-based silent renew would need one).
      await page.evaluate(() => {
        const frame = document.createElement('iframe');
        frame.src = '/';
        document.body.append(frame);
      });
      // connect-src: an origin other than the site's and the token endpoint's.
      const otherOrigin = await page.evaluate((url) => fetch(url).then(() => 'reached', (err: Error) => err.name), stack.controlOrigin);
      expect(otherOrigin).toBe('TypeError');
      // The same-origin policy: connect-src allows the provider's origin, but this page of it sends no CORS headers.
      const noCors = await page.evaluate((url) => fetch(url).then(() => 'readable', (err: Error) => err.name), `${stack.providerOrigin}/interaction/none`);
      expect(noCors).toBe('TypeError');
      await settle(page);

      const directives = new Set(monitor.cspViolations.map((v) => v.effectiveDirective));
      expect([...directives].sort()).toEqual([
        'connect-src', 'frame-src', 'require-trusted-types-for', 'script-src-attr', 'script-src-elem', 'style-src-attr', 'style-src-elem', 'trusted-types',
      ]);
      expect(monitor.consoleErrors.some((e) => /blocked by CORS policy/.test(e))).toBe(true);
    } finally {
      await context.close();
    }
  });
});

// ---------------------------------------------------------------- alice, then bob

describe('the SPA, as alice and then bob use it', () => {
  let context: BrowserContext;
  let monitor: BrowserMonitor;
  let page: Page;
  let aliceItemId: string;

  beforeAll(async () => {
    ({ context, monitor, page } = await newMonitoredContext());
  });

  afterAll(async () => {
    await context?.close();
  });

  test('alice signs in through the authorization code flow with PKCE (S256)', async () => {
    await page.goto(stack.siteOrigin);
    await page.getByRole('heading', { name: 'Your items', level: 1 }).waitFor();
    await snap(page, '01-signed-out');

    const authorize = page.waitForRequest((r) => r.url().startsWith(stack.config.auth.metadata.authorization_endpoint));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const params = new URL((await authorize).url()).searchParams;
    expect(params.get('response_type')).toBe('code');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('client_id')).toBe(stack.config.auth.clientId);
    expect(params.get('redirect_uri')).toBe(`${stack.siteOrigin}/auth/callback`);
    expect(params.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['openid', 'email', 'api/items']));
    expect(params.get('state')).toBeTruthy();

    await page.getByLabel('Username').waitFor();
    await snap(page, '02-provider-sign-in');
    const tokenExchange = page.waitForRequest(isTokenCall('authorization_code'));
    await fillSignInForm(page, ALICE);
    const exchange = new URLSearchParams((await tokenExchange).postData() ?? '');
    expect(exchange.get('code_verifier')).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    expect(exchange.get('client_secret')).toBeNull();

    await page.getByText(`Signed in as ${ALICE.email}`).waitFor();
    // The code and state are gone from the address bar.
    expect(page.url()).toBe(`${stack.siteOrigin}/`);
    await expectClean(page, monitor);
  });

  test('alice sees the empty state, creates two items, edits one and deletes the other', async () => {
    await page.getByText('No items yet').waitFor();
    await snap(page, '03-empty-state');

    const created = page.waitForResponse((r) => isApiCall('POST')(r.request()) && r.status() === 201);
    await page.getByLabel('Title').fill('Buy milk');
    await page.getByLabel('Notes').fill('Two litres');
    await page.getByRole('button', { name: 'Add item' }).click();
    const first = (await (await created).json()) as { id: string; version: number };
    await itemCard(page, 'Buy milk').waitFor();
    // The form is ready for the next item.
    expect(await page.getByLabel('Title').inputValue()).toBe('');
    expect(await isFocused(page.getByLabel('Title'))).toBe(true);

    await page.getByLabel('Title').fill('Call the plumber');
    await page.getByLabel('Done').check();
    await page.getByRole('button', { name: 'Add item' }).click();
    await itemCard(page, 'Call the plumber').waitFor();
    await page.getByText('No items yet').waitFor({ state: 'hidden' });
    await snap(page, '04-two-items');

    await itemCard(page, 'Buy milk').getByRole('button', { name: 'Edit Buy milk' }).click();
    const editForm = page.getByRole('form', { name: 'Edit Buy milk' });
    await editForm.getByLabel('Title').fill('Buy oat milk');
    await editForm.getByLabel('Done').check();
    await snap(page, '05-editing');
    const put = page.waitForRequest(isApiCall('PUT', `/${first.id}`));
    await editForm.getByRole('button', { name: 'Save' }).click();
    expect((await put).headers()['if-match']).toBe(`"${first.version}"`);
    await itemCard(page, 'Buy oat milk').getByText('Done', { exact: true }).waitFor();

    const plumber = itemCard(page, 'Call the plumber');
    const del = page.waitForRequest((r) => r.method() === 'DELETE');
    await plumber.getByRole('button', { name: 'Delete Call the plumber' }).click();
    expect((await del).headers()['if-match']).toBe('"1"');
    await plumber.waitFor({ state: 'detached' });
    await page.getByRole('status').getByText('Deleted “Call the plumber”').waitFor();
    await snap(page, '06-after-edit-and-delete');
    aliceItemId = first.id;
    await expectClean(page, monitor);
  });

  test('alice reloads the page and her remaining item is still there', async () => {
    await page.reload();
    await itemCard(page, 'Buy oat milk').waitFor();
    expect(await page.getByRole('list', { name: 'Saved items' }).getByRole('listitem').count()).toBe(1);
    expect(await itemCard(page, 'Buy oat milk').getByText('Two litres').isVisible()).toBe(true);
    await snap(page, '07-after-reload');
    await expectClean(page, monitor);
  });

  test('an injected 503 shows an error; Try again creates the item once (same Idempotency-Key)', async () => {
    await stack.failNextApiRequest(503);
    monitor.allowFailedResponse(apiUrl(), 503);
    const posts: Request[] = [];
    const onRequest = (r: Request): void => {
      if (isApiCall('POST')(r)) posts.push(r);
    };
    page.on('request', onRequest);
    try {
      await page.getByLabel('Title').fill('Water the plants');
      await page.getByRole('button', { name: 'Add item' }).click();
      const alert = page.getByRole('alert');
      await alert.getByText(/The item was not added: the service is unavailable right now \(503\)/).waitFor();
      await snap(page, '08-service-unavailable');
      // The way out has the focus.
      expect(await isFocused(alert.getByRole('button', { name: 'Try again' }))).toBe(true);

      const retried = page.waitForResponse((r) => isApiCall('POST')(r.request()) && r.status() === 201);
      await alert.getByRole('button', { name: 'Try again' }).click();
      await retried;
      await itemCard(page, 'Water the plants').waitFor();
    } finally {
      page.off('request', onRequest);
    }
    expect(posts).toHaveLength(2);
    const keys = posts.map((r) => r.headers()['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    const listed = (await (await callApi(await accessTokenIn(page), 'GET')).json()) as { items: Array<{ title: string }> };
    expect(listed.items.filter((i) => i.title === 'Water the plants')).toHaveLength(1);
    await expectClean(page, monitor);
  });

  test('an edit of an item changed elsewhere (412) says so and shows the latest version', async () => {
    const token = await accessTokenIn(page);
    const current = await callApi(token, 'GET', `/${aliceItemId}`);
    const changed = await callApi(token, 'PUT', `/${aliceItemId}`, {
      body: { title: 'Buy oat milk and bread', notes: 'Two litres', done: true },
      headers: { 'if-match': current.headers.get('etag')! },
    });
    expect(changed.status).toBe(200);

    monitor.allowFailedResponse(apiUrl(`/${aliceItemId}`), 412);
    await itemCard(page, 'Buy oat milk').getByRole('button', { name: 'Edit Buy oat milk' }).click();
    await page.getByRole('form', { name: 'Edit Buy oat milk' }).getByLabel('Notes').fill('Three litres');
    await page.getByRole('form', { name: 'Edit Buy oat milk' }).getByRole('button', { name: 'Save' }).click();
    await page.getByRole('alert').getByText(/This item was changed elsewhere/).waitFor();
    await itemCard(page, 'Buy oat milk and bread').waitFor();
    await snap(page, '09-changed-elsewhere');
    await expectClean(page, monitor);
  });

  test('a validation error from the API (400) is shown next to the field it concerns', async () => {
    // A rule the browser did not enforce: lift the input's own limit, so only the API's schema stops it.
    const title = page.getByLabel('Title');
    await title.evaluate((el) => el.removeAttribute('maxlength'));
    monitor.allowFailedResponse(apiUrl(), 400);
    await title.fill('x'.repeat(201));
    await page.getByRole('button', { name: 'Add item' }).click();
    const message = page.getByText('must NOT have more than 200 characters');
    await message.waitFor();
    expect(await title.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await title.getAttribute('aria-describedby')) ?? '';
    expect(await message.getAttribute('id')).toBe(describedBy);
    expect(await isFocused(title)).toBe(true);
    await snap(page, '10-validation-error');
    await title.fill('');
    await expectClean(page, monitor);
  });

  test('an expired access token is renewed with the refresh token and the action succeeds', async () => {
    expect(await stack.expireAccessTokens()).toBeGreaterThan(0);
    monitor.allowFailedResponse(apiUrl(), 401);
    const posts: Request[] = [];
    const onRequest = (r: Request): void => {
      if (isApiCall('POST')(r)) posts.push(r);
    };
    page.on('request', onRequest);
    try {
      const refresh = page.waitForRequest(isTokenCall('refresh_token'));
      const created = page.waitForResponse((r) => isApiCall('POST')(r.request()) && r.status() === 201);
      await page.getByLabel('Title').fill('Renew the insurance');
      await page.getByRole('button', { name: 'Add item' }).click();
      await refresh;
      await created;
      await itemCard(page, 'Renew the insurance').waitFor();
    } finally {
      page.off('request', onRequest);
    }
    expect(posts).toHaveLength(2);
    expect(posts[1].headers().authorization).not.toBe(posts[0].headers().authorization);
    // Nothing was shown: the alert region (hidden while empty) stayed empty.
    expect(await page.locator('#alert').textContent()).toBe('');
    await snap(page, '11-renewed-silently');
    await expectClean(page, monitor);
  });

  test('when renewal fails too, alice is asked to sign in again and keeps what she typed', async () => {
    await stack.expireAccessTokens();
    expect(await stack.revokeRefreshTokens()).toBeGreaterThan(0);
    monitor.allowFailedResponse(apiUrl(), 401);
    monitor.allowFailedResponse(stack.config.auth.metadata.token_endpoint, 400);

    await page.getByLabel('Title').fill('Book the dentist');
    await page.getByLabel('Notes').fill('Before the end of the month');
    await page.getByRole('button', { name: 'Add item' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText(SESSION_EXPIRED).waitFor();
    const signInAgain = alert.getByRole('button', { name: 'Sign in' });
    expect(await isFocused(signInAgain)).toBe(true);
    // The screen stays, inert, with what she typed.
    expect(await page.locator('main').getAttribute('inert')).toBe('');
    expect(await page.getByLabel('Title').inputValue()).toBe('Book the dentist');
    await snap(page, '12-session-expired');

    // Her session at the sign-in service is still open: it returns at once, without a form.
    await signInAgain.click();
    await page.getByText(`Signed in as ${ALICE.email}`).waitFor();
    await itemCard(page, 'Renew the insurance').waitFor();
    expect(await page.getByLabel('Title').inputValue()).toBe('Book the dentist');
    expect(await page.getByLabel('Notes').inputValue()).toBe('Before the end of the month');
    await page.getByRole('button', { name: 'Add item' }).click();
    await itemCard(page, 'Book the dentist').waitFor();
    await snap(page, '13-signed-in-again-draft-kept');
    await expectClean(page, monitor);
  });

  test('alice signs out: back on the signed-out page, tokens gone, the provider session ended', async () => {
    const endSession = page.waitForRequest((r) => r.url().startsWith(stack.config.auth.metadata.end_session_endpoint));
    const revocation = page.waitForRequest((r) => r.url() === stack.config.auth.metadata.revocation_endpoint && r.method() === 'POST');
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The refresh token is revoked at the provider before the session ends there.
    const revoked = new URLSearchParams((await revocation).postData() ?? '');
    expect(revoked.get('token_type_hint')).toBe('refresh_token');
    expect(revoked.get('token')).toBeTruthy();
    const params = new URL((await endSession).url()).searchParams;
    expect(params.get('client_id')).toBe(stack.config.auth.clientId);
    expect(params.get('logout_uri')).toBe(`${stack.siteOrigin}/`);
    expect(params.get('post_logout_redirect_uri')).toBe(`${stack.siteOrigin}/`);
    expect(params.get('id_token_hint')).toBeTruthy();

    await page.waitForURL(`${stack.siteOrigin}/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.getByText('Signed in as').count()).toBe(0);
    const stored = await page.evaluate(() => ({
      session: Object.keys(window.sessionStorage).filter((k) => k.startsWith('oidc.')),
      local: Object.keys(window.localStorage),
    }));
    // No tokens and no sign-in state left; nothing ever went to localStorage.
    expect(stored).toEqual({ session: [], local: [] });
    // The provider holds no refresh token any more: the revocation really destroyed it.
    expect(await stack.revokeRefreshTokens()).toBe(0);
    await snap(page, '14-signed-out');
    await expectClean(page, monitor);
  });

  test('bob signs in and works by keyboard only; he sees none of alice\'s items and cannot read hers by id', async () => {
    // Signed out already: the Sign in button is reachable by Tab, activated with Enter.
    await tabTo(page, page.getByRole('button', { name: 'Sign in' }));
    await page.keyboard.press('Enter');
    // The provider asks for credentials again: alice's session there has ended.
    await page.getByLabel('Username').waitFor();
    expect(await isFocused(page.getByLabel('Username'))).toBe(true);
    await page.keyboard.type(BOB.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(BOB.password);
    await page.keyboard.press('Enter');

    await page.getByText(`Signed in as ${BOB.email}`).waitFor();
    await page.getByText('No items yet').waitFor();

    await tabTo(page, page.getByLabel('Title'));
    await page.keyboard.type('Fix the bike');
    await tabTo(page, page.getByLabel('Notes'), 2);
    await page.keyboard.type('Front brake');
    await tabTo(page, page.getByLabel('Done'), 2);
    await page.keyboard.press('Space');
    expect(await page.getByLabel('Done').isChecked()).toBe(true);
    const addButton = page.getByRole('button', { name: 'Add item' });
    await tabTo(page, addButton, 2);
    // Focus is visible: the focused control has an outline.
    const outline = await addButton.evaluate((el) => {
      const style = getComputedStyle(el);
      return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    expect(outline.style).not.toBe('none');
    expect(outline.width).toBeGreaterThanOrEqual(2);
    await snap(page, '15-keyboard-focus');
    await page.keyboard.press('Enter');
    await itemCard(page, 'Fix the bike').waitFor();

    // Edit by keyboard: Enter on "Edit", the title gets the focus, Enter in a field saves.
    await tabTo(page, page.getByRole('button', { name: 'Edit Fix the bike' }));
    await page.keyboard.press('Enter');
    const editTitle = page.getByRole('form', { name: 'Edit Fix the bike' }).getByLabel('Title');
    expect(await isFocused(editTitle)).toBe(true);
    await page.keyboard.press('End');
    await page.keyboard.type(' and the lights');
    await page.keyboard.press('Enter');
    await itemCard(page, 'Fix the bike and the lights').waitFor();
    expect(await isFocused(page.getByRole('button', { name: 'Edit Fix the bike and the lights' }))).toBe(true);
    await snap(page, '16-bob-keyboard');

    const token = await accessTokenIn(page);
    const bobsList = (await (await callApi(token, 'GET')).json()) as { items: Array<{ title: string }> };
    expect(bobsList.items.map((i) => i.title)).toEqual(['Fix the bike and the lights']);
    const alicesItem = await callApi(token, 'GET', `/${aliceItemId}`);
    expect(alicesItem.status).toBe(404);
    await expectClean(page, monitor);
  });

  test('bob pages through his items with "Load more"', async () => {
    const token = await accessTokenIn(page);
    for (let i = 1; i <= 20; i++) {
      const response = await callApi(token, 'POST', '', { body: { title: `Chore ${String(i).padStart(2, '0')}` } });
      expect(response.status).toBe(201);
      // The path the browser uses, not the API stage's: CloudFront's function passes the prefix on.
      expect(response.headers.get('location')).toMatch(/^\/api\/items\/[0-9a-f-]{36}$/);
    }
    await page.reload();
    const items = page.getByRole('list', { name: 'Saved items' }).getByRole('listitem');
    const loadMore = page.getByRole('button', { name: 'Load more' });
    await loadMore.waitFor();
    expect(await items.count()).toBe(20);
    const nextPage = page.waitForResponse((r) => isApiCall('GET')(r.request()) && new URL(r.url()).searchParams.has('nextToken'));
    await loadMore.click();
    await nextPage;
    await loadMore.waitFor({ state: 'hidden' });
    expect(await items.count()).toBe(21);
    await page.getByRole('status').getByText('Loaded 1 more item').waitFor();
    await snap(page, '17-load-more');
    await expectClean(page, monitor);
  });
});
