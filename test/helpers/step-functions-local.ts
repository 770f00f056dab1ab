/**
 * Runs a SYNTHESIZED state machine locally with `aws-local-stepfunctions`:
 * - `definitionFromTemplate` takes the `DefinitionString` of a template and resolves its
 *   intrinsics (`Fn::Join`, `Ref`, `Fn::GetAtt`) with local stand-ins for ARNs, queue URLs and
 *   names (a table's `Ref` becomes the dynalite table given for it);
 * - `runLocalExecution` runs it with a Context Object (execution id/name, task token) and binds
 *   each Task state by its resource: Lambda functions to local handlers, `dynamodb:*` service
 *   integrations to dynalite (executing the state's own resolved Parameters, errors named
 *   `DynamoDB.<name>` as Step Functions names them), `sqs:sendMessage.waitForTaskToken` to a
 *   callback broker that delivers the message body to the test's external system and waits for
 *   SendTaskSuccess/Failure/Heartbeat, failing with `States.HeartbeatTimeout` after the state's own
 *   `HeartbeatSeconds` (scaled: `heartbeatMillisPerSecond`, so a silent external system needs no long wait);
 * - every Retry interval is overridden to 0 ms: retries are counted, never waited for.
 */
import { DynamoDBClient, PutItemCommand, UpdateItemCommand, type PutItemCommandInput, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';

/** The parts of aws-local-stepfunctions' API used here (its types are ESM-only; the CJS build is loaded). */
export interface EventLog { readonly type: string; readonly state?: { readonly name: string }; readonly Error?: string; readonly Cause?: unknown }
interface LocalRun { readonly result: Promise<unknown>; readonly eventLogs: AsyncGenerator<EventLog> }
interface LocalMachine { run(input: unknown, options: Record<string, unknown>): LocalRun }
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StateMachine } = require('aws-local-stepfunctions') as { StateMachine: new (definition: unknown, options?: Record<string, unknown>) => LocalMachine };

// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 20 lacks (DESIGN.md section 6).
type Resolvers<T> = { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };
const promiseStatics = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof promiseStatics.withResolvers !== 'function') {
  promiseStatics.withResolvers = <T>() => {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type AslDefinition = { StartAt: string; States: Record<string, Record<string, unknown>>; TimeoutSeconds?: number };

interface CfnResource { Type: string; Properties?: Record<string, unknown> }
export interface CfnTemplate { Resources: Record<string, CfnResource> }

/** Stand-ins for intrinsics: `tables` maps a table's logical id to the dynalite table name. */
export interface StandIns {
  readonly tables?: Record<string, string>;
}

export function localFunctionArn(logicalId: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
}

export function localQueueUrl(logicalId: string): string {
  return `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${logicalId}`;
}

function resolveIntrinsics(value: unknown, template: CfnTemplate, standIns: StandIns): unknown {
  if (typeof value === 'string' || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, template, standIns));
  const obj = value as Record<string, unknown>;
  if ('Ref' in obj) {
    const ref = obj.Ref as string;
    const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': LOCAL_REGION, 'AWS::AccountId': LOCAL_ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com' };
    if (pseudo[ref]) return pseudo[ref];
    const resource = template.Resources[ref];
    if (!resource) throw new Error(`Ref to unknown resource ${ref}`);
    if (resource.Type.startsWith('AWS::DynamoDB::')) return standIns.tables?.[ref] ?? ref;
    if (resource.Type === 'AWS::SQS::Queue') return localQueueUrl(ref);
    return ref;
  }
  if ('Fn::GetAtt' in obj) {
    const [id, attribute] = obj['Fn::GetAtt'] as [string, string];
    const resource = template.Resources[id];
    if (!resource) throw new Error(`GetAtt of unknown resource ${id}`);
    if (resource.Type === 'AWS::Lambda::Function' && attribute === 'Arn') return localFunctionArn(id);
    if (resource.Type === 'AWS::SQS::Queue' && attribute === 'Arn') return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${id}`;
    if (resource.Type.startsWith('AWS::DynamoDB::') && attribute === 'Arn') {
      return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${standIns.tables?.[id] ?? id}`;
    }
    return `${id}.${attribute}`;
  }
  if ('Fn::Join' in obj) {
    const [separator, parts] = obj['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveIntrinsics(p, template, standIns)).join(separator);
  }
  throw new Error(`Unsupported intrinsic in a definition: ${Object.keys(obj).join(', ')}`);
}

/** The definition of the template's (only, or named) state machine, with its intrinsics resolved. */
export function definitionFromTemplate(template: CfnTemplate, standIns: StandIns = {}, logicalId?: string): AslDefinition {
  const machines = Object.entries(template.Resources).filter(([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && (logicalId === undefined || id === logicalId));
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const definitionString = machines[0][1].Properties?.DefinitionString;
  return JSON.parse(resolveIntrinsics(definitionString, template, standIns) as string) as AslDefinition;
}

/** An error as Step Functions names it (`error.name` is what Retry and Catch match). */
export class NamedError extends Error {
  constructor(name: string, message = name) {
    super(message);
    this.name = name;
  }
}

export type LocalLambda = (event: unknown) => Promise<unknown>;

/** One message sent by a `.waitForTaskToken` state. */
export interface CallbackMessage {
  readonly stateName: string;
  readonly queueUrl: string;
  readonly body: Record<string, unknown>;
}

/** Holds the tokens that states wait on; the test's SFN client mock answers through it. */
export class TaskTokenBroker {
  private readonly waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void; heartbeat: () => void }>();
  public readonly answered: Array<{ token: string; outcome: 'success' | 'failure' | 'heartbeat' }> = [];

  /** Registered by the harness when a state starts waiting. */
  public wait(token: string, heartbeat: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => this.waiting.set(token, { resolve, reject, heartbeat }));
  }

  /** Rejects an unknown or answered token like Step Functions does (TaskTimedOut). */
  private take(token: string, keep = false) {
    const waiter = this.waiting.get(token);
    if (!waiter) throw new NamedError('TaskTimedOut', 'Task Timed Out');
    if (!keep) this.waiting.delete(token);
    return waiter;
  }

  public sendTaskSuccess(token: string, output: string): void {
    const parsed = JSON.parse(output) as unknown;
    this.take(token).resolve(parsed);
    this.answered.push({ token, outcome: 'success' });
  }

  public sendTaskFailure(token: string, error: string, cause?: string): void {
    this.take(token).reject(new NamedError(error, cause ?? ''));
    this.answered.push({ token, outcome: 'failure' });
  }

  public sendTaskHeartbeat(token: string): void {
    this.take(token, true).heartbeat();
    this.answered.push({ token, outcome: 'heartbeat' });
  }

  /** Called by the harness when the state gives up (heartbeat timeout). */
  public expire(token: string): void {
    this.waiting.delete(token);
  }
}

export interface LocalExecutionOptions {
  readonly executionName: string;
  /** Handlers of the Lambda Task states, by the function's resolved ARN. */
  readonly lambdas: Record<string, LocalLambda>;
  /** The dynalite client that runs the `dynamodb:*` states. */
  readonly dynamodb?: DynamoDBClient;
  readonly broker?: TaskTokenBroker;
  /** The external system: gets each callback message (answer through the broker, or stay silent). */
  readonly onCallbackMessage?: (message: CallbackMessage) => Promise<void> | void;
  /** Milliseconds per heartbeat second. @default 1 */
  readonly heartbeatMillisPerSecond?: number;
  /** Errors thrown instead of running a state, in order, one per attempt, by state name. */
  readonly faults?: Record<string, Error[]>;
  /** Errors thrown after running a state (it applied, its answer was lost), in order, one per attempt, by state name. */
  readonly lostAnswers?: Record<string, Error[]>;
  /** @default 'STANDARD' */
  readonly workflowType?: 'STANDARD' | 'EXPRESS';
}

export interface LocalExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: { name: string; message: string };
  /** Names of the states entered, in order (a retried state once per attempt). */
  readonly statesEntered: string[];
  /** Names of the states that were retried, once per retry. */
  readonly retries: string[];
  readonly executionArn: string;
  readonly events: EventLog[];
}

const DYNAMODB_RESOURCE = /^arn:aws:states:::dynamodb:(putItem|updateItem)$/;
const SQS_WAIT_RESOURCE = 'arn:aws:states:::sqs:sendMessage.waitForTaskToken';

export function executionArnOf(name: string, workflowType: 'STANDARD' | 'EXPRESS' = 'STANDARD'): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${workflowType === 'EXPRESS' ? 'express' : 'execution'}:Saga:${name}`;
}

let tokenCounter = 0;

export async function runLocalExecution(definition: AslDefinition, input: unknown, options: LocalExecutionOptions): Promise<LocalExecutionResult> {
  const executionArn = executionArnOf(options.executionName, options.workflowType);
  const token = `local-token-${options.executionName}-${++tokenCounter}`;
  const faults = Object.fromEntries(Object.entries(options.faults ?? {}).map(([k, v]) => [k, [...v]]));
  const lostAnswers = Object.fromEntries(Object.entries(options.lostAnswers ?? {}).map(([k, v]) => [k, [...v]]));
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [stateName, state] of Object.entries(definition.States)) {
    if (Array.isArray(state.Retry)) retryIntervalOverrides[stateName] = 0;
    if (state.Type !== 'Task') continue;
    const resource = state.Resource as string;
    const run = taskRunner(stateName, state, resource, token, options);
    handlers[stateName] = async (taskInput) => {
      const fault = faults[stateName]?.shift();
      if (fault) throw fault;
      const output = await run(taskInput);
      const lost = lostAnswers[stateName]?.shift();
      if (lost) throw lost;
      return output;
    };
  }
  const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
    context: {
      Execution: { Id: executionArn, Name: options.executionName, Input: input, StartTime: new Date().toISOString() },
      Task: { Token: token },
    },
  });
  const events: EventLog[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) events.push(event);
  })();
  let result: Pick<LocalExecutionResult, 'status' | 'output' | 'error'>;
  try {
    result = { status: 'SUCCEEDED', output: await execution.result };
  } catch (err) {
    // The engine wraps what failed the execution in an ExecutionError whose cause is the state's error.
    const e = err as Error & { cause?: unknown };
    const inner = e.cause instanceof Error ? e.cause : e;
    result = { status: 'FAILED', error: { name: inner.name, message: inner.message } };
  }
  await collecting;
  return {
    ...result,
    executionArn,
    events,
    statesEntered: events.filter((e) => e.type === 'StateEntered').map((e) => e.state!.name),
    retries: events.filter((e) => e.type === 'StateRetried').map((e) => e.state!.name),
  };
}

function taskRunner(
  stateName: string, state: Record<string, unknown>, resource: string, token: string, options: LocalExecutionOptions,
): (input: unknown) => Promise<unknown> {
  const dynamo = DYNAMODB_RESOURCE.exec(resource);
  if (dynamo) {
    return async (params) => {
      if (!options.dynamodb) throw new Error(`${stateName} needs a dynamodb client`);
      try {
        if (dynamo[1] === 'updateItem') {
          const out = await options.dynamodb.send(new UpdateItemCommand(params as UpdateItemCommandInput));
          return { ...(out.Attributes ? { Attributes: out.Attributes } : {}) } as Json;
        }
        await options.dynamodb.send(new PutItemCommand(params as PutItemCommandInput));
        return {};
      } catch (err) {
        throw new NamedError(`DynamoDB.${(err as Error).name}`, (err as Error).message);
      }
    };
  }
  if (resource === SQS_WAIT_RESOURCE) {
    return async (params) => {
      const { QueueUrl, MessageBody } = params as { QueueUrl: string; MessageBody: Record<string, unknown> };
      const broker = options.broker;
      if (!broker) throw new Error(`${stateName} needs a task token broker`);
      const heartbeatMs = (state.HeartbeatSeconds as number) * (options.heartbeatMillisPerSecond ?? 1);
      let timer: NodeJS.Timeout | undefined;
      let expire!: (e: Error) => void;
      const expired = new Promise<never>((_, reject) => { expire = reject; });
      const arm = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          broker.expire(token);
          expire(new NamedError('States.HeartbeatTimeout', `No heartbeat within ${state.HeartbeatSeconds as number} s`));
        }, heartbeatMs);
      };
      const answer = broker.wait(token, arm);
      arm();
      try {
        await options.onCallbackMessage?.({ stateName, queueUrl: QueueUrl, body: MessageBody });
        return await Promise.race([answer, expired]);
      } finally {
        if (timer) clearTimeout(timer);
      }
    };
  }
  const local = options.lambdas[resource];
  if (!local) throw new Error(`No local handler for ${stateName} (${resource})`);
  return async (payload) => local(payload);
}
