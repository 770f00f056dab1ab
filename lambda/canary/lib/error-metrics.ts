/**
 * The post-traffic check: the new version's `Errors` and `Invocations` (Sum, 60 s periods) in the
 * last `windowMinutes` whole minutes, read with `GetMetricData` (every page), judged against the
 * thresholds. Lambda publishes per-version metrics of alias invocations under the dimensions
 * `FunctionName`, `Resource` (`name:alias`) and `ExecutedVersion`, so only the new version's
 * traffic through the alias counts, not the old version's share of the canary.
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { PostTrafficConfig } from './config';
import type { CheckVerdict } from './lifecycle-hook';
import { HookStatus } from './report';

export const METRIC_PERIOD_SECONDS = 60;
/** A guard against a NextToken that never ends; the window holds at most 2 x 180 datapoints. */
export const MAX_METRIC_PAGES = 20;

const MINUTE_MS = 60_000;
const QUERY_ID = { errors: 'errors', invocations: 'invocations' } as const;
const FAILED_STATUSES: ReadonlySet<string> = new Set(['InternalError', 'Forbidden']);

export interface MetricWindow {
  readonly start: Date;
  readonly end: Date;
}

export interface ErrorMetrics {
  readonly errors: number;
  readonly invocations: number;
  /** Datapoints seen of each metric (0 and 0: no traffic at all). */
  readonly errorDatapoints: number;
  readonly invocationDatapoints: number;
  readonly pages: number;
  readonly window: MetricWindow;
}

/** CloudWatch could not return one of the series. */
export class MetricDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricDataError';
  }
}

/**
 * Whole minutes (periods aligned to the minute serve faster and match the stored datapoints),
 * ending with the current, partial minute: the traffic just shifted is the traffic to judge.
 */
export function metricWindow(nowMs: number, windowMinutes: number): MetricWindow {
  const end = Math.ceil(nowMs / MINUTE_MS) * MINUTE_MS;
  return { start: new Date(end - windowMinutes * MINUTE_MS), end: new Date(end) };
}

export function errorMetricQueries(config: Pick<PostTrafficConfig, 'functionName' | 'aliasName' | 'targetVersion'>): MetricDataQuery[] {
  const dimensions = [
    { Name: 'FunctionName', Value: config.functionName },
    { Name: 'Resource', Value: `${config.functionName}:${config.aliasName}` },
    { Name: 'ExecutedVersion', Value: config.targetVersion },
  ];
  const query = (id: string, metricName: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/Lambda', MetricName: metricName, Dimensions: dimensions },
      Period: METRIC_PERIOD_SECONDS,
      Stat: 'Sum',
    },
    ReturnData: true,
  });
  return [query(QUERY_ID.errors, 'Errors'), query(QUERY_ID.invocations, 'Invocations')];
}

/** Sums both series over the window, following `NextToken`. */
export async function readErrorMetrics(
  config: Pick<PostTrafficConfig, 'functionName' | 'aliasName' | 'targetVersion' | 'windowMinutes'>,
  cloudwatch: CloudWatchClient,
  signal: AbortSignal | undefined,
  nowMs: number = Date.now(),
): Promise<ErrorMetrics> {
  const window = metricWindow(nowMs, config.windowMinutes);
  const queries = errorMetricQueries(config);
  const sums = { [QUERY_ID.errors]: 0, [QUERY_ID.invocations]: 0 };
  const datapoints = { [QUERY_ID.errors]: 0, [QUERY_ID.invocations]: 0 };
  let nextToken: string | undefined;
  let pages = 0;
  do {
    if (pages === MAX_METRIC_PAGES) throw new MetricDataError(`GetMetricData returned more than ${MAX_METRIC_PAGES} pages`);
    const out = await cloudwatch.send(new GetMetricDataCommand({
      MetricDataQueries: queries,
      StartTime: window.start,
      EndTime: window.end,
      ScanBy: 'TimestampAscending',
      ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
    }), { abortSignal: signal });
    pages++;
    for (const result of out.MetricDataResults ?? []) {
      const id = result.Id;
      if (id !== QUERY_ID.errors && id !== QUERY_ID.invocations) continue;
      if (result.StatusCode !== undefined && FAILED_STATUSES.has(result.StatusCode)) {
        const messages = (result.Messages ?? []).map((m) => `${m.Code ?? ''} ${m.Value ?? ''}`.trim()).join('; ');
        throw new MetricDataError(`GetMetricData answered ${result.StatusCode} for ${id}${messages !== '' ? `: ${messages.slice(0, 300)}` : ''}`);
      }
      for (const value of result.Values ?? []) {
        if (!Number.isFinite(value)) continue;
        sums[id] += value;
        datapoints[id]++;
      }
    }
    nextToken = out.NextToken !== undefined && out.NextToken !== '' ? out.NextToken : undefined;
  } while (nextToken !== undefined);
  return {
    errors: sums.errors,
    invocations: sums.invocations,
    errorDatapoints: datapoints.errors,
    invocationDatapoints: datapoints.invocations,
    pages,
    window,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The verdict on the metrics; the reason names the numbers and the threshold they were held to. */
export function judgeErrorMetrics(
  metrics: ErrorMetrics,
  config: Pick<PostTrafficConfig, 'windowMinutes' | 'maxErrors' | 'maxErrorRatePercent' | 'minInvocations' | 'requireInvocations'>,
): CheckVerdict {
  const { errors, invocations } = metrics;
  const errorRatePercent = invocations > 0 ? (errors / invocations) * 100 : undefined;
  const details = {
    errors,
    invocations,
    ...(errorRatePercent !== undefined ? { errorRatePercent: round(errorRatePercent) } : {}),
    errorDatapoints: metrics.errorDatapoints,
    invocationDatapoints: metrics.invocationDatapoints,
    metricPages: metrics.pages,
    windowStart: metrics.window.start.toISOString(),
    windowEnd: metrics.window.end.toISOString(),
  };
  const inWindow = `in the last ${config.windowMinutes} minutes`;
  if (errors > config.maxErrors) {
    return { status: HookStatus.Failed, reason: `${errors} errors of the new version ${inWindow}, more than MAX_ERRORS ${config.maxErrors}`, details };
  }
  if (invocations === 0) {
    return config.requireInvocations
      ? { status: HookStatus.Failed, reason: `no invocations of the new version in the window (${inWindow}) and REQUIRE_INVOCATIONS is true`, details }
      : { status: HookStatus.Succeeded, reason: `no invocations of the new version in the window (${inWindow}): no errors to count`, details };
  }
  if (config.maxErrorRatePercent !== undefined && invocations >= config.minInvocations && errorRatePercent! > config.maxErrorRatePercent) {
    return {
      status: HookStatus.Failed,
      reason: `error rate ${round(errorRatePercent!)}% (${errors} errors in ${invocations} invocations ${inWindow}) is above MAX_ERROR_RATE_PERCENT ${config.maxErrorRatePercent}`,
      details,
    };
  }
  return { status: HookStatus.Succeeded, reason: `${errors} errors in ${invocations} invocations of the new version ${inWindow}: within the thresholds`, details };
}
