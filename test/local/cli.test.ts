/**
 * The packaged command (`assets/local-runner/cli.cjs`, built by `npm run bundle`) in its own
 * process: it starts the REST example from an assembly, prints what runs where, serves the API,
 * and stops everything on Ctrl-C (SIGINT) with exit code 0.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { RestApiExampleStack } from '../../examples/rest-api';
import { synthToAssembly } from '../helpers/local-runner';

const CLI = join(__dirname, '..', '..', 'assets', 'local-runner', 'cli.cjs');

let assemblyDir: string;
beforeAll(() => {
  assemblyDir = synthToAssembly((app) => { new RestApiExampleStack(app, 'RestApiExample'); });
});
afterAll(() => rmSync(assemblyDir, { recursive: true, force: true }));

function run(args: string[]): { output: () => string; ready: Promise<string>; exit: Promise<number | null>; interrupt: () => void } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (/Ready in/.test(output)) resolve(output);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => reject(new Error(`the command exited before it was ready:\n${output}`)));
  });
  ready.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { output: () => output, ready, exit, interrupt: () => child.kill('SIGINT') };
}

test('local <Stack> serves the stack until Ctrl-C', async () => {
  const command = run(['local', 'RestApiExample', '--assembly', assemblyDir, '--port', '0', '--quiet-functions']);
  const started = await command.ready;
  const url = /REST API \S+: (http:\/\/127\.0\.0\.1:\d+\/prod)\//.exec(started)?.[1];
  expect(url).toBeDefined();

  const created = await fetch(`${url}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-local-identity': 'arn:aws:iam::123456789012:user/alice' },
    body: JSON.stringify({ name: 'from the command' }),
  });
  expect(created.status).toBe(201);

  command.interrupt();
  expect(await command.exit).toBe(0);
  expect(command.output()).toMatch(/Stopping/);
});

test('an unknown stack is an error that lists the stacks there are', async () => {
  const command = run(['local', 'NoSuchStack', '--assembly', assemblyDir]);
  expect(await command.exit).toBe(1);
  expect(command.output()).toMatch(/has no stack NoSuchStack; its stacks: RestApiExample/);
});

test('a bad option is a usage error', async () => {
  const command = run(['local', 'RestApiExample', '--port', 'eighty']);
  expect(await command.exit).toBe(2);
  expect(command.output()).toMatch(/--port must be a port number/);
});
