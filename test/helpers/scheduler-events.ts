/**
 * Events and contexts of a Lambda function invoked asynchronously by EventBridge Scheduler with a
 * JSON input (as the PeriodicJob construct configures it), and a Lambda context whose remaining
 * time counts down from a given budget.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { lambdaContext } from './api-gateway-events';

export interface SchedulerInput {
  readonly scheduledTime?: string;
  readonly [key: string]: unknown;
}

/** The JSON input the schedule sends, e.g. `{"scheduledTime": "<aws.scheduler.scheduled-time>"}`. */
export function schedulerEvent(input: SchedulerInput = { scheduledTime: '2025-01-01T00:00:00Z' }): SchedulerInput {
  return { ...input };
}

/** A context whose `getRemainingTimeInMillis()` counts down from `remainingMs` (default 60 s). */
export function scheduledContext(remainingMs = 60_000, overrides: Partial<Context> = {}): Context {
  const deadline = Date.now() + remainingMs;
  return lambdaContext({
    functionName: 'periodic-job-poller',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:periodic-job-poller',
    logGroupName: '/aws/lambda/periodic-job-poller',
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    ...overrides,
  });
}
