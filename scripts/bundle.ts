/**
 * Bundles every Lambda entry point `lambda/<pattern>/<entry>.ts` into
 * `assets/<pattern>/<entry>/index.mjs` (ESM, node24, minified, AWS SDK included),
 * so that synth needs neither esbuild nor Docker and the npm package ships ready-made code.
 */
import { cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { buildWebApp, WEB_SITE_DIR } from './build-web';
import { ENGINE_PACKAGES } from '../local/engines/engine-package';

export const ROOT = join(__dirname, '..');
export const LAMBDA_DIR = join(ROOT, 'lambda');
export const ASSETS_DIR = join(ROOT, 'assets');

/**
 * An ESM bundle of SDK v3 calls `require` for Node built-ins; without this banner it fails
 * at import with "Dynamic require of "buffer" is not supported".
 */
export const ESM_REQUIRE_BANNER = "import{createRequire}from'module';const require=createRequire(import.meta.url);";

/** Largest minified bundle a reference handler may have (DESIGN.md section 4); the bundle test enforces it. */
export const BUNDLE_BUDGET_BYTES = 700 * 1024;

export interface HandlerEntry {
  /** e.g. `rest-api` */
  readonly pattern: string;
  /** e.g. `api` */
  readonly name: string;
  /** absolute path of the TypeScript source */
  readonly source: string;
  /** asset folder name relative to assets/, e.g. `rest-api/api` */
  readonly assetName: string;
}

/** Folders under lambda/ that hold shared code rather than entry points. */
const NON_PATTERN_DIRS = new Set(['shared', 'node_modules']);

export function discoverHandlers(): HandlerEntry[] {
  const entries: HandlerEntry[] = [];
  for (const pattern of readdirSync(LAMBDA_DIR).sort()) {
    const dir = join(LAMBDA_DIR, pattern);
    if (NON_PATTERN_DIRS.has(pattern) || !statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
      const name = file.slice(0, -'.ts'.length);
      entries.push({ pattern, name, source: join(dir, file), assetName: `${pattern}/${name}` });
    }
  }
  return entries;
}

export const HANDLER_BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  // Class names are data: error names go into logs, run records and Lambda's `errorType`.
  keepNames: true,
  // A map beside each bundle, without the sources' text: stack traces in the logs point at
  // lambda/ and node_modules/ lines when the function runs with --enable-source-maps.
  sourcemap: 'linked',
  sourcesContent: false,
  treeShaking: true,
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  legalComments: 'none',
  logLevel: 'warning',
};

export async function bundleHandler(entry: HandlerEntry, outdir: string, extra: BuildOptions = {}, fileName = 'index.mjs'): Promise<string> {
  const outfile = join(outdir, entry.assetName, fileName);
  await build({ ...HANDLER_BUILD_OPTIONS, ...extra, entryPoints: [entry.source], outfile });
  return outfile;
}

/** Entry points named like this get their pattern's `migrations/` folder beside the bundle. */
export const MIGRATIONS_ENTRY = 'migrate';

/**
 * Copies `lambda/<pattern>/migrations/` to `<outdir>/<pattern>/migrate/migrations/` for a
 * `migrate` entry point (the function reads its SQL files from there, `/var/task/migrations`).
 * Returns the destination, or `undefined` for any other entry point or a pattern without migrations.
 */
export function copyMigrations(entry: HandlerEntry, outdir: string): string | undefined {
  const source = join(LAMBDA_DIR, entry.pattern, 'migrations');
  if (entry.name !== MIGRATIONS_ENTRY || !existsSync(source)) return undefined;
  const destination = join(outdir, entry.assetName, 'migrations');
  rmSync(destination, { recursive: true, force: true });
  cpSync(source, destination, { recursive: true });
  return destination;
}

/**
 * Every handler in one esbuild build: the modules they share (the AWS SDK above all) are parsed
 * once instead of once per handler, 1.7 s instead of 4.2 s here. Each output is still a
 * standalone bundle, byte for byte what `bundleHandler` writes.
 */
export async function bundleHandlers(handlers: readonly HandlerEntry[], outdir: string): Promise<void> {
  await build({
    ...HANDLER_BUILD_OPTIONS,
    entryPoints: handlers.map((h) => ({ in: h.source, out: `${h.assetName}/index` })),
    outdir,
    outExtension: { '.js': '.mjs' },
  });
}

/** Where the local runner's bundles go: the package's `bin` and `local.js` point here. */
export const LOCAL_RUNNER_DIR = join(ASSETS_DIR, 'local-runner');

/**
 * The local runner (local/), bundled for Node.js 20 as CommonJS: `index.cjs` (its programmatic
 * API) and `cli.cjs` (the package's executable, which runs the API's command line). The engine packages stay outside: a project
 * installs the ones its stacks need (local/engines/engine-package.ts).
 */
export async function bundleLocalRunner(outdir = LOCAL_RUNNER_DIR): Promise<void> {
  const common: BuildOptions = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    external: Object.keys(ENGINE_PACKAGES),
  };
  await build({ ...common, entryPoints: [join(ROOT, 'local', 'index.ts')], outfile: join(outdir, 'index.cjs') });
  // One bundle: the executable is the API's command line.
  writeFileSync(join(outdir, 'cli.cjs'), "#!/usr/bin/env node\nrequire('./index.cjs').runCommandLine();\n", { mode: 0o755 });
}

/** Every handler bundle, the site and the local runner, into a fresh assets/. */
export async function bundleAll(): Promise<void> {
  rmSync(ASSETS_DIR, { recursive: true, force: true });
  const handlers = discoverHandlers();
  await bundleHandlers(handlers, ASSETS_DIR);
  for (const h of handlers) {
    console.log(`bundled ${relative(ROOT, h.source)} -> assets/${h.assetName}/index.mjs`);
    const migrations = copyMigrations(h, ASSETS_DIR);
    if (migrations) console.log(`copied lambda/${h.pattern}/migrations -> ${relative(ROOT, migrations)}`);
  }
  // The web application's site (web/) is an asset too: the WebApplication construct uploads it.
  const site = await buildWebApp(WEB_SITE_DIR);
  console.log(`built web/ -> ${relative(ROOT, site.outDir)} (${site.files.join(', ')})`);
  await bundleLocalRunner();
  console.log(`bundled local/ -> ${relative(ROOT, LOCAL_RUNNER_DIR)}/cli.cjs, index.cjs`);
}

if (require.main === module) {
  bundleAll().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
