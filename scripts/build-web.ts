/**
 * Builds the web application's single-page site (`web/`) into a folder that the `WebApplication`
 * construct uploads to its bucket: `index.html` plus `assets/app-<hash>.js` and
 * `assets/app-<hash>.css`. Nothing else: `/config.json` is written by the construct at deploy time.
 *
 * File names carry a hash of their content, so CloudFront can cache `/assets/*` for a year
 * (immutable) while `index.html` is revalidated; the same sources always give the same names.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, type BuildOptions } from 'esbuild';

const ROOT = join(__dirname, '..');
export const WEB_DIR = join(ROOT, 'web');
/** Where `npm run bundle` puts the site; the construct's asset folder. */
export const WEB_SITE_DIR = join(ROOT, 'assets', 'web-app', 'site');

/** The placeholders in `web/index.html` that become the hashed asset paths. */
export const SCRIPT_PLACEHOLDER = '%APP_SCRIPT%';
export const STYLESHEET_PLACEHOLDER = '%APP_STYLESHEET%';

/** Largest minified script the site may ship (sign-in library included); the site build test enforces it. */
export const WEB_SCRIPT_BUDGET_BYTES = 100 * 1024;

export interface WebAppBuild {
  readonly outDir: string;
  /** Paths as the browser requests them, e.g. `/assets/app-3f9c2a1b7d4e.js`. */
  readonly scriptPath: string;
  readonly stylesheetPath: string;
  /** Every file written, relative to `outDir`, sorted. */
  readonly files: readonly string[];
  readonly scriptBytes: number;
  readonly stylesheetBytes: number;
}

const COMMON_OPTIONS: BuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: false,
  write: false,
  charset: 'utf8',
  // License notices of bundled libraries (oidc-client-ts: Apache-2.0) stay in the file, at its end.
  legalComments: 'eof',
  logLevel: 'warning',
};

/** Bundles `web/src/main.ts` and `web/styles.css` and writes the site into `outDir` (emptied first). */
export async function buildWebApp(outDir: string = WEB_SITE_DIR): Promise<WebAppBuild> {
  const [script, stylesheet] = await Promise.all([
    bundleOne({ ...COMMON_OPTIONS, entryPoints: [join(WEB_DIR, 'src', 'main.ts')], platform: 'browser', target: 'es2022', format: 'esm' }),
    bundleOne({ ...COMMON_OPTIONS, entryPoints: [join(WEB_DIR, 'styles.css')], target: ['chrome120', 'firefox120', 'safari17'] }),
  ]);
  const scriptPath = `/assets/app-${contentHash(script)}.js`;
  const stylesheetPath = `/assets/app-${contentHash(stylesheet)}.css`;
  const html = renderIndexHtml(readFileSync(join(WEB_DIR, 'index.html'), 'utf8'), scriptPath, stylesheetPath);

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'assets'), { recursive: true });
  writeFileSync(join(outDir, scriptPath), script);
  writeFileSync(join(outDir, stylesheetPath), stylesheet);
  writeFileSync(join(outDir, 'index.html'), html);
  return {
    outDir,
    scriptPath,
    stylesheetPath,
    files: ['index.html', scriptPath.slice(1), stylesheetPath.slice(1)].sort(),
    scriptBytes: script.byteLength,
    stylesheetBytes: stylesheet.byteLength,
  };
}

/** Puts the asset paths into the page; each placeholder must appear exactly once. */
export function renderIndexHtml(template: string, scriptPath: string, stylesheetPath: string): string {
  let html = template;
  for (const [placeholder, value] of [[SCRIPT_PLACEHOLDER, scriptPath], [STYLESHEET_PLACEHOLDER, stylesheetPath]]) {
    const count = html.split(placeholder).length - 1;
    if (count !== 1) throw new Error(`web/index.html must contain ${placeholder} exactly once, found ${count}`);
    html = html.replace(placeholder, value);
  }
  return html;
}

/** 12 hex digits of SHA-256: the same bytes always give the same name, wherever they are built. */
export function contentHash(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 12);
}

async function bundleOne(options: BuildOptions): Promise<Uint8Array> {
  const result = await build({ ...options, outdir: join(ROOT, '.web-build') });
  const files = result.outputFiles ?? [];
  if (files.length !== 1) throw new Error(`expected one output for ${String(options.entryPoints)}, got ${files.map((f) => f.path).join(', ')}`);
  return files[0].contents;
}

if (require.main === module) {
  buildWebApp().then((site) => {
    console.log(`built web/ -> ${relative(ROOT, site.outDir)}: ${site.files.join(', ')} (script ${site.scriptBytes} B, stylesheet ${site.stylesheetBytes} B)`);
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
