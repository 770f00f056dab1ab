/**
 * Post-traffic hook (`lambda/canary/post-traffic.ts`): the exact GetMetricData queries (metrics,
 * dimensions, period, statistic, time window, pagination) and the exact
 * PutLifecycleEventHookExecutionStatus for each threshold, for no traffic, a failing or hanging
 * CloudWatch call (aws-sdk-client-mock on the handler's own clients).
 */
import type { GetMetricDataOutput } from '@aws-sdk/client-cloudwatch';
import {
  FUNCTION_NAME,
  TARGET_VERSION,
  awsError,
  expectedReport,
  hookContext,
  hookEvent,
  loadPostTraffic,
  sendOptions,
  type LoadedPostTraffic,
} from './hook-harness';

/** 2025-01-31T12:00:30.250Z: the window ends with the current minute, 12:01. */
const NOW = Date.UTC(2025, 0, 31, 12, 0, 30, 250);
const WINDOW_END = new Date(Date.UTC(2025, 0, 31, 12, 1, 0));

const DIMENSIONS = [
  { Name: 'FunctionName', Value: FUNCTION_NAME },
  { Name: 'Resource', Value: `${FUNCTION_NAME}:live` },
  { Name: 'ExecutedVersion', Value: TARGET_VERSION },
];

function expectedQuery(windowMinutes = 10, nextToken?: string): Record<string, unknown> {
  const query = (Id: string, MetricName: string) => ({
    Id,
    MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName, Dimensions: DIMENSIONS }, Period: 60, Stat: 'Sum' },
    ReturnData: true,
  });
  return {
    MetricDataQueries: [query('errors', 'Errors'), query('invocations', 'Invocations')],
    StartTime: new Date(WINDOW_END.getTime() - windowMinutes * 60_000),
    EndTime: WINDOW_END,
    ScanBy: 'TimestampAscending',
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}

/** One GetMetricData page: per-minute values of each series (empty: no datapoints). */
function page(errors: number[], invocations: number[], nextToken?: string): GetMetricDataOutput {
  const series = (Id: string, Label: string, values: number[]) => ({
    Id,
    Label,
    Timestamps: values.map((_, i) => new Date(WINDOW_END.getTime() - (values.length - i) * 60_000)),
    Values: values,
    StatusCode: nextToken !== undefined ? 'PartialData' as const : 'Complete' as const,
  });
  return {
    MetricDataResults: [series('errors', 'Errors', errors), series('invocations', 'Invocations', invocations)],
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
    Messages: [],
  };
}

function load(env: Record<string, string> = {}): LoadedPostTraffic {
  const hook = loadPostTraffic({ FUNCTION_NAME, ALIAS_NAME: 'live', TARGET_VERSION, ...env });
  hook.codedeploy.on(hook.codedeploySdk.PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: 'x' });
  return hook;
}

function metricInputs(h: LoadedPostTraffic): unknown[] {
  return h.checkClient.commandCalls(h.checkSdk.GetMetricDataCommand).map((c) => c.args[0].input);
}

beforeAll(() => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
});

beforeEach(() => {
  // Only the clock: timers stay real (deadlines, backoff).
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
});

afterEach(() => {
  jest.restoreAllMocks();
});

interface VerdictCase {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly metrics: GetMetricDataOutput;
  readonly status: 'Succeeded' | 'Failed';
  readonly reason: string;
}

describe('verdicts on the metrics (one query, one report)', () => {
  test.each<VerdictCase>([
    {
      name: 'no errors: Succeeded',
      env: {},
      metrics: page([0, 0, 0], [5, 12, 3]),
      status: 'Succeeded',
      reason: '0 errors in 20 invocations of the new version in the last 10 minutes: within the thresholds',
    },
    {
      name: 'errors above MAX_ERRORS (default 0): Failed',
      env: {},
      metrics: page([0, 1], [10, 10]),
      status: 'Failed',
      reason: '1 errors of the new version in the last 10 minutes, more than MAX_ERRORS 0',
    },
    {
      name: 'errors up to MAX_ERRORS: Succeeded',
      env: { MAX_ERRORS: '2' },
      metrics: page([1, 1], [10, 10]),
      status: 'Succeeded',
      reason: '2 errors in 20 invocations of the new version in the last 10 minutes: within the thresholds',
    },
    {
      name: 'an error rate above MAX_ERROR_RATE_PERCENT: Failed',
      env: { MAX_ERRORS: '100', MAX_ERROR_RATE_PERCENT: '5', MIN_INVOCATIONS: '20' },
      metrics: page([1, 1, 0], [10, 5, 9]),
      status: 'Failed',
      reason: 'error rate 8.33% (2 errors in 24 invocations in the last 10 minutes) is above MAX_ERROR_RATE_PERCENT 5',
    },
    {
      name: 'an error rate exactly at MAX_ERROR_RATE_PERCENT: Succeeded',
      env: { MAX_ERRORS: '100', MAX_ERROR_RATE_PERCENT: '12.5' },
      metrics: page([1], [8]),
      status: 'Succeeded',
      reason: '1 errors in 8 invocations of the new version in the last 10 minutes: within the thresholds',
    },
    {
      name: 'a high error rate below MIN_INVOCATIONS is not judged: Succeeded',
      env: { MAX_ERRORS: '100', MAX_ERROR_RATE_PERCENT: '5', MIN_INVOCATIONS: '25' },
      metrics: page([1, 1, 0], [10, 5, 9]),
      status: 'Succeeded',
      reason: '2 errors in 24 invocations of the new version in the last 10 minutes: within the thresholds',
    },
    {
      name: 'no datapoints at all (no traffic): Succeeded',
      env: {},
      metrics: page([], []),
      status: 'Succeeded',
      reason: 'no invocations of the new version in the window (in the last 10 minutes): no errors to count',
    },
    {
      name: 'no datapoints at all with REQUIRE_INVOCATIONS=true: Failed',
      env: { REQUIRE_INVOCATIONS: 'true' },
      metrics: page([], []),
      status: 'Failed',
      reason: 'no invocations of the new version in the window (in the last 10 minutes) and REQUIRE_INVOCATIONS is true',
    },
    {
      name: 'traffic with REQUIRE_INVOCATIONS=true: Succeeded',
      env: { REQUIRE_INVOCATIONS: 'true' },
      metrics: page([], [1]),
      status: 'Succeeded',
      reason: '0 errors in 1 invocations of the new version in the last 10 minutes: within the thresholds',
    },
  ])('$name', async ({ env, metrics, status, reason }) => {
    // Prepare
    const h = load(env);
    h.checkClient.on(h.checkSdk.GetMetricDataCommand).resolves(metrics);

    // Act
    const result = await h.invoke();

    // Assess
    expect(result).toEqual({ reported: true, status, reason });
    expect(metricInputs(h)).toEqual([expectedQuery()]);
    expect(h.checkClient.calls()).toHaveLength(1);
    expect(h.reports()).toEqual([expectedReport(status)]);
    expect(h.codedeploy.calls()).toHaveLength(1);
  });

  test('WINDOW_MINUTES sets the start of the window; the end is the current minute', async () => {
    const h = load({ WINDOW_MINUTES: '180' });
    h.checkClient.on(h.checkSdk.GetMetricDataCommand).resolves(page([0], [1]));

    const result = await h.invoke();

    expect(result.reason).toBe('0 errors in 1 invocations of the new version in the last 180 minutes: within the thresholds');
    expect(metricInputs(h)).toEqual([expectedQuery(180)]);
    expect((metricInputs(h)[0] as { StartTime: Date }).StartTime.toISOString()).toBe('2025-01-31T09:01:00.000Z');
  });
});

describe('pagination', () => {
  test('follows NextToken and counts the datapoints of every page', async () => {
    // Prepare: each page alone is within MAX_ERRORS 1, both together are not.
    const h = load({ MAX_ERRORS: '1' });
    h.checkClient.on(h.checkSdk.GetMetricDataCommand)
      .resolvesOnce(page([1], [4], 'token-1'))
      .resolvesOnce(page([0], [3], 'token-2'))
      .resolvesOnce(page([1], [2]));

    // Act
    const result = await h.invoke();

    // Assess
    expect(result).toEqual({ reported: true, status: 'Failed', reason: '2 errors of the new version in the last 10 minutes, more than MAX_ERRORS 1' });
    expect(metricInputs(h)).toEqual([expectedQuery(), expectedQuery(10, 'token-1'), expectedQuery(10, 'token-2')]);
    expect(h.reports()).toEqual([expectedReport('Failed')]);
  });

  test('a series split over pages is summed before the rate is judged', async () => {
    const h = load({ MAX_ERRORS: '20', MAX_ERROR_RATE_PERCENT: '10' });
    h.checkClient.on(h.checkSdk.GetMetricDataCommand)
      .resolvesOnce(page([0, 0], [50, 50], 'next'))
      .resolvesOnce(page([5, 6], [0, 0]));

    const result = await h.invoke();

    expect(result.reason).toBe('error rate 11% (11 errors in 100 invocations in the last 10 minutes) is above MAX_ERROR_RATE_PERCENT 10');
    expect(metricInputs(h)).toHaveLength(2);
  });
});

describe('a check that throws or hangs reports Failed', () => {
  test.each([
    ['AccessDenied', awsError('AccessDenied', 'User is not authorized to perform: cloudwatch:GetMetricData')],
    ['TimeoutError', Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })],
    ['InternalServiceFault', awsError('InternalServiceFault', 'internal error', 'server')],
  ])('GetMetricData failing with %s', async (name, error) => {
    const h = load();
    h.checkClient.on(h.checkSdk.GetMetricDataCommand).rejects(error);

    const result = await h.invoke();

    expect(result).toEqual({ reported: true, status: 'Failed', reason: `the check failed: ${name}: ${error.message}` });
    expect(metricInputs(h)).toEqual([expectedQuery()]);
    expect(h.reports()).toEqual([expectedReport('Failed')]);
    expect(h.codedeploy.calls()).toHaveLength(1);
  });

  test('a series CloudWatch could not read (StatusCode Forbidden) is a failed check, not zero errors', async () => {
    const h = load();
    h.checkClient.on(h.checkSdk.GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'errors', Label: 'Errors', Timestamps: [], Values: [], StatusCode: 'Forbidden', Messages: [{ Code: 'Forbidden', Value: 'Access denied to metric' }] },
        { Id: 'invocations', Label: 'Invocations', Timestamps: [], Values: [], StatusCode: 'Complete' },
      ],
    });

    const result = await h.invoke();

    expect(result).toEqual({ reported: true, status: 'Failed', reason: 'the check failed: MetricDataError: GetMetricData answered Forbidden for errors: Forbidden Access denied to metric' });
    expect(h.reports()).toEqual([expectedReport('Failed')]);
  });

  test('GetMetricData that never answers: Failed "timed out", reported before the invocation times out', async () => {
    // Prepare
    const h = load();
    h.checkClient.on(h.checkSdk.GetMetricDataCommand).callsFake(() => new Promise(() => undefined));
    let reportedAfterMs = Number.NaN;
    const started = performance.now();
    h.codedeploy.on(h.codedeploySdk.PutLifecycleEventHookExecutionStatusCommand).callsFake(() => {
      reportedAfterMs = performance.now() - started;
      return { lifecycleEventHookExecutionId: 'x' };
    });

    // Act
    const result = await h.invoke(hookEvent(), hookContext(3_400));

    // Assess
    expect(result).toEqual({ reported: true, status: 'Failed', reason: 'timed out: the check did not finish 3000 ms before the invocation timeout' });
    expect(reportedAfterMs).toBeGreaterThanOrEqual(350);
    expect(reportedAfterMs).toBeLessThan(1_500);
    expect(sendOptions(h.checkClient.commandCalls(h.checkSdk.GetMetricDataCommand)[0]).abortSignal?.aborted).toBe(true);
    expect(metricInputs(h)).toEqual([expectedQuery()]);
    expect(h.reports()).toEqual([expectedReport('Failed')]);
    expect(h.codedeploy.calls()).toHaveLength(1);
  });
});
