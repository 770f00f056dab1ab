/**
 * Starts sagas (API Gateway `POST /sagas`): a thin adapter that validates the order and the
 * `Idempotency-Key` header, derives the execution name from them, and starts the state machine.
 *
 * - The execution name is `k-` + the first 64 hex digits of SHA-256(caller, key): a retried
 *   request (same caller, same key) names the same execution, a key cannot collide with another
 *   caller's, and any key is a valid name.
 * - STANDARD, async (default): StartExecution. Step Functions keeps a name for 90 days: a retry
 *   while the saga runs gets the same execution back, after it ended `ExecutionAlreadyExists`, on
 *   which the handler reads the execution and answers 202 with it when the input is the same, 409
 *   when the key was used for another order.
 * - EXPRESS does not deduplicate names: the key is claimed first with a conditional write to the
 *   table (`pk: "START#<name>"`, kept 24 h through TTL `expiresAt`); a retry reads the claim.
 *   async -> StartExecution, 202; sync -> StartSyncExecution, 200 with the saga's output (502 when
 *   the execution failed or timed out), and the outcome is kept on the claim for retries.
 * Answers: 202/200 `{ executionArn, executionName, status, ... }`; 400 bad key or order, 409 key
 * reused for another order (or a start still in flight), 415, 413, 503 when throttled.
 * Configuration: `lib/config.ts`.
 */
import { createHash } from 'node:crypto';
import { DescribeExecutionCommand, StartExecutionCommand, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { awsErrorName, isTransientAwsError } from '../shared/aws-errors';
import { canonicalJson } from '../shared/canonical-json';
import { isConditionalCheckFailed, lazyDocumentClient } from '../shared/dynamodb';
import { getHeaderValues, jsonResponse, parseJsonBody } from '../shared/http';
import { BadRequestError, ConflictError, HttpError, MethodNotAllowedError, ServiceUnavailableError, ValidationError } from '../shared/http-errors';
import { answerApiError, createLogger, startApiInvocation } from '../shared/logger';
import { loadStartConfig } from './lib/config';
import { parseOrder, type Order } from './lib/order';
import { lazySfnClient } from './lib/sfn';

const config = loadStartConfig();
const logger = createLogger('saga-start');
const sfn = lazySfnClient();
const documentClient = lazyDocumentClient();

/** 1..128 printable ASCII characters, not starting or ending with a space (as the REST API pattern). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;
/** How long an Express claim is kept. */
const CLAIM_TTL_SECONDS = 24 * 3600;

/** The one Idempotency-Key of the request; 400 when missing, repeated or malformed. */
export function idempotencyKeyOf(event: APIGatewayProxyEvent): string {
  const values = getHeaderValues(event, 'idempotency-key');
  if (values.length === 0) throw new BadRequestError('The Idempotency-Key header is required: a retried start with the same key starts no second saga');
  if (values.length > 1 || !IDEMPOTENCY_KEY.test(values[0])) {
    throw new BadRequestError('The Idempotency-Key header must appear once and be 1..128 printable ASCII characters');
  }
  return values[0];
}

/** Who is calling: the IAM caller, the authorizer's principal or the Cognito subject. */
export function callerOf(event: APIGatewayProxyEvent): string {
  const ctx = event.requestContext as Partial<APIGatewayProxyEvent['requestContext']> | undefined;
  const claims = (ctx?.authorizer as { claims?: { sub?: unknown } } | undefined)?.claims;
  const principal = (ctx?.authorizer as { principalId?: unknown } | undefined)?.principalId;
  const candidates = [ctx?.identity?.userArn, ctx?.identity?.caller, typeof principal === 'string' ? principal : undefined, typeof claims?.sub === 'string' ? claims.sub : undefined];
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

function mapSfnError(err: unknown): never {
  const name = awsErrorName(err);
  if (isTransientAwsError(err) || name === 'ExecutionLimitExceeded') throw new ServiceUnavailableError(undefined, 1, err);
  throw err;
}

async function startStandard(name: string, input: string): Promise<APIGatewayProxyResult> {
  try {
    const started = await sfn().send(new StartExecutionCommand({ stateMachineArn: config.stateMachineArn, name, input }));
    return jsonResponse(202, { executionArn: started.executionArn, executionName: name, status: 'RUNNING' });
  } catch (err) {
    if (awsErrorName(err) !== 'ExecutionAlreadyExists') mapSfnError(err);
  }
  // The name is taken: by this very request earlier (a retry), or by another order with this key.
  let existing;
  try {
    existing = await sfn().send(new DescribeExecutionCommand({ executionArn: executionArnFor(name) }));
  } catch (err) {
    mapSfnError(err);
  }
  if (existing.input !== input) throw new ConflictError('This Idempotency-Key already started a saga for another order; use a new key for a new order');
  return jsonResponse(202, { executionArn: existing.executionArn, executionName: name, status: existing.status });
}

interface Claim {
  readonly inputHash: string;
  readonly executionArn?: string;
  readonly status?: string;
  readonly output?: string;
}

async function startExpress(name: string, input: string): Promise<APIGatewayProxyResult> {
  const Key = { pk: `START#${name}`, sk: 'START' };
  const inputHash = createHash('sha256').update(input, 'utf8').digest('base64url');
  try {
    await documentClient().send(new PutCommand({
      TableName: config.tableName,
      Item: { ...Key, inputHash, expiresAt: Math.floor(Date.now() / 1000) + CLAIM_TTL_SECONDS },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
  } catch (err) {
    if (!isConditionalCheckFailed(err)) mapSfnError(err);
    const claim = (await documentClient().send(new GetCommand({ TableName: config.tableName, Key, ConsistentRead: true }))).Item as Claim | undefined;
    if (claim === undefined || claim.inputHash !== inputHash) {
      throw new ConflictError('This Idempotency-Key already started a saga for another order; use a new key for a new order');
    }
    if (claim.executionArn === undefined) throw new ConflictError('A start with this Idempotency-Key is in progress; retry in a moment');
    return claimResponse(name, claim);
  }
  let claim: Claim;
  try {
    if (config.startMode === 'sync') {
      const done = await sfn().send(new StartSyncExecutionCommand({ stateMachineArn: config.stateMachineArn, name, input }));
      claim = { inputHash, executionArn: done.executionArn, status: done.status, output: done.output };
    } else {
      const started = await sfn().send(new StartExecutionCommand({ stateMachineArn: config.stateMachineArn, name, input }));
      claim = { inputHash, executionArn: started.executionArn, status: 'RUNNING' };
    }
  } catch (err) {
    // Nothing started: give the key back so that a retry can start it.
    await documentClient().send(new DeleteCommand({ TableName: config.tableName, Key, ConditionExpression: 'attribute_not_exists(executionArn)' }))
      .catch((cleanup: unknown) => logger.warn('could not release the claim; it expires through TTL', { error: awsErrorName(cleanup) }));
    return mapSfnError(err);
  }
  await documentClient().send(new UpdateCommand({
    TableName: config.tableName,
    Key,
    UpdateExpression: 'SET executionArn = :arn, #s = :status, #o = :output',
    ExpressionAttributeNames: { '#s': 'status', '#o': 'output' },
    ExpressionAttributeValues: { ':arn': claim.executionArn, ':status': claim.status, ':output': claim.output ?? null },
  }));
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
    const response = config.workflowType === 'STANDARD' ? await startStandard(name, input) : await startExpress(name, input);
    logger.info('saga started', { statusCode: response.statusCode });
    return response;
  } catch (err) {
    const answer = err instanceof HttpError || !isTransientAwsError(err) ? err : new ServiceUnavailableError(undefined, 1, err);
    return answerApiError(logger, err, answer, requestId);
  }
}
