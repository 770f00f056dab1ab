/**
 * `npx projen checks` (part of `npm test`): the static checks, side by side.
 *
 * Each is single-threaded (tsc, ESLint, jsii + jsii-docgen + jsii-diff), so on a 2-core machine
 * two run at once in about half the time one after the other takes. Each check's output is
 * printed whole when it ends, so outputs never interleave. Exits non-zero when any check fails.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './bundle';

/** projen tasks: each stays runnable on its own (`npx projen eslint`). */
const CHECK_TASKS = ['test:types', 'eslint', 'api:check'] as const;

interface Outcome { readonly task: string; readonly ok: boolean; readonly seconds: number }

function run(task: string): Promise<Outcome> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'projen'), [task], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      process.stdout.write(Buffer.concat(output));
      resolve({ task, ok: code === 0, seconds });
    });
  });
}

async function main(): Promise<void> {
  const queue = [...CHECK_TASKS];
  const outcomes: Outcome[] = [];
  const lanes = Math.max(1, Math.min(availableParallelism(), queue.length));
  await Promise.all(Array.from({ length: lanes }, async () => {
    for (let task = queue.shift(); task !== undefined; task = queue.shift()) outcomes.push(await run(task));
  }));
  for (const o of outcomes) console.log(`${o.ok ? 'passed' : 'FAILED'}: ${o.task} (${o.seconds.toFixed(1)} s)`);
  if (outcomes.some((o) => !o.ok)) process.exit(1);
}

void main();
