/**
 * Starts sagas (API Gateway `POST /sagas`): a thin adapter that validates the order and the
 * `Idempotency-Key` header, derives the execution name from them, and starts the state machine.
 *
 * - The execution name is `k-` + the first 64 hex digits of SHA-256(caller, key): a retried
 *   request (same caller, same key) names the same execution, a key cannot collide with another
 *   caller's, and any key is a valid name. The caller is the principal, not the session: an
 *   assumed role's `userArn` `arn:aws:sts::<acct>:assumed-role/<Role>/<session>` counts as
 *   `arn:aws:sts::<acct>:assumed-role/<Role>` and its `caller` `AROA...:<session>` as `AROA...`
 *   (session names differ per task, instance or invocation, and a retry may come from another
 *   one); IAM users, a custom authorizer's `principalId` and a Cognito `sub` are used as they are.
 *   So all sessions of one role share one key space: workloads that share a role share its keys.
 * - Starts are sent ONCE (a single-attempt client, `lib/sfn.ts`): an SDK retry after a lost
 *   answer would start a second Express execution. One retry budget per operation: ours below,
 *   where a retry is safe, or the API client's, with the same Idempotency-Key.
 * - STANDARD, async (default): StartExecution. Step Functions keeps a name for 90 days: a retry
 *   while the saga runs gets the same execution back, after it ended `ExecutionAlreadyExists`, on
 *   which the handler reads the execution and answers 202 with it when the input is the same, 409
 *   when the key was used for another order. Repeating a start is therefore safe: a timeout, a
 *   throttle or a server fault is retried here (3 attempts in all, within the invocation's deadline).
 * - EXPRESS does not deduplicate names: the key is claimed first with a conditional write to the
 *   table (`pk: "START#<name>"`, kept 24 h through TTL `expiresAt`, with the claiming request's
 *   `token`, so that an SDK retry of the claim's own lost answer recognises it); a retry reads it.
 *   async -> StartExecution, 202; sync -> StartSyncExecution (its one attempt waits up to
 *   `SYNC_START_TIMEOUT_MS`), 200 with the saga's output (502 when the execution failed or timed
 *   out), and the outcome is kept on the claim for retries. When the start fails:
 *   - refused (a 4xx answer: throttling, invalid name or input, a missing state machine, KMS):
 *     nothing started, the claim is given back, and a retry starts the saga;
 *   - no answer (a timeout, a reset or network error, a 5xx, the invocation's deadline): the saga
 *     may be running. The claim is kept and marked `state: "unknown"`, and the answer is 503
 *     `OutcomeUnknown`. An Express execution cannot be looked up (DescribeExecution does not
 *     serve Express, and its ARN carries a run id no one can derive), so the outcome stays unknown:
 *     a retry with the key answers 409 `OutcomeUnknown` for the claim's 24 h and never starts a
 *     second saga. Check the order downstream; use a new key only when it is known not to run.
 *     A claim still starting after the claiming invocation's end (`settleBy`: it was killed
 *     mid-start) counts as unknown too.
 * Answers: 202/200 `{ executionArn, executionName, status, ... }`; 400 bad key or order, 409 key
 * reused for another order, a start still in flight, or an outcome that is unknown, 415, 413,
 * 503 when throttled, refused by KMS, or the answer was lost.
 * Configuration: `lib/config.ts`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, StartExecutionCommand, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { awsErrorName, classifyAwsError, isTransientAwsError } from '../shared/aws-errors';
import { canonicalJson } from '../shared/canonical-json';
import { invocationDeadline } from '../shared/deadline';
import { isConditionalCheckFailed, lazyDocumentClient } from '../shared/dynamodb';
import { getHeaderValues, jsonResponse, parseJsonBody } from '../shared/http';
import {
  BadRequestError, ConflictError, HttpError, HttpStatus, MethodNotAllowedError, ServiceUnavailableError, ValidationError,
} from '../shared/http-errors';
import { answerApiError, createLogger, startApiInvocation } from '../shared/logger';
import { withRetries } from '../shared/retry';
import { loadStartConfig } from './lib/config';
import { parseOrder, type Order } from './lib/order';
import { lazySfnClient, lazyStartClient } from './lib/sfn';

const config = loadStartConfig();
const logger = createLogger('saga-start');
/** SDK retries: DescribeExecution only. */
const sfn = lazySfnClient();
/** One attempt per call: StartExecution, and StartSyncExecution with its long timeout. */
const startClient = lazyStartClient();
const syncStartClient = lazyStartClient(config.syncStartTimeoutMs);
const documentClient = lazyDocumentClient();

/** 1..128 printable ASCII characters, not starting or ending with a space (as the REST API pattern). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;
/** How long an Express claim is kept. */
const CLAIM_TTL_SECONDS = 24 * 3600;
/** Time kept back from the invocation's deadline after a start, to record its outcome and answer. */
const START_DEADLINE_MARGIN_MS = 2_000;
/** Without a Lambda context, how long a claim may be starting before it counts as unknown (Lambda's longest run). */
const MAX_INVOCATION_MS = 15 * 60_000;
/** STANDARD starts: the attempts of our one retry budget (the client makes one attempt per call). */
const STANDARD_START_RETRY = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 } as const;

/** Step Functions' KMS failures (a customer managed key): nothing started; the grant or the key may come back. */
const KMS_ERRORS: ReadonlySet<string> = new Set(['KmsAccessDeniedException', 'KmsInvalidStateException', 'KmsThrottlingException']);
/** Answers that prove a start was refused before anything started (besides any 4xx status). */
const REFUSALS: ReadonlySet<string> = new Set([
  ...KMS_ERRORS,
  'ThrottlingException', 'ExecutionLimitExceeded', 'InvalidName', 'InvalidExecutionInput', 'InvalidArn', 'StateMachineDoesNotExist',
  'StateMachineDeleting', 'ValidationException', 'AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException',
  // Raised before a request is sent.
  'CredentialsProviderError',
]);

/** The one Idempotency-Key of the request; 400 when missing, repeated or malformed. */
export function idempotencyKeyOf(event: APIGatewayProxyEvent): string {
  const values = getHeaderValues(event, 'idempotency-key');
  if (values.length === 0) throw new BadRequestError('The Idempotency-Key header is required: a retried start with the same key starts no second saga');
  if (values.length > 1 || !IDEMPOTENCY_KEY.test(values[0])) {
    throw new BadRequestError('The Idempotency-Key header must appear once and be 1..128 printable ASCII characters');
  }
  return values[0];
}

/** `arn:aws:sts::<acct>:assumed-role/<Role>/<session>` -> `arn:aws:sts::<acct>:assumed-role/<Role>` */
const ASSUMED_ROLE_ARN = /^(arn:aws[a-z-]*:sts::\d{12}:assumed-role\/[^/]+)\/.+$/;
/** `AROA...:<session>` (a role's unique id and the session name) -> `AROA...` */
const ROLE_SESSION_CALLER = /^(AROA[A-Z0-9]+):.+$/;

/** The principal of an IAM identity without its session name (unchanged when it has none). */
export function principalOf(identity: string): string {
  return ASSUMED_ROLE_ARN.exec(identity)?.[1] ?? ROLE_SESSION_CALLER.exec(identity)?.[1] ?? identity;
}

/** Who is calling: the IAM principal (an assumed role without its session), the authorizer's principal or the Cognito subject. */
export function callerOf(event: APIGatewayProxyEvent): string {
  const ctx = event.requestContext as Partial<APIGatewayProxyEvent['requestContext']> | undefined;
  const claims = (ctx?.authorizer as { claims?: { sub?: unknown } } | undefined)?.claims;
  const principal = (ctx?.authorizer as { principalId?: unknown } | undefined)?.principalId;
  const iam = [ctx?.identity?.userArn, ctx?.identity?.caller].map((c) => (typeof c === 'string' && c.length > 0 ? principalOf(c) : undefined));
  const candidates = [...iam, typeof principal === 'string' ? principal : undefined, typeof claims?.sub === 'string' ? claims.sub : undefined];
  return candidates.find((c): c is string => typeof c === 'string' && c.length > 0) ?? 'anonymous';
}

/** The execution name for a caller's key: valid characters, at most 80, stable. */
export function executionNameFor(caller: string, key: string): string {
  return `k-${createHash('sha256').update(`${caller}\n${key}`, 'utf8').digest('hex').slice(0, 64)}`;
}

function executionArnFor(name: string): string {
  const [prefix, machineName] = config.stateMachineArn.split(':stateMachine:');
  return `${prefix}:${config.workflowType === 'EXPRESS' ? 'express' : 'execution'}:${machineName}:${name}`;
}

function orderOf(body: Record<string, unknown>): Order {
  const parsed = parseOrder(body);
  if ('problems' in parsed) throw new ValidationError('The order is invalid', parsed.problems);
  return parsed.order;
}

/** 503 for what may pass (throttling, limits, KMS, transient faults); anything else is thrown as it is. */
function mapSfnError(err: unknown): never {
  const name = awsErrorName(err);
  if (isTransientAwsError(err) || name === 'ExecutionLimitExceeded' || (name !== undefined && KMS_ERRORS.has(name))) {
    throw new ServiceUnavailableError(undefined, 1, err);
  }
  throw err;
}

/**
 * Whether a failed start proves that no execution started: Step Functions answered and refused
 * (a 4xx status or a refusal's name), or the request was never sent. No answer (a timeout, a
 * reset, an abort) and server faults prove nothing.
 */
export function startWasRefused(err: unknown): boolean {
  const kind = classifyAwsError(err);
  if (kind === 'timeout' || kind === 'aborted') return false;
  if (kind === 'transient' && typeof (err as { code?: unknown }).code === 'string') return false; // a network error
  const name = awsErrorName(err);
  if (kind === 'throttling' || (name !== undefined && REFUSALS.has(name))) return true;
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408;
}

/** 503: the start was sent, its answer never came. */
class StartOutcomeUnknownError extends HttpError {
  constructor(cause: unknown) {
    super(HttpStatus.ServiceUnavailable, 'OutcomeUnknown', 'The start was sent to Step Functions but no answer came: the saga may be running. '
      + 'A retry with the same Idempotency-Key starts no second saga; while the outcome is unknown it answers 409 OutcomeUnknown', {
      headers: { 'retry-after': '1' }, cause,
    });
  }
}

/** 409: a retry found a start whose outcome is unknown and cannot be known. */
class UnknownClaimError extends HttpError {
  constructor() {
    super(HttpStatus.Conflict, 'OutcomeUnknown', 'A start with this Idempotency-Key was sent but its answer was lost, and an Express execution '
      + 'cannot be looked up: the saga may or may not be running. No second saga is started with this key; check the order, and use a new key '
      + 'only when it is known not to run');
  }
}

async function startStandard(name: string, input: string, deadline: AbortSignal | undefined): Promise<APIGatewayProxyResult> {
  try {
    // Safe to repeat: a repeated name gives the same execution or ExecutionAlreadyExists, never a second saga.
    const started = await withRetries(
      () => startClient().send(new StartExecutionCommand({ stateMachineArn: config.stateMachineArn, name, input }), { abortSignal: deadline }),
      { ...STANDARD_START_RETRY, isRetryable: isTransientAwsError, signal: deadline },
    );
    return jsonResponse(202, { executionArn: started.executionArn, executionName: name, status: 'RUNNING' });
  } catch (err) {
    if (awsErrorName(err) !== 'ExecutionAlreadyExists') mapSfnError(err);
  }
  // The name is taken: by this very request earlier (a retry), or by another order with this key.
  let existing;
  try {
    existing = await sfn().send(new DescribeExecutionCommand({ executionArn: executionArnFor(name) }), { abortSignal: deadline });
  } catch (err) {
    mapSfnError(err);
  }
  if (existing.input !== input) throw new ConflictError('This Idempotency-Key already started a saga for another order; use a new key for a new order');
  return jsonResponse(202, { executionArn: existing.executionArn, executionName: name, status: existing.status });
}

type ClaimState = 'starting' | 'unknown' | 'started';

interface Claim {
  readonly inputHash: string;
  /** The claiming request's random token (claims written before it have none). */
  readonly token?: string;
  readonly state?: ClaimState;
  /** Epoch ms when the claiming invocation has ended for sure: a claim still `starting` then is `unknown`. */
  readonly settleBy?: number;
  readonly executionArn?: string;
  readonly status?: string;
  readonly output?: string | null;
}

/** How a request answers a claim that another request made. */
function answerExistingClaim(name: string, claim: Claim | undefined, inputHash: string): APIGatewayProxyResult {
  if (claim === undefined || claim.inputHash !== inputHash) {
    throw new ConflictError('This Idempotency-Key already started a saga for another order; use a new key for a new order');
  }
  if (claim.executionArn !== undefined) return claimResponse(name, claim);
  if (claim.state === 'unknown' || (typeof claim.settleBy === 'number' && Date.now() > claim.settleBy)) throw new UnknownClaimError();
  throw new ConflictError('A start with this Idempotency-Key is in progress; retry in a moment');
}

async function startExpress(
  name: string, input: string, context: Partial<Context> | undefined, deadline: AbortSignal | undefined,
): Promise<APIGatewayProxyResult> {
  const Key = { pk: `START#${name}`, sk: 'START' };
  const inputHash = createHash('sha256').update(input, 'utf8').digest('base64url');
  const token = randomUUID();
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : MAX_INVOCATION_MS;
  const settleBy = Date.now() + (Number.isFinite(remaining) ? remaining : MAX_INVOCATION_MS);
  try {
    await documentClient().send(new PutCommand({
      TableName: config.tableName,
      Item: { ...Key, inputHash, token, state: 'starting', settleBy, expiresAt: Math.floor(Date.now() / 1000) + CLAIM_TTL_SECONDS },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
  } catch (err) {
    if (!isConditionalCheckFailed(err)) mapSfnError(err);
    const read = await documentClient().send(new GetCommand({ TableName: config.tableName, Key, ConsistentRead: true }));
    const existing = read.Item as Claim | undefined;
    // Unless it is our own claim, written by a first attempt whose answer was lost and found by the SDK's retry.
    if (existing?.token !== token) return answerExistingClaim(name, existing, inputHash);
  }
  let claim: Claim;
  const request = { stateMachineArn: config.stateMachineArn, name, input };
  try {
    if (config.startMode === 'sync') {
      const done = await syncStartClient().send(new StartSyncExecutionCommand(request), { abortSignal: deadline });
      claim = { inputHash, executionArn: done.executionArn, status: done.status, output: done.output };
    } else {
      const started = await startClient().send(new StartExecutionCommand(request), { abortSignal: deadline });
      claim = { inputHash, executionArn: started.executionArn, status: 'RUNNING' };
    }
  } catch (err) {
    if (startWasRefused(err)) {
      // Nothing started: give the key back so that a retry can start it.
      await documentClient().send(new DeleteCommand({
        TableName: config.tableName,
        Key,
        ConditionExpression: '#t = :token AND attribute_not_exists(executionArn)',
        ExpressionAttributeNames: { '#t': 'token' },
        ExpressionAttributeValues: { ':token': token },
      })).catch((cleanup: unknown) => logger.warn('could not give the claim back; it expires through TTL', { error: awsErrorName(cleanup) }));
      return mapSfnError(err);
    }
    // The start may have begun a saga: keep the claim, so that no retry starts another one.
    await documentClient().send(new UpdateCommand({
      TableName: config.tableName,
      Key,
      UpdateExpression: 'SET #s = :unknown',
      ConditionExpression: '#t = :token AND attribute_not_exists(executionArn)',
      ExpressionAttributeNames: { '#s': 'state', '#t': 'token' },
      ExpressionAttributeValues: { ':unknown': 'unknown', ':token': token },
    })).catch((mark: unknown) => logger.warn('could not mark the claim unknown; it counts as unknown after settleBy', { error: awsErrorName(mark), settleBy }));
    throw new StartOutcomeUnknownError(err);
  }
  try {
    await documentClient().send(new UpdateCommand({
      TableName: config.tableName,
      Key,
      UpdateExpression: 'SET executionArn = :arn, #state = :started, #s = :status, #o = :output',
      ExpressionAttributeNames: { '#state': 'state', '#s': 'status', '#o': 'output' },
      ExpressionAttributeValues: { ':arn': claim.executionArn, ':started': 'started', ':status': claim.status, ':output': claim.output ?? null },
    }));
  } catch (err) {
    // The saga started and its outcome is known here: answer it; retries will find the claim unknown.
    logger.warn('could not record the start on the claim', { error: awsErrorName(err), executionArn: claim.executionArn });
  }
  return claimResponse(name, claim);
}

function claimResponse(name: string, claim: Claim): APIGatewayProxyResult {
  if (config.startMode === 'async') return jsonResponse(202, { executionArn: claim.executionArn, executionName: name, status: claim.status });
  const output = typeof claim.output === 'string' ? JSON.parse(claim.output) as unknown : null;
  return jsonResponse(claim.status === 'SUCCEEDED' ? 200 : 502, { executionArn: claim.executionArn, executionName: name, status: claim.status, output });
}

export async function handler(event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> {
  const requestId = startApiInvocation(logger, event, context);
  try {
    if (event.httpMethod !== 'POST') throw new MethodNotAllowedError(event.httpMethod, ['POST']);
    const key = idempotencyKeyOf(event);
    const order = orderOf(parseJsonBody(event, { maxBytes: config.maxBodyBytes }));
    const name = executionNameFor(callerOf(event), key);
    logger.appendKeys({ execution_name: name, order_id: order.orderId });
    const input = canonicalJson({ order });
    const deadline = invocationDeadline(context, START_DEADLINE_MARGIN_MS);
    const response = config.workflowType === 'STANDARD' ? await startStandard(name, input, deadline) : await startExpress(name, input, context, deadline);
    logger.info('saga started', { statusCode: response.statusCode });
    return response;
  } catch (err) {
    const answer = err instanceof HttpError || !isTransientAwsError(err) ? err : new ServiceUnavailableError(undefined, 1, err);
    return answerApiError(logger, err, answer, requestId);
  }
}
