/**
 * Entity tags with opaque values (RFC 9110 section 8.8.3) and the preconditions that use them:
 * - `If-Match`: `*` (any current representation) or a list, compared strongly (a weak tag
 *   `W/"x"` never matches);
 * - `If-None-Match`: `*` or a list, compared weakly (`W/"x"` matches `"x"`).
 * A syntactically invalid header value is a 400.
 */
import { BadRequestError } from './http-errors';

/** A parsed precondition: any current representation, or one of these entity tags. */
export type EntityTagCondition =
  | { readonly kind: 'any' }
  | { readonly kind: 'list'; readonly tags: readonly EntityTag[] };

export interface EntityTag {
  readonly weak: boolean;
  /** The opaque tag without quotes. */
  readonly opaque: string;
}

/** Most entity tags accepted in one header. */
export const MAX_ENTITY_TAGS = 50;

const ENTITY_TAG = /^\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*$/;
const OPAQUE = /^[\x21\x23-\x7e]*$/;

/** A strong entity tag header value; the opaque value must be printable ASCII without `"`. */
export function formatEntityTag(opaque: string): string {
  if (!OPAQUE.test(opaque)) throw new RangeError(`not a valid entity tag value: ${JSON.stringify(opaque)}`);
  return `"${opaque}"`;
}

/** Parses an `If-Match` or `If-None-Match` value (`name` is used in the message); 400 when invalid. */
export function parseEntityTagCondition(header: string, name: string): EntityTagCondition {
  if (header.trim() === '*') return { kind: 'any' };
  const tags: EntityTag[] = [];
  for (const part of splitOutsideQuotes(header)) {
    if (part.trim() === '') continue; // empty list elements are allowed and ignored
    const m = ENTITY_TAG.exec(part);
    if (!m) throw new BadRequestError(`The ${name} header is not a valid entity tag list`);
    tags.push({ weak: m[1] !== undefined, opaque: m[2] });
  }
  if (tags.length === 0) throw new BadRequestError(`The ${name} header is not a valid entity tag list`);
  if (tags.length > MAX_ENTITY_TAGS) throw new BadRequestError(`The ${name} header lists more than ${MAX_ENTITY_TAGS} entity tags`);
  return { kind: 'list', tags };
}

function splitOutsideQuotes(header: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of header) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** `If-Match` evaluation for an existing representation whose strong tag is `current`. */
export function strongMatch(condition: EntityTagCondition, current: string): boolean {
  if (condition.kind === 'any') return true;
  return condition.tags.some((t) => !t.weak && t.opaque === current);
}

/** `If-None-Match` evaluation for an existing representation whose tag is `current`. */
export function weakMatch(condition: EntityTagCondition, current: string): boolean {
  if (condition.kind === 'any') return true;
  return condition.tags.some((t) => t.opaque === current);
}
