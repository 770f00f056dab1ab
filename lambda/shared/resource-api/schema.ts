/**
 * Optional JSON Schema for the client fields of an item (`ITEM_SCHEMA`), compiled once at cold start.
 * Draft 2020-12 when `$schema` names it, otherwise draft-07 (also when `$schema` is absent).
 * Other drafts are a configuration error, as are unknown keywords (ajv strict mode). `format`
 * is an annotation only (no format validators are bundled).
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorDetail } from '../http-errors';

const DRAFT_2020_12 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;
const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;

/** Most details returned for one invalid body. */
export const MAX_SCHEMA_ERRORS = 20;

export type ItemValidator = (data: Record<string, unknown>) => ErrorDetail[];

/** Compiles the schema text; throws an `Error` whose message explains what is wrong. */
export function compileItemSchema(text: string): ItemValidator {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch {
    throw new Error('is not valid JSON');
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new Error('must be a JSON Schema object');
  }
  const declared = (schema as { $schema?: unknown }).$schema;
  if (declared !== undefined && (typeof declared !== 'string' || (!DRAFT_2020_12.test(declared) && !DRAFT_07.test(declared)))) {
    throw new Error(`has an unsupported $schema ${JSON.stringify(declared)} (use draft-07 or draft 2020-12)`);
  }
  // Unknown keywords and invalid schemas fail at cold start (strictSchema); the stricter
  // type/tuple checks are off, as most hand-written schemas do not satisfy them. `format` is an
  // annotation only (as in draft 2020-12 by default): no format validators are bundled.
  const options = {
    allErrors: true,
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    validateFormats: false,
    logger: false,
  } as const;
  const ajv = typeof declared === 'string' && DRAFT_2020_12.test(declared) ? new Ajv2020(options) : new Ajv(options);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as object);
  } catch (err) {
    throw new Error(`is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}`);
  }
  return (data) => (validate(data) ? [] : toDetails(validate.errors ?? []));
}

function toDetails(errors: readonly ErrorObject[]): ErrorDetail[] {
  return errors.slice(0, MAX_SCHEMA_ERRORS).map((e) => {
    // For `required`, point at the missing property rather than at its parent.
    const missing = e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined;
    const base = e.instancePath === '' ? '' : e.instancePath;
    const path = missing !== undefined ? `${base}/${missing.replace(/~/g, '~0').replace(/\//g, '~1')}` : base === '' ? '/' : base;
    return { path, message: e.message ?? `failed ${e.keyword}` };
  });
}
