/**
 * Recursive listing of files below the root in byte order of their paths, one page at a time,
 * reading only the directories that can hold paths of the page.
 *
 * A depth-first walk yields byte order when each directory's entries are sorted by their name
 * followed by `/` for directories (a directory `a` holds only paths starting with `a/`, so it sorts
 * after the file `a-b`, as "a/x" > "a-b"). Links, special files, internal names (`.efs-*`) and
 * names no client could use (see paths.ts) are skipped; nothing is ever followed.
 * No lock: a page reflects the tree at some moment while it was read.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, readMetadata } from './metadata';
import { MAX_SEGMENTS, RESERVED_PREFIX, compareBytes, filePathProblem } from './paths';
import { errorCode } from './safe-fs';
import { createLimiter } from '../../shared/concurrency';

export interface FileSummary {
  readonly path: string;
  readonly size: number;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: string;
}

export interface Page {
  readonly files: FileSummary[];
  /** The last path of this page when more may follow. */
  readonly lastPath?: string;
}

export interface PageRequest {
  /** '' for everything; may end mid-segment or with `/`. */
  readonly prefix: string;
  /** Only paths after this one (exclusive). */
  readonly after?: string;
  readonly limit: number;
}

/** How many sidecars and stats are read in parallel (NFS round trips dominate). */
const PARALLEL_READS = 16;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export async function listPage(root: string, request: PageRequest): Promise<Page> {
  const paths = await collectPaths(root, request, request.limit + 1);
  const more = paths.length > request.limit;
  const pagePaths = more ? paths.slice(0, request.limit) : paths;
  const limit = createLimiter(PARALLEL_READS);
  const summaries = await Promise.all(pagePaths.map((path) => limit(() => summarize(root, path))));
  return {
    // A file deleted since the directory was read is left out; the cursor still moves past it.
    files: summaries.filter((s): s is FileSummary => s !== undefined),
    ...(more ? { lastPath: pagePaths[pagePaths.length - 1] } : {}),
  };
}

async function summarize(root: string, path: string): Promise<FileSummary | undefined> {
  let stats;
  try {
    stats = await lstat(join(root, path), { bigint: true });
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
  if (!stats.isFile()) return undefined;
  const { contentType, etag } = describe(await readMetadata(root, path), stats);
  return { path, size: Number(stats.size), contentType, etag, lastModified: stats.mtime.toISOString() };
}

/** Whether a directory whose paths all start with `dirKey` (ending in `/`) can hold a match. */
function mayHoldMatches(dirKey: string, request: PageRequest): boolean {
  const prefixOk = dirKey.startsWith(request.prefix) || request.prefix.startsWith(dirKey);
  const afterOk = request.after === undefined || request.after.startsWith(dirKey) || compareBytes(dirKey, request.after) > 0;
  return prefixOk && afterOk;
}

async function collectPaths(root: string, request: PageRequest, want: number): Promise<string[]> {
  const found: string[] = [];

  /** Returns true once `want` paths are found. */
  const visit = async (dirPath: string, depth: number): Promise<boolean> => {
    let dirents;
    try {
      dirents = await readdir(dirPath === '' ? root : join(root, dirPath), { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return false; // removed meanwhile
      throw err;
    }
    const entries: Array<{ path: string; key: string; directory: boolean }> = [];
    for (const dirent of dirents) {
      const directory = dirent.isDirectory();
      if (!directory && !dirent.isFile()) continue;
      let name: string;
      try {
        name = UTF8.decode(dirent.name);
      } catch {
        continue;
      }
      if (name.toLowerCase().startsWith(RESERVED_PREFIX)) continue;
      const path = dirPath === '' ? name : `${dirPath}/${name}`;
      entries.push({ path, key: directory ? `${path}/` : path, directory });
    }
    entries.sort((a, b) => compareBytes(a.key, b.key));
    for (const entry of entries) {
      if (entry.directory) {
        // A file deeper than MAX_SEGMENTS could not be addressed by a client.
        if (depth + 1 >= MAX_SEGMENTS || !mayHoldMatches(entry.key, request)) continue;
        if (await visit(entry.path, depth + 1)) return true;
      } else {
        if (!entry.path.startsWith(request.prefix)) continue;
        if (request.after !== undefined && compareBytes(entry.path, request.after) <= 0) continue;
        if (filePathProblem(entry.path) !== undefined) continue;
        found.push(entry.path);
        if (found.length >= want) return true;
      }
    }
    return false;
  };

  await visit('', 0);
  return found;
}
