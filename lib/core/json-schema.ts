/**
 * A synth-time check of an item schema, so that the mistakes the handler's JSON Schema compiler
 * (ajv, strict) rejects at cold start fail `cdk synth` instead: another draft, an unknown type,
 * an unknown (often misspelt) keyword. It is structural only; the handler compiles the schema.
 */

const DRAFT_2020_12 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;
const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
const TYPES = new Set(['array', 'boolean', 'integer', 'null', 'number', 'object', 'string']);

/** Keywords whose value is one subschema. */
const SUBSCHEMA = ['additionalItems', 'additionalProperties', 'contains', 'contentSchema', 'else', 'if', 'not', 'propertyNames', 'then', 'unevaluatedItems', 'unevaluatedProperties'];
/** Keywords whose value is an array of subschemas. */
const SUBSCHEMA_ARRAY = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
/** Keywords whose value maps names to subschemas. */
const SUBSCHEMA_MAP = ['$defs', 'definitions', 'dependentSchemas', 'patternProperties', 'properties'];
/** Keywords with plain values (validation, annotations, identifiers) of draft-07 and 2020-12. */
const VALUE = [
  '$anchor', '$comment', '$dynamicAnchor', '$dynamicRef', '$id', '$ref', '$schema', '$vocabulary',
  'const', 'contentEncoding', 'contentMediaType', 'default', 'dependencies', 'dependentRequired', 'deprecated', 'description',
  'enum', 'examples', 'exclusiveMaximum', 'exclusiveMinimum', 'format', 'maxContains', 'maximum', 'maxItems', 'maxLength',
  'maxProperties', 'minContains', 'minimum', 'minItems', 'minLength', 'minProperties', 'multipleOf', 'pattern', 'readOnly',
  'required', 'title', 'type', 'uniqueItems', 'writeOnly',
];
const KEYWORDS = new Set([...SUBSCHEMA, ...SUBSCHEMA_ARRAY, ...SUBSCHEMA_MAP, ...VALUE, 'items']);

/** The problems of `schema` at `path` (empty when it looks compilable). */
export function jsonSchemaProblems(schema: unknown, path: string = '#'): string[] {
  if (typeof schema === 'boolean') return [];
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return [`${path} must be a schema object or a boolean`];
  const node = schema as Record<string, unknown>;
  const problems: string[] = [];
  const declared = node.$schema;
  if (path === '#' && declared !== undefined && !(typeof declared === 'string' && (DRAFT_07.test(declared) || DRAFT_2020_12.test(declared)))) {
    problems.push(`#/$schema ${JSON.stringify(declared)} is not supported (use draft-07 or draft 2020-12)`);
  }
  for (const key of Object.keys(node)) {
    if (!KEYWORDS.has(key)) problems.push(`${path} has the unknown keyword '${key}'`);
  }
  const types = Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type];
  for (const type of types) {
    if (typeof type !== 'string' || !TYPES.has(type)) problems.push(`${path}/type ${JSON.stringify(type)} is not a JSON Schema type`);
  }
  for (const key of SUBSCHEMA) {
    if (node[key] !== undefined) problems.push(...jsonSchemaProblems(node[key], `${path}/${key}`));
  }
  const items = node.items;
  if (Array.isArray(items)) items.forEach((s, i) => problems.push(...jsonSchemaProblems(s, `${path}/items/${i}`)));
  else if (items !== undefined) problems.push(...jsonSchemaProblems(items, `${path}/items`));
  for (const key of SUBSCHEMA_ARRAY) {
    const value = node[key];
    if (value === undefined) continue;
    if (!Array.isArray(value)) problems.push(`${path}/${key} must be an array of schemas`);
    else value.forEach((s, i) => problems.push(...jsonSchemaProblems(s, `${path}/${key}/${i}`)));
  }
  for (const key of SUBSCHEMA_MAP) {
    const value = node[key];
    if (value === undefined) continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) problems.push(`${path}/${key} must map names to schemas`);
    else for (const [name, s] of Object.entries(value)) problems.push(...jsonSchemaProblems(s, `${path}/${key}/${name}`));
  }
  return problems;
}
