/**
 * DLQ redrive operations. Request (Lambda Invoke payload):
 * - `{ "subscriber": "<name>", "maxMessagesPerSecond"?: 1..500 }` (action `start`, the default):
 *   `StartMessageMoveTask` from the subscriber's DLQ back to its source queue; returns
 *   `{ subscriber, action: 'start', taskHandle, sourceArn, destinationArn }`;
 * - `{ "subscriber": "<name>", "action": "status" }`: `ListMessageMoveTasks` on the DLQ (latest 10);
 *   returns `{ subscriber, action: 'status', tasks: [...] }`.
 * Invalid request -> `RedriveRequestError`; unknown subscriber -> `UnknownSubscriberError`
 * naming the known ones. SQS: StartMessageMoveTask, ListMessageMoveTasks.
 */
import { ListMessageMoveTasksCommand, StartMessageMoveTaskCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RedriveConfig, RedriveTarget } from './config';
import { RedriveRequestError, UnknownSubscriberError } from './errors';
import type { ErrorDetail } from '../../shared/http-errors';

export const REDRIVE_LIMITS = {
  maxMessagesPerSecond: 500,
  statusResults: 10,
} as const;

export const RedriveAction = {
  Start: 'start',
  Status: 'status',
} as const;
export type RedriveAction = (typeof RedriveAction)[keyof typeof RedriveAction];

export interface RedriveRequest {
  readonly subscriber: string;
  readonly action: RedriveAction;
  readonly maxMessagesPerSecond?: number;
}

export interface MoveTaskStatus {
  readonly taskHandle?: string;
  readonly status?: string;
  readonly sourceArn?: string;
  readonly destinationArn?: string;
  readonly maxMessagesPerSecond?: number;
  readonly approximateNumberOfMessagesMoved?: number;
  readonly approximateNumberOfMessagesToMove?: number;
  readonly failureReason?: string;
  /** ISO time. */
  readonly startedAt?: string;
}

export type RedriveResult =
  | { readonly subscriber: string; readonly action: 'start'; readonly taskHandle: string; readonly sourceArn: string; readonly destinationArn: string }
  | { readonly subscriber: string; readonly action: 'status'; readonly tasks: MoveTaskStatus[] };

const ALLOWED = ['subscriber', 'action', 'maxMessagesPerSecond'];

export function parseRedriveRequest(payload: unknown): RedriveRequest {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new RedriveRequestError([{ path: '/', message: 'must be an object {subscriber, action?, maxMessagesPerSecond?}' }]);
  }
  const input = payload as Record<string, unknown>;
  const problems: ErrorDetail[] = Object.keys(input).filter((k) => !ALLOWED.includes(k)).slice(0, 5)
    .map((k) => ({ path: `/${k.slice(0, 40)}`, message: 'is not an allowed field' }));
  if (typeof input.subscriber !== 'string' || input.subscriber === '') {
    problems.push({ path: '/subscriber', message: 'must be a non-empty string' });
  }
  const action = input.action ?? RedriveAction.Start;
  if (action !== RedriveAction.Start && action !== RedriveAction.Status) problems.push({ path: '/action', message: 'must be start or status' });
  const rate = input.maxMessagesPerSecond;
  if (rate !== undefined) {
    if (action === RedriveAction.Status) {problems.push({ path: '/maxMessagesPerSecond', message: 'applies to the start action only' });} else if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 1 || rate > REDRIVE_LIMITS.maxMessagesPerSecond) {
      problems.push({ path: '/maxMessagesPerSecond', message: `must be an integer in 1..${REDRIVE_LIMITS.maxMessagesPerSecond}` });
    }
  }
  if (problems.length > 0) throw new RedriveRequestError(problems);
  return {
    subscriber: input.subscriber as string,
    action: action as RedriveAction,
    ...(rate !== undefined ? { maxMessagesPerSecond: rate as number } : {}),
  };
}

export function targetFor(config: RedriveConfig, subscriber: string): RedriveTarget {
  const target = Object.prototype.hasOwnProperty.call(config.targets, subscriber) ? config.targets[subscriber] : undefined;
  if (target === undefined) throw new UnknownSubscriberError(subscriber, Object.keys(config.targets).sort());
  return target;
}

export interface RedriveDeps {
  readonly sqs: SQSClient;
  readonly config: RedriveConfig;
  readonly abortSignal?: AbortSignal;
}

export async function redrive(request: RedriveRequest, deps: RedriveDeps): Promise<RedriveResult> {
  const target = targetFor(deps.config, request.subscriber);
  if (request.action === RedriveAction.Status) {
    const out = await deps.sqs.send(new ListMessageMoveTasksCommand({
      SourceArn: target.deadLetterQueueArn,
      MaxResults: REDRIVE_LIMITS.statusResults,
    }), { abortSignal: deps.abortSignal });
    const tasks = (out.Results ?? []).map((t): MoveTaskStatus => ({
      taskHandle: t.TaskHandle,
      status: t.Status,
      sourceArn: t.SourceArn,
      destinationArn: t.DestinationArn,
      maxMessagesPerSecond: t.MaxNumberOfMessagesPerSecond,
      approximateNumberOfMessagesMoved: t.ApproximateNumberOfMessagesMoved,
      approximateNumberOfMessagesToMove: t.ApproximateNumberOfMessagesToMove,
      failureReason: t.FailureReason,
      startedAt: t.StartedTimestamp === undefined ? undefined : new Date(t.StartedTimestamp).toISOString(),
    }));
    return { subscriber: request.subscriber, action: 'status', tasks };
  }
  const out = await deps.sqs.send(new StartMessageMoveTaskCommand({
    SourceArn: target.deadLetterQueueArn,
    DestinationArn: target.sourceQueueArn,
    ...(request.maxMessagesPerSecond !== undefined ? { MaxNumberOfMessagesPerSecond: request.maxMessagesPerSecond } : {}),
  }), { abortSignal: deps.abortSignal });
  return {
    subscriber: request.subscriber,
    action: 'start',
    taskHandle: out.TaskHandle ?? '',
    sourceArn: target.deadLetterQueueArn,
    destinationArn: target.sourceQueueArn,
  };
}
