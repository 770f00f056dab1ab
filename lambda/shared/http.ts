/**
 * HTTP helpers for API Gateway REST (v1 payload) proxy integrations: case-insensitive header
 * access, strict JSON body parsing, JSON/empty responses with security headers, the one
 * error response shape, and optional CORS.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  BadRequestError,
  ErrorCode,
  HttpStatus,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  isHttpError,
  type ErrorDetail,
} from './http-errors';

export type Headers = Record<string, string>;

/** Where request headers come from; an `APIGatewayProxyEvent` satisfies it (either part may be null). */
export interface HeaderSource {
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null;
}

/** The request parts `parseJsonBody` reads; an `APIGatewayProxyEvent` satisfies it. */
export interface HttpRequestLike extends HeaderSource {
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Headers> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export const JSON_CONTENT_TYPE = 'application/json';

/** Error body shape of every handler. */
export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
  readonly details?: readonly ErrorDetail[];
}

// ---------------------------------------------------------------- headers

/**
 * Every value of a request header, whatever its casing, from `multiValueHeaders` when present
 * (it holds repeated header lines) and `headers` otherwise. Either may be null.
 */
export function getHeaderValues(event: HeaderSource, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  const multi = event.multiValueHeaders;
  if (multi && typeof multi === 'object') {
    for (const [key, list] of Object.entries(multi)) {
      if (key.toLowerCase() !== wanted || !Array.isArray(list)) continue;
      for (const v of list) if (typeof v === 'string') values.push(v);
    }
  }
  if (values.length > 0) return values;
  const single = event.headers;
  if (single && typeof single === 'object') {
    for (const [key, v] of Object.entries(single)) {
      if (key.toLowerCase() === wanted && typeof v === 'string') values.push(v);
    }
  }
  return values;
}

/**
 * A request header, case-insensitively; repeated header lines are combined with ", " (RFC 9110
 * field-line combination), which is right for list headers such as `If-Match`.
 */
export function getHeader(event: HeaderSource, name: string): string | undefined {
  const values = getHeaderValues(event, name);
  if (values.length === 0) return undefined;
  return [...new Set(values)].join(', ');
}

/** A header that must appear at most once (e.g. `Idempotency-Key`): repeated distinct values -> 400. */
export function getSingleHeader(event: HeaderSource, name: string): string | undefined {
  const values = [...new Set(getHeaderValues(event, name))];
  if (values.length > 1) throw new BadRequestError(`The ${name} header must be given once`);
  return values[0];
}

/** A query string parameter that must appear at most once. */
export function getSingleQueryParameter(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>,
  name: string,
): string | undefined {
  const multi = event.multiValueQueryStringParameters?.[name];
  if (Array.isArray(multi) && new Set(multi).size > 1) {
    throw new BadRequestError(`The query parameter ${name} must be given once`);
  }
  const value = event.queryStringParameters?.[name] ?? (Array.isArray(multi) ? multi[0] : undefined);
  return typeof value === 'string' ? value : undefined;
}

// ---------------------------------------------------------------- body

export interface ParseJsonBodyOptions {
  /** Largest accepted body, in bytes after base64 decoding. */
  readonly maxBytes: number;
}

const MEDIA_TYPE = /^application\/(?:json|[a-z0-9!#$&^_.+-]+\+json)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}|[A-Za-z0-9+/]{3})?$/;
/** Strict UTF-8; a byte order mark is kept, so JSON.parse rejects it (RFC 8259 forbids sending one). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks a Content-Type for JSON: `application/json` or `application/<x>+json`, with an optional
 * `charset` that must be UTF-8 (other parameters are ignored). Anything else -> 415.
 */
export function assertJsonContentType(contentType: string | undefined): void {
  if (contentType === undefined || contentType.trim() === '') {
    throw new UnsupportedMediaTypeError('Content-Type is required; use application/json');
  }
  const [rawType, ...params] = contentType.split(';');
  const type = rawType.trim().toLowerCase();
  if (!MEDIA_TYPE.test(type)) {
    throw new UnsupportedMediaTypeError('Unsupported Content-Type; use application/json');
  }
  for (const param of params) {
    const eq = param.indexOf('=');
    const key = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    if (key !== 'charset') continue;
    const value = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (value !== 'utf-8' && value !== 'utf8') {
      throw new UnsupportedMediaTypeError('Unsupported charset; JSON bodies must be UTF-8');
    }
  }
}

/**
 * Parses a JSON object body: 400 when absent, 415 for a non-JSON Content-Type or charset,
 * 413 when the decoded body exceeds `maxBytes`, 400 for bad base64, invalid UTF-8, malformed
 * JSON or a JSON value that is not an object.
 */
export function parseJsonBody(event: HttpRequestLike, options: ParseJsonBodyOptions): Record<string, unknown> {
  const body = event.body;
  if (typeof body !== 'string' || body.length === 0) {
    throw new BadRequestError('A JSON request body is required');
  }
  assertJsonContentType(getHeader(event, 'content-type'));

  let bytes: Buffer;
  if (event.isBase64Encoded === true) {
    // 4 base64 characters encode 3 bytes: reject clearly oversized input before decoding it.
    if (Math.floor((body.length * 3) / 4) > options.maxBytes + 2) throw tooLarge(options.maxBytes);
    if (!BASE64.test(body)) throw new BadRequestError('The request body is not valid base64');
    bytes = Buffer.from(body, 'base64');
  } else {
    if (body.length > options.maxBytes) throw tooLarge(options.maxBytes); // UTF-8 is >= 1 byte per UTF-16 unit
    bytes = Buffer.from(body, 'utf8');
  }
  if (bytes.length > options.maxBytes) throw tooLarge(options.maxBytes);

  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new BadRequestError('The request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequestError('The request body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestError('The request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The request body exceeds ${maxBytes} bytes`);
}

export interface ReadBinaryBodyOptions {
  /** Largest accepted body, in bytes after base64 decoding. */
  readonly maxBytes: number;
}

/** Any lone surrogate (paired ones are one code point under the `u` flag). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * The request body as raw bytes (file uploads behind `binaryMediaTypes`): base64-decoded when
 * `isBase64Encoded`, else the text as UTF-8. An absent body is empty. 413 when the decoded body
 * exceeds `maxBytes`; 400 for base64 that is not canonical (standard alphabet, padding optional)
 * and for text with unpaired surrogates (they cannot be encoded as UTF-8).
 */
export function readBinaryBody(event: HttpRequestLike, options: ReadBinaryBodyOptions): Buffer {
  const body = event.body;
  if (typeof body !== 'string' || body.length === 0) return Buffer.alloc(0);
  if (event.isBase64Encoded === true) {
    if (Math.floor((body.length * 3) / 4) > options.maxBytes + 2) throw tooLarge(options.maxBytes);
    // Not the BASE64 pattern above: its backtracking overflows the regexp stack on multi-megabyte
    // bodies. Re-encoding is linear and rejects every non-canonical spelling, since Buffer.from
    // skips characters outside the alphabet and ignores trailing bits.
    const bytes = Buffer.from(body, 'base64');
    const canonical = bytes.toString('base64');
    if (body !== canonical && body !== stripPadding(canonical)) throw new BadRequestError('The request body is not valid base64');
    if (bytes.length > options.maxBytes) throw tooLarge(options.maxBytes);
    return bytes;
  }
  if (body.length > options.maxBytes) throw tooLarge(options.maxBytes); // UTF-8 is >= 1 byte per UTF-16 unit
  if (LONE_SURROGATE.test(body)) throw new BadRequestError('The request body is not well-formed Unicode text');
  const bytes = Buffer.from(body, 'utf8');
  if (bytes.length > options.maxBytes) throw tooLarge(options.maxBytes);
  return bytes;
}

function stripPadding(base64: string): string {
  let end = base64.length;
  while (end > 0 && base64.charCodeAt(end - 1) === 0x3d /* = */) end--;
  return base64.slice(0, end);
}

// ---------------------------------------------------------------- responses

/** A JSON response with the security headers; `headers` override the defaults. */
export function jsonResponse(statusCode: number, body: unknown, headers: Headers = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { ...SECURITY_HEADERS, 'content-type': JSON_CONTENT_TYPE, ...headers },
    body: JSON.stringify(body),
  };
}

/** A response without a body (204, 304) with the security headers. */
export function emptyResponse(statusCode: number, headers: Headers = {}): APIGatewayProxyResult {
  return { statusCode, headers: { ...SECURITY_HEADERS, ...headers }, body: '' };
}

/**
 * The single error shape. An `HttpError` keeps its status, code, message, details and headers;
 * anything else is a 500 `InternalError` with a generic message (log the error yourself).
 */
export function errorResponse(err: unknown, requestId: string): APIGatewayProxyResult {
  if (isHttpError(err)) {
    const body: ErrorBody = {
      error: err.code,
      message: err.message,
      requestId,
      ...(err.details && err.details.length > 0 ? { details: err.details } : {}),
    };
    return jsonResponse(err.statusCode, body, { ...err.headers });
  }
  const body: ErrorBody = { error: ErrorCode.InternalError, message: 'Internal server error', requestId };
  return jsonResponse(HttpStatus.InternalServerError, body);
}

// ---------------------------------------------------------------- CORS

export interface CorsConfig {
  /** Allowed origins (`scheme://host[:port]`, lower case), or `'*'` for any origin. */
  readonly allowOrigins: readonly string[] | '*';
  /** Response headers that browsers may read, e.g. `['ETag', 'Location']`. */
  readonly exposeHeaders?: readonly string[];
}

const ORIGIN = /^https?:\/\/[a-z0-9.-]+(?::\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](?::\d{1,5})?$/;

/**
 * Parses a `CORS_ALLOW_ORIGINS`-style value: `*` or a comma separated list of origins.
 * Returns the problem as a string when the value is invalid.
 */
export function parseCorsOrigins(value: string): readonly string[] | '*' | { readonly problem: string } {
  const trimmed = value.trim();
  if (trimmed === '*') return '*';
  const origins = trimmed.split(',').map((o) => o.trim().toLowerCase()).filter((o) => o.length > 0);
  if (origins.length === 0) return { problem: 'must be * or a comma separated list of origins' };
  const bad = origins.filter((o) => !ORIGIN.test(o));
  if (bad.length > 0) {
    return { problem: `has invalid origins ${bad.map((b) => JSON.stringify(b)).join(', ')} (expected scheme://host[:port] without a path)` };
  }
  return [...new Set(origins)];
}

/** Adds CORS headers to a response when the request's `Origin` is allowed. */
export function withCors(
  response: APIGatewayProxyResult,
  event: HeaderSource,
  cors: CorsConfig | undefined,
): APIGatewayProxyResult {
  if (!cors) return response;
  const headers: Headers = { ...(response.headers as Headers | undefined) };
  const expose = cors.exposeHeaders && cors.exposeHeaders.length > 0 ? { 'access-control-expose-headers': cors.exposeHeaders.join(', ') } : {};
  if (cors.allowOrigins === '*') {
    Object.assign(headers, { 'access-control-allow-origin': '*' }, expose);
  } else {
    headers.vary = headers.vary ? `${headers.vary}, Origin` : 'Origin';
    const origin = getSingleOrigin(event);
    if (origin !== undefined && cors.allowOrigins.includes(origin.toLowerCase())) {
      Object.assign(headers, { 'access-control-allow-origin': origin }, expose);
    }
  }
  return { ...response, headers };
}

function getSingleOrigin(event: HeaderSource): string | undefined {
  const values = [...new Set(getHeaderValues(event, 'origin'))];
  return values.length === 1 ? values[0] : undefined;
}

/** The page size settings every paginated handler reads from its configuration. */
export interface PageSizeSettings {
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
}

const PAGE_LIMIT = /^[0-9]{1,7}$/;

/** The `limit` query parameter: the default when absent, else a decimal integer in 1..maxPageSize (400 otherwise). */
export function parsePageLimit(value: string | undefined, settings: PageSizeSettings): number {
  if (value === undefined) return settings.defaultPageSize;
  const n = PAGE_LIMIT.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > settings.maxPageSize) {
    throw new BadRequestError(`limit must be an integer in 1..${settings.maxPageSize}`);
  }
  return n;
}
