/// <reference lib="dom" />
/**
 * Watches a browser context for what must not happen on the site: Content-Security-Policy
 * violations (reported by the page's own `securitypolicyviolation` events), console errors,
 * uncaught page errors, and requests to anything but 127.0.0.1 (blocked: the test never leaves
 * the machine). Failed responses that a test provokes on purpose (a 401 before renewal, an
 * injected 503) also log a console error in Chromium: the test declares each one with
 * `allowFailedResponse`, and each declaration must be matched exactly once.
 */
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';

export interface CspViolation {
  readonly effectiveDirective: string;
  readonly blockedURI: string;
  readonly sourceFile: string;
  readonly sample: string;
  readonly documentURI: string;
}

interface Allowance {
  readonly urlPrefix: string;
  readonly status: number;
  matched: boolean;
}

const REPORT_BINDING = '__reportCspViolation';
const FAILED_RESOURCE = /^Failed to load resource: the server responded with a status of (\d{3})/;

export class BrowserMonitor {
  /** Installs the listeners on `context` (before any page is opened). */
  static async attach(context: BrowserContext): Promise<BrowserMonitor> {
    const monitor = new BrowserMonitor();
    await context.exposeBinding(REPORT_BINDING, (_source, violation: CspViolation) => {
      monitor.cspViolations.push(violation);
    });
    // Runs in every document before its own scripts (injected by the browser, so not subject to the CSP).
    await context.addInitScript(({ binding }) => {
      document.addEventListener('securitypolicyviolation', (event) => {
        const report = (window as unknown as Record<string, (v: unknown) => void>)[binding];
        report({
          effectiveDirective: event.effectiveDirective,
          blockedURI: event.blockedURI,
          sourceFile: event.sourceFile,
          sample: event.sample,
          documentURI: event.documentURI,
        });
      });
    }, { binding: REPORT_BINDING });
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:') {
        await route.continue();
        return;
      }
      monitor.blockedRequests.push(url.href);
      await route.abort('blockedbyclient');
    });
    context.on('page', (page) => monitor.watch(page));
    return monitor;
  }

  readonly cspViolations: CspViolation[] = [];
  readonly consoleErrors: string[] = [];
  readonly pageErrors: string[] = [];
  readonly blockedRequests: string[] = [];
  private readonly allowances: Allowance[] = [];

  private watch(page: Page): void {
    page.on('console', (message) => this.onConsole(message));
    page.on('pageerror', (error) => this.pageErrors.push(`${error.name}: ${error.message}`));
  }

  private onConsole(message: ConsoleMessage): void {
    if (message.type() !== 'error') return;
    const text = message.text();
    const url = message.location().url;
    const failed = FAILED_RESOURCE.exec(text);
    if (failed !== null) {
      const allowance = this.allowances.find((a) => !a.matched && a.status === Number(failed[1]) && url.startsWith(a.urlPrefix));
      if (allowance !== undefined) {
        allowance.matched = true;
        return;
      }
    }
    this.consoleErrors.push(`${text} (${url})`);
  }

  /** The next failed response with `status` from a URL starting with `urlPrefix` is expected (and must happen). */
  allowFailedResponse(urlPrefix: string, status: number): void {
    this.allowances.push({ urlPrefix, status, matched: false });
  }

  /**
   * Everything that went wrong so far: violations, unexpected console or page errors, blocked
   * requests and declared failures that did not happen. Call after a round trip to the page
   * (`settle`), so that every event of the step has arrived.
   */
  problems(): string[] {
    return [
      ...this.cspViolations.map((v) => `CSP violation: ${v.effectiveDirective} blocked ${v.blockedURI || 'inline'} in ${v.documentURI} (${v.sample})`),
      ...this.consoleErrors.map((e) => `console error: ${e}`),
      ...this.pageErrors.map((e) => `page error: ${e}`),
      ...this.blockedRequests.map((u) => `request outside 127.0.0.1: ${u}`),
      ...this.allowances.filter((a) => !a.matched).map((a) => `expected a failed response ${a.status} from ${a.urlPrefix}, saw none`),
    ];
  }

  /** Forgets what was recorded (after a deliberate negative control). */
  reset(): void {
    this.cspViolations.length = 0;
    this.consoleErrors.length = 0;
    this.pageErrors.length = 0;
    this.blockedRequests.length = 0;
    this.allowances.length = 0;
  }
}

/**
 * A round trip to the page: CDP delivers events in order, so every console message and binding
 * call the page produced before this returns has been handled.
 */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(undefined))));
}
