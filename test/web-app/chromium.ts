/**
 * The Chromium that `@sparticuz/chromium` ships inside its npm package, for playwright-core.
 *
 * - The package is ESM-only (`"type": "module"`, no CommonJS build), which jest's CommonJS
 *   runtime cannot load: a plain `node` child process resolves the path and the flags instead.
 * - It unpacks the browser to `os.tmpdir()/chromium` and reuses whatever is there, whatever its
 *   version (a Chromium 143 left by another package version crashed at start here): it gets its
 *   own folder per package version through TMPDIR.
 * - Its flags are meant for Lambda. Three are dropped (`DROPPED_FLAGS` says why); the rest
 *   (`--no-sandbox` as root, `--no-zygote`, SwiftShader graphics, ...) are kept as they are.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');

/** Flags of `chromium.args` the test does not pass, and why. */
export const DROPPED_FLAGS: Readonly<Record<string, string>> = {
  // Turns off the same-origin policy and CORS: the token endpoint's CORS configuration and the
  // SPA's same-origin API calls would go untested (the CSP itself stays enforced either way).
  '--disable-web-security': 'disables the same-origin policy and CORS checks',
  // Mixed content: nothing here needs it, and it is one more check switched off.
  '--allow-running-insecure-content': 'allows http subresources on https pages',
  // Needed on Lambda only (prctl); here it breaks a second browser context once one was closed
  // ("Target page, context or browser has been closed").
  '--single-process': 'crashes the browser when a second context is opened after one was closed',
};

/**
 * Environment variable naming a local Chrome or Chromium to use instead (macOS, Windows, or a
 * Linux without the bundled one's libraries): `CHROMIUM_EXECUTABLE_PATH=/path/to/chrome npm test`.
 */
export const CHROMIUM_OVERRIDE_VARIABLE = 'CHROMIUM_EXECUTABLE_PATH';

export interface ChromiumLaunch {
  /** `@sparticuz/chromium` (Linux, CI), or the browser named by `CHROMIUM_EXECUTABLE_PATH`. */
  readonly source: 'sparticuz' | 'override';
  readonly executablePath: string;
  readonly args: string[];
  /** The flags dropped from `chromium.args`. */
  readonly droppedArgs: string[];
}

/** The browser the test drives: the override when it is set, else `@sparticuz/chromium`. */
export async function testChromium(): Promise<ChromiumLaunch> {
  const override = process.env[CHROMIUM_OVERRIDE_VARIABLE];
  if (override) {
    // A desktop build needs none of the Lambda flags; playwright adds its own headless ones.
    return { source: 'override', executablePath: override, args: [], droppedArgs: [] };
  }
  return sparticuzChromium();
}

async function sparticuzChromium(): Promise<ChromiumLaunch> {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@sparticuz', 'chromium', 'package.json'), 'utf8')) as { version: string };
  const unpackDir = join(tmpdir(), `sparticuz-chromium-${version}`);
  mkdirSync(unpackDir, { recursive: true });
  const script = `
    import chromium from '@sparticuz/chromium';
    const executablePath = await chromium.executablePath();
    process.stdout.write(JSON.stringify({ executablePath, args: chromium.args }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: unpackDir },
    timeout: 120_000,
  });
  const resolved = JSON.parse(stdout) as { executablePath: string; args: string[] };
  return {
    source: 'sparticuz',
    executablePath: resolved.executablePath,
    args: resolved.args.filter((a) => !(a in DROPPED_FLAGS)),
    droppedArgs: resolved.args.filter((a) => a in DROPPED_FLAGS),
  };
}
