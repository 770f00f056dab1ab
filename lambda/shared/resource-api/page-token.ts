/**
 * Opaque paging token: base64url of `{"v":1,"k":"<id>"}`, the id of the last item of the page.
 * Decoding is strict (anything else is a 400 "invalid nextToken"); the token never carries the
 * partition, which always comes from the server.
 */
import { isUuid } from './ids';
import { BadRequestError } from '../http-errors';
import { decodeOpaqueToken, encodeOpaqueToken } from '../opaque-token';

const TOKEN_VERSION = 1;
const MAX_TOKEN_LENGTH = 200;

export function encodePageToken(lastId: string): string {
  return encodeOpaqueToken({ v: TOKEN_VERSION, k: lastId });
}

/** Returns the id after which the next page starts (lower case), or throws 400. */
export function decodePageToken(token: string): string {
  const value = decodeOpaqueToken(token, MAX_TOKEN_LENGTH);
  const k = value?.k;
  if (value === undefined || Object.keys(value).length !== 2 || value.v !== TOKEN_VERSION || typeof k !== 'string' || !isUuid(k)) {
    throw new BadRequestError('invalid nextToken');
  }
  return k.toLowerCase();
}
