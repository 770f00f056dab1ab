/**
 * Cold-start configuration of the lifecycle hooks: one ConfigError naming every missing or invalid
 * variable with the value given, thrown when the module loads (before any event).
 */
import { FUNCTION_NAME, TARGET_VERSION, TARGET_VERSION_ARN, loadPostTraffic, loadPreTraffic } from './hook-harness';

function coldStartError(load: () => { reset(): void }): Error {
  try {
    load().reset();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the cold start to fail');
}

describe('pre-traffic', () => {
  test('loads with only TARGET_VERSION_ARN', () => {
    expect(() => loadPreTraffic({ TARGET_VERSION_ARN }).reset()).not.toThrow();
  });

  test('fails without TARGET_VERSION_ARN', () => {
    const err = coldStartError(() => loadPreTraffic({}));

    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe('Invalid configuration: TARGET_VERSION_ARN is required');
  });

  test.each([
    ['an unqualified ARN', 'arn:aws:lambda:us-east-1:123456789012:function:my-fn'],
    ['an alias ARN', 'arn:aws:lambda:us-east-1:123456789012:function:my-fn:live'],
    ['$LATEST', 'arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST'],
    ['version 0', 'arn:aws:lambda:us-east-1:123456789012:function:my-fn:0'],
    ['a function name', 'my-fn:7'],
    ['another service', 'arn:aws:sqs:us-east-1:123456789012:my-fn:7'],
  ])('fails for %s as TARGET_VERSION_ARN', (_name, value) => {
    const err = coldStartError(() => loadPreTraffic({ TARGET_VERSION_ARN: value }));

    expect(err.message).toBe(`Invalid configuration: TARGET_VERSION_ARN must match ${
      '^(arn:aws[a-z-]*:lambda:[a-z0-9-]{1,32}:\\d{12}:function:[A-Za-z0-9_-]{1,64}):([1-9]\\d{0,9})$'}, got ${JSON.stringify(value)}`);
  });

  test('accepts any JSON value as SMOKE_TEST_PAYLOAD and a version ARN of another partition', () => {
    for (const payload of ['[]', '"ping"', '42', 'null', '{"a":{"b":[1,2]}}']) {
      expect(() => loadPreTraffic({ TARGET_VERSION_ARN: 'arn:aws-cn:lambda:cn-north-1:123456789012:function:f_1:12', SMOKE_TEST_PAYLOAD: payload }).reset()).not.toThrow();
    }
  });

  test.each([
    [{ SMOKE_TEST_PAYLOAD: '{"a":' }, /^Invalid configuration: SMOKE_TEST_PAYLOAD is not valid JSON \(.+\), got "\{\\"a\\":"$/],
    [{ SMOKE_TEST_EXPECT: 'statusCode=200' }, /^Invalid configuration: SMOKE_TEST_EXPECT is not valid JSON \(.+\), got "statusCode=200"$/],
    [{ SMOKE_TEST_EXPECT: '[200]' }, /^Invalid configuration: SMOKE_TEST_EXPECT must be a JSON object, got \[200\]$/],
    [{ SMOKE_TEST_EXPECT: '{"status":200,"body":"x"}' }, /^Invalid configuration: SMOKE_TEST_EXPECT has unknown keys "status", "body" \(allowed: statusCode, bodyContains, fields\)$/],
    [
      { SMOKE_TEST_EXPECT: '{"statusCode":"200","bodyContains":"","fields":[1]}' },
      /^Invalid configuration: SMOKE_TEST_EXPECT statusCode must be an integer in 100\.\.599, got "200", bodyContains must be a non-empty string, got "", fields must be an object, got \[1\]$/,
    ],
    [{ SMOKE_TEST_EXPECT: '{"statusCode":200.5}' }, /^Invalid configuration: SMOKE_TEST_EXPECT statusCode must be an integer in 100\.\.599, got 200\.5$/],
  ])('fails for %j', (env, message) => {
    const err = coldStartError(() => loadPreTraffic({ TARGET_VERSION_ARN, ...env }));

    expect(err.message).toMatch(message);
  });

  test('names every problem at once', () => {
    const err = coldStartError(() => loadPreTraffic({ SMOKE_TEST_PAYLOAD: '{', SMOKE_TEST_EXPECT: '1' }));

    expect((err as Error & { problems: string[] }).problems).toEqual([
      'TARGET_VERSION_ARN is required',
      expect.stringMatching(/^SMOKE_TEST_PAYLOAD is not valid JSON/),
      'SMOKE_TEST_EXPECT must be a JSON object, got 1',
    ]);
  });
});

describe('post-traffic', () => {
  const REQUIRED = { FUNCTION_NAME, ALIAS_NAME: 'live', TARGET_VERSION };

  test('loads with the three required variables, and with every optional one set', () => {
    expect(() => loadPostTraffic(REQUIRED).reset()).not.toThrow();
    expect(() => loadPostTraffic({
      ...REQUIRED,
      WINDOW_MINUTES: '180',
      MAX_ERRORS: '0',
      MAX_ERROR_RATE_PERCENT: String(100 / 3),
      MIN_INVOCATIONS: '100',
      REQUIRE_INVOCATIONS: 'false',
    }).reset()).not.toThrow();
  });

  test('fails without the required variables, naming each', () => {
    const err = coldStartError(() => loadPostTraffic({}));

    expect(err.message).toBe('Invalid configuration: FUNCTION_NAME is required; ALIAS_NAME is required; TARGET_VERSION is required');
  });

  test('names every invalid value with the value given', () => {
    const err = coldStartError(() => loadPostTraffic({
      FUNCTION_NAME: 'arn:aws:lambda:us-east-1:123456789012:function:my-fn',
      ALIAS_NAME: '12',
      TARGET_VERSION: '$LATEST',
      WINDOW_MINUTES: '181',
      MAX_ERRORS: '-1',
      MAX_ERROR_RATE_PERCENT: '100.5',
      MIN_INVOCATIONS: '0',
      REQUIRE_INVOCATIONS: 'yes',
    }));

    expect((err as Error & { problems: string[] }).problems).toEqual([
      'FUNCTION_NAME must match ^[A-Za-z0-9_-]{1,64}$, got "arn:aws:lambda:us-east-1:123456789012:function:my-fn"',
      'ALIAS_NAME must match ^(?!\\d+$)[A-Za-z0-9_-]{1,128}$, got "12"',
      'TARGET_VERSION must match ^[1-9]\\d{0,9}$, got "$LATEST"',
      'WINDOW_MINUTES must be an integer in 1..180, got "181"',
      'MAX_ERRORS must be an integer in 0..1000000000, got "-1"',
      'MAX_ERROR_RATE_PERCENT must be a number in 0..100, got "100.5"',
      'MIN_INVOCATIONS must be an integer in 1..1000000000, got "0"',
      'REQUIRE_INVOCATIONS must be true or false, got "yes"',
    ]);
  });

  test.each(['abc', '-1', '1e2', '5%', '0x10', 'NaN'])('fails for MAX_ERROR_RATE_PERCENT %j', (value) => {
    const err = coldStartError(() => loadPostTraffic({ ...REQUIRED, MAX_ERROR_RATE_PERCENT: value }));

    expect(err.message).toBe(`Invalid configuration: MAX_ERROR_RATE_PERCENT must be a number in 0..100, got ${JSON.stringify(value)}`);
  });

  test('WINDOW_MINUTES 0 is refused', () => {
    expect(coldStartError(() => loadPostTraffic({ ...REQUIRED, WINDOW_MINUTES: '0' })).message)
      .toBe('Invalid configuration: WINDOW_MINUTES must be an integer in 1..180, got "0"');
  });
});
