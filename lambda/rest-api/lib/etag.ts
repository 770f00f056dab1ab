/**
 * Entity tags are the item version as a strong ETag: `"3"`. Preconditions (RFC 9110):
 * - `If-Match`: `*` or a list of entity tags, compared strongly (a weak tag `W/"3"` never matches);
 * - `If-None-Match`: `*` or a list, compared weakly (`W/"3"` matches version 3).
 * Syntactically invalid header values are a 400.
 */
import { BadRequestError } from '../../shared/http-errors';

/** Parsed precondition: any current representation, or one of these entity tags. */
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
const VERSION = /^[1-9][0-9]{0,14}$/;

export function formatEtag(version: number): string {
  return `"${version}"`;
}

/** Parses an `If-Match` or `If-None-Match` value; throws 400 when it is not valid. */
export function parseEntityTagCondition(header: string, name: string): EntityTagCondition {
  if (header.trim() === '*') return { kind: 'any' };
  const tags: EntityTag[] = [];
  for (const part of splitList(header)) {
    if (part.trim() === '') continue; // empty list elements are allowed and ignored
    const m = ENTITY_TAG.exec(part);
    if (!m) throw new BadRequestError(`The ${name} header is not a valid entity tag list`);
    tags.push({ weak: m[1] !== undefined, opaque: m[2] });
  }
  if (tags.length === 0) throw new BadRequestError(`The ${name} header is not a valid entity tag list`);
  if (tags.length > MAX_ENTITY_TAGS) throw new BadRequestError(`The ${name} header lists more than ${MAX_ENTITY_TAGS} entity tags`);
  return { kind: 'list', tags };
}

/** Splits on commas outside quoted strings. */
function splitList(header: string): string[] {
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

/** Item versions an `If-Match` list can match under strong comparison (weak and non-version tags never match). */
export function strongVersions(condition: EntityTagCondition & { kind: 'list' }): number[] {
  const versions = new Set<number>();
  for (const tag of condition.tags) {
    if (!tag.weak && VERSION.test(tag.opaque)) versions.add(Number(tag.opaque));
  }
  return [...versions];
}

/** Weak comparison, for `If-None-Match`. */
export function noneMatchHits(condition: EntityTagCondition, version: number): boolean {
  if (condition.kind === 'any') return true;
  const opaque = String(version);
  return condition.tags.some((t) => t.opaque === opaque);
}
