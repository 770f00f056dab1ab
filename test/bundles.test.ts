/**
 * The shipped assets, not the TypeScript sources: each bundle must import in a fresh Node
 * process (an ESM bundle of SDK v3 without the createRequire banner crashes right there),
 * and stay within its size budget. Each pattern's handler tests also run its bundle against a
 * local engine (e.g. test/rest-api/handler.bundle.test.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_BUDGET_BYTES, discoverHandlers } from '../scripts/bundle';
import { HANDLER_IMPORT_ENV } from '../scripts/handler-env';
import { runInFreshNode } from './helpers/fresh-node';

const ASSETS = join(__dirname, '..', 'assets');
const handlers = discoverHandlers();


test('every lambda/<pattern>/<entry>.ts has a bundle and a test configuration', () => {
  expect(handlers.length).toBeGreaterThan(0);
  for (const h of handlers) {
    expect(existsSync(join(ASSETS, h.assetName, 'index.mjs'))).toBe(true);
    expect(HANDLER_IMPORT_ENV[h.assetName]).toBeDefined();
  }
});

describe.each(handlers.map((h) => [h.assetName]))('bundle %s', (assetName) => {
  const file = join(ASSETS, assetName, 'index.mjs');

  test(`is within the ${BUNDLE_BUDGET_BYTES / 1024} KB budget`, () => {
    expect(statSync(file).size).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  });

  test('imports in a fresh node process and exports handler', async () => {
    const run = await runInFreshNode<{ handlerType: string }>(
      `const m = await import(${JSON.stringify(file)}); report({ handlerType: typeof m.handler });`, HANDLER_IMPORT_ENV[assetName]);
    expect(run).toEqual(expect.objectContaining({ handlerType: 'function' }));
  });
});

/**
 * Error names are data: logs, run records and Lambda's `errorType` carry them. esbuild's
 * `keepNames` registers each class under its source name (`static{<fn>(this,"Name")}`), a form
 * that appears in no bundle built without it.
 */
const NAMED_ERRORS: Record<string, readonly string[]> = {
  'periodic-job/poller': ['UpstreamStatusError', 'DeadlineExceededError'],
  'rest-api/api': ['NotFoundError', 'PreconditionFailedError', 'OutcomeUnknownError'],
  'rds-proxy/api': ['NotFoundError', 'PreconditionFailedError', 'StatementOutcomeUnknownError'],
  'event-driven/publisher': ['UnidentifiableRecordError'],
  'event-driven/projection-consumer': ['MalformedEventError'],
  'saga/inventory': ['OutOfStockError', 'TransientStepError', 'InvalidStepInputError'],
  'saga/payment': ['PaymentDeclinedError', 'PaymentVoidedError', 'TransientStepError', 'InvalidStepInputError'],
};

describe.each(handlers.map((h) => [h.assetName]))('bundle %s keeps names and ships a source map', (assetName) => {
  const file = join(ASSETS, assetName, 'index.mjs');
  const bundle = readFileSync(file, 'utf8');

  test('every class of ours it throws is registered under its source name', () => {
    // ConfigError: every handler validates its configuration at cold start.
    for (const name of ['ConfigError', ...(NAMED_ERRORS[assetName] ?? [])]) {
      expect([name, bundle.includes(`(this,"${name}")`)]).toEqual([name, true]);
    }
  });

  test('links the map beside it, which names the sources (without their text)', () => {
    expect(bundle.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(map.sources.some((source) => source.includes(`lambda/${assetName.split('/')[0]}/`))).toBe(true);
    expect(map.sourcesContent).toBeUndefined();
  });
});
