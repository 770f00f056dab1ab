/**
 * `npm run bench`: every figure against a baseline measured in the same run, reported as a ratio.
 *
 * - Per handler: size of the shipped bundle (bytes, gzip) against the sources it draws from,
 *   and cold-import time of the bundle in a fresh `node` process against the same handler
 *   imported unbundled, its dependencies resolved from node_modules.
 * - Synth time of the example app (prebuilt assets) against the same stack built with
 *   NodejsFunction (esbuild at synth time), each in fresh processes.
 *
 * Results are printed and written to .bench/results.json. Timings are medians of several runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { App } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { addExampleStacks } from '../examples';
import { benchLocalRunner } from './bench/local-runner';
import { benchStreamProcessing } from './bench/stream-processing';
import { buildWebApp, WEB_DIR, WEB_SCRIPT_BUDGET_BYTES } from './build-web';
import { ASSETS_DIR, BUNDLE_BUDGET_BYTES, bundleHandler, discoverHandlers, HANDLER_BUILD_OPTIONS, HandlerEntry, ROOT } from './bundle';
import { HANDLER_IMPORT_ENV } from './handler-env';

const BENCH_DIR = join(ROOT, '.bench');
const IMPORT_RUNS = 9;
const SYNTH_RUNS = 3;

/** Credentials and region for the SDK clients a handler may create at import. */
const SDK_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Milliseconds from process start of the import to its end, measured inside a fresh node process. */
function coldImportMs(file: string, env: Record<string, string>): number {
  const script = `const t=process.hrtime.bigint();await import(${JSON.stringify(file)});` +
    'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));';
  const runs: number[] = [];
  for (let i = 0; i < IMPORT_RUNS; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, ...SDK_ENV, ...env }, cwd: ROOT, encoding: 'utf8',
    });
    runs.push(Number(out));
  }
  return median(runs);
}

function discoverExamples(): number {
  return Object.keys(addExampleStacks(new App())).length;
}

function synthMs(mode: string): number {
  const runs: number[] = [];
  for (let i = 0; i < SYNTH_RUNS; i++) {
    const out = execFileSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'bench-synth.ts'), mode], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
    });
    runs.push(JSON.parse(out.slice(out.lastIndexOf('{'))).elapsedMs);
  }
  return median(runs);
}

interface HandlerFigures {
  handler: string;
  bundleBytes: number;
  bundleGzipBytes: number;
  sourceBytes: number;
  sourceFiles: number;
  bundledImportMs: number;
  unbundledImportMs: number;
}

async function measureHandler(entry: HandlerEntry): Promise<HandlerFigures> {
  const bundled = join(ASSETS_DIR, entry.assetName, 'index.mjs');
  const code = readFileSync(bundled);

  // The sources the bundle draws from (our code + every node_modules file it pulls in), unminified.
  const meta = await build({ ...HANDLER_BUILD_OPTIONS, entryPoints: [entry.source], write: false, metafile: true, outfile: 'out.mjs' });
  const inputs = Object.keys(meta.metafile!.inputs);
  const sourceBytes = inputs.reduce((sum, file) => sum + statSync(join(ROOT, file)).size, 0);

  // Baseline: the same handler compiled alone, importing its dependencies from node_modules.
  // It sits under the repository so that Node resolves node_modules as an unbundled deploy would;
  // CommonJS, because packages' extensionless deep imports (`ajv/dist/2020`) only resolve there.
  const unbundled = await bundleHandler(entry, join(BENCH_DIR, 'unbundled'),
    { packages: 'external', minify: false, format: 'cjs', banner: {} }, 'index.cjs');

  return {
    handler: entry.assetName,
    bundleBytes: code.length,
    bundleGzipBytes: gzipSync(code).length,
    sourceBytes,
    sourceFiles: inputs.length,
    bundledImportMs: coldImportMs(bundled, HANDLER_IMPORT_ENV[entry.assetName] ?? {}),
    unbundledImportMs: coldImportMs(unbundled, HANDLER_IMPORT_ENV[entry.assetName] ?? {}),
  };
}

interface SiteFigures {
  file: string;
  bytes: number;
  gzipBytes: number;
  unminifiedBytes: number;
  unminifiedGzipBytes: number;
}

/** The web application's built site (assets/web-app/site) against the same sources bundled unminified. */
async function measureSite(): Promise<SiteFigures[]> {
  const site = await buildWebApp(join(BENCH_DIR, 'site'));
  const unminified = async (entry: string, options: Record<string, unknown>): Promise<Uint8Array> => {
    const out = await build({ entryPoints: [entry], bundle: true, minify: false, write: false, outdir: join(BENCH_DIR, 'site-unminified'), logLevel: 'warning', ...options });
    return out.outputFiles[0].contents;
  };
  const baselines: Record<string, Uint8Array> = {
    [site.scriptPath]: await unminified(join(WEB_DIR, 'src', 'main.ts'), { platform: 'browser', format: 'esm', target: 'es2022' }),
    [site.stylesheetPath]: await unminified(join(WEB_DIR, 'styles.css'), {}),
  };
  return Object.entries(baselines).map(([path, baseline]) => {
    const built = readFileSync(join(site.outDir, path));
    return {
      file: path.replace(/-[0-9a-f]{12}\./, '-<hash>.'),
      bytes: built.length,
      gzipBytes: gzipSync(built).length,
      unminifiedBytes: baseline.length,
      unminifiedGzipBytes: gzipSync(baseline).length,
    };
  });
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const ratio = (value: number, baseline: number) => `${(value / baseline).toFixed(2)}x`;

async function main(): Promise<void> {
  rmSync(BENCH_DIR, { recursive: true, force: true });
  mkdirSync(BENCH_DIR, { recursive: true });

  const handlers: HandlerFigures[] = [];
  for (const entry of discoverHandlers()) handlers.push(await measureHandler(entry));

  console.log(`\nHandler bundles (cold import: median of ${IMPORT_RUNS} fresh node ${process.version} processes)`);
  console.log(`| handler | bundle (budget ${kb(BUNDLE_BUDGET_BYTES)}) | gzip | sources drawn from | size ratio | cold import bundled | unbundled (node_modules) | import ratio |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const h of handlers) {
    const budget = h.bundleBytes <= BUNDLE_BUDGET_BYTES ? '' : ' OVER BUDGET';
    console.log(`| ${h.handler} | ${kb(h.bundleBytes)}${budget} | ${kb(h.bundleGzipBytes)} | ${kb(h.sourceBytes)} in ${h.sourceFiles} files | ` +
      `${ratio(h.bundleBytes, h.sourceBytes)} | ${ms(h.bundledImportMs)} | ${ms(h.unbundledImportMs)} | ${ratio(h.bundledImportMs, h.unbundledImportMs)} |`);
  }

  const site = await measureSite();
  console.log(`\nWeb application site (budget for the script ${kb(WEB_SCRIPT_BUDGET_BYTES)}; baseline: the same sources bundled unminified)`);
  console.log('| file | minified | gzip | unminified (baseline) | gzip | size ratio | gzip ratio |');
  console.log('|---|---|---|---|---|---|---|');
  for (const f of site) {
    console.log(`| ${f.file} | ${kb(f.bytes)} | ${kb(f.gzipBytes)} | ${kb(f.unminifiedBytes)} | ${kb(f.unminifiedGzipBytes)} | ` +
      `${ratio(f.bytes, f.unminifiedBytes)} | ${ratio(f.gzipBytes, f.unminifiedGzipBytes)} |`);
  }

  const wholeApp = synthMs('app');
  const prebundled = synthMs('prebundled');
  const nodejsFunction = synthMs('nodejs-function');
  console.log(`\nSynth (median of ${SYNTH_RUNS} fresh processes each; construct tree + synth, imports excluded)`);
  console.log('| what | synth time | ratio |');
  console.log('|---|---|---|');
  console.log(`| whole example app (${discoverExamples()} stacks, prebuilt assets) | ${ms(wholeApp)} | ${ratio(wholeApp, nodejsFunction)} |`);
  console.log(`| RestApiExample, prebuilt assets (this library) | ${ms(prebundled)} | ${ratio(prebundled, nodejsFunction)} |`);
  console.log(`| RestApiExample, NodejsFunction, esbuild at synth (baseline) | ${ms(nodejsFunction)} | 1.00x |`);

  const stream = await benchStreamProcessing();
  console.log(`\nStream processing throughput (${stream.events} events in batches of 500, dynalite in-process)`);
  console.log('| DynamoDB round trip | reference events/s (requests) | naive events/s (requests) | throughput ratio |');
  console.log('|---|---|---|---|');
  for (const r of stream.rounds) {
    console.log(`| ${r.latencyMs === 0 ? 'loopback proxy only' : `loopback proxy + ${r.latencyMs} ms modelled`} | ${r.handlerEventsPerSecond} (${r.handlerRequests}) | ` +
      `${r.naiveEventsPerSecond} (${r.naiveRequests}) | ${ratio(r.handlerEventsPerSecond, r.naiveEventsPerSecond)} |`);
  }
  console.log('reference: grouped, conditional, bounded-parallel writes with exact counts; naive: one PutItem per record, sequential, latest only.');

  const local = await benchLocalRunner();
  console.log(`\nLocal runner start-up, RestApiExample (median of ${local.runs} fresh processes of the packaged command)`);
  console.log('| what | time | ratio to a bare node start |');
  console.log('|---|---|---|');
  console.log(`| spawn to "Ready" (dynalite, the table, the API served) | ${ms(local.readyMs)} | ${ratio(local.readyMs, local.bareNodeMs)} |`);
  console.log(`| spawn to the first answered request (function cold start included) | ${ms(local.firstResponseMs)} | ${ratio(local.firstResponseMs, local.bareNodeMs)} |`);
  console.log(`| bare \`node -e ''\` (baseline) | ${ms(local.bareNodeMs)} | 1.00x |`);

  const results = {
    node: process.version,
    handlers,
    site,
    synth: { wholeAppMs: wholeApp, prebundledMs: prebundled, nodejsFunctionMs: nodejsFunction },
    streamProcessing: stream,
    localRunner: local,
  };
  writeFileSync(join(BENCH_DIR, 'results.json'), JSON.stringify(results, null, 2));
  console.log(`\nwritten to ${relative(ROOT, join(BENCH_DIR, 'results.json'))}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
