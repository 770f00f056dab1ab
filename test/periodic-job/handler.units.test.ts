/**
 * Periodic job poller: the pure parts - Retry-After and backoff, the Link header parser, dot paths,
 * the content hash, the secret format - and the retry loop with an injected clock and fetch.
 */
import fc from 'fast-check';
import { parseToken } from '../../lambda/periodic-job/lib/auth';
import { readPath, validateItem } from '../../lambda/periodic-job/lib/items';
import { nextLink } from '../../lambda/periodic-job/lib/paging';
import { canonicalJson, contentHash } from '../../lambda/shared/canonical-json';
import { backoffDelay, getWithRetry, parseRetryAfter, redactUrl, type HttpClientDeps } from '../../lambda/shared/http-client';

describe('Retry-After', () => {
  const now = Date.parse('2025-03-01T10:00:00Z');

  test.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Sat, 01 Mar 2025 10:00:30 GMT', 30_000],
    ['Sat, 01 Mar 2025 09:00:00 GMT', 0],
    ['Saturday, 01-Mar-25 10:00:05 GMT', 5_000],
  ])('%j waits %d ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  test.each([null, undefined, '', '-1', '1.5', 'soon', '12345678901', '2025-03-01'])('%j is ignored', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

test('backoff: full jitter below min(cap, base * 2^(attempt-1))', () => {
  const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
  expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, policy, () => 0.999999))).toEqual([99, 199, 399, 799, 999]);
  expect(backoffDelay(3, policy, () => 0)).toBe(0);
  fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (attempt, r) => {
    const d = backoffDelay(attempt, policy, () => r);
    return d >= 0 && d < 1000;
  }));
});

test('redactUrl drops the query string, fragment and user info', () => {
  expect(redactUrl('https://u:p@api.example.com:8443/v1/x?key=secret#f')).toBe('https://api.example.com:8443/v1/x');
});

describe('Link header', () => {
  test.each([
    ['<https://a.example/p2>; rel="next"', 'https://a.example/p2'],
    ['<https://a.example/p1>; rel="prev", <https://a.example/p3>; rel=next', 'https://a.example/p3'],
    ['<https://a.example/p?a=1,2>; rel="next"', 'https://a.example/p?a=1,2'],
    ['<https://a.example/x>; title="a, rel=next"; rel="last", </y>; REL="Next Last"', '/y'],
    ['<https://a.example/x>; rel="prev"', undefined],
    ['garbage', undefined],
    ['', undefined],
    [null, undefined],
  ])('%j -> %j', (header, expected) => {
    expect(nextLink(header)).toBe(expected);
  });

  test('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (header) => {
      const next = nextLink(header);
      return next === undefined || typeof next === 'string';
    }));
  });
});

describe('dot paths and items', () => {
  test('readPath follows own properties and array indexes only', () => {
    const body = { data: { results: [{ id: 1 }] }, arr: [10, 20] };
    expect(readPath(body, ['data', 'results', '0', 'id'])).toEqual({ found: true, value: 1 });
    expect(readPath(body, ['arr', '1'])).toEqual({ found: true, value: 20 });
    expect(readPath(body, ['arr', '2'])).toEqual({ found: false });
    expect(readPath(body, ['constructor'])).toEqual({ found: false });
    expect(readPath(body, ['__proto__'])).toEqual({ found: false });
    expect(readPath(body, ['data', 'missing'])).toEqual({ found: false });
    expect(readPath(body, [])).toEqual({ found: true, value: body });
  });

  test('validateItem never throws on any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      const result = validateItem(value, ['id']);
      return result.valid ? result.key === String((value as { id: unknown }).id) : typeof result.reason === 'string';
    }));
  });
});

describe('content hash', () => {
  test('is independent of key order at every level and changes with the content', () => {
    const a = { id: 1, b: { y: [1, { q: 1, p: 2 }], x: null }, a: 'é' };
    const b = { a: 'é', b: { x: null, y: [1, { p: 2, q: 1 }] }, id: 1 };
    expect(canonicalJson(a)).toBe('{"a":"é","b":{"x":null,"y":[1,{"p":2,"q":1}]},"id":1}');
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash(a)).not.toBe(contentHash({ ...a, id: 2 }));
    expect(contentHash([1, 2])).not.toBe(contentHash([2, 1]));
  });

  test('equals for JSON-equal values, whatever the key order', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
      const reordered: unknown = JSON.parse(JSON.stringify(value, (_k, v: unknown) =>
        (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v)));
      return contentHash(reordered) === contentHash(JSON.parse(JSON.stringify(value)));
    }));
  });
});

describe('secret format', () => {
  test.each([
    ['abc123', 'abc123'],
    ['  abc123\n', 'abc123'],
    ['{"token":"t-1"}', 't-1'],
    [' {"token": " t-2 ", "other": 1}', 't-2'],
  ])('%j -> %j', (secret, token) => {
    expect(parseToken(secret)).toBe(token);
  });
});

describe('getWithRetry with an injected clock', () => {
  function fakeDeps(responses: Array<Response | Error>): HttpClientDeps & { sleeps: number[]; clock: { t: number } } {
    const clock = { t: 0 };
    const sleeps: number[] = [];
    let i = 0;
    return {
      clock,
      sleeps,
      now: () => clock.t,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.t += ms;
      },
      fetch: async () => {
        const next = responses[Math.min(i++, responses.length - 1)];
        if (next instanceof Error) throw next;
        return next;
      },
    };
  }
  const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 10_000 };
  const networkError = (): Error => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });

  test('retries network errors and 5xx with jittered backoff, honours Retry-After', async () => {
    const deps = fakeDeps([networkError(), new Response('', { status: 500 }), new Response('', { status: 429, headers: { 'retry-after': '3' } }), new Response('{"ok":true}')]);

    const res = await getWithRetry({ url: 'http://x.test/a', timeoutMs: 1000, maxBodyBytes: 1000, retry: policy }, deps);

    expect(res.attempts).toBe(4);
    expect(res.body.toString()).toBe('{"ok":true}');
    expect(deps.sleeps).toEqual([50, 100, 3000]);
  });

  test('gives up after maxAttempts with the last error', async () => {
    const deps = fakeDeps([networkError()]);

    await expect(getWithRetry({ url: 'http://x.test/a?k=1', timeoutMs: 1000, maxBodyBytes: 1000, retry: policy }, deps))
      .rejects.toMatchObject({ name: 'UpstreamNetworkError', message: 'GET http://x.test/a failed: fetch failed (ECONNRESET)' });
    expect(deps.sleeps).toHaveLength(3);
  });

  test('does not wait past the deadline', async () => {
    const deps = fakeDeps([new Response('', { status: 503, headers: { 'retry-after': '5' } })]);

    await expect(getWithRetry({ url: 'http://x.test/a', timeoutMs: 1000, maxBodyBytes: 1000, retry: policy, deadlineAt: 4000 }, deps))
      .rejects.toMatchObject({ name: 'DeadlineExceededError' });
    expect(deps.sleeps).toEqual([]);
  });
});
