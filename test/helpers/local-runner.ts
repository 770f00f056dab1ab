/**
 * Runs a stack through the local runner in a test: synthesizes it into a fresh cloud assembly
 * (with cdk.json's context, as `cdk synth` would) and starts it on free ports, collecting the
 * runner's and the functions' lines so that a failing test can show them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/runner';
import { cdkJsonContext } from '../examples/synth';

export interface RunningStack {
  readonly local: LocalStack;
  /** Everything the runner and the functions wrote. */
  readonly lines: string[];
  readonly assemblyDir: string;
}

/** Synthesizes the stacks `build` adds to a new app into a temporary assembly; returns its folder. */
export function synthToAssembly(build: (app: App) => void): string {
  const outdir = mkdtempSync(join(tmpdir(), 'local-assembly-'));
  const app = new App({ outdir, context: cdkJsonContext() });
  build(app);
  app.synth();
  return outdir;
}

/** Starts `stack` of the assembly on free ports. */
export async function runStack(assemblyDir: string, stack: string, options: Partial<LocalStackOptions> = {}): Promise<RunningStack> {
  const lines: string[] = [];
  const local = await startLocalStack({
    stack,
    assembly: assemblyDir,
    port: 0,
    log: (line) => lines.push(line),
    functionLog: (name, line) => lines.push(`[${name}] ${line}`),
    ...options,
  });
  return { local, lines, assemblyDir };
}

/**
 * Synthesizes the stack `build` makes and runs it for the file's tests; stops it and removes the
 * assembly afterwards. Read the fields inside tests.
 */
export function useLocalStack(build: (app: App) => Stack, options: Partial<LocalStackOptions> = {}): RunningStack {
  const holder: { running?: RunningStack } = {};
  beforeAll(async () => {
    let stackId = '';
    const assemblyDir = synthToAssembly((app) => { stackId = build(app).artifactId; });
    holder.running = await runStack(assemblyDir, stackId, options);
  });
  afterAll(async () => {
    await holder.running?.local.stop();
    if (holder.running) rmSync(holder.running.assemblyDir, { recursive: true, force: true });
  });
  return {
    get local() { return holder.running!.local; },
    get lines() { return holder.running!.lines; },
    get assemblyDir() { return holder.running!.assemblyDir; },
  };
}

/**
 * The resource API's main path over HTTP, as a client calls it: POST an item to
 * `<collectionUrl>`, then GET it by the id the answer gave. Asserts both answers.
 */
export async function createThenGet(collectionUrl: string, identity: Record<string, string>, item: Record<string, unknown>): Promise<{ id: string }> {
  const created = await fetch(collectionUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...identity }, body: JSON.stringify(item) });
  const createdBody = await created.json() as { id: string };
  expect({ status: created.status, body: createdBody }).toMatchObject({ status: 201, body: item });

  const read = await fetch(`${collectionUrl}/${encodeURIComponent(createdBody.id)}`, { headers: identity });
  expect({ status: read.status, body: await read.json() as unknown }).toMatchObject({ status: 200, body: { id: createdBody.id, ...item } });
  return createdBody;
}
