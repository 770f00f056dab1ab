/**
 * Opaque listing cursor: base64url of `{"v":1,"after":"<path>"}`, the last path of the previous
 * page. Decoding is strict (canonical base64url, exactly these keys, a valid file path); anything
 * else is a 400 "invalid cursor". It names a position only: listing after a deleted path still
 * works, and nothing in it is trusted beyond being a valid path.
 */
import { filePathProblem } from './paths';
import { BadRequestError } from '../../shared/http-errors';

const CURSOR_VERSION = 1;
/** base64url of the JSON of a 1024-byte path, with room for escapes. */
const MAX_CURSOR_LENGTH = 8192;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor(lastPath: string): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, after: lastPath }), 'utf8').toString('base64url');
}

/** The path after which the next page starts, or a 400. */
export function decodeCursor(cursor: string): string {
  const invalid = (): BadRequestError => new BadRequestError('invalid cursor');
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw invalid();
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.toString('base64url') !== cursor) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalid();
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid();
  const { v, after } = value as { v?: unknown; after?: unknown };
  if (Object.keys(value).length !== 2 || v !== CURSOR_VERSION || filePathProblem(after) !== undefined) throw invalid();
  return after as string;
}
