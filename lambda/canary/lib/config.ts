/**
 * Configuration of the two CodeDeploy lifecycle hooks, from environment variables, validated at
 * cold start (one `ConfigError` naming every problem).
 *
 * Pre-traffic hook:
 *
 * | variable | default | rule |
 * |---|---|---|
 * | TARGET_VERSION_ARN | (required) | qualified function version ARN `arn:aws:lambda:<region>:<account>:function:<name>:<version>` (a number, not an alias or `$LATEST`) |
 * | SMOKE_TEST_PAYLOAD | `{}` | JSON value sent as the invocation payload |
 * | SMOKE_TEST_EXPECT | none | JSON object, all optional: `statusCode` (integer 100..599, the payload's `statusCode` field), `bodyContains` (non-empty string, in the payload's `body` string, else in the payload JSON), `fields` (object: each key must equal the payload's top-level field) |
 *
 * Post-traffic hook:
 *
 * | variable | default | rule |
 * |---|---|---|
 * | FUNCTION_NAME | (required) | function name (`[A-Za-z0-9_-]{1,64}`), the `FunctionName` metric dimension |
 * | ALIAS_NAME | (required) | alias name; `Resource` dimension is `FUNCTION_NAME:ALIAS_NAME` |
 * | TARGET_VERSION | (required) | version number being deployed, the `ExecutedVersion` dimension |
 * | WINDOW_MINUTES | 10 | 1..180, metrics of the last N minutes (whole minutes, up to the current one) |
 * | MAX_ERRORS | 0 | 0..1000000000; more errors than this fail the deployment |
 * | MAX_ERROR_RATE_PERCENT | none | 0..100, decimal notation (`0.5`, or `1e-7` as `String(n)` writes tiny numbers); a higher error rate fails it, once MIN_INVOCATIONS is reached |
 * | MIN_INVOCATIONS | 1 | 1..1000000000; fewer invocations do not evaluate the rate |
 * | REQUIRE_INVOCATIONS | `false` | `true`: no invocation of the new version in the window fails it |
 *
 * Both: POWERTOOLS_SERVICE_NAME (`canary-pre-traffic` / `canary-post-traffic`), POWERTOOLS_LOG_LEVEL.
 */
import { parseSmokeTestExpectation, type SmokeTestExpectation } from './smoke-test';
import { EnvReader, quoteValue } from '../../shared/config';

/** A function version ARN; group 1 is the unqualified function ARN, group 2 the version. */
export const FUNCTION_VERSION_ARN_PATTERN = /^(arn:aws[a-z-]*:lambda:[a-z0-9-]{1,32}:\d{12}:function:[A-Za-z0-9_-]{1,64}):([1-9]\d{0,9})$/;
export const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Lambda alias names: not all digits (that would be a version). */
export const ALIAS_NAME_PATTERN = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/;
export const VERSION_PATTERN = /^[1-9]\d{0,9}$/;
/**
 * A percentage as `String(n)` writes it (how the construct passes `maxErrorRatePercent`): decimal
 * notation, or a negative exponent below 1e-6 (`1e-7`); no sign, unit or positive exponent.
 */
const PERCENT_PATTERN = /^(?:\d{1,3}(?:\.\d{1,20})?|\d(?:\.\d{1,20})?e-\d{1,3})$/;
const COUNT_LIMIT = 1_000_000_000;

export interface PreTrafficConfig {
  readonly targetVersionArn: string;
  /** The version number from the ARN, compared with the `ExecutedVersion` Lambda reports. */
  readonly targetVersion: string;
  /** The invocation payload, as JSON text. */
  readonly payload: string;
  readonly expect: SmokeTestExpectation;
}

export interface PostTrafficConfig {
  readonly functionName: string;
  readonly aliasName: string;
  readonly targetVersion: string;
  readonly windowMinutes: number;
  readonly maxErrors: number;
  readonly maxErrorRatePercent?: number;
  readonly minInvocations: number;
  readonly requireInvocations: boolean;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw new Error(`is not valid JSON (${err instanceof Error ? err.message : String(err)}), got ${quoteValue(value)}`);
  }
}

function parsePercent(value: string): number {
  const trimmed = value.trim();
  const n = PERCENT_PATTERN.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(n >= 0 && n <= 100)) throw new Error(`must be a number in 0..100, got ${quoteValue(value)}`);
  return n;
}

export function loadPreTrafficConfig(env: NodeJS.ProcessEnv = process.env): PreTrafficConfig {
  const reader = new EnvReader(env);
  const targetVersionArn = reader.requiredString('TARGET_VERSION_ARN', { pattern: FUNCTION_VERSION_ARN_PATTERN });
  // Sent as written (not re-serialized), so large numbers keep their digits.
  const payload = reader.parsed('SMOKE_TEST_PAYLOAD', (value) => (parseJson(value), value));
  const expect = reader.parsed('SMOKE_TEST_EXPECT', (value) => parseSmokeTestExpectation(parseJson(value)));
  reader.done();
  return {
    targetVersionArn,
    targetVersion: FUNCTION_VERSION_ARN_PATTERN.exec(targetVersionArn)![2],
    payload: payload ?? '{}',
    expect: expect ?? {},
  };
}

export function loadPostTrafficConfig(env: NodeJS.ProcessEnv = process.env): PostTrafficConfig {
  const reader = new EnvReader(env);
  const functionName = reader.requiredString('FUNCTION_NAME', { pattern: FUNCTION_NAME_PATTERN });
  const aliasName = reader.requiredString('ALIAS_NAME', { pattern: ALIAS_NAME_PATTERN });
  const targetVersion = reader.requiredString('TARGET_VERSION', { pattern: VERSION_PATTERN });
  const windowMinutes = reader.integerInRange('WINDOW_MINUTES', 10, 1, 180);
  const maxErrors = reader.integerInRange('MAX_ERRORS', 0, 0, COUNT_LIMIT);
  const maxErrorRatePercent = reader.parsed('MAX_ERROR_RATE_PERCENT', parsePercent);
  const minInvocations = reader.integerInRange('MIN_INVOCATIONS', 1, 1, COUNT_LIMIT);
  const requireInvocations = reader.booleanFlag('REQUIRE_INVOCATIONS', false);
  reader.done();
  return {
    functionName,
    aliasName,
    targetVersion,
    windowMinutes,
    maxErrors,
    ...(maxErrorRatePercent !== undefined ? { maxErrorRatePercent } : {}),
    minInvocations,
    requireInvocations,
  };
}
