/**
 * Start-up of the local runner for the REST API example, in fresh processes: the packaged command
 * (`assets/local-runner/cli.cjs local RestApiExample`) from its spawn to "Ready" (every engine,
 * table and API up), and to the first answered request (the function's cold start included),
 * against the start of a bare `node` process on the same machine (the floor of any command).
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { RestApiExampleStack } from '../../examples/rest-api';
import { LOCAL_RUNNER_DIR } from '../bundle';

export interface LocalRunnerFigures {
  readonly runs: number;
  readonly readyMs: number;
  readonly firstResponseMs: number;
  readonly bareNodeMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function startOnce(assembly: string): Promise<{ readyMs: number; firstResponseMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(LOCAL_RUNNER_DIR, 'cli.cjs'), 'local', 'RestApiExample', '--assembly', assembly, '--port', '0', '--quiet-functions'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const output = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (text.includes('Ready in')) resolve(text);
      });
      child.on('exit', () => reject(new Error(`the runner exited before it was ready:\n${text}`)));
    });
    const readyMs = performance.now() - started;
    const url = /REST API \S+: (http:\/\/\S+\/prod)\//.exec(output)?.[1];
    const response = await fetch(`${url}/items`, { headers: { 'x-local-identity': 'arn:aws:iam::123456789012:user/bench' } });
    if (response.status !== 200) throw new Error(`the first request answered ${response.status}`);
    return { readyMs, firstResponseMs: performance.now() - started };
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

export async function benchLocalRunner(runs = 3): Promise<LocalRunnerFigures> {
  const assembly = mkdtempSync(join(tmpdir(), 'bench-local-'));
  try {
    const app = new App({ outdir: assembly });
    new RestApiExampleStack(app, 'RestApiExample');
    app.synth();
    const ready: number[] = [];
    const first: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
      const run = await startOnce(assembly);
      ready.push(run.readyMs);
      first.push(run.firstResponseMs);
      const t = performance.now();
      execFileSync(process.execPath, ['-e', '']);
      bare.push(performance.now() - t);
    }
    return { runs, readyMs: Math.round(median(ready)), firstResponseMs: Math.round(median(first)), bareNodeMs: Math.round(median(bare)) };
  } finally {
    rmSync(assembly, { recursive: true, force: true });
  }
}
