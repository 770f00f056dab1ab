/**
 * Opaque paging tokens: base64url of a small JSON object. Decoding is strict, so a client cannot
 * smuggle anything past the caller's own field checks: only the canonical base64url spelling
 * (no padding, no trailing bits), valid UTF-8, and a plain JSON object are accepted.
 */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeOpaqueToken(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The object inside `token`, or undefined when the token is not one `encodeOpaqueToken` could have made. */
export function decodeOpaqueToken(token: string, maxLength: number): Record<string, unknown> | undefined {
  if (token.length === 0 || token.length > maxLength || !BASE64URL.test(token)) return undefined;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.toString('base64url') !== token) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}
