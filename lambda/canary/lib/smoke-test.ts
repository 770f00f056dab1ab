/**
 * The pre-traffic check: invoke the new version once, synchronously, with the configured payload
 * and judge what came back. It fails on a function error, an Invoke status other than 200, a
 * different executed version, and on each unmet expectation of `SMOKE_TEST_EXPECT`:
 * - `statusCode`: the payload's `statusCode` field (API Gateway proxy-style responses);
 * - `bodyContains`: a substring of the payload's `body` string, or of the payload JSON when it
 *   has no string `body`;
 * - `fields`: top-level payload fields, each equal (as JSON, whatever the key order) to the value given.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { CheckVerdict } from './lifecycle-hook';
import { HookStatus } from './report';
import { canonicalJson } from '../../shared/canonical-json';

export interface SmokeTestExpectation {
  readonly statusCode?: number;
  readonly bodyContains?: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** What Invoke returned, the payload decoded as UTF-8 text. */
export interface InvokeOutcome {
  readonly statusCode?: number;
  readonly functionError?: string;
  readonly executedVersion?: string;
  readonly payloadText: string;
}

export interface SmokeTestTarget {
  readonly targetVersionArn: string;
  readonly targetVersion: string;
  readonly payload: string;
  readonly expect: SmokeTestExpectation;
}

/**
 * The function under test may run up to Lambda's 15-minute maximum, far beyond the SDK default
 * per-request timeout; the hook's check deadline (its abort signal) is the bound that matters.
 */
export const SMOKE_TEST_REQUEST_TIMEOUT_MS = 900_000;
/** Longest excerpt of a returned value quoted in a reason. */
export const MAX_EXCERPT = 200;

const EXPECTATION_KEYS: ReadonlySet<string> = new Set(['statusCode', 'bodyContains', 'fields']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `JSON.stringify` of a value, shortened; `undefined` as the words "nothing". */
export function excerpt(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // BigInt or a cycle: not from JSON, but an excerpt must never throw.
    text = String(value);
  }
  return text.length > MAX_EXCERPT ? `${text.slice(0, MAX_EXCERPT)}...(${text.length} characters)` : text;
}

/** Validates the parsed `SMOKE_TEST_EXPECT`; throws an `Error` naming what is wrong. */
export function parseSmokeTestExpectation(value: unknown): SmokeTestExpectation {
  if (!isPlainObject(value)) throw new Error(`must be a JSON object, got ${excerpt(value)}`);
  const unknownKeys = Object.keys(value).filter((k) => !EXPECTATION_KEYS.has(k));
  if (unknownKeys.length > 0) {
    throw new Error(`has unknown keys ${unknownKeys.map((k) => JSON.stringify(k)).join(', ')} (allowed: ${[...EXPECTATION_KEYS].join(', ')})`);
  }
  const { statusCode, bodyContains, fields } = value;
  const problems: string[] = [];
  if (statusCode !== undefined && !(Number.isInteger(statusCode) && (statusCode as number) >= 100 && (statusCode as number) <= 599)) {
    problems.push(`statusCode must be an integer in 100..599, got ${excerpt(statusCode)}`);
  }
  if (bodyContains !== undefined && (typeof bodyContains !== 'string' || bodyContains.length === 0)) {
    problems.push(`bodyContains must be a non-empty string, got ${excerpt(bodyContains)}`);
  }
  if (fields !== undefined && !isPlainObject(fields)) problems.push(`fields must be an object, got ${excerpt(fields)}`);
  if (problems.length > 0) throw new Error(problems.join(', '));
  return {
    ...(statusCode !== undefined ? { statusCode: statusCode as number } : {}),
    ...(bodyContains !== undefined ? { bodyContains: bodyContains as string } : {}),
    ...(fields !== undefined ? { fields: fields as Record<string, unknown> } : {}),
  };
}

function parsePayload(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** An own field only: `payload.__proto__` or `payload.constructor` must not read inherited values. */
function ownField(payload: Record<string, unknown>, key: string): unknown {
  return Object.getOwnPropertyDescriptor(payload, key)?.value;
}

function expectationProblems(outcome: InvokeOutcome, expect: SmokeTestExpectation): string[] {
  const problems: string[] = [];
  const parsed = parsePayload(outcome.payloadText);
  const payload = parsed.ok && isPlainObject(parsed.value) ? parsed.value : undefined;
  const needsObject = expect.statusCode !== undefined || expect.fields !== undefined;
  if (needsObject && payload === undefined) {
    problems.push(`expected a JSON object payload, got ${parsed.ok ? excerpt(parsed.value) : `non-JSON ${excerpt(outcome.payloadText)}`}`);
    return problems;
  }
  if (expect.statusCode !== undefined) {
    const got = ownField(payload!, 'statusCode');
    if (got !== expect.statusCode) problems.push(`statusCode: expected ${expect.statusCode}, got ${excerpt(got)}`);
  }
  if (expect.bodyContains !== undefined) {
    const body = payload !== undefined ? ownField(payload, 'body') : undefined;
    const [where, haystack] = typeof body === 'string' ? ['body', body] : ['payload', outcome.payloadText];
    if (!haystack.includes(expect.bodyContains)) {
      problems.push(`bodyContains: ${excerpt(expect.bodyContains)} not found in the ${where} ${excerpt(haystack)}`);
    }
  }
  for (const [key, wanted] of Object.entries(expect.fields ?? {})) {
    const got = ownField(payload!, key);
    if (got === undefined || canonicalJson(got) !== canonicalJson(wanted)) {
      problems.push(`fields.${key}: expected ${excerpt(wanted)}, got ${excerpt(got)}`);
    }
  }
  return problems;
}

/** Judges an Invoke result against the target version and the expectations. */
export function judgeSmokeTest(outcome: InvokeOutcome, target: Pick<SmokeTestTarget, 'targetVersion' | 'expect'>): CheckVerdict {
  const details = {
    invokeStatusCode: outcome.statusCode,
    functionError: outcome.functionError,
    executedVersion: outcome.executedVersion,
    payloadBytes: Buffer.byteLength(outcome.payloadText, 'utf8'),
  };
  if (outcome.functionError !== undefined) {
    return {
      status: HookStatus.Failed,
      reason: `smoke test failed: the function returned an error (FunctionError ${JSON.stringify(outcome.functionError)}): ${excerpt(outcome.payloadText)}`,
      details,
    };
  }
  const problems: string[] = [];
  if (outcome.statusCode !== 200) problems.push(`Invoke StatusCode: expected 200, got ${excerpt(outcome.statusCode)}`);
  // A version ARN cannot run another version; a mismatch means the ARN was not what it seemed.
  if (outcome.executedVersion !== undefined && outcome.executedVersion !== target.targetVersion) {
    problems.push(`ExecutedVersion: expected ${JSON.stringify(target.targetVersion)}, got ${excerpt(outcome.executedVersion)}`);
  }
  problems.push(...expectationProblems(outcome, target.expect));
  if (problems.length > 0) return { status: HookStatus.Failed, reason: `smoke test failed: ${problems.join('; ')}`, details };
  return { status: HookStatus.Succeeded, reason: 'smoke test passed', details };
}

/** Invokes the new version (`RequestResponse`) and judges the result. */
export async function runSmokeTest(target: SmokeTestTarget, lambda: LambdaClient, signal: AbortSignal | undefined): Promise<CheckVerdict> {
  const out = await lambda.send(new InvokeCommand({
    FunctionName: target.targetVersionArn,
    InvocationType: 'RequestResponse',
    Payload: new TextEncoder().encode(target.payload),
  }), { abortSignal: signal, requestTimeout: SMOKE_TEST_REQUEST_TIMEOUT_MS });
  return judgeSmokeTest({
    ...(out.StatusCode !== undefined ? { statusCode: out.StatusCode } : {}),
    ...(out.FunctionError !== undefined ? { functionError: out.FunctionError } : {}),
    ...(out.ExecutedVersion !== undefined ? { executedVersion: out.ExecutedVersion } : {}),
    payloadText: out.Payload !== undefined ? new TextDecoder().decode(out.Payload) : '',
  }, target);
}
