/**
 * EventBridge event-pattern matching for the local event bus (local/engines/event-bus.ts), written
 * from the EventBridge user guide ("Creating event patterns", "Content filtering", "Comparison
 * operators"); tested against its examples in test/local/event-pattern.test.ts.
 *
 * - A pattern is a JSON object (or its text) with the event's structure; a leaf is an array of
 *   matchers, and the field matches when ANY matcher matches ANY of its values (an array in the
 *   event is matched element by element; arrays of objects are flattened, field by field).
 * - Fields of one object are ANDed; `"$or": [pattern, ...]` at any level matches when one does.
 * - Matchers: a string, number, boolean or null (exact; numbers compare numerically), `prefix`,
 *   `suffix` (both also with `equals-ignore-case`), `equals-ignore-case`, `wildcard` (`*`, `\*`),
 *   `anything-but` (a value, a list of strings or of numbers, `prefix`, `suffix`,
 *   `equals-ignore-case`, `wildcard`), `numeric` (`=`, `<`, `<=`, `>`, `>=`, up to one lower and one
 *   upper bound), `exists` (true/false: leaf values only), `cidr` (IPv4).
 * - Comparison operators see only leaf values (a string, number, boolean or null); an object in the
 *   event matches no leaf matcher, not even `exists: true`.
 * - Invalid patterns (unknown operators, a leaf that is not an array, bad numeric ranges) throw
 *   `InvalidEventPatternError`, as PutRule would refuse them.
 */

export class InvalidEventPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventPatternError';
  }
}

type Leaf = string | number | boolean | null;
type Matcher = (value: Leaf) => boolean;

interface CompiledLeaf {
  readonly kind: 'leaf';
  readonly matchers: Matcher[];
  /** `exists: false` matchers: they match when the field has no leaf value. */
  readonly matchesAbsent: boolean;
}

interface CompiledObject {
  readonly kind: 'object';
  readonly fields: Array<[string, CompiledLeaf | CompiledObject]>;
  readonly or: CompiledObject[][];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isLeaf = (v: unknown): v is Leaf => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function fail(path: string, message: string): never {
  throw new InvalidEventPatternError(`${path || '(root)'}: ${message}`);
}

function wildcardRegExp(pattern: string, path: string): RegExp {
  if (pattern.includes('**')) fail(path, 'wildcard: consecutive * are not allowed');
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
      source += `\\${pattern[++i]}`;
    } else if (c === '*') {
      source += '.*';
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function ipv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] * 256 + parts[1]) * 256 + parts[2]) * 256 + parts[3];
}

function cidrMatcher(spec: unknown, path: string): Matcher {
  const m = typeof spec === 'string' ? /^([\d.]+)\/(\d{1,2})$/.exec(spec) : null;
  const base = m ? ipv4(m[1]) : undefined;
  const bits = m ? Number(m[2]) : Number.NaN;
  if (base === undefined || !(bits >= 0 && bits <= 32)) fail(path, 'cidr must be an IPv4 block a.b.c.d/n');
  const block = 2 ** (32 - bits);
  return (v) => {
    const ip = typeof v === 'string' ? ipv4(v) : undefined;
    return ip !== undefined && Math.floor(ip / block) === Math.floor(base / block);
  };
}

const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);

function numericMatcher(spec: unknown, path: string): Matcher {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length % 2 !== 0 || spec.length > 4) fail(path, 'numeric needs 1 or 2 (operator, number) pairs');
  const tests: Array<(n: number) => boolean> = [];
  let lower = false;
  let upper = false;
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i];
    const bound = spec[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op) || typeof bound !== 'number' || !Number.isFinite(bound)) fail(path, 'numeric: bad operator or number');
    if (op === '=') {
      if (spec.length !== 2) fail(path, 'numeric: = stands alone');
      tests.push((n) => n === bound);
    } else if (op === '>' || op === '>=') {
      if (lower) fail(path, 'numeric: two lower bounds');
      lower = true;
      tests.push(op === '>' ? (n) => n > bound : (n) => n >= bound);
    } else {
      if (upper) fail(path, 'numeric: two upper bounds');
      upper = true;
      tests.push(op === '<' ? (n) => n < bound : (n) => n <= bound);
    }
  }
  return (v) => typeof v === 'number' && tests.every((t) => t(v));
}

function exactMatcher(expected: Leaf): Matcher {
  return (v) => (typeof expected === 'number' && typeof v === 'number' ? v === expected : v === expected);
}

/** A string operand, or `{ "equals-ignore-case": string }` where `ignoreCase` is allowed. */
function stringOperand(spec: unknown, path: string, op: string, ignoreCaseAllowed: boolean): { text: string; ignoreCase: boolean } {
  if (typeof spec === 'string') return { text: spec, ignoreCase: false };
  if (ignoreCaseAllowed && isObject(spec) && Object.keys(spec).length === 1 && typeof spec['equals-ignore-case'] === 'string') {
    return { text: spec['equals-ignore-case'], ignoreCase: true };
  }
  return fail(path, `${op} needs a string${ignoreCaseAllowed ? ' or { "equals-ignore-case": string }' : ''}`);
}

function anythingBut(spec: unknown, path: string): Matcher {
  if (isLeaf(spec)) {
    if (typeof spec !== 'string' && typeof spec !== 'number') fail(path, 'anything-but takes strings or numbers');
    const inner = exactMatcher(spec);
    return (v) => !inner(v);
  }
  if (Array.isArray(spec)) {
    if (spec.length === 0) fail(path, 'anything-but list is empty');
    const allStrings = spec.every((s) => typeof s === 'string');
    const allNumbers = spec.every((s) => typeof s === 'number');
    if (!allStrings && !allNumbers) fail(path, 'anything-but list must hold only strings or only numbers');
    const inner = spec.map((s) => exactMatcher(s as Leaf));
    return (v) => !inner.some((m) => m(v));
  }
  if (!isObject(spec) || Object.keys(spec).length !== 1) fail(path, 'anything-but takes a value, a list or one operator');
  const [op, operand] = Object.entries(spec)[0];
  switch (op) {
    case 'prefix': {
      const { text } = stringOperand(operand, path, 'anything-but prefix', false);
      return (v) => typeof v === 'string' && !v.startsWith(text);
    }
    case 'suffix': {
      const { text } = stringOperand(operand, path, 'anything-but suffix', false);
      return (v) => typeof v === 'string' && !v.endsWith(text);
    }
    case 'equals-ignore-case': {
      const values = typeof operand === 'string' ? [operand] : operand;
      if (!Array.isArray(values) || values.length === 0 || !values.every((s) => typeof s === 'string')) fail(path, 'anything-but equals-ignore-case takes strings');
      const lowered = new Set((values as string[]).map((s) => s.toLowerCase()));
      return (v) => typeof v === 'string' && !lowered.has(v.toLowerCase());
    }
    case 'wildcard': {
      const values = typeof operand === 'string' ? [operand] : operand;
      if (!Array.isArray(values) || values.length === 0 || !values.every((s) => typeof s === 'string')) fail(path, 'anything-but wildcard takes strings');
      const res = (values as string[]).map((w) => wildcardRegExp(w, path));
      return (v) => typeof v === 'string' && !res.some((re) => re.test(v));
    }
    default:
      return fail(path, `anything-but does not take ${JSON.stringify(op)}`);
  }
}

function compileMatcher(spec: unknown, path: string): { matcher?: Matcher; absent?: boolean } {
  if (isLeaf(spec)) return { matcher: exactMatcher(spec) };
  if (!isObject(spec) || Object.keys(spec).length !== 1) fail(path, 'a matcher is a value or an object with one operator');
  const [op, operand] = Object.entries(spec)[0];
  switch (op) {
    case 'prefix': {
      const { text, ignoreCase } = stringOperand(operand, path, 'prefix', true);
      const lowered = text.toLowerCase();
      return { matcher: (v) => typeof v === 'string' && (ignoreCase ? v.toLowerCase().startsWith(lowered) : v.startsWith(text)) };
    }
    case 'suffix': {
      const { text, ignoreCase } = stringOperand(operand, path, 'suffix', true);
      const lowered = text.toLowerCase();
      return { matcher: (v) => typeof v === 'string' && (ignoreCase ? v.toLowerCase().endsWith(lowered) : v.endsWith(text)) };
    }
    case 'equals-ignore-case': {
      if (typeof operand !== 'string') fail(path, 'equals-ignore-case needs a string');
      const lowered = operand.toLowerCase();
      return { matcher: (v) => typeof v === 'string' && v.toLowerCase() === lowered };
    }
    case 'wildcard': {
      if (typeof operand !== 'string') fail(path, 'wildcard needs a string');
      const re = wildcardRegExp(operand, path);
      return { matcher: (v) => typeof v === 'string' && re.test(v) };
    }
    case 'anything-but':
      return { matcher: anythingBut(operand, path) };
    case 'numeric':
      return { matcher: numericMatcher(operand, path) };
    case 'cidr':
      return { matcher: cidrMatcher(operand, path) };
    case 'exists':
      if (typeof operand !== 'boolean') fail(path, 'exists needs true or false');
      return operand ? { matcher: () => true } : { absent: true };
    default:
      return fail(path, `unknown operator ${JSON.stringify(op)}`);
  }
}

function compileObject(pattern: Record<string, unknown>, path: string): CompiledObject {
  const fields: Array<[string, CompiledLeaf | CompiledObject]> = [];
  const or: CompiledObject[][] = [];
  for (const [key, value] of Object.entries(pattern)) {
    const here = path === '' ? key : `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) fail(here, '$or needs an array of at least two patterns');
      or.push((value as Array<Record<string, unknown>>).map((p, i) => compileObject(p, `${here}[${i}]`)));
    } else if (Array.isArray(value)) {
      if (value.length === 0) fail(here, 'a leaf needs at least one matcher');
      const matchers: Matcher[] = [];
      let matchesAbsent = false;
      value.forEach((spec, i) => {
        const compiled = compileMatcher(spec, `${here}[${i}]`);
        if (compiled.matcher) matchers.push(compiled.matcher);
        if (compiled.absent) matchesAbsent = true;
      });
      fields.push([key, { kind: 'leaf', matchers, matchesAbsent }]);
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0) fail(here, 'an empty object matches nothing');
      fields.push([key, compileObject(value, here)]);
    } else {
      fail(here, 'a field must hold an array of matchers or an object');
    }
  }
  return { kind: 'object', fields, or };
}

/** Values found under `key` in the candidate objects; arrays are flattened (SNS filter policies match the same way). */
export function childValues(nodes: readonly unknown[], key: string): unknown[] {
  const out: unknown[] = [];
  const flatten = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(flatten);
    else out.push(v);
  };
  for (const node of nodes) {
    if (isObject(node) && Object.prototype.hasOwnProperty.call(node, key)) flatten(node[key]);
  }
  return out;
}

function matchObject(compiled: CompiledObject, nodes: readonly unknown[]): boolean {
  for (const [key, sub] of compiled.fields) {
    const values = childValues(nodes, key);
    if (sub.kind === 'leaf') {
      const leaves = values.filter(isLeaf);
      if (leaves.length === 0) {
        if (!sub.matchesAbsent) return false;
      } else if (!leaves.some((v) => sub.matchers.some((m) => m(v)))) {
        return false;
      }
    } else {
      const objects = values.filter(isObject);
      if (objects.length === 0 || !matchObject(sub, objects)) {
        // A nested pattern of only `exists: false` leaves matches a missing object.
        if (objects.length > 0 || !onlyAbsent(sub)) return false;
      }
    }
  }
  return compiled.or.every((alternatives) => alternatives.some((alt) => matchObject(alt, nodes)));
}

function onlyAbsent(compiled: CompiledObject): boolean {
  return compiled.or.length === 0 && compiled.fields.every(([, sub]) => (sub.kind === 'leaf' ? sub.matchesAbsent : onlyAbsent(sub)));
}

export type EventPatternMatcher = (event: unknown) => boolean;

/** Compiles a pattern (object or JSON text); throws `InvalidEventPatternError` when EventBridge would refuse it. */
export function compileEventPattern(pattern: unknown): EventPatternMatcher {
  let parsed = pattern;
  if (typeof pattern === 'string') {
    try {
      parsed = JSON.parse(pattern);
    } catch {
      fail('', 'the pattern is not JSON');
    }
  }
  if (!isObject(parsed) || Object.keys(parsed).length === 0) fail('', 'a pattern is a non-empty JSON object');
  const compiled = compileObject(parsed, '');
  return (event) => isObject(event) && matchObject(compiled, [event]);
}

/** Whether `event` matches `pattern` (compiled each time: prefer `compileEventPattern` in loops). */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern)(event);
}
