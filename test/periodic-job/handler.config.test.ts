/**
 * Periodic job poller: configuration validated at cold start.
 */
import { ConfigError } from '../../lambda/shared/config';
import type { Env } from '../helpers/load-handler';
import { loadPoller } from '../helpers/load-poller';

const MINIMAL: Env = { TABLE_NAME: 'table', JOB_NAME: 'job', SOURCE_URL: 'https://api.example.com/v1/things' };

function coldStartError(env: Env): ConfigError {
  try {
    loadPoller(env);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected the cold start to fail');
}

test('a minimal configuration cold-starts', () => {
  expect(typeof loadPoller(MINIMAL).handler).toBe('function');
});

test('fails with one error naming every missing variable', () => {
  const err = coldStartError({});

  expect(err.name).toBe('ConfigError');
  expect(err.problems).toEqual(['TABLE_NAME is required', 'JOB_NAME is required', 'SOURCE_URL is required']);
});

test('fails with one error listing every bad variable and the value given', () => {
  // Act
  const err = coldStartError({
    TABLE_NAME: 't',
    JOB_NAME: 'my job',
    SOURCE_URL: 'ftp://files.example.com/x',
    PAGING_STYLE: 'offset',
    MAX_PAGES: '0',
    REQUEST_TIMEOUT_MS: '10',
    MAX_ATTEMPTS: '11',
    RETRY_BASE_DELAY_MS: 'fast',
    SECRET_ARN: 'my-secret',
    AUTH_HEADER: 'Bad Header',
    ON_INVALID_ITEM: 'ignore',
  });

  // Assess
  expect(err.problems).toEqual([
    'JOB_NAME must match ^[A-Za-z0-9_-]{1,64}$, got "my job"',
    'SOURCE_URL must be an http: or https: URL, got "ftp:"',
    'PAGING_STYLE must be one of none, page, cursor, link, got "offset"',
    'ON_INVALID_ITEM must be one of skip, fail, got "ignore"',
    'MAX_PAGES must be an integer in 1..100000, got "0"',
    'REQUEST_TIMEOUT_MS must be an integer in 100..120000, got "10"',
    'MAX_ATTEMPTS must be an integer in 1..10, got "11"',
    'RETRY_BASE_DELAY_MS must be an integer in 1..60000, got "fast"',
    expect.stringMatching(/^SECRET_ARN must match .*, got "my-secret"$/),
    expect.stringMatching(/^AUTH_HEADER must match .*, got "Bad Header"$/),
  ]);
});

test.each([
  ['JOB_NAME', 'x'.repeat(65), /JOB_NAME must match/],
  ['JOB_NAME', 'a#b', /JOB_NAME must match/],
  ['SOURCE_URL', 'not a url', /SOURCE_URL must be an absolute http\(s\) URL, got "not a url"/],
  ['SOURCE_URL', 'https://user:pw@api.example.com/', /SOURCE_URL must not contain user info/],
  ['SOURCE_URL', 'https://api.example.com/#frag', /SOURCE_URL must not contain a fragment/],
  ['PAGE_PARAM', 'a&b', /PAGE_PARAM must match/],
  ['CURSOR_FIELD', 'a..b', /CURSOR_FIELD must match/],
  ['ITEMS_PATH', 'data.', /ITEMS_PATH must match/],
  ['ID_FIELD', ' ', /ID_FIELD must match/],
  ['FIRST_PAGE', '2', /FIRST_PAGE must be an integer in 0\.\.1/],
  ['MAX_RESPONSE_BYTES', '100', /MAX_RESPONSE_BYTES/],
  ['TIME_BUDGET_MARGIN_MS', '-1', /TIME_BUDGET_MARGIN_MS/],
  ['WRITE_CONCURRENCY', '51', /WRITE_CONCURRENCY/],
  ['RUN_RETENTION_DAYS', '1.5', /RUN_RETENTION_DAYS/],
  ['AUTH_SCHEME', 'Bearer token', /AUTH_SCHEME must match/],
  ['POWERTOOLS_METRICS_NAMESPACE', 'bad namespace!', /POWERTOOLS_METRICS_NAMESPACE must match/],
])('fails when %s is %j', (name, value, message) => {
  expect(() => loadPoller({ ...MINIMAL, [name]: value })).toThrow(message);
});

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:feed-token-AbCdEf';

describe('the credential never crosses the network in clear text', () => {
  test('fails when SOURCE_URL is plain http: and a credential would be sent', () => {
    expect(() => loadPoller({ ...MINIMAL, SOURCE_URL: 'http://api.example.com/v1/things', SECRET_ARN: SECRET }))
      .toThrow(/SOURCE_URL must be an https: URL: the credential \(SECRET_ARN\) would cross the network in clear text; set ALLOW_INSECURE_HTTP=true/);
  });

  test.each([
    ['without a credential', { SOURCE_URL: 'http://api.example.com/v1/things' }],
    ['to a loopback host', { SOURCE_URL: 'http://127.0.0.1:8080/items', SECRET_ARN: SECRET }],
    ['to localhost', { SOURCE_URL: 'http://localhost:8080/items', SECRET_ARN: SECRET }],
    ['when ALLOW_INSECURE_HTTP=true', { SOURCE_URL: 'http://api.example.com/v1/things', SECRET_ARN: SECRET, ALLOW_INSECURE_HTTP: 'true' }],
  ])('accepts plain http: %s', (_name, env) => {
    expect(typeof loadPoller({ ...MINIMAL, ...env }).handler).toBe('function');
  });

  test('fails when ALLOW_INSECURE_HTTP is not a boolean', () => {
    expect(() => loadPoller({ ...MINIMAL, ALLOW_INSECURE_HTTP: 'yes' })).toThrow(/ALLOW_INSECURE_HTTP must be true or false, got "yes"/);
  });
});

test('fails when PAGING_STYLE is cursor and the body is the array (ITEMS_PATH empty)', () => {
  expect(() => loadPoller({ ...MINIMAL, PAGING_STYLE: 'cursor', ITEMS_PATH: '' })).toThrow(/ITEMS_PATH must name a field when PAGING_STYLE is cursor/);
});

test.each([
  ['PAGING_STYLE', 'link'],
  ['ITEMS_PATH', ''],
  ['ITEMS_PATH', '.'],
  ['ITEMS_PATH', 'data.results.0.items'],
  ['SECRET_ARN', 'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:a/b_c+d=e.f@g-h-AbCdEf'],
  ['SOURCE_URL', 'http://127.0.0.1:8080/items?limit=100'],
  ['AUTH_SCHEME', 'none'],
])('accepts %s=%j', (name, value) => {
  expect(typeof loadPoller({ ...MINIMAL, [name]: value }).handler).toBe('function');
});
