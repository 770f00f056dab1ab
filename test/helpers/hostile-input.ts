/**
 * fast-check arbitraries for HTTP handler property tests. Each "bad" arbitrary produces only
 * input that a correct handler must reject (so the property "every response is 4xx and nothing
 * changed" holds); `storableJsonObject` produces only input that must be accepted.
 *
 * The oracles here are deliberately independent of the handler code.
 */
import fc from 'fast-check';

export const SERVER_OWNED = ['id', 'version', 'createdAt', 'updatedAt'] as const;

/** True when `text` parses as a JSON object. */
export function isJsonObjectText(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** Any JSON value as text (well-formed JSON). */
const jsonText = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v));

/** Strings of every kind: ASCII, unicode, lone surrogates, control characters. */
export const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\ufeff{}', '{}\u0000', 'null', 'undefined', '[object Object]', '%7B%7D', '\ud800'),
);

/** Unstorable JSON fragments (raw text): out-of-range numbers, lone surrogates, deep nesting. */
const poisonValue = fc.oneof(
  fc.constantFrom('1e400', '-1e400', '1e126', '-1e126', '-1e300', '1e300', '1e-200', '-1e-131', '1.7976931348623157e309', '"\\ud800"', '"a\\udfffb"'),
  fc.integer({ min: 33, max: 400 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 33, max: 100 }).map((depth) => '{"d":'.repeat(depth) + '0' + '}'.repeat(depth)),
);

/** Keys that are not storable, as raw JSON string literals. */
const poisonKey = fc.oneof(
  fc.constantFrom('""', '"__proto__"', '"\\ud800"', '"x\\udc00"'),
  fc.string({ minLength: 256, maxLength: 300 }).map((k) => JSON.stringify(k)),
);

const safeKey = fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !(SERVER_OWNED as readonly string[]).includes(k) && k !== '__proto__');

/** Wraps a raw JSON fragment in a few random arrays/objects. */
function nestRaw(raw: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(raw, fc.array(fc.oneof(fc.constant(null), safeKey), { maxLength: 4 })).map(([inner, wrappers]) =>
    wrappers.reduce<string>((acc, w) => (w === null ? `[1,${acc}]` : `{${JSON.stringify(w)}:${acc}}`), inner));
}

/**
 * A JSON object text with one poisoned member (unstorable value or key, or a server-owned
 * field) after up to three arbitrary members (which may be bad too).
 */
export const poisonedObjectText: fc.Arbitrary<string> = fc.tuple(
  fc.dictionary(safeKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.oneof(
    nestRaw(poisonValue).map((value) => ({ key: '"poison"', value })),
    nestRaw(poisonKey.map((k) => `{${k}:1}`)).map((value) => ({ key: '"wrapped"', value })),
    poisonKey.map((key) => ({ key, value: '1' })),
    fc.constantFrom(...SERVER_OWNED).map((k) => ({ key: JSON.stringify(k), value: '"x"' })),
  ),
).map(([valid, poison]) => {
  const validText = JSON.stringify(valid).slice(1, -1);
  return `{${validText}${validText ? ',' : ''}${poison.key}:${poison.value}}`;
});

/** Body text that is not a JSON object at all. */
export const notAnObjectText = fc.oneof(
  anyString.filter((s) => !isJsonObjectText(s)),
  jsonText.filter((s) => !isJsonObjectText(s)),
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(',', '}', ' x', '{', ']')).map(([v, junk]) => `${JSON.stringify({ v })}${junk}`),
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.nat()).map(([v, cut]) => {
    const text = JSON.stringify({ v });
    return text.slice(0, cut % text.length); // truncated object
  }),
);

/** Content types that are not JSON (never contain "json"), including absent. */
export const nonJsonContentType = fc.oneof(
  fc.constantFrom<string | undefined>(undefined, '', 'text/plain', 'text/html', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '*/*', 'application/jsonp', 'application/json5'),
  fc.string({ maxLength: 40 }).filter((s) => !/json/i.test(s)),
  fc.constantFrom('application/json; charset=latin1', 'application/json;charset=utf-16', 'application/problem+json; charset="us-ascii"'),
);

/** Strings that are not valid Idempotency-Key values (1..128 printable ASCII, no outer spaces). */
export const badIdempotencyKey = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: 129, maxLength: 300, unit: 'grapheme-ascii' }).map((s) => s.replace(/[^\x21-\x7e]/g, 'a')),
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom('\t', '\n', '\u0000', '\u007f', 'é', '\u2028', '😀'), fc.string({ maxLength: 20 })).map(([a, bad, b]) => `${a}${bad}${b}`),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => ` ${s}`),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => `${s} `),
);

/** JSON numbers that DynamoDB stores exactly: 0, or 1e-130 <= |n| < 1e126. */
const storableNumber = fc.oneof(
  fc.integer(),
  fc.double({ min: -9.9e125, max: 9.9e125, noNaN: true, noDefaultInfinity: true }).filter((n) => n === 0 || Math.abs(n) >= 1e-130),
  fc.constantFrom(0, -0, 1e-130, -1e-130, 9.99999999999999e125, -9.99999999999999e125, Number.MAX_SAFE_INTEGER + 2, 0.1),
);

const storableKey = fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' }).filter((k) => k !== '__proto__' && k.length <= 255);

const { storableValue } = fc.letrec<{ storableValue: unknown }>((tie) => ({
  storableValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    storableNumber,
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.array(tie('storableValue'), { maxLength: 4 }),
    fc.dictionary(storableKey, tie('storableValue'), { maxKeys: 4 }),
  ),
}));

/** JSON objects that are valid item bodies: storable values, no server-owned fields. */
export const storableJsonObject: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
  storableKey.filter((k) => !(SERVER_OWNED as readonly string[]).includes(k)),
  storableValue,
  { maxKeys: 6 },
);

/**
 * A storable object with U+0000 in one string or key, as text: valid JSON that DynamoDB stores
 * but PostgreSQL jsonb cannot hold.
 */
export const nulObjectText: fc.Arbitrary<string> = fc
  .tuple(storableJsonObject, fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), fc.boolean())
  .map(([o, a, b, inKey]) => JSON.stringify(inKey ? { ...o, [`${a}\u0000${b}`]: 1 } : { ...o, nul: `${a}\u0000${b}` }));
