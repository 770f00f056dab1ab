/**
 * What both CodeDeploy lifecycle hooks do around their own check: read the event, run the check
 * against a deadline, log the verdict with its reasons, and report it exactly once.
 *
 * Every path that has ids to report to ends in one report: a passing check (`Succeeded`), a
 * failing one, a check that throws or does not finish `CHECK_DEADLINE_MARGIN_MS` before the
 * invocation times out, and a malformed event (`Failed`). Without both ids the event is logged
 * and the invocation returns. A report that cannot be delivered is thrown.
 */
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { Context } from 'aws-lambda';
import { parseHookEvent } from './hook-event';
import { HookStatus, reportHookStatus } from './report';
import { errorSummary } from '../../shared/aws-errors';
import { invocationDeadline } from '../../shared/deadline';
import { startInvocation, type Logger } from '../../shared/logger';

/** The check must settle this long before the invocation times out, leaving time to report. */
export const CHECK_DEADLINE_MARGIN_MS = 3_000;
/** Report retries stop this long before the timeout, leaving time to log and throw. */
export const REPORT_DEADLINE_MARGIN_MS = 250;

/** A check's verdict; `details` are logged as structured fields beside it. */
export interface CheckVerdict {
  readonly status: HookStatus;
  readonly reason: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A hook's check; its outbound calls must honour `signal` (it fires at the check's deadline). */
export type HookCheck = (signal: AbortSignal | undefined) => Promise<CheckVerdict>;

export interface HookResult {
  /** Whether a status was reported to CodeDeploy. */
  readonly reported: boolean;
  /** The status reported; absent when nothing could be reported. */
  readonly status?: HookStatus;
  readonly reason: string;
}

export interface LifecycleHookDeps {
  /** `pre-traffic` or `post-traffic`, in every log line. */
  readonly hook: string;
  readonly logger: Logger;
  readonly codedeploy: () => CodeDeployClient;
  readonly check: HookCheck;
}

/** Why the report could not be delivered; the invocation fails with it. */
export class HookReportError extends Error {
  public readonly status: HookStatus;

  constructor(status: HookStatus, cause: unknown) {
    const { name, message } = errorSummary(cause);
    super(`Could not report ${status} to CodeDeploy: ${name}: ${message}`, { cause });
    this.name = 'HookReportError';
    this.status = status;
  }
}

type Settled = { readonly kind: 'verdict'; readonly verdict: CheckVerdict } | { readonly kind: 'timeout' };

/** The check's verdict, or `timeout` when `deadline` fires first; a throw becomes `Failed`. */
async function checkBefore(check: HookCheck, deadline: AbortSignal | undefined): Promise<Settled> {
  const running = (async (): Promise<Settled> => {
    try {
      return { kind: 'verdict', verdict: await check(deadline) };
    } catch (err) {
      if (deadline?.aborted) return { kind: 'timeout' };
      const { name, message } = errorSummary(err);
      return { kind: 'verdict', verdict: { status: HookStatus.Failed, reason: `the check failed: ${name}: ${message}`, details: { errorName: name } } };
    }
  })();
  if (deadline === undefined) return running;
  let onAbort: (() => void) | undefined;
  const timedOut = new Promise<Settled>((resolve) => {
    onAbort = () => resolve({ kind: 'timeout' });
    if (deadline.aborted) onAbort();
    else deadline.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([running, timedOut]);
  } finally {
    if (onAbort !== undefined) deadline.removeEventListener('abort', onAbort);
  }
}

function remainingMillis(context: Partial<Context> | undefined): number | undefined {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  return remaining !== undefined && Number.isFinite(remaining) ? remaining : undefined;
}

export async function runLifecycleHook(event: unknown, context: Partial<Context> | undefined, deps: LifecycleHookDeps): Promise<HookResult> {
  const { logger, hook } = deps;
  startInvocation(logger, context, { hook });
  // Both deadlines count from now: the report keeps its time even when the check used all of its own.
  const remainingAtStart = remainingMillis(context);
  const checkDeadline = invocationDeadline(context, CHECK_DEADLINE_MARGIN_MS);
  const reportDeadline = invocationDeadline(context, REPORT_DEADLINE_MARGIN_MS);

  const parsed = parseHookEvent(event);
  if (parsed.kind === 'unreportable') {
    logger.error('malformed lifecycle hook event: no ids to report to, nothing reported', { problem: parsed.problem });
    return { reported: false, reason: `malformed event: ${parsed.problem}` };
  }
  const { target } = parsed;
  logger.appendKeys({ deploymentId: target.deploymentId, lifecycleEventHookExecutionId: target.lifecycleEventHookExecutionId });

  let verdict: CheckVerdict;
  if (parsed.kind === 'malformed') {
    verdict = { status: HookStatus.Failed, reason: `malformed event: ${parsed.problem}` };
  } else {
    const startedAt = Date.now();
    const settled = await checkBefore(deps.check, checkDeadline);
    verdict = settled.kind === 'verdict'
      ? settled.verdict
      : {
        status: HookStatus.Failed,
        reason: `timed out: the check did not finish ${CHECK_DEADLINE_MARGIN_MS} ms before the invocation timeout`,
        details: { checkMillis: Date.now() - startedAt, remainingAtStartMillis: remainingAtStart },
      };
  }
  const fields = { status: verdict.status, reason: verdict.reason, ...verdict.details };
  if (verdict.status === HookStatus.Succeeded) logger.info('lifecycle hook verdict', fields);
  else logger.warn('lifecycle hook verdict', fields);

  try {
    const outcome = await reportHookStatus(target, verdict.status, { codedeploy: deps.codedeploy(), signal: reportDeadline });
    logger.info('status reported to CodeDeploy', { status: verdict.status, attempts: outcome.attempts, alreadyCompleted: outcome.alreadyCompleted });
  } catch (err) {
    const error = new HookReportError(verdict.status, err);
    logger.error('status could not be reported to CodeDeploy', error);
    throw error;
  }
  return { reported: true, status: verdict.status, reason: verdict.reason };
}
