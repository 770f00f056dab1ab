/**
 * Test harness of the EFS file API (lambda/efs/files.ts): a temporary directory standing in for
 * the mount, with a sibling "outside" directory holding a secret that no request may ever read,
 * change or list; event builders for `/files` and `/files/{path+}`; and file tree snapshots.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyHandler, APIGatewayProxyResult } from 'aws-lambda';
import { apiGatewayEvent, lambdaContext, type HeaderInput, type QueryInput } from './api-gateway-events';
import { isolatedRequire, type Env, type Invoke } from './load-handler';

/** Every variable the EFS file handler reads; unset before each load unless given. */
export const EFS_FILES_ENV_VARS = ['MOUNT_PATH', 'MAX_FILE_BYTES', 'DEFAULT_PAGE_SIZE', 'MAX_PAGE_SIZE', 'REQUIRE_IF_MATCH', 'POWERTOOLS_SERVICE_NAME'] as const;

export interface LoadedEfsFiles {
  readonly handler: APIGatewayProxyHandler;
  /** Calls the handler with a fresh Lambda context (10 s left unless the context says otherwise). */
  readonly invoke: Invoke;
}

/** Cold-starts `lambda/efs/files.ts` with `env` (other EFS variables unset). */
export function loadEfsFiles(env: Env): LoadedEfsFiles {
  const { module } = isolatedRequire<{ handler: APIGatewayProxyHandler }>('lambda/efs/files', env, EFS_FILES_ENV_VARS);
  const handler = module.handler;
  const invoke: Invoke = async (event, context = lambdaContext()) => {
    const result = await handler(event, context, () => undefined);
    if (!result) throw new Error('handler returned no result');
    return result;
  };
  return { handler, invoke };
}

export const SECRET = 'top secret: never served, changed or listed';

export interface TempMount {
  /** Holds `root` and `outside` and nothing else. */
  readonly base: string;
  /** Stands in for MOUNT_PATH (real path, no links). */
  readonly root: string;
  /** A sibling of the root with `secret.txt`. */
  readonly outside: string;
  readonly secretFile: string;
  cleanup(): Promise<void>;
}

export async function createTempMount(): Promise<TempMount> {
  const base = await realpath(await mkdtemp(join(tmpdir(), 'efs-files-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await mkdir(root);
  await mkdir(outside);
  const secretFile = join(outside, 'secret.txt');
  await writeFile(secretFile, SECRET);
  return { base, root, outside, secretFile, cleanup: () => rm(base, { recursive: true, force: true }) };
}

export interface FileRequestOptions {
  /** Sent base64-encoded with `isBase64Encoded: true` (as API Gateway does with `*\/*` binary types) unless `base64: false`. */
  readonly body?: Buffer | string | null;
  readonly base64?: boolean;
  /** Sent as the Content-Type header. */
  readonly contentType?: string;
  readonly headers?: HeaderInput;
  readonly overrides?: Partial<APIGatewayProxyEvent>;
}

function encodePath(path: string): string {
  return path.split('/').map((segment) => {
    try {
      return encodeURIComponent(segment);
    } catch {
      return segment; // lone surrogates: kept as they are
    }
  }).join('/');
}

/** A request on `/files/{path+}`; `path` is the decoded path parameter, as API Gateway passes it. */
export function fileEvent(method: string, path: string, options: FileRequestOptions = {}): APIGatewayProxyEvent {
  const base64 = options.base64 ?? true;
  const raw = options.body;
  let body: string | null = null;
  if (raw !== undefined && raw !== null) {
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    body = base64 ? bytes.toString('base64') : typeof raw === 'string' ? raw : bytes.toString('utf8');
  }
  return apiGatewayEvent({
    method,
    resource: '/files/{path+}',
    path: `/files/${encodePath(path)}`,
    pathParameters: { path },
    headers: { ...(options.contentType !== undefined ? { 'Content-Type': options.contentType } : {}), ...(options.headers ?? {}) },
    body,
    isBase64Encoded: body !== null && base64,
    overrides: options.overrides,
  });
}

/** A listing request on `/files`. */
export function listEvent(query: QueryInput = {}, method = 'GET'): APIGatewayProxyEvent {
  return apiGatewayEvent({ method, resource: '/files', path: '/files', query });
}

/** The bytes of a response body (base64-decoded when flagged, as API Gateway does). */
export function responseBytes(response: APIGatewayProxyResult): Buffer {
  return response.isBase64Encoded ? Buffer.from(response.body, 'base64') : Buffer.from(response.body, 'utf8');
}

/**
 * Every entry below `dir` (relative path -> description): directories, links with their target,
 * files with the SHA-256 of their content. Never follows links.
 */
export async function treeSnapshot(dir: string): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  const visit = async (relative: string): Promise<void> => {
    const entries = await readdir(relative === '' ? dir : join(dir, relative));
    for (const name of entries.sort()) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const absolute = join(dir, path);
      const st = await lstat(absolute);
      if (st.isSymbolicLink()) {
        snapshot[path] = `link -> ${await readlink(absolute)}`;
      } else if (st.isDirectory()) {
        snapshot[path] = 'dir';
        await visit(path);
      } else {
        snapshot[path] = `file ${createHash('sha256').update(await readFile(absolute)).digest('hex')} ${st.mtimeMs}`;
      }
    }
  };
  await visit('');
  return snapshot;
}

/** Internal files that must not outlive a request: temp files anywhere and lock files. */
export async function leftoverInternalFiles(root: string): Promise<string[]> {
  const tree = await treeSnapshot(root);
  return Object.keys(tree).filter((path) => {
    const name = path.split('/').pop()!;
    return name.startsWith('.efs-tmp-') || (path.startsWith('.efs-locks/') && tree[path] !== 'dir');
  });
}

/** The on-disk lock file of a path (the cross-instance contract: `.efs-locks/<sha256 of the path>.lock`). */
export function lockFileOf(root: string, path: string): string {
  return join(root, '.efs-locks', `${createHash('sha256').update(path, 'utf8').digest('hex')}.lock`);
}

/** The on-disk sidecar of a path (`.efs-meta/<2 hex>/<sha256 of the path>.json`). */
export function sidecarOf(root: string, path: string): string {
  const hash = createHash('sha256').update(path, 'utf8').digest('hex');
  return join(root, '.efs-meta', hash.slice(0, 2), `${hash}.json`);
}
