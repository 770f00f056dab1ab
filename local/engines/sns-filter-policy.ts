/**
 * Amazon SNS subscription filter policies for the local SNS engine (local/engines/sns.ts), written
 * from the SNS developer guide ("Amazon SNS subscription filter policies", "Example filter
 * policies", "String value matching", "Numeric value matching", "Key matching", "AND/OR logic",
 * "Filter policy constraints", "Amazon SNS message attributes"); tested against its examples in
 * test/local/sns-filter-policy.test.ts.
 *
 * - A policy is a JSON object (or its text). In the `MessageAttributes` scope (the default) its keys
 *   are message attribute names and it cannot nest; in the `MessageBody` scope it is matched against
 *   the message parsed as a JSON object and may nest (an array of objects in the body is matched
 *   object by object).
 * - Keys are ANDed; the values of a key are ORed, and a key matches when ANY of its matchers matches
 *   ANY of the message's values (a `String.Array` attribute or a body array is matched element by
 *   element: `anything-but` is met by one element that is not excluded, as the guide's examples show).
 *   `"$or": [policy, policy, ...]` ORs whole sub-policies, at any level, when SNS recognises it: an
 *   array of at least two objects none of which uses an operator as a key; otherwise `$or` is a key
 *   like any other.
 * - Attribute values: `String` (and `String.<label>`) values are strings, `Number` (and
 *   `Number.<label>`) values are numbers, `String.Array` values are the elements of the JSON array
 *   (strings, numbers, true, false, null); `Binary` attributes are ignored. A message without
 *   attributes matches no attribute policy (the guide: `"exists": false` needs at least one attribute),
 *   and one whose `String.Array` value is not a JSON array matches none either (the guide: a value used
 *   for filtering must be valid JSON).
 * - Matchers: a string, number, true, false or null (exact, case-sensitive; numbers compare as
 *   numbers with five digits after the decimal point), `prefix`, `suffix`, `equals-ignore-case`,
 *   `wildcard` (`*`), `anything-but` (a value, a list, or `prefix`, `suffix`, `wildcard`), `numeric`
 *   (`=`, or up to one of `>`/`>=` followed by one of `<`/`<=`), `exists` (true: a non-null, non-empty
 *   value; false: no value at all), `cidr` (IPv4 and IPv6 blocks).
 * - Refused with `InvalidFilterPolicyError`, as Subscribe and SetSubscriptionAttributes refuse them:
 *   text that is not JSON, a root that is not an object, a leaf that is not a non-empty array, unknown
 *   operators and malformed operands, nesting in the attribute scope, more than 5 keys (in the body
 *   scope only top-level keys count), more than 150 combinations (the product over each AND of the
 *   number of values of a key times its nesting depth, summed over the `$or` alternatives) and
 *   policies over 256 KB.
 */

import { childValues } from './event-pattern';

export class InvalidFilterPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidFilterPolicyError';
  }
}

export type FilterPolicyScope = 'MessageAttributes' | 'MessageBody';

/** A message attribute as Publish takes it (the SDK's `MessageAttributeValue`). */
export interface FilterMessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

/** What a filter policy looks at: the message attributes, or the message body. */
export interface FilterableMessage {
  readonly messageAttributes?: Readonly<Record<string, FilterMessageAttribute>>;
  /** The message as the subscription receives it (for `MessageStructure: json`, its protocol's entry). */
  readonly body?: string;
}

export type FilterPolicyMatcher = (message: FilterableMessage) => boolean;

/** The documented limits ("Filter policy constraints"). */
export const FILTER_POLICY_LIMITS = { maxKeys: 5, maxCombinations: 150, maxBytes: 262_144 } as const;

/** Operator names: an object using one of them as a key is a matcher, not a sub-policy. */
const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'exists', 'cidr']);

type Leaf = string | number | boolean | null;
type Matcher = (value: Leaf) => boolean;

interface CompiledLeaf {
  readonly kind: 'leaf';
  readonly matchers: Matcher[];
  /** `exists: true`: a non-null, non-empty value. */
  readonly matchesPresent: boolean;
  /** `exists: false`: no value at all. */
  readonly matchesAbsent: boolean;
  readonly values: number;
}

interface CompiledObject {
  readonly kind: 'object';
  readonly fields: Array<[string, CompiledLeaf | CompiledObject]>;
  readonly or: CompiledObject[][];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isLeaf = (v: unknown): v is Leaf => v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

function fail(path: string, message: string): never {
  throw new InvalidFilterPolicyError(`FilterPolicy: ${path ? `${path}: ` : ''}${message}`);
}

/** Numbers compare with five digits of accuracy after the decimal point. */
const quantize = (n: number): number => Math.round(n * 100_000);

function exactMatcher(expected: Leaf): Matcher {
  if (typeof expected === 'number') {
    const q = quantize(expected);
    return (v) => typeof v === 'number' && quantize(v) === q;
  }
  return (v) => v === expected;
}

function wildcardRegExp(pattern: string): RegExp {
  const source = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, 's');
}

function stringOperand(operand: unknown, path: string, op: string): string {
  if (typeof operand !== 'string') fail(path, `${op} match pattern must be a string`);
  return operand;
}

const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);

function numericMatcher(spec: unknown, path: string): Matcher {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length % 2 !== 0 || spec.length > 4) fail(path, 'numeric takes 1 or 2 (operator, number) pairs');
  const tests: Array<(q: number) => boolean> = [];
  let lower: number | undefined;
  let upper: number | undefined;
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i];
    const bound = spec[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op)) fail(path, `unrecognized numeric range operator: ${JSON.stringify(op)}`);
    if (typeof bound !== 'number' || !Number.isFinite(bound)) fail(path, `value of ${op} must be numeric`);
    const q = quantize(bound);
    if (op === '=') {
      if (spec.length !== 2) fail(path, 'numeric = stands alone');
      tests.push((n) => n === q);
    } else if (op === '>' || op === '>=') {
      if (i !== 0) fail(path, 'numeric: the lower bound comes first');
      lower = q;
      tests.push(op === '>' ? (n) => n > q : (n) => n >= q);
    } else {
      if (upper !== undefined) fail(path, 'numeric: two upper bounds');
      upper = q;
      tests.push(op === '<' ? (n) => n < q : (n) => n <= q);
    }
  }
  if (lower !== undefined && upper !== undefined && lower >= upper) fail(path, 'numeric: bottom must be less than top');
  return (v) => {
    if (typeof v !== 'number') return false;
    const q = quantize(v);
    return tests.every((t) => t(q));
  };
}

/** An IPv4 or IPv6 address as a bit string of 32 or 128 bits, or undefined. */
function parseIp(text: string): { bits: bigint; width: 32 | 128 } | undefined {
  const v4 = (s: string): bigint | undefined => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (!m) return undefined;
    const parts = m.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return parts.reduce((acc, p) => acc * 256n + BigInt(p), 0n);
  };
  const four = v4(text);
  if (four !== undefined) return { bits: four, width: 32 };
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return undefined;
  let groups: number[] | undefined;
  const words = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.includes('.')) {
        const tail = v4(item);
        if (tail === undefined) return undefined;
        out.push(Number(tail / 65536n), Number(tail % 65536n));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) {
        out.push(parseInt(item, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  if (halves.length === 2) {
    const head = words(halves[0]);
    const tail = words(halves[1]);
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    groups = [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    groups = words(text);
    if (groups === undefined || groups.length !== 8) return undefined;
  }
  return { bits: groups.reduce((acc, g) => acc * 65536n + BigInt(g), 0n), width: 128 };
}

function cidrMatcher(spec: unknown, path: string): Matcher {
  if (typeof spec !== 'string') fail(path, 'cidr match pattern must be a string');
  const slash = spec.indexOf('/');
  const base = slash > 0 ? parseIp(spec.slice(0, slash)) : undefined;
  const maskText = slash > 0 ? spec.slice(slash + 1) : '';
  if (base === undefined) fail(path, `malformed CIDR ${JSON.stringify(spec)}: it needs an IPv4 or IPv6 address and '/'`);
  if (!/^\d{1,3}$/.test(maskText) || Number(maskText) > base.width) fail(path, `malformed CIDR ${JSON.stringify(spec)}: mask bits must be 0..${base.width}`);
  // The address divided by 2^(host bits): its network part.
  const block = 2n ** BigInt(base.width - Number(maskText));
  const network = base.bits / block;
  return (v) => {
    const ip = typeof v === 'string' ? parseIp(v) : undefined;
    return ip !== undefined && ip.width === base.width && ip.bits / block === network;
  };
}

function anythingBut(spec: unknown, path: string): Matcher {
  if (typeof spec === 'string' || (typeof spec === 'number' && Number.isFinite(spec))) {
    const inner = exactMatcher(spec);
    return (v) => !inner(v);
  }
  if (Array.isArray(spec)) {
    if (spec.length === 0) fail(path, 'anything-but list is empty');
    if (!spec.every((s) => typeof s === 'string' || (typeof s === 'number' && Number.isFinite(s)))) fail(path, 'anything-but takes strings and numbers');
    const inner = (spec as Leaf[]).map(exactMatcher);
    return (v) => !inner.some((m) => m(v));
  }
  if (!isObject(spec) || Object.keys(spec).length !== 1) fail(path, 'anything-but takes a value, a list or one of prefix, suffix, wildcard');
  const [op, operand] = Object.entries(spec)[0];
  switch (op) {
    case 'prefix': {
      const text = stringOperand(operand, path, 'anything-but prefix');
      return (v) => typeof v === 'string' && !v.startsWith(text);
    }
    case 'suffix': {
      const text = stringOperand(operand, path, 'anything-but suffix');
      return (v) => typeof v === 'string' && !v.endsWith(text);
    }
    case 'wildcard': {
      const re = wildcardRegExp(stringOperand(operand, path, 'anything-but wildcard'));
      return (v) => typeof v === 'string' && !re.test(v);
    }
    default:
      return fail(path, `unsupported anything-but pattern: ${op}`);
  }
}

type CompiledMatcher = { matcher: Matcher } | { exists: boolean };

function compileMatcher(spec: unknown, path: string): CompiledMatcher {
  if (isLeaf(spec)) return { matcher: exactMatcher(spec) };
  if (!isObject(spec)) fail(path, 'match value must be a string, number, true, false, null or an operator object');
  const keys = Object.keys(spec);
  if (keys.length !== 1) fail(path, 'only one key allowed in a match expression');
  const op = keys[0];
  const operand = spec[op];
  switch (op) {
    case 'prefix': {
      const text = stringOperand(operand, path, op);
      return { matcher: (v) => typeof v === 'string' && v.startsWith(text) };
    }
    case 'suffix': {
      const text = stringOperand(operand, path, op);
      return { matcher: (v) => typeof v === 'string' && v.endsWith(text) };
    }
    case 'equals-ignore-case': {
      const lowered = stringOperand(operand, path, op).toLowerCase();
      return { matcher: (v) => typeof v === 'string' && v.toLowerCase() === lowered };
    }
    case 'wildcard': {
      const re = wildcardRegExp(stringOperand(operand, path, op));
      return { matcher: (v) => typeof v === 'string' && re.test(v) };
    }
    case 'anything-but':
      return { matcher: anythingBut(operand, path) };
    case 'numeric':
      return { matcher: numericMatcher(operand, path) };
    case 'cidr':
      return { matcher: cidrMatcher(operand, path) };
    case 'exists':
      if (typeof operand !== 'boolean') fail(path, 'exists match pattern must be either true or false');
      return { exists: operand };
    default:
      return fail(path, `unrecognized match type ${op}`);
  }
}

/** Whether `"$or": value` is an OR as SNS recognises it ("AND/OR logic": the OR operator). */
function isOrOperator(value: unknown): value is Array<Record<string, unknown>> {
  return Array.isArray(value) && value.length >= 2
    && value.every((alt) => isObject(alt) && Object.keys(alt).length > 0 && !Object.keys(alt).some((k) => OPERATORS.has(k)));
}

function compileObject(policy: Record<string, unknown>, path: string, scope: FilterPolicyScope, depth: number): CompiledObject {
  const fields: Array<[string, CompiledLeaf | CompiledObject]> = [];
  const or: CompiledObject[][] = [];
  for (const [key, value] of Object.entries(policy)) {
    const here = path === '' ? key : `${path}.${key}`;
    if (key === '$or' && isOrOperator(value)) {
      or.push(value.map((alt, i) => compileObject(alt, `${here}[${i}]`, scope, depth)));
    } else if (Array.isArray(value)) {
      if (value.length === 0) fail(here, 'empty arrays are not allowed');
      const matchers: Matcher[] = [];
      let matchesPresent = false;
      let matchesAbsent = false;
      value.forEach((spec, i) => {
        const compiled = compileMatcher(spec, `${here}[${i}]`);
        if ('matcher' in compiled) matchers.push(compiled.matcher);
        else if (compiled.exists) matchesPresent = true;
        else matchesAbsent = true;
      });
      fields.push([key, { kind: 'leaf', matchers, matchesPresent, matchesAbsent, values: value.length }]);
    } else if (isObject(value)) {
      if (scope === 'MessageAttributes') fail(here, 'filter policy scope MessageAttributes does not support nested filter policy');
      if (Object.keys(value).length === 0) fail(here, 'an empty object matches nothing');
      fields.push([key, compileObject(value, here, scope, depth + 1)]);
    } else {
      fail(here, `"${key}" must be an object or an array`);
    }
  }
  return { kind: 'object', fields, or };
}

/**
 * The guide's "total combination": over every AND (after expanding `$or`), the product of the number
 * of values of each key times its nesting depth, summed over the alternatives. As a product of sums.
 */
function combinations(compiled: CompiledObject, depth: number): number {
  let total = 1;
  for (const [, sub] of compiled.fields) total *= sub.kind === 'leaf' ? sub.values * depth : combinations(sub, depth + 1);
  for (const alternatives of compiled.or) total *= alternatives.reduce((sum, alt) => sum + combinations(alt, depth), 0);
  return total;
}

/** Keys that count toward the limit: every key in the attribute scope, top-level keys in the body scope. */
function countedKeys(compiled: CompiledObject, scope: FilterPolicyScope, into = new Set<string>()): Set<string> {
  for (const [key, sub] of compiled.fields) {
    into.add(key);
    if (sub.kind === 'object' && scope === 'MessageAttributes') countedKeys(sub, scope, into);
  }
  for (const alternatives of compiled.or) alternatives.forEach((alt) => countedKeys(alt, scope, into));
  return into;
}

function parsePolicy(policy: unknown): Record<string, unknown> {
  let parsed = policy;
  if (typeof policy === 'string') {
    if (Buffer.byteLength(policy, 'utf8') > FILTER_POLICY_LIMITS.maxBytes) fail('', 'the policy is over 256 KB');
    try {
      parsed = JSON.parse(policy);
    } catch {
      fail('', 'failed to parse JSON');
    }
  } else if (Buffer.byteLength(JSON.stringify(policy) ?? '', 'utf8') > FILTER_POLICY_LIMITS.maxBytes) {
    fail('', 'the policy is over 256 KB');
  }
  if (!isObject(parsed)) fail('', 'a filter policy is a JSON object');
  return parsed;
}

/** The size of a policy as the limits count it: its keys and its total combination of values. */
export function measureFilterPolicy(policy: unknown, scope: FilterPolicyScope = 'MessageAttributes'): { keys: number; combinations: number } {
  const compiled = compileObject(parsePolicy(policy), '', scope, 1);
  return { keys: countedKeys(compiled, scope).size, combinations: combinations(compiled, 1) };
}

// ---------------------------------------------------------------------------------------------
// Matching

function matchLeaf(leaf: CompiledLeaf, values: readonly unknown[]): boolean {
  const leaves = values.filter(isLeaf);
  const present = leaves.some((v) => v !== null && v !== '');
  if (present && leaf.matchesPresent) return true;
  if (leaves.length === 0 && leaf.matchesAbsent) return true;
  return leaves.some((v) => leaf.matchers.some((m) => m(v)));
}

function matchObject(compiled: CompiledObject, nodes: readonly unknown[]): boolean {
  for (const [key, sub] of compiled.fields) {
    const values = childValues(nodes, key);
    if (sub.kind === 'leaf') {
      if (!matchLeaf(sub, values)) return false;
    } else {
      const objects = values.filter(isObject);
      if (objects.length > 0 ? !matchObject(sub, objects) : !onlyAbsent(sub)) return false;
    }
  }
  return compiled.or.every((alternatives) => alternatives.some((alt) => matchObject(alt, nodes)));
}

/** A nested policy of only `exists: false` leaves matches a missing object. */
function onlyAbsent(compiled: CompiledObject): boolean {
  return compiled.or.length === 0 && compiled.fields.every(([, sub]) => (sub.kind === 'leaf' ? sub.matchesAbsent : onlyAbsent(sub)));
}

/**
 * The message attributes as the policy sees them: `{ name: value }` with strings, numbers or arrays;
 * `Binary` attributes left out. Undefined when an attribute cannot be read (a `String.Array` that is
 * not a JSON array): then no attribute policy matches.
 */
function attributeValues(attributes: Readonly<Record<string, FilterMessageAttribute>>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(attributes)) {
    const type = attribute.DataType;
    const text = attribute.StringValue;
    if (type === 'Binary' || type.startsWith('Binary.') || text === undefined) continue;
    if (type === 'String.Array') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return undefined;
      }
      if (!Array.isArray(parsed)) return undefined;
      out[name] = parsed;
    } else if (type === 'Number' || type.startsWith('Number.')) {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) return undefined;
      out[name] = n;
    } else {
      out[name] = text;
    }
  }
  return out;
}

/**
 * Compiles a filter policy (an object, e.g. a synthesized `AWS::SNS::Subscription` `FilterPolicy`, or
 * its JSON text) for a scope; throws `InvalidFilterPolicyError` where SNS would refuse it. An empty
 * policy (`{}`) filters nothing, as a subscription without a policy.
 */
export function compileFilterPolicy(policy: unknown, scope: FilterPolicyScope = 'MessageAttributes'): FilterPolicyMatcher {
  if (scope !== 'MessageAttributes' && scope !== 'MessageBody') {
    throw new InvalidFilterPolicyError(`FilterPolicyScope: Invalid value [${String(scope)}]. Please use either MessageBody or MessageAttributes`);
  }
  const parsed = parsePolicy(policy);
  if (Object.keys(parsed).length === 0) return () => true;
  const compiled = compileObject(parsed, '', scope, 1);
  const keys = countedKeys(compiled, scope).size;
  if (keys > FILTER_POLICY_LIMITS.maxKeys) fail('', `Filter policy can not have more than ${FILTER_POLICY_LIMITS.maxKeys} keys (it has ${keys})`);
  const total = combinations(compiled, 1);
  if (total > FILTER_POLICY_LIMITS.maxCombinations) fail('', `Filter policy is too complex: ${total} combinations, at most ${FILTER_POLICY_LIMITS.maxCombinations}`);

  if (scope === 'MessageBody') {
    return (message) => {
      if (message.body === undefined) return false;
      let body: unknown;
      try {
        body = JSON.parse(message.body);
      } catch {
        return false;
      }
      return isObject(body) && matchObject(compiled, [body]);
    };
  }
  return (message) => {
    const values = attributeValues(message.messageAttributes ?? {});
    return values !== undefined && Object.keys(values).length > 0 && matchObject(compiled, [values]);
  };
}

/** Whether `message` passes `policy` (compiled each time: prefer `compileFilterPolicy` in loops). */
export function matchesFilterPolicy(policy: unknown, message: FilterableMessage, scope: FilterPolicyScope = 'MessageAttributes'): boolean {
  return compileFilterPolicy(policy, scope)(message);
}
