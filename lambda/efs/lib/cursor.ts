/**
 * Opaque listing cursor: base64url of `{"v":1,"after":"<path>"}`, the last path of the previous
 * page. Decoding is strict (canonical base64url, exactly these keys, a valid file path); anything
 * else is a 400 "invalid cursor". It names a position only: listing after a deleted path still
 * works, and nothing in it is trusted beyond being a valid path.
 */
import { filePathProblem } from './paths';
import { BadRequestError } from '../../shared/http-errors';
import { decodeOpaqueToken, encodeOpaqueToken } from '../../shared/opaque-token';

const CURSOR_VERSION = 1;
/** base64url of the JSON of a 1024-byte path, with room for escapes. */
const MAX_CURSOR_LENGTH = 8192;

export function encodeCursor(lastPath: string): string {
  return encodeOpaqueToken({ v: CURSOR_VERSION, after: lastPath });
}

/** The path after which the next page starts, or a 400. */
export function decodeCursor(cursor: string): string {
  const value = decodeOpaqueToken(cursor, MAX_CURSOR_LENGTH);
  if (value === undefined || Object.keys(value).length !== 2 || value.v !== CURSOR_VERSION || filePathProblem(value.after) !== undefined) {
    throw new BadRequestError('invalid cursor');
  }
  return value.after as string;
}
