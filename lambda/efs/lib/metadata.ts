/**
 * Content type and ETag of each file, kept in a sidecar JSON document under the reserved
 * directory `.efs-meta/<2 hex>/<sha256 of the path>.json` (hashed: a path of up to 1024 bytes
 * could not be a file name, and mirroring the tree would collide with client names).
 *
 * Why this cannot tear against the data: data and sidecar are two files, each replaced with
 * temp + fsync + rename, under the path's lock. Each sidecar entry is bound to one version of the
 * data by its identity (inode, size, mtime in ns: a rename publishes a new inode, an in-place
 * write changes size or mtime). A write publishes the sidecar FIRST, holding both the new entry
 * and the entry of the data still in place; then it renames the data. So a reader (data opened
 * first, sidecar read second) always finds the entry of the bytes it holds, before, during and
 * after a write, and after a crash between the two renames. A reader that raced two or more writes
 * sees the path's identity change and starts over. Data without a matching entry (written by
 * other clients of the share, or a crash before the sidecar existed) is served as
 * `application/octet-stream` with an ETag derived from its identity.
 *
 * The ETag of a file written through the API is a hash of its content type and bytes: strong,
 * identical for identical representations, and unlike an inode-based tag never reused when an
 * inode number is recycled.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { METADATA_DIR } from './paths';
import { READ_FLAGS, ensureDirectories, errorCode, fileIdentity, readUpTo, removeQuietly, syncDirectory, writeTempFile } from './safe-fs';

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const FORMAT_VERSION = 1;
/** A sidecar holds at most two entries of at most ~600 bytes each. */
const MAX_SIDECAR_BYTES = 16_384;

export interface MetadataEntry {
  /** `fileIdentity()` of the data this entry describes. */
  readonly identity: string;
  readonly contentType: string;
  /** The opaque ETag value (without quotes). */
  readonly etag: string;
}

/** What a reader serves for one version of a file. */
export interface Description {
  readonly contentType: string;
  readonly etag: string;
  /** The entry found for this version, `undefined` when the fallback was used. */
  readonly entry?: MetadataEntry;
}

function pathHash(path: string): string {
  return createHash('sha256').update(path, 'utf8').digest('hex');
}

function sidecarDir(path: string): string[] {
  return [METADATA_DIR, pathHash(path).slice(0, 2)];
}

function sidecarPath(root: string, path: string): string {
  return join(root, ...sidecarDir(path), `${pathHash(path)}.json`);
}

/** 128 bits of SHA-256 as hex: ample for an entity tag, and short in headers and listings. */
function shortHash(...parts: Array<string | Uint8Array>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex').slice(0, 32);
}

/** The ETag of a representation written through the API. */
export function contentEtag(contentType: string, bytes: Uint8Array): string {
  return shortHash('content\n', contentType, '\n', bytes);
}

/** The fallback ETag of data without a sidecar entry; changes whenever the data does. */
export function identityEtag(identity: string): string {
  return shortHash('identity\n', identity);
}

export function describe(entries: readonly MetadataEntry[], stats: BigIntStats): Description {
  const identity = fileIdentity(stats);
  const entry = entries.find((e) => e.identity === identity);
  if (entry) return { contentType: entry.contentType, etag: entry.etag, entry };
  return { contentType: DEFAULT_CONTENT_TYPE, etag: identityEtag(identity) };
}

function isEntry(value: unknown): value is MetadataEntry {
  if (value === null || typeof value !== 'object') return false;
  const { identity, contentType, etag } = value as Record<string, unknown>;
  return typeof identity === 'string' && typeof contentType === 'string' && typeof etag === 'string' && /^[0-9a-f]{32}$/.test(etag);
}

/** The entries of a path's sidecar; none when it is missing, unreadable or not ours. */
export async function readMetadata(root: string, path: string): Promise<MetadataEntry[]> {
  let text: string;
  try {
    const handle = await open(sidecarPath(root, path), READ_FLAGS);
    try {
      text = (await readUpTo(handle, MAX_SIDECAR_BYTES)).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'EISDIR' || code === 'ENXIO') return [];
    throw err;
  }
  try {
    const doc = JSON.parse(text) as { v?: unknown; path?: unknown; entries?: unknown };
    if (doc.v !== FORMAT_VERSION || doc.path !== path || !Array.isArray(doc.entries)) return [];
    return doc.entries.filter(isEntry);
  } catch {
    return [];
  }
}

/** Replaces a path's sidecar atomically (temp + fsync + rename). Call it holding the path's lock. */
export async function writeMetadata(root: string, path: string, entries: readonly MetadataEntry[]): Promise<void> {
  const dirSegments = sidecarDir(path);
  const problem = await ensureDirectories(root, dirSegments);
  if (problem !== undefined) throw new Error(`the metadata directory ${problem.at} is a ${problem.kind}, not a directory`);
  const doc = JSON.stringify({ v: FORMAT_VERSION, path, entries });
  const temp = await writeTempFile(join(root, ...dirSegments), Buffer.from(doc, 'utf8'), 0o600);
  try {
    await rename(temp.path, sidecarPath(root, path));
  } catch (err) {
    await removeQuietly(temp.path);
    throw err;
  }
  // Durable before the data rename that relies on it.
  await syncDirectory(join(root, ...dirSegments));
}

/** Removes a path's sidecar; call it holding the path's lock, after the data is gone. */
export async function removeMetadata(root: string, path: string): Promise<void> {
  try {
    await unlink(sidecarPath(root, path));
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
}
