/**
 * The saga pattern under test: its synthesized template and definition, the reference step
 * handlers (sources, loaded with the environment the construct gives them) bound to dynalite, and
 * the callback handler whose Step Functions client answers the local task token broker.
 */
import { PutItemCommand, GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { apiGatewayEvent, lambdaContext } from './api-gateway-events';
import { isolatedRequire } from './load-handler';
import {
  definitionFromTemplate, executionArnOf, localFunctionArn, NamedError,
  type AslDefinition, type CfnTemplate, type LocalExecutionResult, type LocalLambda, type TaskTokenBroker,
} from './step-functions-local';
import { SagaWorkflow, type SagaWorkflowProps } from '../../lib/saga';

export interface SynthesizedSaga {
  readonly stack: Stack;
  readonly saga: SagaWorkflow;
  readonly template: CfnTemplate;
  readonly logicalId: (construct: { node: { defaultChild?: unknown } }) => string;
}

export function synthSaga(props: SagaWorkflowProps = {}): SynthesizedSaga {
  const app = new App();
  const stack = new Stack(app, 'SagaTest');
  const saga = new SagaWorkflow(stack, 'Saga', props);
  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  return { stack, saga, template, logicalId };
}

/** The synthesized definition with the table bound to `tableName`. */
export function sagaDefinition(synth: SynthesizedSaga, tableName: string): AslDefinition {
  return definitionFromTemplate(synth.template, { tables: { [synth.logicalId(synth.saga.table as never)]: tableName } });
}

type StepHandler = (event: unknown) => Promise<unknown>;

/** The reference inventory and payment steps on dynalite, keyed by the step functions' local ARNs. */
export function sagaLambdas(synth: SynthesizedSaga, tableName: string, paymentLimit = 1_000_000): Record<string, LocalLambda> {
  const inventory = isolatedRequire<{ handler: StepHandler }>('lambda/saga/inventory', { TABLE_NAME: tableName }).module.handler;
  const payment = isolatedRequire<{ handler: StepHandler }>('lambda/saga/payment', { TABLE_NAME: tableName, PAYMENT_LIMIT: String(paymentLimit) }).module.handler;
  return {
    [localFunctionArn(synth.logicalId(synth.saga.inventoryHandler as never))]: (e) => inventory(e),
    [localFunctionArn(synth.logicalId(synth.saga.paymentHandler as never))]: (e) => payment(e),
  };
}

export async function seedStock(client: DynamoDBClient, tableName: string, sku: string, available: number): Promise<void> {
  await client.send(new PutItemCommand({
    TableName: tableName,
    Item: { pk: { S: `SKU#${sku}` }, sk: { S: 'STOCK' }, available: { N: String(available) }, reservations: { M: {} } },
  }));
}

export async function stockOf(client: DynamoDBClient, tableName: string, sku: string): Promise<{ available: number; reservations: string[] }> {
  const item = (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `SKU#${sku}` }, sk: { S: 'STOCK' } }, ConsistentRead: true }))).Item;
  return { available: Number(item?.available?.N), reservations: Object.keys(item?.reservations?.M ?? {}) };
}

export async function paymentOf(client: DynamoDBClient, tableName: string, executionArn: string): Promise<string | undefined> {
  const item = (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `PAYMENT#${executionArn}` }, sk: { S: 'PAYMENT' } }, ConsistentRead: true }))).Item;
  return item?.status?.S;
}

type Failure = { taskToken: string; error: string; cause?: string };

export type ApiInvoke = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** The reference callback completer, its SFN client answering `broker`. */
export function callbackCompleter(broker: TaskTokenBroker): ApiInvoke {
  const { module, others } = isolatedRequire<{ handler: (e: APIGatewayProxyEvent, c: unknown) => Promise<APIGatewayProxyResult> }>(
    'lambda/saga/callback', {}, [], ['@aws-sdk/client-sfn']);
  const sdk = others[0] as typeof import('@aws-sdk/client-sfn');
  const sfn = mockClient(sdk.SFNClient as unknown as new () => SFNClient);
  sfn.on(sdk.SendTaskSuccessCommand as unknown as typeof SendTaskSuccessCommand).callsFake((i: { taskToken: string; output: string }) => {
    broker.sendTaskSuccess(i.taskToken, i.output);
    return {};
  });
  sfn.on(sdk.SendTaskFailureCommand as unknown as typeof SendTaskFailureCommand).callsFake((i: Failure) => {
    broker.sendTaskFailure(i.taskToken, i.error, i.cause);
    return {};
  });
  sfn.on(sdk.SendTaskHeartbeatCommand as unknown as typeof SendTaskHeartbeatCommand).callsFake((i: { taskToken: string }) => {
    broker.sendTaskHeartbeat(i.taskToken);
    return {};
  });
  return (event) => module.handler(event, lambdaContext());
}

export function callbackEvent(body: unknown): APIGatewayProxyEvent {
  return apiGatewayEvent({
    method: 'POST',
    resource: '/callbacks',
    path: '/callbacks',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export interface LocalExecution {
  readonly executionArn: string;
  readonly input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly done: Promise<LocalExecutionResult>;
}

/**
 * StartExecution's documented name rules for STANDARD (API reference, StartExecution): a name
 * already used by an open execution with the same input returns that execution; with another
 * input, or once the execution is closed, `ExecutionAlreadyExists`. Every accepted start runs
 * the synthesized definition locally; DescribeExecution reads what was started.
 */
export class LocalStandardStarts {
  public readonly executions = new Map<string, LocalExecution>();

  constructor(private readonly run: (name: string, input: unknown) => Promise<LocalExecutionResult>) {}

  public startExecution(name: string, input: string): { executionArn: string } {
    const existing = this.executions.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return { executionArn: existing.executionArn };
      throw new NamedError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`);
    }
    const execution: LocalExecution = {
      executionArn: executionArnOf(name),
      input,
      status: 'RUNNING',
      done: this.run(name, JSON.parse(input)).then((result) => {
        execution.status = result.status;
        return result;
      }),
    };
    this.executions.set(name, execution);
    return { executionArn: execution.executionArn };
  }

  public describeExecution(executionArn: string): { executionArn: string; input: string; status: string } {
    const execution = [...this.executions.values()].find((e) => e.executionArn === executionArn);
    if (!execution) throw new NamedError('ExecutionDoesNotExist', 'Execution Does Not Exist');
    return { executionArn, input: execution.input, status: execution.status };
  }
}

/** The reference start handler with its SFN client calling `starts` (STANDARD) or `sfnCalls` only. */
export interface Starter {
  readonly invoke: ApiInvoke;
  readonly sfn: ReturnType<typeof mockClient>;
  /** `@aws-sdk/client-sfn` of the handler's module registry (its command classes). */
  readonly sdk: typeof import('@aws-sdk/client-sfn');
}

/** Calls of the command named `name` (`StartExecutionCommand`) on a client mock. */
export function callsNamed(sfn: ReturnType<typeof mockClient>, name: string): number {
  return sfn.calls().filter((call) => (call.args[0] as object).constructor.name === name).length;
}

export function starter(env: Record<string, string>, starts?: LocalStandardStarts): Starter {
  const { module, others } = isolatedRequire<{ handler: (e: APIGatewayProxyEvent, c: unknown) => Promise<APIGatewayProxyResult> }>(
    'lambda/saga/start', env, ['TABLE_NAME', 'STATE_MACHINE_ARN', 'WORKFLOW_TYPE', 'START_MODE', 'MAX_BODY_BYTES'], ['@aws-sdk/client-sfn']);
  const sdk = others[0] as typeof import('@aws-sdk/client-sfn');
  const sfn = mockClient(sdk.SFNClient as unknown as new () => SFNClient);
  if (starts) {
    sfn.on(sdk.StartExecutionCommand as never).callsFake((i: { name: string; input: string }) => starts.startExecution(i.name, i.input));
    sfn.on(sdk.DescribeExecutionCommand as never).callsFake((i: { executionArn: string }) => starts.describeExecution(i.executionArn));
  }
  return { invoke: (event) => module.handler(event, lambdaContext()), sfn, sdk };
}

export function startEvent(body: unknown, key?: string | string[], headers: Record<string, string> = {}): APIGatewayProxyEvent {
  return apiGatewayEvent({
    method: 'POST',
    resource: '/sagas',
    path: '/sagas',
    headers: { 'Content-Type': 'application/json', ...(key !== undefined ? { 'Idempotency-Key': key } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
