/**
 * Reports a lifecycle hook's verdict to CodeDeploy (`PutLifecycleEventHookExecutionStatus`).
 * Transient failures are retried with backoff until `signal` fires; a retry whose earlier attempt
 * did reach CodeDeploy (its answer was lost) is told `LifecycleEventAlreadyCompletedException`,
 * which then means "done". Anything else is thrown: an unreported hook leaves the deployment
 * waiting until CodeDeploy's own hook timeout, so the invocation must fail visibly.
 */
import { PutLifecycleEventHookExecutionStatusCommand, type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { HookTarget } from './hook-event';
import { awsErrorName, isTransientAwsError } from '../../shared/aws-errors';
import { withRetries } from '../../shared/retry';

export const HookStatus = {
  Succeeded: 'Succeeded',
  Failed: 'Failed',
} as const;
export type HookStatus = (typeof HookStatus)[keyof typeof HookStatus];

/**
 * The report's one retry budget: the CodeDeploy client makes one attempt per call
 * (`awsClientConfig('caller')`), so `attempt` counts every request sent.
 */
export const REPORT_RETRY = {
  attempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 2_000,
} as const;

const ALREADY_COMPLETED = 'LifecycleEventAlreadyCompletedException';

export interface ReportOptions {
  readonly codedeploy: CodeDeployClient;
  /** Stops retries and aborts the call in flight (the invocation is about to time out). */
  readonly signal?: AbortSignal;
  /** @default Math.random */
  readonly random?: () => number;
}

export interface ReportOutcome {
  /** Calls made, the successful one included. */
  readonly attempts: number;
  /** A retry found the status already set by an earlier attempt of this invocation. */
  readonly alreadyCompleted: boolean;
}

export async function reportHookStatus(target: HookTarget, status: HookStatus, options: ReportOptions): Promise<ReportOutcome> {
  let attempts = 0;
  let alreadyCompleted = false;
  await withRetries(async (attempt) => {
    attempts = attempt;
    try {
      await options.codedeploy.send(new PutLifecycleEventHookExecutionStatusCommand({
        deploymentId: target.deploymentId,
        lifecycleEventHookExecutionId: target.lifecycleEventHookExecutionId,
        status,
      }), { abortSignal: options.signal });
    } catch (err) {
      // On the first attempt the status was set by someone else (or CodeDeploy gave up on the
      // hook): that is a failure to report. On a retry it is our earlier attempt that landed.
      if (attempt > 1 && awsErrorName(err) === ALREADY_COMPLETED) {
        alreadyCompleted = true;
        return;
      }
      throw err;
    }
  }, {
    ...REPORT_RETRY,
    isRetryable: isTransientAwsError,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.random !== undefined ? { random: options.random } : {}),
  });
  return { attempts, alreadyCompleted };
}
