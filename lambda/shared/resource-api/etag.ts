/**
 * Entity tags of resource items: the item version as a strong ETag, `"3"`. Header parsing and
 * the RFC 9110 comparison rules are those of `../entity-tags` (`If-Match` strong, `If-None-Match`
 * weak, invalid values a 400); this module maps tags to versions.
 */
import type { EntityTag, EntityTagCondition } from '../entity-tags';

export { MAX_ENTITY_TAGS, parseEntityTagCondition, type EntityTag, type EntityTagCondition } from '../entity-tags';

/** Canonical decimal versions 1..10^15-1 (below 2^53: exact as JSON numbers). */
const VERSION = /^[1-9][0-9]{0,14}$/;

export function formatEtag(version: number): string {
  return `"${version}"`;
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
  return condition.tags.some((t: EntityTag) => t.opaque === opaque);
}

