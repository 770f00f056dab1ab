/**
 * fast-check arbitraries for the saga's handlers: orders that must be rejected (each has at least
 * one field broken, independently of the handlers' own checks) and step inputs that are not what
 * the state machine sends.
 */
import fc from 'fast-check';

export const validOrder = fc.record({
  orderId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  customerId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  sku: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  quantity: fc.integer({ min: 1, max: 1_000 }),
  amount: fc.integer({ min: 1, max: 100_000_000 }),
});

const badId = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: 65, maxLength: 100 }).map((s) => s.padEnd(65, 'a')),
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom(' ', '/', '#', ':', 'é', '\u0000', '"', '😀'), fc.string({ maxLength: 10 })).map(([a, c, b]) => `${a}${c}${b}`),
  fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }),
);
const badCount = (max: number) => fc.oneof(
  fc.integer({ max: 0 }), fc.integer({ min: max + 1 }), fc.double({ noInteger: true }), fc.constantFrom(Number.NaN, Infinity, -Infinity),
  fc.string(), fc.constant(null), fc.boolean(), fc.constantFrom('1', '2'),
);

/** An order with one to three broken fields, missing fields, or an extra field. */
export const invalidOrder: fc.Arbitrary<Record<string, unknown>> = fc.tuple(
  validOrder,
  fc.record({
    orderId: fc.option(badId, { nil: undefined }),
    customerId: fc.option(badId, { nil: undefined }),
    sku: fc.option(badId, { nil: undefined }),
    quantity: fc.option(badCount(1_000), { nil: undefined }),
    amount: fc.option(badCount(100_000_000), { nil: undefined }),
  }),
  fc.constantFrom<'replace' | 'drop' | 'extra'>('replace', 'drop', 'extra'),
  fc.constantFrom('orderId', 'customerId', 'sku', 'quantity', 'amount'),
).map(([order, bad, how, field]) => {
  const result: Record<string, unknown> = { ...order };
  if (how === 'drop') {
    delete result[field];
    return result;
  }
  if (how === 'extra') return { ...result, [`x${field}`]: 1 };
  let changed = false;
  for (const [key, value] of Object.entries(bad)) {
    if (value !== undefined) {
      result[key] = value;
      changed = true;
    }
  }
  if (!changed) delete result[field];
  return result;
}).filter((o) => JSON.stringify(o) !== undefined);
