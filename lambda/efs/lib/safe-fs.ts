/**
 * File system access that never leaves the root: the mount root is resolved per request (a failed
 * mount is a 503, not a crash), every directory on a path must be a real directory (no symbolic
 * link anywhere, checked level by level with lstat before use), and files are opened with O_NOFOLLOW
 * (and O_NONBLOCK, so a FIFO planted on the share cannot hang the function).
 *
 * Requiring "no symlink at all" is stricter than "resolves inside the root": an in-root link
 * could otherwise alias the reserved metadata and lock directories. Node has no openat(), so a
 * directory swapped for a link between the check and its use (by another client of the share,
 * never through this API) is outside what these checks can stop.
 */
import { randomUUID } from 'node:crypto';
import { constants, type BigIntStats } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX } from './paths';
import { BadRequestError, ConflictError, NotFoundError, ServiceUnavailableError } from '../../shared/http-errors';

/* eslint-disable no-bitwise -- open(2) flags are a bit set */
/** Reads a regular file: never through a final link, never blocking on a FIFO. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Creates a new file: fails when anything (file or link) already has the name; NFSv4 does this atomically. */
export const CREATE_EXCLUSIVE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/* eslint-enable no-bitwise */

/** The mount is missing or not a directory: the EFS mount failed (logged as an error, answered 503). */
export class MountUnavailableError extends ServiceUnavailableError {
  constructor(cause: unknown) {
    super('The file storage is not available, retry later', 5, cause);
  }
}

/** `code` of a Node.js system error, if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** NFS conditions worth a retry by the client: a stale handle, I/O errors and timeouts of the mount. */
const TRANSIENT_CODES = new Set(['ESTALE', 'EIO', 'ETIMEDOUT', 'EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE']);

export function isTransientFsError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** The real path of the mount root; 503 when it does not exist or is not a directory. */
export async function resolveRoot(mountPath: string): Promise<string> {
  try {
    const real = await realpath(mountPath);
    if (!(await stat(real)).isDirectory()) throw Object.assign(new Error(`${mountPath} is not a directory`), { code: 'ENOTDIR' });
    return real;
  } catch (err) {
    throw new MountUnavailableError(err);
  }
}

/** Where a valid relative path lives below the root. */
export interface Location {
  readonly root: string;
  readonly path: string;
  readonly segments: readonly string[];
  readonly absolute: string;
  /** Path of the parent relative to the root, '' for the root itself. */
  readonly parentPath: string;
  readonly parentAbsolute: string;
}

/** `path` must have passed `parseFilePath`, so the join is purely lexical and stays below `root`. */
export function locate(root: string, path: string): Location {
  const segments = path.split('/');
  const parentPath = segments.slice(0, -1).join('/');
  return {
    root,
    path,
    segments,
    absolute: join(root, path),
    parentPath,
    parentAbsolute: parentPath === '' ? root : join(root, parentPath),
  };
}

const symlinkInPath = (): BadRequestError => new BadRequestError('The file path must not go through a symbolic link');
const finalSymlink = (): BadRequestError => new BadRequestError('The file path names a symbolic link');

/**
 * Checks the parent directory chain without creating anything, one lstat per level (a link is a
 * 400 even when its target does not exist): `missing` when a directory does not exist or a file
 * stands where a directory should.
 */
export async function checkParent(loc: Location): Promise<'ok' | 'missing'> {
  const parents = loc.segments.slice(0, -1);
  for (let depth = 1; depth <= parents.length; depth++) {
    let st;
    try {
      st = await lstat(join(loc.root, parents.slice(0, depth).join('/')));
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
      throw err;
    }
    if (st.isSymbolicLink()) throw symlinkInPath();
    if (!st.isDirectory()) return 'missing';
  }
  return 'ok';
}

/** Why a directory chain could not be made: a link or a non-directory at `at` (relative path). */
export interface DirectoryProblem {
  readonly kind: 'symlink' | 'not-a-directory';
  readonly at: string;
}

/**
 * Creates the directories `segments` below `root` one level at a time, checking each with lstat
 * before going deeper, so that nothing is ever created through a link (unlike `mkdir -p`).
 */
export async function ensureDirectories(root: string, segments: readonly string[]): Promise<DirectoryProblem | undefined> {
  for (let depth = 1; depth <= segments.length; depth++) {
    const relative = segments.slice(0, depth).join('/');
    const dir = join(root, relative);
    try {
      await mkdir(dir, { mode: 0o755 });
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') {
        if (errorCode(err) === 'ENOTDIR') return { kind: 'not-a-directory', at: segments.slice(0, depth - 1).join('/') };
        throw err;
      }
    }
    const st = await lstat(dir);
    if (st.isSymbolicLink()) return { kind: 'symlink', at: relative };
    if (!st.isDirectory()) return { kind: 'not-a-directory', at: relative };
  }
  return undefined;
}

/** `ensureDirectories` for the parent of a client path: 400 for a link, 409 for a file in the way. */
export async function ensureParentDirectories(loc: Location): Promise<void> {
  const problem = await ensureDirectories(loc.root, loc.segments.slice(0, -1));
  if (problem === undefined) return;
  if (problem.kind === 'symlink') throw symlinkInPath();
  throw new ConflictError(`A parent of the file path is a file, not a directory: ${JSON.stringify(problem.at)}`);
}

/** Identity of a file's content: a new rename (new inode) or any in-place write changes it. */
export function fileIdentity(st: BigIntStats): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}`;
}

export type TargetState =
  | { readonly kind: 'missing' }
  | { readonly kind: 'file'; readonly stats: BigIntStats }
  | { readonly kind: 'directory' | 'symlink' | 'other' };

/** What is at a path now, without following a final link. */
export async function inspectTarget(absolute: string): Promise<TargetState> {
  let st: BigIntStats;
  try {
    st = await lstat(absolute, { bigint: true });
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    throw err;
  }
  if (st.isSymbolicLink()) return { kind: 'symlink' };
  if (st.isDirectory()) return { kind: 'directory' };
  if (!st.isFile()) return { kind: 'other' };
  return { kind: 'file', stats: st };
}

/** 400 for a link; a directory or special file is reported so that each route answers its way. */
export function rejectSymlink(state: TargetState): void {
  if (state.kind === 'symlink') throw finalSymlink();
}


export type OpenedFile =
  | { readonly kind: 'file'; readonly handle: FileHandle; readonly stats: BigIntStats }
  | { readonly kind: 'missing' | 'directory' | 'other' };

/** Opens a regular file for reading without following a final link (400 when it is one). */
export async function openRegularFile(absolute: string): Promise<OpenedFile> {
  let handle: FileHandle;
  try {
    handle = await open(absolute, READ_FLAGS);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ELOOP') throw finalSymlink();
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    if (code === 'EISDIR') return { kind: 'directory' };
    if (code === 'ENXIO') return { kind: 'other' }; // a socket, or a FIFO without a writer
    throw err;
  }
  try {
    const stats = await handle.stat({ bigint: true });
    if (stats.isFile()) return { kind: 'file', handle, stats };
    await handle.close();
    return { kind: stats.isDirectory() ? 'directory' : 'other' };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** Reads at most `limit` bytes from the start of a file; more would mean it grew while read. */
export async function readUpTo(handle: FileHandle, limit: number): Promise<Buffer> {
  const buffer = Buffer.alloc(limit);
  let filled = 0;
  while (filled < limit) {
    const { bytesRead } = await handle.read(buffer, filled, limit - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

export interface TempFile {
  readonly path: string;
  readonly stats: BigIntStats;
}

/**
 * Writes `bytes` to a new, uniquely named file in `dir` (O_EXCL, so never an existing file or
 * link) and fsyncs it, so that a later rename publishes complete, durable content. The identity is
 * taken after the fsync: rename keeps inode and mtime, so it is the identity of the published file.
 * The temp file is removed when anything fails.
 */
export async function writeTempFile(dir: string, bytes: Uint8Array, mode = 0o644): Promise<TempFile> {
  const path = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
  const handle = await open(path, CREATE_EXCLUSIVE_FLAGS, mode);
  try {
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, written);
      written += bytesWritten;
    }
    await handle.sync();
    const stats = await handle.stat({ bigint: true });
    await handle.close();
    return { path, stats };
  } catch (err) {
    await handle.close().catch(() => undefined);
    await removeQuietly(path);
    throw err;
  }
}

/** Atomically replaces `target` with `source` (same directory); 409 when a directory took its place. */
export async function publish(source: string, target: string): Promise<void> {
  try {
    await rename(source, target);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') {
      throw new ConflictError('The file path names a directory');
    }
    throw err;
  }
}

/** Persists the renames and unlinks done in a directory (its entries are data too). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, DIRECTORY_FLAGS);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes a file found under the lock; 404 when another client of the share removed it first. */
export async function unlinkFile(absolute: string): Promise<void> {
  try {
    await unlink(absolute);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') throw new NotFoundError('File not found');
    throw err;
  }
}

export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/**
 * Removes the now empty directories of a path, deepest first, stopping at the first that is not
 * empty (rmdir refuses those atomically, so a concurrent upload into one is never lost).
 */
export async function removeEmptyParents(loc: Location): Promise<void> {
  for (let depth = loc.segments.length - 1; depth >= 1; depth--) {
    try {
      await rmdir(join(loc.root, loc.segments.slice(0, depth).join('/')));
    } catch {
      return;
    }
  }
}
