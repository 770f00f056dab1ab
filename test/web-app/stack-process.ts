/**
 * Starts the local stack (local-stack.ts) in a child process run with tsx, and stops it. The
 * child is killed in `stop()`, when this process exits, and - because it stops when its stdin
 * closes - even when this process is killed outright.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { READY_MARKER, type LocalStackInfo } from './protocol';

const ROOT = join(__dirname, '..', '..');
const ENTRY = join(__dirname, 'local-stack.ts');
/** Only for a child that never becomes ready (a crash is reported at once). */
const START_TIMEOUT_MS = 60_000;

export interface LocalStack extends LocalStackInfo {
  /** The next access token check refuses every token used so far (401), as after expiry. */
  expireAccessTokens(): Promise<number>;
  /** The identity provider forgets every refresh token: renewal fails with invalid_grant. */
  revokeRefreshTokens(): Promise<number>;
  /** The next API request (after authorization) fails with `status`. */
  failNextApiRequest(status: number): Promise<void>;
  /** What the child wrote to stderr so far (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startLocalStack(options: { apiBundle: string; siteDir: string }): Promise<LocalStack> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, options.apiBundle, options.siteDir], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let info: LocalStackInfo;
  try {
    info = await waitForReady(child, () => stderr);
  } catch (err) {
    await stopChild(child);
    process.removeListener('exit', killOnExit);
    throw err;
  }

  const control = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${info.controlOrigin}${path}`, { method: 'POST' });
    if (!response.ok) throw new Error(`control ${path} answered ${response.status}`);
    return (await response.json()) as T;
  };
  return {
    ...info,
    expireAccessTokens: async () => (await control<{ expired: number }>('/expire-access-tokens')).expired,
    revokeRefreshTokens: async () => (await control<{ revoked: number }>('/revoke-refresh-tokens')).revoked,
    failNextApiRequest: async (status) => {
      await control(`/fail-next-api-request?status=${status}`);
    },
    stderr: () => stderr,
    stop: async () => {
      await stopChild(child);
      process.removeListener('exit', killOnExit);
    },
  };
}

function waitForReady(child: ChildProcess, stderr: () => string): Promise<LocalStackInfo> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => fail(new Error(`the local stack did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(new Error(`the local stack exited (${code ?? signal}) before it was ready`));
    function fail(err: Error): void {
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      reject(new Error(`${err.message}\n--- stderr ---\n${stderr()}`));
    }
    child.once('exit', onExit);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith(READY_MARKER));
      if (line === undefined) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      resolve(JSON.parse(line.slice(READY_MARKER.length)) as LocalStackInfo);
    });
  });
}

/** SIGTERM (the child closes its servers and dynalite), SIGKILL if it is still there after 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
