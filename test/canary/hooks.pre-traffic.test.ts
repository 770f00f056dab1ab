/**
 * Pre-traffic hook (`lambda/canary/pre-traffic.ts`): the exact Invoke of the new version and the
 * exact PutLifecycleEventHookExecutionStatus it leads to, for passing and failing smoke tests, a
 * failing or hanging Invoke, and a report that fails (aws-sdk-client-mock on the handler's own
 * clients: no local engine speaks Lambda Invoke or CodeDeploy).
 */
import {
  TARGET_VERSION_ARN,
  awsError,
  captureLogs,
  expectedReport,
  hookContext,
  hookEvent,
  jsonBytes,
  loadPreTraffic,
  sendOptions,
  type InvokePayload,
  type LoadedPreTraffic,
} from './hook-harness';

const API_RESPONSE = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'ok', version: 7 }) };

interface InvokeOutput {
  readonly StatusCode?: number;
  readonly ExecutedVersion?: string;
  readonly FunctionError?: string;
  readonly Payload: InvokePayload;
}

function invokeOutput(payload: unknown, overrides: Partial<InvokeOutput> = {}): InvokeOutput {
  return { StatusCode: 200, ExecutedVersion: '7', Payload: jsonBytes(payload), ...overrides };
}

interface FailureCase {
  readonly name: string;
  readonly output: InvokeOutput;
  readonly expect?: Record<string, unknown>;
  readonly reason: string;
}

function load(env: Record<string, string> = {}): LoadedPreTraffic {
  const hook = loadPreTraffic({ TARGET_VERSION_ARN, ...env });
  hook.codedeploy.on(hook.codedeploySdk.PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: 'x' });
  return hook;
}

/** The one Invoke sent: its input with the payload decoded. */
function invokeInputs(h: LoadedPreTraffic): unknown[] {
  return h.checkClient.commandCalls(h.checkSdk.InvokeCommand).map((c) => {
    const input = c.args[0].input;
    return { ...input, Payload: new TextDecoder().decode(input.Payload as Uint8Array) };
  });
}

const EXPECTED_INVOKE = { FunctionName: TARGET_VERSION_ARN, InvocationType: 'RequestResponse', Payload: '{}' };

beforeAll(() => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('a passing smoke test', () => {
  test('invokes exactly the new version with the payload and reports Succeeded once', async () => {
    // Prepare
    const h = load({
      SMOKE_TEST_PAYLOAD: '{"httpMethod":"GET","path":"/health","big":12345678901234567890}',
      SMOKE_TEST_EXPECT: JSON.stringify({ statusCode: 200, bodyContains: '"status":"ok"', fields: { headers: { 'content-type': 'application/json' } } }),
    });
    h.checkClient.on(h.checkSdk.InvokeCommand).resolves(invokeOutput(API_RESPONSE));

    // Act
    const result = await h.invoke();

    // Assess
    expect(result).toEqual({ reported: true, status: 'Succeeded', reason: 'smoke test passed' });
    expect(invokeInputs(h)).toEqual([{ ...EXPECTED_INVOKE, Payload: '{"httpMethod":"GET","path":"/health","big":12345678901234567890}' }]);
    expect(h.checkClient.calls()).toHaveLength(1);
    expect(h.reports()).toEqual([expectedReport('Succeeded')]);
    expect(h.codedeploy.calls()).toHaveLength(1);
  });

  test('without SMOKE_TEST_PAYLOAD sends {} and needs only a 200 without FunctionError', async () => {
    const h = load();
    h.checkClient.on(h.checkSdk.InvokeCommand).resolves(invokeOutput(null));

    const result = await h.invoke();

    expect(result.status).toBe('Succeeded');
    expect(invokeInputs(h)).toEqual([EXPECTED_INVOKE]);
    expect(h.reports()).toEqual([expectedReport('Succeeded')]);
  });

  test('the Invoke is bounded by the check deadline, not by the 3 s SDK default', async () => {
    const h = load();
    h.checkClient.on(h.checkSdk.InvokeCommand).resolves(invokeOutput({}));

    await h.invoke(hookEvent(), hookContext(60_000));

    const options = sendOptions(h.checkClient.commandCalls(h.checkSdk.InvokeCommand)[0]);
    expect(options.requestTimeout).toBe(900_000);
    expect(options.abortSignal).toBeInstanceOf(AbortSignal);
    expect(options.abortSignal!.aborted).toBe(false);
  });

  test('bodyContains looks into the whole payload JSON when there is no string body', async () => {
    const h = load({ SMOKE_TEST_EXPECT: JSON.stringify({ bodyContains: '"ready":true' }) });
    h.checkClient.on(h.checkSdk.InvokeCommand).resolves(invokeOutput({ ready: true, items: [1, 2] }));

    expect((await h.invoke()).status).toBe('Succeeded');
    expect(h.reports()).toEqual([expectedReport('Succeeded')]);
  });

  test('fields compare as JSON, whatever the key order', async () => {
    const h = load({ SMOKE_TEST_EXPECT: JSON.stringify({ fields: { config: { a: 1, b: [true, null] }, name: 'svc' } }) });
    h.checkClient.on(h.checkSdk.InvokeCommand).resolves(invokeOutput('{"name":"svc","config":{"b":[true,null],"a":1},"extra":1}'));

    expect((await h.invoke()).status).toBe('Succeeded');
  });

  test('logs the verdict and its reasons as structured fields', async () => {
    const h = load({ POWERTOOLS_LOG_LEVEL: 'INFO' });
    h.checkClient.on(h.checkSdk.InvokeCommand).resolves(invokeOutput({ ok: 1 }));
    const logs = captureLogs();

    try {
      await h.invoke();
    } finally {
      logs.restore();
    }

    const verdict = logs.lines().find((l) => l.message === 'lifecycle hook verdict');
    expect(verdict).toEqual(expect.objectContaining({
      level: 'INFO',
      service: 'canary-pre-traffic',
      hook: 'pre-traffic',
      deploymentId: 'd-A1B2C3D4E',
      status: 'Succeeded',
      reason: 'smoke test passed',
      invokeStatusCode: 200,
      executedVersion: '7',
      payloadBytes: 8,
    }));
    expect(logs.lines().find((l) => l.message === 'status reported to CodeDeploy')).toEqual(expect.objectContaining({ status: 'Succeeded', attempts: 1 }));
  });
});

describe('a failing smoke test reports Failed once, naming what came back', () => {
  test.each<FailureCase>([
    {
      name: 'a function error',
      output: invokeOutput({ errorType: 'TypeError', errorMessage: 'x is undefined' }, { FunctionError: 'Unhandled' }),
      reason: 'smoke test failed: the function returned an error (FunctionError "Unhandled"): "{\\"errorType\\":\\"TypeError\\",\\"errorMessage\\":\\"x is undefined\\"}"',
    },
    {
      name: 'a wrong statusCode',
      output: invokeOutput({ ...API_RESPONSE, statusCode: 500 }),
      expect: { statusCode: 200 },
      reason: 'smoke test failed: statusCode: expected 200, got 500',
    },
    {
      name: 'no statusCode at all',
      output: invokeOutput({ body: 'hi' }),
      expect: { statusCode: 200 },
      reason: 'smoke test failed: statusCode: expected 200, got nothing',
    },
    {
      name: 'a missing bodyContains',
      output: invokeOutput(API_RESPONSE),
      expect: { bodyContains: 'healthy' },
      reason: 'smoke test failed: bodyContains: "healthy" not found in the body "{\\"status\\":\\"ok\\",\\"version\\":7}"',
    },
    {
      name: 'an unequal field',
      output: invokeOutput({ version: '6', name: 'svc' }),
      expect: { fields: { version: '7', name: 'svc', region: 'eu-west-1' } },
      reason: 'smoke test failed: fields.version: expected "7", got "6"; fields.region: expected "eu-west-1", got nothing',
    },
    {
      name: 'a payload that is not an object when fields are expected',
      output: invokeOutput([1, 2]),
      expect: { fields: { a: 1 } },
      reason: 'smoke test failed: expected a JSON object payload, got [1,2]',
    },
    {
      name: 'an Invoke status other than 200',
      output: invokeOutput({}, { StatusCode: 202 }),
      reason: 'smoke test failed: Invoke StatusCode: expected 200, got 202',
    },
    {
      name: 'another executed version',
      output: invokeOutput({}, { ExecutedVersion: '6' }),
      reason: 'smoke test failed: ExecutedVersion: expected "7", got "6"',
    },
    {
      name: 'an inherited field only',
      output: invokeOutput({}),
      expect: { fields: { constructor: 'Object' } },
      reason: 'smoke test failed: fields.constructor: expected "Object", got nothing',
    },
  ])('$name', async ({ output, expect: expectation, reason }) => {
    // Prepare
    const h = load(expectation !== undefined ? { SMOKE_TEST_EXPECT: JSON.stringify(expectation) } : {});
    h.checkClient.on(h.checkSdk.InvokeCommand).resolves(output);

    // Act
    const result = await h.invoke();

    // Assess
    expect(result).toEqual({ reported: true, status: 'Failed', reason });
    expect(invokeInputs(h)).toEqual([EXPECTED_INVOKE]);
    expect(h.reports()).toEqual([expectedReport('Failed')]);
    expect(h.codedeploy.calls()).toHaveLength(1);
  });

  test('every unmet expectation is named, and a long payload is cut short in the reason', async () => {
    const body = `<html>${'x'.repeat(5_000)}</html>`;
    const h = load({ SMOKE_TEST_EXPECT: JSON.stringify({ statusCode: 200, bodyContains: 'ok' }) });
    h.checkClient.on(h.checkSdk.InvokeCommand).resolves(invokeOutput({ statusCode: 503, body }));

    const result = await h.invoke();

    expect(result.status).toBe('Failed');
    expect(result.reason).toBe(`smoke test failed: statusCode: expected 200, got 503; bodyContains: "ok" not found in the body ${JSON.stringify(body).slice(0, 200)}...(5015 characters)`);
    expect(h.reports()).toEqual([expectedReport('Failed')]);
  });
});

describe('a check that throws or hangs reports Failed', () => {
  test.each([
    ['AccessDeniedException', awsError('AccessDeniedException', 'not authorized to perform: lambda:InvokeFunction')],
    ['TimeoutError', Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })],
    ['ResourceNotFoundException', awsError('ResourceNotFoundException', 'Function not found: my-fn:7', 'client', 404)],
  ])('an Invoke failing with %s', async (name, error) => {
    const h = load();
    h.checkClient.on(h.checkSdk.InvokeCommand).rejects(error);

    const result = await h.invoke();

    expect(result).toEqual({ reported: true, status: 'Failed', reason: `the check failed: ${name}: ${error.message}` });
    expect(invokeInputs(h)).toEqual([EXPECTED_INVOKE]);
    expect(h.reports()).toEqual([expectedReport('Failed')]);
    expect(h.codedeploy.calls()).toHaveLength(1);
  });

  test('an Invoke that never answers: Failed "timed out", reported before the invocation times out', async () => {
    // Prepare: 3.4 s left, so the check may take 0.4 s before the 3 s margin kept for the report.
    const h = load();
    h.checkClient.on(h.checkSdk.InvokeCommand).callsFake(() => new Promise(() => undefined));
    let reportedAfterMs = Number.NaN;
    const started = performance.now();
    h.codedeploy.on(h.codedeploySdk.PutLifecycleEventHookExecutionStatusCommand).callsFake(() => {
      reportedAfterMs = performance.now() - started;
      return { lifecycleEventHookExecutionId: 'x' };
    });

    // Act
    const result = await h.invoke(hookEvent(), hookContext(3_400));

    // Assess
    expect(result).toEqual({
      reported: true,
      status: 'Failed',
      reason: 'timed out: the check did not finish 3000 ms before the invocation timeout',
    });
    expect(reportedAfterMs).toBeGreaterThanOrEqual(350);
    expect(reportedAfterMs).toBeLessThan(1_500);
    // The hung call is cancelled, not left running.
    expect(sendOptions(h.checkClient.commandCalls(h.checkSdk.InvokeCommand)[0]).abortSignal?.aborted).toBe(true);
    expect(h.reports()).toEqual([expectedReport('Failed')]);
    expect(h.codedeploy.calls()).toHaveLength(1);
  });

  test('with less time left than the margin, the check is given up at once and Failed still reported', async () => {
    const h = load();
    h.checkClient.on(h.checkSdk.InvokeCommand).callsFake(() => new Promise(() => undefined));

    const result = await h.invoke(hookEvent(), hookContext(2_000));

    expect(result.reason).toMatch(/^timed out/);
    expect(h.reports()).toEqual([expectedReport('Failed')]);
  });
});
