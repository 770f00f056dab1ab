/**
 * A per-path write lock that holds across Lambda instances sharing the file system: the lock is a
 * file `.efs-locks/<sha256 of the path>.lock` created with O_CREAT|O_EXCL, which NFSv4 (and so
 * EFS) performs atomically on the server: of any number of creators exactly one succeeds.
 * Advisory locks (flock/fcntl) are not used: Node.js has no API for them, and they would be
 * lost silently with the process's state on a frozen or killed instance anyway.
 *
 * Only writers lock, and only around check + publish (the data itself is written before).
 * A holder that died (timeout, crash) leaves its file behind: a lock older than `staleAfterMs`
 * is broken. Breaking is serialized by a second exclusive file and re-checks that the lock is
 * still the same stale inode, so two breakers never remove a fresh lock. A holder never
 * publishes after `staleAfterMs / 2` (the lease check), so a live holder is never mistaken for a
 * dead one while it can still write.
 */
import { createHash, randomUUID } from 'node:crypto';
import { lstat, open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCK_DIR } from './paths';
import { CREATE_EXCLUSIVE_FLAGS, ensureDirectories, errorCode } from './safe-fs';
import { ServiceUnavailableError } from '../../shared/http-errors';
import { withRetries } from '../../shared/retry';

export interface LockOptions {
  /** A lock file older than this belongs to a dead holder and is broken. */
  readonly staleAfterMs: number;
  /** How long to wait for a busy lock before answering 503. */
  readonly maxWaitMs: number;
  /** Polling backoff (full jitter) while the lock is busy. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Told when a stale lock is broken (worth a warning: a writer died holding it). */
  readonly onStaleLockBroken?: (details: { lockFile: string; ageMs: number }) => void;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = {
  staleAfterMs: 30_000,
  maxWaitMs: 5_000,
  retryBaseMs: 4,
  retryMaxMs: 100,
};

/** 503: another writer holds the path's lock for longer than this request may wait. */
export class LockBusyError extends ServiceUnavailableError {
  constructor() {
    super('The file is being written by another request, retry later', 1);
  }
}

/** The holder's proof of ownership, checked before anything is published. */
export interface Lease {
  /** Throws a 503 when the lease ran out or the request's deadline fired: publishing then could race a breaker. */
  assertValid(): void;
}

function lockFileFor(root: string, path: string): string {
  return join(root, LOCK_DIR, `${createHash('sha256').update(path, 'utf8').digest('hex')}.lock`);
}

/** Runs `critical` holding the lock of `path`; releases it whatever happens. */
export async function withPathLock<T>(
  root: string,
  path: string,
  options: LockOptions,
  signal: AbortSignal | undefined,
  critical: (lease: Lease) => Promise<T>,
): Promise<T> {
  const lockFile = lockFileFor(root, path);
  const waitSignal = signal ? AbortSignal.any([signal, AbortSignal.timeout(options.maxWaitMs)]) : AbortSignal.timeout(options.maxWaitMs);
  // Gives up with the last LockBusyError (503) when the wait or the request's deadline ends.
  const owned = await withRetries(() => tryAcquire(root, lockFile, options), {
    attempts: Number.MAX_SAFE_INTEGER,
    baseDelayMs: options.retryBaseMs,
    maxDelayMs: options.retryMaxMs,
    isRetryable: (err) => err instanceof LockBusyError,
    signal: waitSignal,
  });
  const lease: Lease = {
    assertValid() {
      if (signal?.aborted || Date.now() - owned.acquiredAt > options.staleAfterMs / 2) {
        throw new ServiceUnavailableError('The write took too long and was not applied, retry later', 1);
      }
    },
  };
  try {
    return await critical(lease);
  } finally {
    await release(lockFile, owned.ino);
  }
}

async function tryAcquire(root: string, lockFile: string, options: LockOptions): Promise<{ ino: bigint; acquiredAt: number }> {
  let handle: FileHandle;
  try {
    handle = await open(lockFile, CREATE_EXCLUSIVE_FLAGS, 0o600);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') {
      const problem = await ensureDirectories(root, [LOCK_DIR]);
      if (problem !== undefined) throw new Error(`the lock directory is a ${problem.kind}, not a directory`);
      throw new LockBusyError(); // tried again after the first short pause, now that the directory exists
    }
    if (code !== 'EEXIST') throw err;
    await breakIfStale(lockFile, options);
    throw new LockBusyError();
  }
  const acquiredAt = Date.now();
  try {
    // For people looking at the share; correctness relies only on the file's existence and mtime.
    await handle.writeFile(JSON.stringify({ owner: randomUUID(), pid: process.pid, acquiredAt: new Date(acquiredAt).toISOString() }));
    const { ino } = await handle.stat({ bigint: true });
    await handle.close();
    return { ino, acquiredAt };
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(lockFile).catch(() => undefined);
    throw err;
  }
}

async function breakIfStale(lockFile: string, options: LockOptions): Promise<void> {
  const seen = await lstatOrUndefined(lockFile);
  if (seen === undefined || Date.now() - Number(seen.mtimeMs) < options.staleAfterMs) return;
  const breaker = `${lockFile}.break`;
  try {
    await (await open(breaker, CREATE_EXCLUSIVE_FLAGS, 0o600)).close();
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
    // A breaker holds its file for a few milliseconds; an old one died mid-break.
    const other = await lstatOrUndefined(breaker);
    if (other !== undefined && Date.now() - Number(other.mtimeMs) >= options.staleAfterMs) await unlink(breaker).catch(() => undefined);
    return;
  }
  try {
    const now = await lstatOrUndefined(lockFile);
    if (now !== undefined && now.ino === seen.ino && now.mtimeNs === seen.mtimeNs) {
      await unlink(lockFile);
      options.onStaleLockBroken?.({ lockFile, ageMs: Date.now() - Number(seen.mtimeMs) });
    }
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

async function release(lockFile: string, ino: bigint): Promise<void> {
  // Only our own lock: after a (never expected) break, the file may be another holder's.
  const current = await lstatOrUndefined(lockFile);
  if (current !== undefined && current.ino === ino) await unlink(lockFile).catch(() => undefined);
}

async function lstatOrUndefined(file: string) {
  try {
    return await lstat(file, { bigint: true });
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
