/**
 * Callback completer (API Gateway `POST /callbacks`): the external system that took a task token
 * from the callback queue answers through it, with
 * `{ "taskToken": "...", "outcome": "confirmed" | "rejected" | "heartbeat", "reason"?: "...", "reference"?: "..." }`.
 *
 * - confirmed -> SendTaskSuccess (output `{ outcome, reference }`), 200;
 * - rejected -> SendTaskFailure (error `ConfirmationRejected`, cause = reason), 200: the saga
 *   runs its compensations;
 * - heartbeat -> SendTaskHeartbeat, 200: the external system is still working on it.
 * Step Functions takes one answer per token: a repeated or late answer gets 409 and changes
 * nothing; an unknown or malformed token 400. Configuration: MAX_BODY_BYTES (`lib/config.ts`).
 */
import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { awsErrorName, isTransientAwsError } from '../shared/aws-errors';
import { parseJsonBody, jsonResponse } from '../shared/http';
import { BadRequestError, ConflictError, MethodNotAllowedError, ServiceUnavailableError, ValidationError, type ErrorDetail } from '../shared/http-errors';
import { answerApiError, createLogger, startApiInvocation } from '../shared/logger';
import { loadCallbackConfig } from './lib/config';
import { lazySfnClient } from './lib/sfn';

const config = loadCallbackConfig();
const logger = createLogger('saga-callback');
const sfn = lazySfnClient();

export const CALLBACK_OUTCOMES = ['confirmed', 'rejected', 'heartbeat'] as const;
export type CallbackOutcome = (typeof CALLBACK_OUTCOMES)[number];
/** Step Functions task tokens are 1..2048 characters (StartExecution API reference: SendTaskSuccess). */
const TASK_TOKEN = /^[\x21-\x7e]{1,2048}$/;
const REASON = /^[\x20-\x7e]{0,256}$/;

export interface CallbackRequest {
  readonly taskToken: string;
  readonly outcome: CallbackOutcome;
  readonly reason?: string;
  readonly reference?: string;
}

export function parseCallback(body: Record<string, unknown>): CallbackRequest {
  const problems: ErrorDetail[] = [];
  const { taskToken, outcome, reason, reference } = body;
  for (const key of Object.keys(body)) {
    if (!['taskToken', 'outcome', 'reason', 'reference'].includes(key)) problems.push({ path: `/${key.slice(0, 64)}`, message: 'is not a field of a callback' });
  }
  if (typeof taskToken !== 'string' || !TASK_TOKEN.test(taskToken)) problems.push({ path: '/taskToken', message: 'must be the task token from the callback message' });
  if (typeof outcome !== 'string' || !(CALLBACK_OUTCOMES as readonly string[]).includes(outcome)) {
    problems.push({ path: '/outcome', message: `must be one of ${CALLBACK_OUTCOMES.join(', ')}` });
  }
  for (const [key, value] of [['reason', reason], ['reference', reference]] as const) {
    if (value !== undefined && (typeof value !== 'string' || !REASON.test(value))) problems.push({ path: `/${key}`, message: 'must be at most 256 printable ASCII characters' });
  }
  if (problems.length > 0) throw new ValidationError('The callback is invalid', problems.slice(0, 20));
  return body as unknown as CallbackRequest;
}

async function complete(request: CallbackRequest): Promise<void> {
  const { taskToken } = request;
  try {
    if (request.outcome === 'confirmed') {
      await sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ outcome: 'confirmed', reference: request.reference ?? null }) }));
    } else if (request.outcome === 'rejected') {
      await sfn().send(new SendTaskFailureCommand({ taskToken, error: 'ConfirmationRejected', cause: request.reason ?? 'rejected by the confirming system' }));
    } else {
      await sfn().send(new SendTaskHeartbeatCommand({ taskToken }));
    }
  } catch (err) {
    const name = awsErrorName(err);
    if (name === 'TaskTimedOut' || name === 'TaskDoesNotExist') {
      throw new ConflictError('The saga is no longer waiting for this token: it was answered already, timed out, or the execution ended');
    }
    if (name === 'InvalidToken' || name === 'InvalidOutput') throw new BadRequestError('The task token is not valid');
    if (isTransientAwsError(err)) throw new ServiceUnavailableError(undefined, 1, err);
    throw err;
  }
}

export async function handler(event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> {
  const requestId = startApiInvocation(logger, event, context);
  try {
    if (event.httpMethod !== 'POST') throw new MethodNotAllowedError(event.httpMethod, ['POST']);
    const request = parseCallback(parseJsonBody(event, { maxBytes: config.maxBodyBytes }));
    await complete(request);
    logger.info('callback delivered', { outcome: request.outcome });
    return jsonResponse(200, { outcome: request.outcome, delivered: true });
  } catch (err) {
    return answerApiError(logger, err, err, requestId);
  }
}
