/**
 * Unit tests of the handler building blocks in lambda/shared (and lambda/shared/resource-api) that the
 * handler tests do not pin down directly.
 */
import { canonicalJson } from '../../lambda/shared/canonical-json';
import { ConfigError, EnvReader } from '../../lambda/shared/config';
import { errorResponse, getHeader, jsonResponse, parseCorsOrigins, parseJsonBody, withCors } from '../../lambda/shared/http';
import { MethodNotAllowedError, NotFoundError, ValidationError } from '../../lambda/shared/http-errors';
import { noneMatchHits, parseEntityTagCondition, strongVersions } from '../../lambda/shared/resource-api/etag';
import { idFromIdempotencyKey } from '../../lambda/shared/resource-api/ids';
import { decodePageToken, encodePageToken } from '../../lambda/shared/resource-api/page-token';
import { checkDynamoStorable, isStorableNumber } from '../../lambda/shared/validate';

describe('EnvReader', () => {
  test('collects every problem and throws one ConfigError', () => {
    const env = new EnvReader({ A: 'x', N: '12abc', B: 'maybe', C: 'blue' });

    env.requiredString('MISSING');
    env.requiredString('A', { pattern: /^[0-9]+$/ });
    env.integerInRange('N', 1, 0, 10);
    env.booleanFlag('B', false);
    env.oneOf('C', ['red', 'green'] as const, 'red');

    expect(() => env.done()).toThrow(ConfigError);
    try {
      env.done();
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        'MISSING is required',
        'A must match ^[0-9]+$, got "x"',
        'N must be an integer in 0..10, got "12abc"',
        'B must be true or false, got "maybe"',
        'C must be one of red, green, got "blue"',
      ]);
    }
  });

  test('returns defaults for unset and empty variables and reads process.env at call time', () => {
    process.env.UNIT_TEST_FLAG = 'true';
    const env = new EnvReader();

    expect(env.booleanFlag('UNIT_TEST_FLAG', false)).toBe(true);
    expect(env.integerInRange('UNIT_TEST_UNSET', 7, 1, 10)).toBe(7);
    expect(new EnvReader({ E: '' }).optionalString('E')).toBeUndefined();
    expect(() => env.done()).not.toThrow();
    delete process.env.UNIT_TEST_FLAG;
  });

  test('quotes long values shortened', () => {
    const env = new EnvReader({ X: 'y'.repeat(500) });
    env.booleanFlag('X', true);

    expect(() => env.done()).toThrow(/got "y{120}\.\.\."/);
  });
});

describe('http helpers', () => {
  test('getHeader is case-insensitive and combines repeated lines', () => {
    const event = { headers: { 'IF-match': '"2"' }, multiValueHeaders: { 'if-Match': ['"1"', '"2"'] } };

    expect(getHeader(event, 'If-Match')).toBe('"1", "2"');
    expect(getHeader({ headers: { Accept: 'x' }, multiValueHeaders: null }, 'accept')).toBe('x');
    expect(getHeader({ headers: null, multiValueHeaders: null }, 'accept')).toBeUndefined();
  });

  test('errorResponse renders HttpErrors and hides everything else', () => {
    const notAllowed = errorResponse(new MethodNotAllowedError('PATCH', ['GET', 'POST']), 'r1');
    const invalid = errorResponse(new ValidationError('bad', [{ path: '/a', message: 'm' }]), 'r2');
    const internal = errorResponse(new Error('secret connection string'), 'r3');

    expect(notAllowed).toEqual({
      statusCode: 405,
      headers: { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-type': 'application/json', 'allow': 'GET, POST' },
      body: JSON.stringify({ error: 'MethodNotAllowed', message: 'Method PATCH is not allowed on this resource', requestId: 'r1' }),
    });
    expect(JSON.parse(invalid.body)).toEqual({ error: 'ValidationError', message: 'bad', requestId: 'r2', details: [{ path: '/a', message: 'm' }] });
    expect(internal.statusCode).toBe(500);
    expect(JSON.parse(internal.body)).toEqual({ error: 'InternalError', message: 'Internal server error', requestId: 'r3' });
    expect(new NotFoundError()).toBeInstanceOf(Error);
    expect(new MethodNotAllowedError('<script>'.repeat(100), ['GET']).message).toBe('This method is not allowed on this resource');
  });

  test('parseJsonBody accepts JSON media types with a UTF-8 charset only', () => {
    const parse = (contentType: string): unknown => parseJsonBody({ headers: { 'content-type': contentType }, body: '{"a":1}' }, { maxBytes: 100 });

    expect(parse('application/json')).toEqual({ a: 1 });
    expect(parse('application/merge-patch+json; charset=UTF-8')).toEqual({ a: 1 });
    expect(parse('application/json;charset="utf-8";profile=x')).toEqual({ a: 1 });
    expect(() => parse('application/json; charset=utf-16')).toThrow(/charset/);
    expect(() => parse('text/json')).toThrow(/Content-Type/);
  });

  test('parseJsonBody rejects a byte order mark', () => {
    expect(() => parseJsonBody({ headers: { 'content-type': 'application/json' }, body: '\ufeff{}' }, { maxBytes: 100 })).toThrow(/not valid JSON/);
  });

  test('CORS origins are parsed strictly', () => {
    expect(parseCorsOrigins('*')).toBe('*');
    expect(parseCorsOrigins('https://A.example.com, http://localhost:3000,')).toEqual(['https://a.example.com', 'http://localhost:3000']);
    expect(parseCorsOrigins('https://a.example.com/')).toHaveProperty('problem');
    expect(parseCorsOrigins('a.example.com')).toHaveProperty('problem');
  });

  test('withCors adds Vary: Origin even when the origin is not allowed', () => {
    const response = withCors(jsonResponse(200, {}), { headers: { origin: 'https://x' } }, { allowOrigins: ['https://y'] });

    expect(response.headers).toMatchObject({ vary: 'Origin' });
    expect(response.headers).not.toHaveProperty('access-control-allow-origin');
  });
});

describe('DynamoDB storability', () => {
  test.each([
    [0, true], [-0, true], [1e-130, true], [-1e-130, true], [9.99999999999999e125, true], [1e-131, false],
    [1e126, false], [-1e126, false], [Infinity, false], [NaN, false], [5e-324, false],
  ])('isStorableNumber(%p) is %p', (n, expected) => {
    expect(isStorableNumber(n)).toBe(expected);
  });

  test('reports JSON pointer paths, escaped', () => {
    const { problems } = checkDynamoStorable({ 'a/b': [{ '~': Infinity }] });

    expect(problems).toEqual([{ path: '/a~1b/0/~0', message: expect.stringMatching(/out of range/) }]);
  });

  test('handles very deep input without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];

    expect(checkDynamoStorable(deep).problems).toHaveLength(1);
  });

  test('estimates the stored size', () => {
    expect(checkDynamoStorable({ ab: 'xyz' }).sizeBytes).toBe(3 + 1 + 2 + 3);
    // numbers as dynalite counts them: 0 -> 1, -1 -> 3, 12.5 -> 3, 25 -> 2 (even digits, odd exponent), 2.5 -> 3 (+1 alignment)
    expect(checkDynamoStorable([0, -1, 12.5, 25, 2.5]).sizeBytes).toBe(3 + (1 + 1) + (1 + 3) + (1 + 3) + (1 + 2) + (1 + 3));
  });
});

describe('entity tags', () => {
  test('parses lists and compares strongly for If-Match, weakly for If-None-Match', () => {
    const condition = parseEntityTagCondition(' "1", W/"2" ,"x,y", , "3"', 'If-Match');

    expect(condition).toEqual({
      kind: 'list',
      tags: [
        { weak: false, opaque: '1' }, { weak: true, opaque: '2' }, { weak: false, opaque: 'x,y' }, { weak: false, opaque: '3' },
      ],
    });
    expect(strongVersions(condition as never)).toEqual([1, 3]);
    expect(noneMatchHits(condition, 2)).toBe(true);
    expect(noneMatchHits(condition, 4)).toBe(false);
    expect(noneMatchHits({ kind: 'any' }, 9)).toBe(true);
  });

  test('non-canonical versions never match', () => {
    expect(strongVersions(parseEntityTagCondition('"01", "1.0", "-1", "0", "9999999999999999"', 'If-Match') as never)).toEqual([]);
  });

  test('more than 50 tags is a 400', () => {
    expect(() => parseEntityTagCondition(Array.from({ length: 51 }, (_, i) => `"${i}"`).join(','), 'If-Match')).toThrow(/more than 50/);
  });
});

describe('ids and tokens', () => {
  test('idempotency ids are stable UUIDv8 per resource and key', () => {
    const id = idFromIdempotencyKey('items', 'k1');

    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idFromIdempotencyKey('items', 'k1')).toBe(id);
    expect(idFromIdempotencyKey('items', 'k2')).not.toBe(id);
    expect(idFromIdempotencyKey('other', 'k1')).not.toBe(id);
  });

  test('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });

  test('page tokens round-trip and lower-case the id', () => {
    const id = '0B6F3C1E-8D2A-4C55-9E0F-1A2B3C4D5E6F';

    expect(decodePageToken(encodePageToken(id))).toBe(id.toLowerCase());
  });
});
