/**
 * Per-request logic of the EFS file API: routing by `event.resource` and `event.httpMethod`,
 * validation of everything the client sends, then the file operations.
 *
 * - `PUT /files/{path+}`: atomic upload (temp file + fsync + rename) with If-Match / If-None-Match
 *   evaluated under the path's lock (lock.ts), so conditional writes hold across instances.
 * - `GET|HEAD /files/{path+}`: download without any lock (readers see whole versions only).
 * - `DELETE /files/{path+}`: under the lock, with If-Match; removes emptied parent directories.
 * - `GET|HEAD /files?prefix=&limit=&cursor=`: paginated recursive listing.
 * A path naming a directory is a 404 for GET, HEAD and DELETE (there is no file there) and a 409
 * for PUT (a file cannot replace a directory).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { FilesConfig } from './config';
import { decodeCursor, encodeCursor } from './cursor';
import { listPage } from './listing';
import { withPathLock, type LockOptions } from './lock';
import { DEFAULT_CONTENT_TYPE, contentEtag, describe, readMetadata, removeMetadata, writeMetadata, type Description, type MetadataEntry } from './metadata';
import { parseFilePath, parsePrefix } from './paths';
import {
  checkParent,
  ensureParentDirectories,
  errorCode,
  fileIdentity,
  inspectTarget,
  locate,
  openRegularFile,
  publish,
  readUpTo,
  rejectSymlink,
  removeEmptyParents,
  removeQuietly,
  resolveRoot,
  syncDirectory,
  unlinkFile,
  writeTempFile,
  type Location,
  type TempFile,
} from './safe-fs';
import { formatEntityTag, parseEntityTagCondition, strongMatch, weakMatch, type EntityTagCondition } from '../../shared/entity-tags';
import { SECURITY_HEADERS, emptyResponse, getHeader, getSingleHeader, getSingleQueryParameter, parsePageLimit, jsonResponse, readBinaryBody, type Headers } from '../../shared/http';
import {
  BadRequestError,
  ConflictError,
  HttpStatus,
  MethodNotAllowedError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
  ServiceUnavailableError,
} from '../../shared/http-errors';

export interface RouteDeps {
  readonly config: FilesConfig;
  readonly lock: LockOptions;
  /** The invocation deadline: waiting for a lock stops, and nothing is published, once it fires. */
  readonly abortSignal?: AbortSignal;
}

/** The request parts the routes read. */
export type FilesRequest = Pick<
  APIGatewayProxyEvent,
  'resource' | 'httpMethod' | 'pathParameters' | 'headers' | 'multiValueHeaders' | 'queryStringParameters' | 'multiValueQueryStringParameters' | 'body' | 'isBase64Encoded'
>;

export const COLLECTION_RESOURCE = '/files';
export const FILE_RESOURCE = '/files/{path+}';
export const COLLECTION_METHODS = ['GET', 'HEAD'] as const;
export const FILE_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE'] as const;

/**
 * Uploaded content is served back with the type the uploader chose: a sandbox CSP keeps an HTML
 * or SVG upload from running script in the API's origin (nosniff is in SECURITY_HEADERS).
 */
const DOWNLOAD_HEADERS: Readonly<Headers> = { 'content-security-policy': "default-src 'none'; sandbox" };

/** Routes one request; throws `HttpError`s for client mistakes and anything else for failures. */
export async function route(event: FilesRequest, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const method = typeof event.httpMethod === 'string' ? event.httpMethod.toUpperCase() : '';
  if (event.resource === COLLECTION_RESOURCE) {
    if (method === 'GET' || method === 'HEAD') return listFiles(event, deps, method === 'HEAD');
    throw new MethodNotAllowedError(method, COLLECTION_METHODS);
  }
  if (event.resource === FILE_RESOURCE) {
    if (method === 'GET' || method === 'HEAD') return getFile(event, deps, method === 'HEAD');
    if (method === 'PUT') return putFile(event, deps);
    if (method === 'DELETE') return deleteFile(event, deps);
    throw new MethodNotAllowedError(method, FILE_METHODS);
  }
  throw new NotFoundError('No such resource');
}

// ---------------------------------------------------------------- routes

async function putFile(event: FilesRequest, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  const path = parseFilePath(event.pathParameters?.path);
  const contentType = parseContentType(getSingleHeader(event, 'Content-Type'));
  const ifMatch = readCondition(event, 'If-Match');
  const ifNoneMatch = readCondition(event, 'If-None-Match');
  const bytes = readBinaryBody(event, { maxBytes: config.maxFileBytes });

  const loc = locate(await resolveRoot(config.mountPath), path);
  const temp = await writeBesideTarget(loc, bytes);
  let published = false;
  try {
    const etag = contentEtag(contentType, bytes);
    const created = await withPathLock(loc.root, path, deps.lock, deps.abortSignal, async (lease) => {
      const target = await inspectTarget(loc.absolute);
      rejectSymlink(target);
      if (target.kind === 'directory' || target.kind === 'other') throw new ConflictError('The file path names a directory or a special file');
      const current = target.kind === 'file' ? describe(await readMetadata(loc.root, path), target.stats) : undefined;
      checkWritePreconditions(current, { ifMatch, ifNoneMatch, requireIfMatch: config.requireIfMatch });

      // The sidecar goes first and keeps the entry of the data still in place (see metadata.ts).
      const entries: MetadataEntry[] = [{ identity: fileIdentity(temp.stats), contentType, etag }];
      if (current?.entry) entries.push(current.entry);
      await writeMetadata(loc.root, path, entries);
      lease.assertValid();
      await publish(temp.path, loc.absolute);
      published = true;
      await syncDirectory(loc.parentAbsolute);
      return current === undefined;
    });
    const body = { path, size: bytes.length, contentType, etag, lastModified: temp.stats.mtime.toISOString() };
    return jsonResponse(created ? HttpStatus.Created : HttpStatus.OK, body, { etag: formatEntityTag(etag) });
  } finally {
    if (!published) {
      await removeQuietly(temp.path);
      await removeEmptyParents(loc); // directories made for an upload that was refused
    }
  }
}

async function getFile(event: FilesRequest, deps: RouteDeps, headOnly: boolean): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  const path = parseFilePath(event.pathParameters?.path);
  const ifNoneMatch = readCondition(event, 'If-None-Match');
  const loc = locate(await resolveRoot(config.mountPath), path);
  if ((await checkParent(loc)) === 'missing') throw new NotFoundError('File not found');

  const file = await readVersion(loc, config.maxFileBytes, !headOnly);
  const etag = formatEntityTag(file.description.etag);
  const lastModified = file.lastModified.toUTCString();
  if (ifNoneMatch !== undefined && weakMatch(ifNoneMatch, file.description.etag)) {
    return emptyResponse(HttpStatus.NotModified, { etag, 'last-modified': lastModified });
  }
  const headers: Headers = {
    ...SECURITY_HEADERS,
    ...DOWNLOAD_HEADERS,
    'content-type': file.description.contentType,
    'content-length': String(file.size),
    etag,
    'last-modified': lastModified,
  };
  if (headOnly) return { statusCode: HttpStatus.OK, headers, body: '' };
  return { statusCode: HttpStatus.OK, headers, body: file.bytes!.toString('base64'), isBase64Encoded: true };
}

async function deleteFile(event: FilesRequest, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  const path = parseFilePath(event.pathParameters?.path);
  const ifMatch = readCondition(event, 'If-Match');
  if (ifMatch === undefined && config.requireIfMatch) {
    throw new PreconditionRequiredError('This request requires an If-Match header with the file\'s ETag');
  }
  const loc = locate(await resolveRoot(config.mountPath), path);
  if ((await checkParent(loc)) === 'missing') throw new NotFoundError('File not found');

  await withPathLock(loc.root, path, deps.lock, deps.abortSignal, async (lease) => {
    const target = await inspectTarget(loc.absolute);
    rejectSymlink(target);
    if (target.kind !== 'file') throw notAFile(target.kind);
    if (ifMatch !== undefined) {
      const current = describe(await readMetadata(loc.root, path), target.stats);
      if (!strongMatch(ifMatch, current.etag)) throw new PreconditionFailedError('The file has changed: its ETag does not match If-Match');
    }
    lease.assertValid();
    await unlinkFile(loc.absolute);
    await removeMetadata(loc.root, path);
    await syncDirectory(loc.parentAbsolute);
  });
  await removeEmptyParents(loc);
  return emptyResponse(HttpStatus.NoContent);
}

async function listFiles(event: FilesRequest, deps: RouteDeps, headOnly: boolean): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  const prefix = parsePrefix(getSingleQueryParameter(event, 'prefix'));
  const limit = parsePageLimit(getSingleQueryParameter(event, 'limit'), config);
  const cursor = getSingleQueryParameter(event, 'cursor');
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const root = await resolveRoot(config.mountPath);

  const page = await listPage(root, { prefix, limit, ...(after !== undefined ? { after } : {}) });
  const response = jsonResponse(HttpStatus.OK, {
    files: page.files,
    ...(page.lastPath !== undefined ? { nextCursor: encodeCursor(page.lastPath) } : {}),
  });
  return headOnly ? { ...response, body: '' } : response;
}

// ---------------------------------------------------------------- helpers

/** Writes the upload next to its target, re-creating the parents should a DELETE remove them meanwhile. */
async function writeBesideTarget(loc: Location, bytes: Buffer): Promise<TempFile> {
  for (let attempt = 1; ; attempt++) {
    await ensureParentDirectories(loc);
    try {
      return await writeTempFile(loc.parentAbsolute, bytes);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
}

interface WritePreconditions {
  readonly ifMatch?: EntityTagCondition;
  readonly ifNoneMatch?: EntityTagCondition;
  readonly requireIfMatch: boolean;
}

/** RFC 9110 section 13.2.2 order; `current` is the file in place, `undefined` when there is none. */
function checkWritePreconditions(current: Description | undefined, pre: WritePreconditions): void {
  if (pre.ifMatch !== undefined && (current === undefined || !strongMatch(pre.ifMatch, current.etag))) {
    throw new PreconditionFailedError(current === undefined
      ? 'The file does not exist, so it cannot match If-Match'
      : 'The file has changed: its ETag does not match If-Match');
  }
  if (pre.ifNoneMatch !== undefined && current !== undefined && weakMatch(pre.ifNoneMatch, current.etag)) {
    throw new PreconditionFailedError(pre.ifNoneMatch.kind === 'any'
      ? 'The file already exists (If-None-Match: *)'
      : 'The file matches an ETag listed in If-None-Match');
  }
  if (current !== undefined && pre.ifMatch === undefined && pre.requireIfMatch) {
    throw new PreconditionRequiredError('Replacing an existing file requires an If-Match header with its ETag');
  }
}

interface ReadVersion {
  readonly description: Description;
  readonly size: number;
  readonly lastModified: Date;
  readonly bytes?: Buffer;
}

/** Attempts at reading one consistent version while writers replace the file. */
const READ_ATTEMPTS = 3;

/**
 * Reads one version of a file with its own metadata: the data first (an open file keeps its
 * bytes even if renamed over), then the sidecar. When the sidecar has no entry for those bytes and
 * the path meanwhile holds other data, writers overtook the read: it starts over.
 */
async function readVersion(loc: Location, maxBytes: number, withBody: boolean): Promise<ReadVersion> {
  for (let attempt = 1; ; attempt++) {
    const opened = await openRegularFile(loc.absolute);
    if (opened.kind !== 'file') throw notAFile(opened.kind);
    try {
      const { stats, handle } = opened;
      const size = Number(stats.size);
      if (withBody && size > maxBytes) {
        throw new ConflictError(`The file is ${size} bytes, more than this API returns (${maxBytes})`);
      }
      const bytes = withBody ? await readUpTo(handle, size + 1) : undefined;
      const description = describe(await readMetadata(loc.root, loc.path), stats);
      const changedInPlace = bytes !== undefined && bytes.length !== size;
      if (description.entry === undefined || changedInPlace) {
        const now = await inspectTarget(loc.absolute);
        const replaced = now.kind !== 'file' || fileIdentity(now.stats) !== fileIdentity(stats);
        if ((replaced || changedInPlace) && attempt < READ_ATTEMPTS) continue;
        if (changedInPlace) throw new ServiceUnavailableError('The file changed while it was read, retry later');
      }
      return { description, size, lastModified: stats.mtime, ...(bytes !== undefined ? { bytes } : {}) };
    } finally {
      await opened.handle.close();
    }
  }
}

function notAFile(kind: 'missing' | 'directory' | 'symlink' | 'other'): NotFoundError {
  if (kind === 'directory') return new NotFoundError('The file path names a directory, not a file');
  if (kind === 'other') return new NotFoundError('The file path names a special file, not a regular file');
  return new NotFoundError('File not found');
}

function readCondition(event: FilesRequest, name: 'If-Match' | 'If-None-Match'): EntityTagCondition | undefined {
  const header = getHeader(event, name);
  return header === undefined ? undefined : parseEntityTagCondition(header, name);
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED_STRING = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t \\x20-\\x7e])*"';
/** RFC 9110 media-type: type "/" subtype *( OWS ";" [ OWS parameter ] ), visible ASCII only. */
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;(?:[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED_STRING}))?)*$`);
export const MAX_CONTENT_TYPE_LENGTH = 255;

/** The stored content type: the request's, trimmed, when it is a syntactically valid media type. */
export function parseContentType(header: string | undefined): string {
  if (header === undefined) return DEFAULT_CONTENT_TYPE;
  const value = header.trim();
  if (value === '') return DEFAULT_CONTENT_TYPE;
  if (value.length > MAX_CONTENT_TYPE_LENGTH) throw new BadRequestError(`The Content-Type must be at most ${MAX_CONTENT_TYPE_LENGTH} characters`);
  if (!MEDIA_TYPE.test(value)) throw new BadRequestError('The Content-Type is not a valid media type (type/subtype[; name=value])');
  return value;
}

