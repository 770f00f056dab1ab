/**
 * Runs a script in a fresh `node` process as ESM, the way Lambda loads a bundle, with only the
 * environment a handler would have (a region, dummy credentials, silent logs) plus `env`.
 * The script calls `report(value)` once; a throw is reported as `{ error, errorName }`.
 * Everything else the process printed (EMF lines, logs) comes back in `lines`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const RESULT_MARKER = 'FRESH_NODE_RESULT ';

export interface FreshNodeRun {
  readonly error?: string;
  readonly errorName?: string;
  /** Every other non-empty line the process printed. */
  readonly lines: string[];
}

/** The environment a handler process starts with here: a region, dummy credentials, silent logs. */
export function handlerProcessEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
}

export async function runInFreshNode<T extends object>(body: string, env: Record<string, string> = {}): Promise<Partial<T> & FreshNodeRun> {
  const script = `
    const report = (value) => process.stdout.write('\\n${RESULT_MARKER}' + JSON.stringify(value) + '\\n');
    try {
      ${body}
    } catch (err) {
      report({ error: err.message, errorName: err.name });
    }`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: '/',
    env: { ...handlerProcessEnv(), ...env },
    timeout: 30_000,
  });
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const marked = lines.find((l) => l.startsWith(RESULT_MARKER));
  if (marked === undefined) throw new Error(`the script reported nothing: ${stdout}`);
  return { ...JSON.parse(marked.slice(RESULT_MARKER.length)), lines: lines.filter((l) => l !== marked) };
}

/**
 * Imports a built bundle in a fresh process and invokes its handler with each event in turn, with
 * `context` (its functions cannot cross processes; `getRemainingTimeInMillis` is provided). Reports
 * `{ results }`. `prepareEvent` is JavaScript run before each call with `event` and `results` in
 * scope, e.g. to put an id created by an earlier call into a later event.
 */
export async function invokeBundle<R>(
  bundle: string, events: unknown[], context: object, env: Record<string, string> = {}, prepareEvent = '',
): Promise<{ results?: R[] } & FreshNodeRun> {
  return runInFreshNode<{ results: R[] }>(`
    const events = JSON.parse(process.env.TEST_EVENTS);
    const context = { ...JSON.parse(process.env.TEST_CONTEXT), getRemainingTimeInMillis: () => 20000 };
    const { handler } = await import(${JSON.stringify(bundle)});
    const results = [];
    for (const event of events) {
      ${prepareEvent}
      results.push(await handler(event, context));
    }
    report({ results });`, { TEST_EVENTS: JSON.stringify(events), TEST_CONTEXT: JSON.stringify(context), ...env });
}

/** The path of a built bundle, `assets/<pattern>/<entry>/index.mjs`; fails the test file at once when it was not built. */
export function builtBundle(pattern: string, entry: string): string {
  const file = join(__dirname, '..', '..', 'assets', pattern, entry, 'index.mjs');
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npx projen bundle" first (npm test does)`);
  return file;
}
