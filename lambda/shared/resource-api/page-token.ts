/**
 * Opaque paging token: base64url of `{"v":1,"k":"<id>"}`, the id of the last item of the page.
 * Decoding is strict (anything else is a 400 "invalid nextToken"); the token never carries the
 * partition, which always comes from the server.
 */
import { isUuid } from './ids';
import { BadRequestError } from '../http-errors';

const TOKEN_VERSION = 1;
const MAX_TOKEN_LENGTH = 200;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodePageToken(lastId: string): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, k: lastId }), 'utf8').toString('base64url');
}

/** Returns the id after which the next page starts (lower case), or throws 400. */
export function decodePageToken(token: string): string {
  const invalid = (): BadRequestError => new BadRequestError('invalid nextToken');
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !BASE64URL.test(token)) throw invalid();
  const bytes = Buffer.from(token, 'base64url');
  // Only the canonical encoding is accepted (no trailing bits, no alternative spellings).
  if (bytes.toString('base64url') !== token) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalid();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid();
  const keys = Object.keys(value);
  const { v, k } = value as { v?: unknown; k?: unknown };
  if (keys.length !== 2 || v !== TOKEN_VERSION || typeof k !== 'string' || !isUuid(k)) throw invalid();
  return k.toLowerCase();
}
