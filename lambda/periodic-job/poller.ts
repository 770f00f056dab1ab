/**
 * Periodic job: EventBridge Scheduler -> Lambda (asynchronous invocation) -> external HTTP API ->
 * DynamoDB. Each invocation is one run: take the job's lease, fetch every page of the API, upsert
 * the records whose content changed, record the run, and on success emit the `PeriodicJobSuccess`
 * metric (the construct's "missed run" alarm watches it). A failed run is recorded and then
 * thrown, so Lambda's asynchronous retries and on-failure destination see it. An invocation that
 * finds another run holding the lease, or the API credential not set yet, records itself as
 * skipped and returns (the latter with the `PeriodicJobCredentialNotSet` metric).
 *
 * The event's content is ignored except an optional `scheduledTime` (ISO string), kept in the run
 * record. Configuration: `lib/config.ts`; table layout: `lib/store.ts`; paging: `lib/paging.ts`;
 * the secret's format: `lib/auth.ts`.
 */
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { invocationDeadline } from '../shared/deadline';
import { JSON_NUMBER_OPTIONS, lazyDocumentClient } from '../shared/dynamodb';
import { createLogger, startInvocation } from '../shared/logger';
import { cachedSecretString } from '../shared/secrets';
import { parseToken } from './lib/auth';
import { DEFAULT_SERVICE_NAME, loadConfig } from './lib/config';
import { runJob, type RunSummary, type SkippedRunSummary } from './lib/run';
import { RecordStore, RunStatus, SkipReason } from './lib/store';

/** Metric names; the construct's alarms use exactly these, in namespace POWERTOOLS_METRICS_NAMESPACE, dimension `JobName`. */
export const JobMetric = {
  Success: 'PeriodicJobSuccess',
  RecordsChanged: 'PeriodicJobRecordsChanged',
  RecordsInvalid: 'PeriodicJobRecordsInvalid',
  /** A run found the API credential still unset; the construct alarms on it. */
  CredentialNotSet: 'PeriodicJobCredentialNotSet',
} as const;
export const JOB_NAME_DIMENSION = 'JobName';

/** Run time when there is no Lambda context (Lambda's maximum timeout). */
const NO_CONTEXT_BUDGET_MS = 900_000;
/** The final run-record write is aborted this long before the invocation times out. */
const FINAL_WRITE_MARGIN_MS = 250;
/**
 * A run's lease outlives its invocation by this much, for the clocks of two Lambda hosts, which
 * are synchronized far more closely, to disagree without two runs overlapping.
 */
const LEASE_CLOCK_MARGIN_MS = 5_000;
const SCHEDULED_TIME = /^\d{4}-\d{2}-\d{2}T[\d:.]{1,20}(?:Z|[+-]\d{2}:?\d{2})?$/;

const config = loadConfig();
const logger = createLogger(DEFAULT_SERVICE_NAME);
const metrics = new Metrics({ namespace: config.metricsNamespace });
// Exactly one dimension: drop Powertools' default `service` dimension.
metrics.clearDefaultDimensions();
metrics.setDefaultDimensions({ [JOB_NAME_DIMENSION]: config.jobName });
const db = lazyDocumentClient(JSON_NUMBER_OPTIONS);
const store = new RecordStore({ db, tableName: config.tableName, jobName: config.jobName, writeConcurrency: config.writeConcurrency });
const secret = config.secretArn !== undefined ? cachedSecretString(config.secretArn) : undefined;

function scheduledTimeOf(event: unknown): string | undefined {
  const value = event !== null && typeof event === 'object' ? (event as { scheduledTime?: unknown }).scheduledTime : undefined;
  return typeof value === 'string' && value.length <= 64 && SCHEDULED_TIME.test(value) ? value : undefined;
}

/** The credential, `undefined` without SECRET_ARN. A secret that does not parse is read again next time. */
async function readToken(deadlineAt: number): Promise<string | undefined> {
  if (secret === undefined) return undefined;
  const value = await secret.get(AbortSignal.timeout(Math.max(1, deadlineAt - Date.now())));
  try {
    return parseToken(value);
  } catch (err) {
    secret.invalidate();
    throw err;
  }
}

export const handler = async (event: unknown, context?: Context): Promise<RunSummary | SkippedRunSummary> => {
  startInvocation(logger, context);
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : NO_CONTEXT_BUDGET_MS;
  const invocationEndsAt = Date.now() + (Number.isFinite(remaining) ? remaining : NO_CONTEXT_BUDGET_MS);
  const deadlineAt = invocationEndsAt - config.timeBudgetMarginMs;
  const scheduledTime = scheduledTimeOf(event);

  const summary = await runJob({
    config,
    store,
    logger,
    token: () => readToken(deadlineAt),
    onCredentialRejected: () => secret?.invalidate(),
  }, {
    deadlineAt,
    leaseUntil: invocationEndsAt + LEASE_CLOCK_MARGIN_MS,
    ...(typeof context?.awsRequestId === 'string' ? { requestId: context.awsRequestId } : {}),
    ...(scheduledTime !== undefined ? { scheduledTime } : {}),
    finalWriteSignal: invocationDeadline(context, FINAL_WRITE_MARGIN_MS),
  });

  if (summary.status === RunStatus.Skipped) {
    if (summary.reason === SkipReason.CredentialNotSet) {
      metrics.addMetric(JobMetric.CredentialNotSet, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    }
    return summary;
  }
  metrics.addMetric(JobMetric.Success, MetricUnit.Count, 1);
  metrics.addMetric(JobMetric.RecordsChanged, MetricUnit.Count, summary.changed);
  metrics.addMetric(JobMetric.RecordsInvalid, MetricUnit.Count, summary.invalid);
  metrics.publishStoredMetrics();
  return summary;
};
