/**
 * The saga example on the local Step Functions engine: `SagaExampleStack` (examples/saga.ts) is
 * synthesized, its DefinitionString resolved, and its state machine created on the engine with the
 * Lambda steps bound to the reference handler sources (in process, on dynalite), the callback queue
 * to a confirming system that answers through the reference callback handler, and the Confirm step
 * (a direct DynamoDB integration) run on dynalite. The reference start handler starts sagas through
 * the real SDK (`AWS_ENDPOINT_URL_SFN`); the EXPRESS variant runs through StartSyncExecution.
 */
import { DescribeExecutionCommand, SFNClient, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfnCdk from 'aws-cdk-lib/aws-stepfunctions';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { SagaExampleStack } from '../../examples/saga';
import { SagaWorkflow } from '../../lib/saga';
import { SAGA_STATES as S } from '../../lib/saga/definition';
import { startLocalStepFunctions, type LocalStepFunctions } from '../../local/engines/step-functions';
import { lambdaContext } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { isolatedRequire } from '../helpers/load-handler';
import { callbackEvent, paymentOf, sagaDefinition, seedStock, startEvent, stockOf, synthSaga } from '../helpers/saga';
import { definitionFromTemplate, localFunctionArn, type CfnTemplate } from '../helpers/step-functions-local';

const db = useDynaliteTable();
const PAYMENT_LIMIT = 100_000;

type ApiHandler = (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
type StepHandler = (event: unknown) => Promise<unknown>;

/** The example stack, synthesized as `cdk synth` would, and the ids the definition refers to. */
function synthExample() {
  const stack = new SagaExampleStack(new App(), 'SagaExample');
  const saga = stack.node.findChild('OrderSaga') as SagaWorkflow;
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  const machine = template.Resources[id(saga.stateMachine)].Properties as { StateMachineName: string; StateMachineType: 'STANDARD' };
  return { template, saga, id, name: machine.StateMachineName, type: machine.StateMachineType };
}

const example = synthExample();
let engine: LocalStepFunctions;
let sfn: SFNClient;
let stateMachineArn: string;
let savedEndpoint: string | undefined;

/** What the confirming system answers for each callback message it takes from the queue. */
let confirmingSystem: 'confirm' | 'reject' = 'confirm';
const callbackMessages: Array<Record<string, unknown>> = [];
const callbackAnswers: number[] = [];

const json = <T>(response: APIGatewayProxyResult) => JSON.parse(response.body) as T;

beforeAll(async () => {
  savedEndpoint = process.env.AWS_ENDPOINT_URL_SFN;
  const steps = (tableName: string) => ({
    inventory: isolatedRequire<{ handler: StepHandler }>('lambda/saga/inventory', { TABLE_NAME: tableName }).module.handler,
    payment: isolatedRequire<{ handler: StepHandler }>('lambda/saga/payment', { TABLE_NAME: tableName, PAYMENT_LIMIT: String(PAYMENT_LIMIT) }).module.handler,
  });
  const { inventory, payment } = steps(db.tableName);
  const functions: Record<string, StepHandler> = {
    [localFunctionArn(example.id(example.saga.inventoryHandler as never))]: inventory,
    [localFunctionArn(example.id(example.saga.paymentHandler as never))]: payment,
    // The EXPRESS variant's step functions (test/helpers/saga synthesizes it as stack SagaTest).
    ...expressFunctions(inventory, payment),
  };
  const callback = isolatedRequire<{ handler: ApiHandler }>('lambda/saga/callback', {}).module.handler;

  engine = await startLocalStepFunctions({
    invokeFunction: async (arn, payload) => {
      const fn = functions[arn];
      if (!fn) throw Object.assign(new Error(`Function not found: ${arn}`), { name: 'Lambda.ResourceNotFoundException' });
      return fn(payload);
    },
    // The callback queue, consumed by the confirming system, which answers through POST /callbacks.
    sendQueueMessage: async (_queueUrl, body) => {
      const message = JSON.parse(body) as Record<string, unknown>;
      callbackMessages.push(message);
      setImmediate(() => {
        const answer = confirmingSystem === 'confirm'
          ? { taskToken: message.taskToken, outcome: 'confirmed', reference: 'wh-7' }
          : { taskToken: message.taskToken, outcome: 'rejected', reason: 'address not deliverable' };
        void callback(callbackEvent(answer), lambdaContext()).then((response) => callbackAnswers.push(response.statusCode));
      });
    },
    dynamodbEndpoint: db.dynamo.endpoint,
    retryIntervalScale: 0,
  });
  process.env.AWS_ENDPOINT_URL_SFN = engine.endpoint;
  sfn = new SFNClient({
    endpoint: engine.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1, disableHostPrefix: true,
  });
  const definition = definitionFromTemplate(example.template, { tables: { [example.id(example.saga.table as never)]: db.tableName } });
  stateMachineArn = engine.createStateMachine({ name: example.name, type: example.type, definition }).arn;
});

afterAll(async () => {
  sfn.destroy();
  await engine.stop();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SFN;
  else process.env.AWS_ENDPOINT_URL_SFN = savedEndpoint;
});

beforeEach(() => {
  confirmingSystem = 'confirm';
  callbackMessages.length = 0;
  callbackAnswers.length = 0;
});

const express = synthSaga({ stateMachineType: sfnCdk.StateMachineType.EXPRESS });
function expressFunctions(inventory: StepHandler, payment: StepHandler): Record<string, StepHandler> {
  return {
    [localFunctionArn(express.logicalId(express.saga.inventoryHandler as never))]: inventory,
    [localFunctionArn(express.logicalId(express.saga.paymentHandler as never))]: payment,
  };
}

/** The reference start handler (STANDARD, async) with the synthesized machine's ARN; its SFN client calls the engine. */
function starter(): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const { module } = isolatedRequire<{ handler: ApiHandler }>('lambda/saga/start', {
    TABLE_NAME: db.tableName, STATE_MACHINE_ARN: stateMachineArn, WORKFLOW_TYPE: 'STANDARD', START_MODE: 'async',
  }, ['MAX_BODY_BYTES', 'SYNC_START_TIMEOUT_MS']);
  return (event) => module.handler(event, lambdaContext());
}

const order = (sku: string, amount = 1_500) => ({ orderId: `o-${sku}`, customerId: 'c-1', sku, quantity: 2, amount });

async function startSaga(sku: string, amount?: number) {
  await seedStock(db.dynamo.client, db.tableName, sku, 10);
  const start = starter();
  const started = await start(startEvent(order(sku, amount), `key-${sku}`));
  expect(started.statusCode).toBe(202);
  const { executionArn } = json<{ executionArn: string }>(started);
  const execution = engine.executions.get(executionArn)!;
  await execution.done;
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return {
    start,
    executionArn,
    execution,
    described,
    output: JSON.parse(described.output!) as Record<string, unknown>,
    stock: await stockOf(db.dynamo.client, db.tableName, sku),
    payment: await paymentOf(db.dynamo.client, db.tableName, executionArn),
  };
}

test('the example\'s definition runs here: every Task state is bound', () => {
  expect(engine.stateMachines.get(stateMachineArn)?.type).toBe('STANDARD');
});

test('an order succeeds: reserve, charge, external confirmation through the callback handler, confirm on DynamoDB', async () => {
  const { start, executionArn, execution, described, output, stock, payment } = await startSaga('ok');

  expect(described.status).toBe('SUCCEEDED');
  expect(execution.statesEntered).toEqual([S.reserve, S.charge, S.awaitConfirmation, S.confirm, S.confirmed]);
  expect(output).toEqual(expect.objectContaining({ status: 'CONFIRMED', orderId: 'o-ok', confirmation: { outcome: 'confirmed', reference: 'wh-7' } }));
  // The Context Object reached the steps and the callback message: the execution's own ARN.
  expect(callbackMessages).toEqual([expect.objectContaining({ executionId: executionArn, order: order('ok'), heartbeatSeconds: 900 })]);
  expect(callbackAnswers).toEqual([200]);
  expect(stock).toEqual({ available: 8, reservations: [] });
  expect(payment).toBe('CHARGED');

  // A retried start (same Idempotency-Key) after the end: ExecutionAlreadyExists, then DescribeExecution, through the real SDK.
  const retried = await start(startEvent(order('ok'), 'key-ok'));
  expect(retried.statusCode).toBe(202);
  expect(json(retried)).toEqual(expect.objectContaining({ executionArn, status: 'SUCCEEDED' }));
  expect([...engine.executions.values()].filter((e) => e.name === execution.name)).toHaveLength(1);
});

test('a declined payment compensates: the charge is voided and the stock released', async () => {
  const { described, execution, output, stock, payment } = await startSaga('declined', PAYMENT_LIMIT + 1);

  expect(described.status).toBe('SUCCEEDED');
  expect(execution.statesEntered).toEqual([S.reserve, S.charge, S.refund, S.release, S.cancelled]);
  expect(output).toEqual(expect.objectContaining({ status: 'CANCELLED', error: expect.objectContaining({ Error: 'PaymentDeclinedError' }) }));
  expect(JSON.parse((output.error as { Cause: string }).Cause)).toEqual(expect.objectContaining({ errorType: 'PaymentDeclinedError' }));
  expect(callbackMessages).toEqual([]);
  expect(stock).toEqual({ available: 10, reservations: [] });
  expect(payment).toBe('VOIDED');
});

test('a rejected confirmation refunds and releases; a late answer then gets 409 (TaskTimedOut through the SDK)', async () => {
  confirmingSystem = 'reject';
  const { execution, output, stock, payment } = await startSaga('rejected');

  expect(execution.statesEntered).toEqual([S.reserve, S.charge, S.awaitConfirmation, S.refund, S.release, S.cancelled]);
  expect(output.error).toEqual({ Error: 'ConfirmationRejected', Cause: 'address not deliverable' });
  expect(stock).toEqual({ available: 10, reservations: [] });
  expect(payment).toBe('REFUNDED');

  const callback = isolatedRequire<{ handler: ApiHandler }>('lambda/saga/callback', {}).module.handler;
  const late = await callback(callbackEvent({ taskToken: callbackMessages[0].taskToken, outcome: 'confirmed' }), lambdaContext());
  expect(late.statusCode).toBe(409);
});

test('the EXPRESS variant through StartSyncExecution: SUCCEEDED, or compensated', async () => {
  const arn = engine.createStateMachine({ name: 'SagaExpress', type: 'EXPRESS', definition: sagaDefinition(express, db.tableName) }).arn;
  await seedStock(db.dynamo.client, db.tableName, 'express', 10);

  const ok = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ order: order('express') }) }));
  const declined = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ order: order('express', PAYMENT_LIMIT + 1) }) }));

  expect(ok.status).toBe('SUCCEEDED');
  expect(JSON.parse(ok.output!)).toEqual(expect.objectContaining({ status: 'CONFIRMED' }));
  expect(await paymentOf(db.dynamo.client, db.tableName, ok.executionArn!)).toBe('CHARGED');
  expect(JSON.parse(declined.output!)).toEqual(expect.objectContaining({ status: 'CANCELLED' }));
  expect(await stockOf(db.dynamo.client, db.tableName, 'express')).toEqual({ available: 8, reservations: [] });
});
