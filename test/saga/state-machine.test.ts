/**
 * The SYNTHESIZED saga definition, run locally (aws-local-stepfunctions): Lambda steps bound to the
 * reference handlers on dynalite, the Confirm step (direct DynamoDB integration) executing its own
 * Parameters on dynalite, the callback step delivering its token to the reference callback
 * completer. Retry waits are overridden to 0 ms; the heartbeat runs on a scaled clock.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: unknown) => { isValid: boolean; errorsText: (sep?: string) => string };
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { DYNAMODB_TRANSIENT_ERRORS, LAMBDA_FUNCTION_TIMEOUT, LAMBDA_SERVICE_ERRORS, SAGA_STATES, TRANSIENT_STEP_ERROR } from '../../lib/saga/definition';
import { useDynaliteTable } from '../helpers/dynalite';
import { callbackCompleter, callbackEvent, paymentOf, sagaDefinition, sagaLambdas, seedStock, stockOf, synthSaga, type ApiInvoke } from '../helpers/saga';
import { NamedError, runLocalExecution, TaskTokenBroker, type CallbackMessage, type LocalExecutionOptions } from '../helpers/step-functions-local';

const db = useDynaliteTable();
const synth = synthSaga();
const S = SAGA_STATES;
let run = 0;

const order = (sku: string, overrides: Record<string, unknown> = {}) => ({
  orderId: `o-${sku}`, customerId: 'c-1', sku, quantity: 2, amount: 1_500, ...overrides,
});

type Answer = 'confirmed' | 'rejected' | 'silent' | 'heartbeat-then-confirm';

/** Runs one saga of `sku` (stock seeded to 10) whose external system gives `answer`. */
async function runSaga(sku: string, answer: Answer = 'confirmed', extra: Partial<LocalExecutionOptions> = {}, input = { order: order(sku) }) {
  await seedStock(db.dynamo.client, db.tableName, sku, 10);
  const broker = new TaskTokenBroker();
  const completer = callbackCompleter(broker);
  const messages: CallbackMessage[] = [];
  const responses: number[] = [];
  const external = async (message: CallbackMessage) => {
    messages.push(message);
    const taskToken = message.body.taskToken as string;
    const send = async (body: unknown) => responses.push((await completer(callbackEvent(body))).statusCode);
    if (answer === 'confirmed') await send({ taskToken, outcome: 'confirmed', reference: 'wh-1' });
    if (answer === 'rejected') await send({ taskToken, outcome: 'rejected', reason: 'address not deliverable' });
    if (answer === 'heartbeat-then-confirm') {
      await send({ taskToken, outcome: 'heartbeat' });
      await send({ taskToken, outcome: 'confirmed' });
    }
  };
  const result = await runLocalExecution(sagaDefinition(synth, db.tableName), input, {
    executionName: `run-${++run}`,
    lambdas: sagaLambdas(synth, db.tableName, 100_000),
    dynamodb: db.dynamo.client,
    broker,
    onCallbackMessage: external,
    // A silent external system times out after HeartbeatSeconds ms; one that answers has real seconds.
    heartbeatMillisPerSecond: answer === 'silent' ? 1 : 1_000,
    ...extra,
  });
  const stock = await stockOf(db.dynamo.client, db.tableName, sku);
  return { result, messages, responses, stock, payment: await paymentOf(db.dynamo.client, db.tableName, result.executionArn) };
}

test('the synthesized definition is valid ASL (asl-validator)', () => {
  const validation = aslValidator(sagaDefinition(synth, 'table'));
  expect(validation.isValid ? '' : validation.errorsText('\n')).toBe('');
  expect(validation.isValid).toBe(true);
});

test('happy path: reserve, charge, external confirmation, confirm (direct DynamoDB)', async () => {
  const { result, messages, responses, stock, payment } = await runSaga('happy');
  expect(result.status).toBe('SUCCEEDED');
  expect(result.statesEntered).toEqual([S.reserve, S.charge, S.awaitConfirmation, S.confirm, S.confirmed]);
  expect(result.output).toEqual(expect.objectContaining({ status: 'CONFIRMED', orderId: 'o-happy', confirmation: { outcome: 'confirmed', reference: 'wh-1' } }));
  expect(messages).toHaveLength(1);
  expect(messages[0].body).toEqual(expect.objectContaining({ executionId: result.executionArn, order: order('happy') }));
  expect(responses).toEqual([200]);
  expect(stock).toEqual({ available: 8, reservations: [] });
  expect(payment).toBe('CHARGED');
});

test.each<[string, string[], Partial<LocalExecutionOptions>, Answer, Record<string, unknown>, { available: number; payment?: string }]>([
  // A failed step is compensated too (its last attempt may have applied): here it applied nothing, so its compensation changes nothing.
  ['Reserve (out of stock)', [S.reserve, S.release, S.cancelled], {}, 'confirmed', { quantity: 11 }, { available: 10 }],
  ['Charge (declined)', [S.reserve, S.charge, S.refund, S.release, S.cancelled], {}, 'confirmed', { amount: 200_000 }, { available: 10, payment: 'VOIDED' }],
  ['AwaitConfirmation (rejected)', [S.reserve, S.charge, S.awaitConfirmation, S.refund, S.release, S.cancelled], {}, 'rejected', {}, { available: 10, payment: 'REFUNDED' }],
  ['Confirm (DynamoDB fails)', [S.reserve, S.charge, S.awaitConfirmation, S.confirm, S.refund, S.release, S.cancelled],
    { faults: { [S.confirm]: [new NamedError('DynamoDB.AmazonDynamoDBException', 'access denied')] } }, 'confirmed', {}, { available: 10, payment: 'REFUNDED' }],
])('a failure at %s runs exactly the compensations of the steps done, in reverse order', async (_step, states, extra, answer, orderOverrides, after) => {
  const sku = `fail-${run + 1}`;
  const { result, stock, payment } = await runSaga(sku, answer, extra, { order: order(sku, orderOverrides) });
  expect(result.status).toBe('SUCCEEDED');
  expect(result.statesEntered).toEqual(states);
  expect(result.output).toEqual(expect.objectContaining({ status: 'CANCELLED', error: expect.objectContaining({ Error: expect.any(String) }) }));
  expect(stock).toEqual({ available: after.available, reservations: [] });
  expect(payment).toBe(after.payment);
});

test('transient errors are retried per error type, then the saga goes on', async () => {
  const { result, stock } = await runSaga('retry', 'confirmed', {
    faults: {
      [S.reserve]: [new NamedError('Lambda.TooManyRequestsException'), new NamedError(TRANSIENT_STEP_ERROR)],
      [S.charge]: [new NamedError(LAMBDA_SERVICE_ERRORS[0]), new NamedError(LAMBDA_FUNCTION_TIMEOUT)],
      [S.confirm]: [new NamedError(DYNAMODB_TRANSIENT_ERRORS[0])],
    },
  });
  expect(result.status).toBe('SUCCEEDED');
  expect(result.retries).toEqual([S.reserve, S.reserve, S.charge, S.charge, S.confirm]);
  expect(stock).toEqual({ available: 8, reservations: [] });
});

test('a transient error that outlasts its retries is caught and compensated', async () => {
  // MaxAttempts 3 is three retries after the first attempt: four failures exhaust them.
  const faults = Array.from({ length: 4 }, () => new NamedError(TRANSIENT_STEP_ERROR));
  const { result, stock } = await runSaga('exhausted', 'confirmed', { faults: { [S.charge]: faults } });
  expect(result.retries).toEqual([S.charge, S.charge, S.charge]);
  expect(result.statesEntered.slice(-2)).toEqual([S.release, S.cancelled]);
  expect(result.output).toEqual(expect.objectContaining({ error: expect.objectContaining({ Error: TRANSIENT_STEP_ERROR }) }));
  expect(stock.available).toBe(10);
});

test.each<[string, string, string[], { available: number; payment?: string }]>([
  ['Reserve', S.reserve, [S.release, S.cancelled], { available: 10 }],
  ['Charge', S.charge, [S.refund, S.release, S.cancelled], { available: 10, payment: 'REFUNDED' }],
])('%s applied on every attempt but each answer was lost: its own compensation undoes it', async (_name, state, compensations, after) => {
  // Prepare: every attempt runs the step, then times out (Lambda's own timeout after the write).
  const lost = Array.from({ length: 8 }, () => new NamedError(LAMBDA_FUNCTION_TIMEOUT));
  const sku = `lost-${state.toLowerCase()}`;

  // Act
  const { result, stock, payment } = await runSaga(sku, 'confirmed', { lostAnswers: { [state]: lost } });

  // Assess: nothing stays reserved or charged.
  expect(result.status).toBe('SUCCEEDED');
  expect(result.statesEntered.slice(-compensations.length)).toEqual(compensations);
  expect(result.output).toEqual(expect.objectContaining({ status: 'CANCELLED' }));
  expect(stock).toEqual({ available: after.available, reservations: [] });
  expect(payment).toBe(after.payment);
});

test('a compensation that keeps failing fails the execution at that state (where a redrive resumes)', async () => {
  const faults = Array.from({ length: 20 }, () => new NamedError(TRANSIENT_STEP_ERROR));
  const { result, stock } = await runSaga('stuck', 'rejected', { faults: { [S.release]: faults } });
  expect(result.status).toBe('FAILED');
  expect(result.error?.name).toBe(TRANSIENT_STEP_ERROR);
  expect(result.statesEntered[result.statesEntered.length - 1]).toBe(S.release);
  expect(stock.available).toBe(8);
});

describe('the callback step', () => {
  test('success: the completer sends SendTaskSuccess and the saga confirms', async () => {
    const { result } = await runSaga('cb-ok', 'heartbeat-then-confirm');
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual(expect.objectContaining({ status: 'CONFIRMED' }));
  });

  test('failure: SendTaskFailure(ConfirmationRejected) runs Refund then Release', async () => {
    const { result } = await runSaga('cb-fail', 'rejected');
    expect(result.output).toEqual(expect.objectContaining({ status: 'CANCELLED', error: { Error: 'ConfirmationRejected', Cause: 'address not deliverable' } }));
  });

  test('heartbeat timeout: a silent external system is timed out by the state\'s HeartbeatSeconds and compensated', async () => {
    const { result, stock, payment } = await runSaga('cb-silent', 'silent');
    expect(result.statesEntered).toEqual([S.reserve, S.charge, S.awaitConfirmation, S.refund, S.release, S.cancelled]);
    expect(result.output).toEqual(expect.objectContaining({ error: expect.objectContaining({ Error: 'States.HeartbeatTimeout' }) }));
    expect(stock.available).toBe(10);
    expect(payment).toBe('REFUNDED');
  });

  test('a late answer after the timeout gets 409 and changes nothing', async () => {
    const broker = new TaskTokenBroker();
    const completer: ApiInvoke = callbackCompleter(broker);
    const response = await completer(callbackEvent({ taskToken: 'local-token-expired', outcome: 'confirmed' }));
    expect(response.statusCode).toBe(409);
    expect(broker.answered).toEqual([]);
  });
});

describe('EXPRESS definition', () => {
  const express = synthSaga({ stateMachineType: sfn.StateMachineType.EXPRESS });

  async function runExpress(sku: string, amount: number, faults: LocalExecutionOptions['faults'] = {}) {
    await seedStock(db.dynamo.client, db.tableName, sku, 10);
    const result = await runLocalExecution(sagaDefinition(express, db.tableName), { order: order(sku, { amount }) }, {
      executionName: `express-${++run}`,
      workflowType: 'EXPRESS',
      lambdas: sagaLambdas(express, db.tableName, 100_000),
      dynamodb: db.dynamo.client,
      faults,
    });
    return { result, stock: await stockOf(db.dynamo.client, db.tableName, sku) };
  }

  test('is valid ASL and runs reserve, charge, confirm without a callback', async () => {
    expect(aslValidator(sagaDefinition(express, 'table')).isValid).toBe(true);
    const { result, stock } = await runExpress('express-ok', 1_000);
    expect(result.statesEntered).toEqual([S.reserve, S.charge, S.confirm, S.confirmed]);
    expect(result.output).toEqual(expect.objectContaining({ status: 'CONFIRMED' }));
    expect(stock).toEqual({ available: 8, reservations: [] });
  });

  test('a failing Confirm refunds and releases', async () => {
    const { result, stock } = await runExpress('express-fail', 1_000, { [S.confirm]: [new NamedError('DynamoDB.ResourceNotFoundException')] });
    expect(result.statesEntered).toEqual([S.reserve, S.charge, S.confirm, S.refund, S.release, S.cancelled]);
    expect(stock.available).toBe(10);
  });
});
