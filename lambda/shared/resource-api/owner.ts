/**
 * Per-caller item ownership: the owner of a request is one claim of the API Gateway authorizer's
 * output - `requestContext.authorizer.claims[claim]` for a Cognito user pool authorizer, or
 * `requestContext.authorizer[claim]` for a Lambda authorizer's context - never anything the client
 * sends in the URL, headers or body.
 */
import { UnauthorizedError } from '../http-errors';
import type { ResourceRequest } from './routes';

/** Claim names as API Gateway passes them (`sub`, `cognito:username`, `custom:tenant`). */
export const OWNER_CLAIM_PATTERN = /^[A-Za-z0-9_:.-]{1,128}$/;
/** Longest owner value accepted: Cognito subs are 36 characters; this leaves room for other issuers. */
export const MAX_OWNER_LENGTH = 256;

/** The caller's identity for `claim`; 401 when the authorizer did not supply a usable one. */
export function requestOwner(event: ResourceRequest, claim: string): string {
  const authorizer = event.requestContext?.authorizer as Record<string, unknown> | null | undefined;
  const claims = authorizer?.claims;
  const fromClaims = claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>)[claim] : undefined;
  const owner = fromClaims ?? authorizer?.[claim];
  if (typeof owner !== 'string' || owner === '' || owner.length > MAX_OWNER_LENGTH || !isUsableText(owner)) {
    throw new UnauthorizedError('The request carries no caller identity to scope the items to');
  }
  return owner;
}

/**
 * No control characters, and well-formed UTF-16: a lone surrogate becomes U+FFFD on the way to a
 * store, so two different claims would name one owner.
 */
function isUsableText(value: string): boolean {
  return !/[\u0000-\u001f\u007f]/.test(value) && !/[\uD800-\uDFFF]/u.test(value);
}
