/**
 * The published v1 JSON Schemas (lib/event-driven/schemas): draft-04 documents that use only
 * keywords common to draft-04 and draft-07 (the construct registers them as JSONSchemaDraft4; the
 * tests validate with ajv's draft-07), each accepting the events the publisher builds and refusing
 * the shapes the contract excludes.
 */
import { CHANGES, detailValidators, schemaOf, type Change } from '../helpers/event-driven';

/** Keywords with the same meaning in draft-04 and draft-07 (no `const`, `$id`/`id`, `exclusiveMinimum` as number, `if`...). */
const COMMON_KEYWORDS = new Set([
  '$schema', '$ref', 'title', 'description', 'type', 'enum', 'properties', 'additionalProperties', 'required', 'items',
  'minItems', 'maxItems', 'uniqueItems', 'minLength', 'maxLength', 'pattern', 'minProperties', 'maxProperties',
  'anyOf', 'oneOf', 'allOf', 'not', 'definitions', 'minimum', 'maximum', 'multipleOf', 'format', 'default',
]);

/** Walks a schema and returns every keyword used where a schema is expected. */
function keywordsOf(schema: unknown, out = new Set<string>()): Set<string> {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return out;
  for (const [keyword, value] of Object.entries(schema as Record<string, unknown>)) {
    out.add(keyword);
    if (keyword === 'properties' || keyword === 'definitions') {
      for (const sub of Object.values(value as Record<string, unknown>)) keywordsOf(sub, out);
    } else if (['anyOf', 'oneOf', 'allOf'].includes(keyword)) {
      for (const sub of value as unknown[]) keywordsOf(sub, out);
    } else if (['not', 'items', 'additionalProperties'].includes(keyword)) {
      keywordsOf(value, out);
    }
  }
  return out;
}

const BASE = {
  eventId: 'c4ca4238a0b923820dcc509a6f75849b',
  entity: 'order',
  keys: { pk: 'ORDER#1', sk: { $b: 'AAE=' } },
  version: '0000000000000000000100000000000000000001',
  occurredAt: '2026-01-01T00:00:00.000Z',
};
const ITEM = { pk: 'ORDER#1', amount: { $n: '12345678901234567890123456789012345678' }, tags: { $ss: ['a', 'b'] }, m: { $m: { $n: 'x' } }, nothing: null };

const VALID: Record<Change, Array<Record<string, unknown>>> = {
  created: [
    { ...BASE, change: 'created', item: ITEM, changedFields: Object.keys(ITEM) },
    { ...BASE, change: 'created', truncated: true, changedFields: ['pk'] },
    { ...BASE, change: 'created', truncated: true },
  ],
  updated: [
    { ...BASE, change: 'updated', item: ITEM, changedFields: ['amount', 'gone'], previous: { amount: 1, gone: 'x' } },
    { ...BASE, change: 'updated', truncated: true, changedFields: ['amount'] },
  ],
  deleted: [
    { ...BASE, change: 'deleted', item: ITEM, changedFields: Object.keys(ITEM), expired: true },
    { ...BASE, change: 'deleted', truncated: true },
  ],
};

const INVALID: Record<Change, Array<[string, Record<string, unknown>]>> = {
  created: [
    ['no item, not truncated', { ...BASE, change: 'created', changedFields: [] }],
    ['truncated with an item', { ...BASE, change: 'created', item: ITEM, changedFields: [], truncated: true }],
    ['previous on a create', { ...BASE, change: 'created', item: ITEM, changedFields: [], previous: {} }],
    ['a short version', { ...BASE, change: 'created', item: ITEM, changedFields: [], version: '12' }],
    ['a key that is a map', { ...BASE, change: 'created', item: ITEM, changedFields: [], keys: { pk: { a: 1 } } }],
    ['a number tag in exponent notation', { ...BASE, change: 'created', item: { n: { $n: '1e5' } }, changedFields: ['n'] }],
    ['a set with duplicates', { ...BASE, change: 'created', item: { s: { $ss: ['a', 'a'] } }, changedFields: ['s'] }],
    ['an empty set', { ...BASE, change: 'created', item: { s: { $ns: [] } }, changedFields: ['s'] }],
    ['an unknown field', { ...BASE, change: 'created', item: ITEM, changedFields: [], extra: 1 }],
    ['expired on a create', { ...BASE, change: 'created', item: ITEM, changedFields: [], expired: true }],
  ],
  updated: [
    ['no previous, not truncated', { ...BASE, change: 'updated', item: ITEM, changedFields: ['a'] }],
    ['empty changedFields', { ...BASE, change: 'updated', item: ITEM, changedFields: [], previous: {} }],
    ['the wrong change', { ...BASE, change: 'created', item: ITEM, changedFields: ['a'], previous: {} }],
  ],
  deleted: [
    ['truncated: false', { ...BASE, change: 'deleted', item: ITEM, changedFields: [], truncated: false }],
    ['a time with an offset', { ...BASE, change: 'deleted', item: ITEM, changedFields: [], occurredAt: '2026-01-01T01:00:00+01:00' }],
  ],
};

describe.each(CHANGES)('entity-%s.v1.json', (change) => {
  test('is a draft-04 document using only keywords common to draft-04 and draft-07', () => {
    const schema = schemaOf(change);
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect([...keywordsOf(schema)].filter((k) => !COMMON_KEYWORDS.has(k))).toEqual([]);
  });

  test('accepts the contract\'s forms', () => {
    const validate = detailValidators()[change];
    for (const detail of VALID[change]) expect([detail, validate(detail), validate.errors ?? null]).toEqual([detail, true, null]);
  });

  test.each(INVALID[change])('refuses %s', (_name, detail) => {
    expect(detailValidators()[change](detail)).toBe(false);
  });
});
