/**
 * How the local Step Functions engine (local/engines/step-functions.ts) runs ONE definition, and
 * what the saga's test helper (test/helpers/step-functions-local.ts) reuses:
 *
 * - `prepareDefinition` checks a resolved ASL definition (asl-validator, then every Task state's
 *   Resource against the integrations below and the bindings given) and derives what
 *   `aws-local-stepfunctions` 3 runs: Retry intervals scaled (`retryIntervalScale`), Wait states
 *   scaled (`waitScale`), Task states without a timeout given none (the library's default is
 *   60 s; Step Functions has none), timers capped at what `setTimeout` holds (24.8 days), an
 *   EXPRESS execution limited to 5 minutes, and `States.Timeout` in the ErrorEquals of a state with
 *   HeartbeatSeconds also matching `States.HeartbeatTimeout` (Step Functions counts a heartbeat
 *   timeout as a timeout). What the library cannot run is refused here, with the state named:
 *   JSONata, variables (`Assign`), distributed Map (`ItemReader`, `ResultWriter`, `ItemBatcher`),
 *   activities, and `.waitForTaskToken` in an EXPRESS state machine (as CreateStateMachine does).
 * - `runDefinition` runs it with the Context Object of Step Functions: `$$.Execution.Id`, `Name`,
 *   `Input`, `StartTime` (exactly the execution's start date), `RoleArn`, `$$.StateMachine.Id`,
 *   `Name`, and `$$.Task.Token`, a fresh token for every attempt of a state that reads it.
 * - Task bindings, as Step Functions names their results and errors:
 *   - a function ARN (the `payloadResponseOnly` form) and `arn:aws:states:::lambda:invoke`
 *     (`{ ExecutedVersion, Payload, StatusCode, ... }`; `InvocationType: Event` does not wait),
 *     `.waitForTaskToken` too: `invokeFunction`. A function error fails the state with the
 *     function's `errorType` as Error and Lambda's `{ errorMessage, errorType, trace }` as Cause;
 *     an AWS service exception (it carries `$metadata`) is named `Lambda.<name>`;
 *   - `sqs:sendMessage`, `sns:publish`, `events:putEvents` (each also `.waitForTaskToken`):
 *     `sendQueueMessage`, `publishSns`, `publishEvents`; errors `SQS.<name>`, `SNS.<name>`,
 *     `EventBridge.<name>` (`<Service>.SdkClientException` for a plain Error), a failed
 *     PutEvents entry `EventBridge.FailedEntry`;
 *   - `dynamodb:getItem|putItem|updateItem|deleteItem` and `aws-sdk:dynamodb:<action>`: the
 *     state's resolved Parameters sent as that DynamoDB request (`dynamodb`, dynalite), errors
 *     `DynamoDB.<name>` (`DynamoDb.<name>` for the AWS SDK integration), and
 *     `DynamoDB.SdkClientException` when no answer came.
 * - `TaskTokens`: the tokens that `.waitForTaskToken` states wait on. A state registers its
 *   token before the message that carries it is sent, so an answer can never come too early.
 *   SendTaskSuccess/Failure/Heartbeat answer as Step Functions does: `InvalidToken` (not a token
 *   of this engine), `TaskDoesNotExist` (never issued), `TaskTimedOut` (answered already, timed
 *   out, or its execution ended), `InvalidOutput` (output is not JSON). `HeartbeatSeconds` runs on
 *   a scaled clock (`heartbeatMillisPerSecond`) and fails the state with `States.HeartbeatTimeout`;
 *   the state's `TimeoutSeconds` fails it with `States.Timeout` and closes the token.
 *
 * Not modelled: `$$.State.*` and `$$.Map.*` beyond the library's `$$.Map.Item`, TimeoutSecondsPath and
 * HeartbeatSecondsPath for token waits (the token stays open until the execution ends),
 * `States.TaskFailed` excluding `States.HeartbeatTimeout`, `.sync` integrations, redrive.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as dynamodbSdk from '@aws-sdk/client-dynamodb';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './aws-protocol';

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

/** One entry of the library's event log (a subset of its fields). */
export interface EventLog {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name: string; readonly type: string; readonly input?: unknown; readonly output?: unknown };
  readonly input?: unknown;
  readonly output?: unknown;
  readonly Error?: string;
  readonly Cause?: unknown;
  readonly index?: number;
  readonly parentState?: { readonly name: string; readonly type: string };
}
interface LibraryRun { readonly abort: () => void; readonly result: Promise<unknown>; readonly eventLogs: AsyncGenerator<EventLog> }
interface LibraryMachine { run(input: unknown, options: Record<string, unknown>): LibraryRun }
// The library's types are ESM-only; its CommonJS build is loaded.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StateMachine } = require('aws-local-stepfunctions') as { StateMachine: new (definition: unknown, options?: Record<string, unknown>) => LibraryMachine };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: unknown, options?: Record<string, unknown>) => { isValid: boolean; errorsText: (sep?: string) => string };

export type StateMachineType = 'STANDARD' | 'EXPRESS';
export type AslState = Record<string, unknown>;
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  [field: string]: unknown;
}

/** An error as Step Functions names it: `name` is what Retry and Catch match, `message` the Cause. */
export class StepFunctionsError extends Error {
  constructor(name: string, message = name) {
    super(message);
    this.name = name;
  }
}

/** Fails a state in a way that no Retry or Catch handles (the library reads these two fields). */
class UnhandledStateError extends StepFunctionsError {
  public readonly isRetryable = false;
  public readonly isCatchable = false;
}

/** What a task of a stopped execution (or one that ended while the task ran) fails with. */
export class ExecutionStoppedError extends UnhandledStateError {
  constructor() {
    super('States.Runtime', 'The execution has ended');
  }
}

/** The longest timer `setTimeout` holds: Step Functions' "no timeout" runs for a year. */
export const MAX_TIMER_SECONDS = 2_147_483;
/** An EXPRESS execution runs for at most 5 minutes. */
export const EXPRESS_MAX_SECONDS = 300;

// ---------------------------------------------------------------------------------------------
// Task tokens

const TOKEN_PREFIX = 'AQB';
const TOKEN_PATTERN = /^AQB[A-Za-z0-9_-]{128}$/;

/** A new task token: opaque, printable, 131 characters (Step Functions allows 1..2048). */
export function newTaskToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(96).toString('base64url')}`;
}

export type TokenOutcome = 'success' | 'failure' | 'heartbeat';

interface OpenToken {
  readonly executionArn: string;
  readonly stateName: string;
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly heartbeatMs?: number;
  timer?: NodeJS.Timeout;
}

/** The tokens that `.waitForTaskToken` states wait on, answered through SendTask* calls. */
export class TaskTokens {
  /** Every accepted answer, in order. */
  public readonly answered: Array<{ token: string; outcome: TokenOutcome }> = [];
  private readonly open = new Map<string, OpenToken>();
  private readonly closed = new Set<string>();

  /** Opens `token` for a state; the promise settles with its answer (or a timeout, or the end of its execution). */
  public register(token: string, owner: { executionArn: string; stateName: string }, heartbeatMs?: number): Promise<unknown> {
    if (this.open.has(token) || this.closed.has(token)) throw new Error(`task token registered twice: ${token.slice(0, 16)}...`);
    return new Promise((resolve, reject) => {
      const entry: OpenToken = { ...owner, resolve, reject, heartbeatMs };
      this.open.set(token, entry);
      this.arm(token, entry);
    });
  }

  public sendTaskSuccess(token: string, output: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      this.take(token, true);
      throw new StepFunctionsError('InvalidOutput', 'Invalid Output: the output is not valid JSON');
    }
    this.take(token).resolve(parsed);
    this.answered.push({ token, outcome: 'success' });
  }

  public sendTaskFailure(token: string, error?: string, cause?: string): void {
    this.take(token).reject(new StepFunctionsError(error ?? '', cause ?? ''));
    this.answered.push({ token, outcome: 'failure' });
  }

  public sendTaskHeartbeat(token: string): void {
    this.arm(token, this.take(token, true));
    this.answered.push({ token, outcome: 'heartbeat' });
  }

  /** Closes `token` (later answers get TaskTimedOut); its wait fails with `error`, or stays pending without one. */
  public close(token: string, error?: Error): void {
    const entry = this.open.get(token);
    this.closed.add(token);
    if (!entry) return;
    this.open.delete(token);
    if (entry.timer) clearTimeout(entry.timer);
    if (error) entry.reject(error);
  }

  /** Closes every open token of an execution (it ended or was stopped). */
  public closeExecution(executionArn: string): void {
    for (const [token, entry] of this.open) {
      if (entry.executionArn === executionArn) this.close(token, new ExecutionStoppedError());
    }
  }

  /** The state waiting on `token`, if any. */
  public waiter(token: string): { executionArn: string; stateName: string } | undefined {
    const entry = this.open.get(token);
    return entry ? { executionArn: entry.executionArn, stateName: entry.stateName } : undefined;
  }

  /** What an answer to a token that is not open gets. */
  protected notOpen(token: string): never {
    if (this.closed.has(token)) throw new StepFunctionsError('TaskTimedOut', 'Task Timed Out: \'Provided task does not exist anymore\'');
    if (!TOKEN_PATTERN.test(token)) throw new StepFunctionsError('InvalidToken', 'Invalid token');
    throw new StepFunctionsError('TaskDoesNotExist', 'Task does not exist');
  }

  private take(token: string, keep = false): OpenToken {
    const entry = this.open.get(token);
    if (!entry) return this.notOpen(token);
    if (!keep) {
      this.open.delete(token);
      this.closed.add(token);
      if (entry.timer) clearTimeout(entry.timer);
    }
    return entry;
  }

  private arm(token: string, entry: OpenToken): void {
    if (entry.heartbeatMs === undefined) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      this.close(token, new StepFunctionsError('States.HeartbeatTimeout', 'The task sent no heartbeat within its HeartbeatSeconds'));
    }, entry.heartbeatMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Task bindings

/** What `sendQueueMessage` gets besides the queue URL and the body. */
export interface QueueMessageExtra {
  readonly messageAttributes?: Record<string, unknown>;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  readonly delaySeconds?: number;
  /** The execution and state that send it (not part of the message). */
  readonly sentBy: { readonly executionArn: string; readonly stateName: string };
}

export interface SnsMessageExtra {
  readonly subject?: string;
  readonly messageAttributes?: Record<string, unknown>;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  readonly messageStructure?: string;
}

/** A PutEvents entry, Detail as JSON text. */
export interface EventEntry {
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly EventBusName?: string;
  readonly Resources?: string[];
  readonly Time?: string;
  readonly TraceHeader?: string;
}

/** PutEvents' answer. */
export interface PutEventsAnswer {
  readonly FailedEntryCount?: number;
  readonly Entries?: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
}

/** What the Task states run on: plain callbacks (the runner binds them to its workers and engines). */
export interface TaskBindings {
  /**
   * Invokes a function (`arn:aws:lambda:...:function:name[:qualifier]`) with `payload`; resolves with what it returns.
   * A function error is thrown as an Error whose `name` is Lambda's `errorType` (`trace`, a string array, is kept when
   * present); a service error as one named `Lambda.<Exception>` (or an AWS SDK exception, which carries `$metadata`).
   */
  readonly invokeFunction?: (functionArn: string, payload: unknown) => Promise<unknown>;
  /** Sends one message; throws (any error name, or `SQS.<name>`) when the queue refuses it. */
  readonly sendQueueMessage?: (queueUrl: string, body: string, extra: QueueMessageExtra) => Promise<void>;
  /** The DynamoDB client that runs `dynamodb:*` and `aws-sdk:dynamodb:*` states (dynalite). */
  readonly dynamodb?: dynamodbSdk.DynamoDBClient;
  readonly publishEvents?: (entries: EventEntry[]) => Promise<PutEventsAnswer>;
  readonly publishSns?: (topicArn: string, message: string, extra: SnsMessageExtra) => Promise<void>;
}

/** One attempt of a Task state, as its binding sees it. */
export interface TaskCall {
  readonly executionArn: string;
  readonly stateName: string;
  /** Opens the state's task token, hands it to `send`, then waits for its answer. */
  waitForTaskToken(send: (token: string) => Promise<void>): Promise<unknown>;
}

export type TaskRunner = (input: unknown, call: TaskCall) => Promise<unknown>;

const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?$/;
const INTEGRATION = /^arn:aws[a-z-]*:states:::([a-z0-9-]+):([A-Za-z]+)(\.waitForTaskToken|\.sync(?::2)?)?$/;
const SDK_INTEGRATION = /^arn:aws[a-z-]*:states:::aws-sdk:([a-z0-9]+):([A-Za-z]+)(\.waitForTaskToken)?$/;
const DYNAMODB_OPTIMIZED = new Set(['getItem', 'putItem', 'updateItem', 'deleteItem']);

/** The fields Step Functions adds to the result of an optimized AWS integration. */
function sdkMetadata(): Record<string, unknown> {
  const requestId = randomUUID();
  return {
    SdkHttpMetadata: { AllHttpHeaders: { 'x-amzn-RequestId': [requestId] }, HttpHeaders: { 'x-amzn-RequestId': requestId }, HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

function errorName(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? name : 'Error';
}

function errorMessage(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

function answeredByService(err: unknown): boolean {
  const metadata = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof metadata?.httpStatusCode === 'number';
}

/** A binding's failure as `<prefix>.<name>`; a plain Error (nothing named) as `<prefix>.SdkClientException`. */
function prefixed(prefix: string, err: unknown): Error {
  if (err instanceof UnhandledStateError) return err;
  const name = errorName(err);
  if (name.startsWith(`${prefix}.`)) return new StepFunctionsError(name, errorMessage(err));
  return new StepFunctionsError(name === 'Error' ? `${prefix}.SdkClientException` : `${prefix}.${name}`, errorMessage(err));
}

/** A function's failure as Step Functions reports it: Error = errorType, Cause = Lambda's error object as JSON. */
function functionError(err: unknown): Error {
  if (err instanceof UnhandledStateError) return err;
  const name = errorName(err);
  if (answeredByService(err) && !name.startsWith('Lambda.')) return new StepFunctionsError(`Lambda.${name}`, errorMessage(err));
  if (name.startsWith('Lambda.')) return new StepFunctionsError(name, errorMessage(err));
  const given = (err as { trace?: unknown } | null)?.trace;
  const stack = (err as { stack?: unknown } | null)?.stack;
  const trace = Array.isArray(given) ? given : typeof stack === 'string' ? stack.split('\n') : [];
  return new StepFunctionsError(name, JSON.stringify({ errorMessage: errorMessage(err), errorType: name, trace }));
}

function dynamodbError(prefix: string, err: unknown): Error {
  if (!answeredByService(err)) return new StepFunctionsError(`${prefix}.SdkClientException`, errorMessage(err));
  const requestId = (err as { $metadata?: { requestId?: string } }).$metadata?.requestId;
  return new StepFunctionsError(`${prefix}.${errorName(err)}`, `${errorMessage(err)} (Service: DynamoDb, Status Code: 400, Request ID: ${requestId ?? 'local'})`);
}

/** A function name, partial ARN or full ARN as the full ARN, with the qualifier given apart. */
export function functionArnOf(nameOrArn: string, qualifier?: string): string {
  let arn = nameOrArn;
  if (!arn.startsWith('arn:')) {
    arn = /^\d{12}:function:/.test(arn)
      ? `arn:aws:lambda:${LOCAL_REGION}:${arn}`
      : `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${arn}`;
  }
  return qualifier !== undefined && arn.split(':').length === 7 ? `${arn}:${qualifier}` : arn;
}

function asObject(value: unknown, stateName: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UnhandledStateError('States.Runtime', `The Parameters of state "${stateName}" must be an object`);
  }
  return value as Record<string, unknown>;
}

function requiredString(params: Record<string, unknown>, field: string, stateName: string): string {
  const value = params[field];
  if (typeof value !== 'string' || value === '') throw new UnhandledStateError('States.Runtime', `State "${stateName}" needs the parameter ${field}`);
  return value;
}

/** A message body or SNS message: an object is sent as its JSON text. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

type Bind = { run: TaskRunner } | { problem: string };

function invokeRunner(bindings: TaskBindings, waits: boolean): Bind {
  const invoke = bindings.invokeFunction;
  if (!invoke) return { problem: 'no invokeFunction binding was given' };
  return {
    run: async (input, call) => {
      const params = asObject(input, call.stateName);
      const arn = functionArnOf(requiredString(params, 'FunctionName', call.stateName), params.Qualifier as string | undefined);
      const payload = params.Payload ?? {};
      const invokeOnce = async () => {
        try {
          return await invoke(arn, payload);
        } catch (err) {
          throw functionError(err);
        }
      };
      if (waits) {
        return call.waitForTaskToken(async () => {
          await invokeOnce();
        });
      }
      if (params.InvocationType === 'Event') {
        invokeOnce().catch(() => undefined);
        return { ExecutedVersion: '$LATEST', Payload: '', StatusCode: 202, ...sdkMetadata() };
      }
      if (params.InvocationType === 'DryRun') return { Payload: '', StatusCode: 204, ...sdkMetadata() };
      const result = await invokeOnce();
      return { ExecutedVersion: '$LATEST', Payload: result ?? null, StatusCode: 200, ...sdkMetadata() };
    },
  };
}

function sqsRunner(bindings: TaskBindings, waits: boolean): Bind {
  const send = bindings.sendQueueMessage;
  if (!send) return { problem: 'no sendQueueMessage binding was given' };
  return {
    run: async (input, call) => {
      const params = asObject(input, call.stateName);
      const queueUrl = requiredString(params, 'QueueUrl', call.stateName);
      const sendOnce = async (): Promise<Record<string, unknown>> => {
        const body = textOf(params.MessageBody);
        try {
          await send(queueUrl, body, {
            messageAttributes: params.MessageAttributes as Record<string, unknown> | undefined,
            messageGroupId: params.MessageGroupId as string | undefined,
            messageDeduplicationId: params.MessageDeduplicationId as string | undefined,
            delaySeconds: params.DelaySeconds as number | undefined,
            sentBy: { executionArn: call.executionArn, stateName: call.stateName },
          });
        } catch (err) {
          throw prefixed('SQS', err);
        }
        return { MD5OfMessageBody: createHash('md5').update(body, 'utf8').digest('hex'), MessageId: randomUUID(), ...sdkMetadata() };
      };
      // The token is in the Parameters (`$$.Task.Token`): the message carries it as resolved.
      return waits ? call.waitForTaskToken(async () => { await sendOnce(); }) : sendOnce();
    },
  };
}

function snsRunner(bindings: TaskBindings, waits: boolean): Bind {
  const publish = bindings.publishSns;
  if (!publish) return { problem: 'no publishSns binding was given' };
  return {
    run: async (input, call) => {
      const params = asObject(input, call.stateName);
      const topicArn = (params.TopicArn ?? params.TargetArn) as string | undefined;
      if (typeof topicArn !== 'string') throw new UnhandledStateError('States.Runtime', `State "${call.stateName}" needs the parameter TopicArn`);
      const publishOnce = async (): Promise<Record<string, unknown>> => {
        try {
          await publish(topicArn, textOf(params.Message), {
            subject: params.Subject as string | undefined,
            messageAttributes: params.MessageAttributes as Record<string, unknown> | undefined,
            messageGroupId: params.MessageGroupId as string | undefined,
            messageDeduplicationId: params.MessageDeduplicationId as string | undefined,
            messageStructure: params.MessageStructure as string | undefined,
          });
        } catch (err) {
          throw prefixed('SNS', err);
        }
        return { MessageId: randomUUID(), ...sdkMetadata() };
      };
      return waits ? call.waitForTaskToken(async () => { await publishOnce(); }) : publishOnce();
    },
  };
}

function eventsRunner(bindings: TaskBindings, waits: boolean): Bind {
  const publish = bindings.publishEvents;
  if (!publish) return { problem: 'no publishEvents binding was given' };
  return {
    run: async (input, call) => {
      const params = asObject(input, call.stateName);
      if (!Array.isArray(params.Entries)) throw new UnhandledStateError('States.Runtime', `State "${call.stateName}" needs the parameter Entries`);
      const entries = (params.Entries as Array<Record<string, unknown>>).map((entry) => ({
        ...entry,
        Detail: entry.Detail === undefined ? undefined : textOf(entry.Detail),
      }) as EventEntry);
      const publishOnce = async (): Promise<Record<string, unknown>> => {
        let answer: PutEventsAnswer;
        try {
          answer = await publish(entries);
        } catch (err) {
          throw prefixed('EventBridge', err);
        }
        if ((answer.FailedEntryCount ?? 0) > 0) throw new StepFunctionsError('EventBridge.FailedEntry', JSON.stringify(answer.Entries ?? []));
        return { Entries: answer.Entries ?? [], FailedEntryCount: 0 };
      };
      return waits ? call.waitForTaskToken(async () => { await publishOnce(); }) : publishOnce();
    },
  };
}

function dynamodbRunner(bindings: TaskBindings, action: string, sdkIntegration: boolean): Bind {
  const client = bindings.dynamodb;
  if (!client) return { problem: 'no DynamoDB endpoint was given' };
  const commandName = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
  type AnyCommand = new (input: unknown) => dynamodbSdk.GetItemCommand;
  const Command = (dynamodbSdk as unknown as Record<string, unknown>)[commandName] as AnyCommand | undefined;
  if (typeof Command !== 'function') return { problem: `DynamoDB has no action ${action}` };
  const prefix = sdkIntegration ? 'DynamoDb' : 'DynamoDB';
  return {
    run: async (input, call) => {
      const params = asObject(input, call.stateName);
      let output: Record<string, unknown>;
      try {
        output = await client.send(new Command(params)) as unknown as Record<string, unknown>;
      } catch (err) {
        throw dynamodbError(prefix, err);
      }
      const { $metadata: _metadata, ...result } = output;
      return sdkIntegration ? result : { ...result, ...sdkMetadata() };
    },
  };
}

/** The runner of a Task state's Resource, or why it cannot run here. */
export function bindTask(resource: string, bindings: TaskBindings): Bind {
  if (FUNCTION_ARN.test(resource)) {
    const invoke = bindings.invokeFunction;
    if (!invoke) return { problem: 'no invokeFunction binding was given' };
    return {
      run: async (input) => {
        try {
          return await invoke(resource, input);
        } catch (err) {
          throw functionError(err);
        }
      },
    };
  }
  const sdk = SDK_INTEGRATION.exec(resource);
  if (sdk) {
    if (sdk[1] !== 'dynamodb' || sdk[3] !== undefined) return { problem: 'of the AWS SDK integrations only aws-sdk:dynamodb:<action> runs here' };
    return dynamodbRunner(bindings, sdk[2], true);
  }
  const integration = INTEGRATION.exec(resource);
  if (!integration) return { problem: 'it is not a Lambda function ARN or an integration this engine runs (activities are not supported)' };
  const [, service, action, pattern] = integration;
  if (pattern?.startsWith('.sync')) return { problem: 'the .sync integration pattern is not supported' };
  const waits = pattern === '.waitForTaskToken';
  const key = `${service}:${action}`;
  if (key === 'lambda:invoke') return invokeRunner(bindings, waits);
  if (key === 'sqs:sendMessage') return sqsRunner(bindings, waits);
  if (key === 'sns:publish') return snsRunner(bindings, waits);
  if (key === 'events:putEvents') return eventsRunner(bindings, waits);
  if (service === 'dynamodb' && DYNAMODB_OPTIMIZED.has(action) && !waits) return dynamodbRunner(bindings, action, false);
  return { problem: 'this integration is not supported (lambda:invoke, sqs:sendMessage, sns:publish, events:putEvents, dynamodb:getItem|putItem|updateItem|deleteItem and aws-sdk:dynamodb:* are)' };
}

// ---------------------------------------------------------------------------------------------
// Definitions

export interface PrepareOptions {
  /** The state machine's name, for messages. */
  readonly name: string;
  readonly type: StateMachineType;
  readonly bindings: TaskBindings;
  /** Factor on every Retry interval and MaxDelaySeconds: 1 waits as defined, 0 retries at once. @default 1 */
  readonly retryIntervalScale?: number;
  /** Factor on Wait states: 0 skips them; another factor scales `Seconds` (paths and timestamps wait as defined). @default 1 */
  readonly waitScale?: number;
}

export interface PreparedMachine {
  readonly name: string;
  readonly type: StateMachineType;
  /** The definition as given. */
  readonly definition: AslDefinition;
  /** Every state, nested ones (Parallel branches, Map iterators) included, by name, as given. */
  readonly states: ReadonlyMap<string, AslState>;
  readonly tasks: ReadonlyMap<string, TaskRunner>;
  readonly machine: LibraryMachine;
  readonly waitOverrides: Readonly<Record<string, number>>;
}

type Machine = { States: Record<string, AslState> };

function nestedMachines(state: AslState): Machine[] {
  if (state.Type === 'Parallel' && Array.isArray(state.Branches)) return state.Branches as Machine[];
  if (state.Type === 'Map') {
    const processor = (state.ItemProcessor ?? state.Iterator) as Machine | undefined;
    return processor ? [processor] : [];
  }
  return [];
}

function forEachState(machine: Machine, visit: (name: string, state: AslState) => void): void {
  for (const [name, state] of Object.entries(machine.States ?? {})) {
    visit(name, state);
    for (const nested of nestedMachines(state)) forEachState(nested, visit);
  }
}

function scaleCheck(name: string, value: number | undefined): number {
  const scale = value ?? 1;
  if (!Number.isFinite(scale) || scale < 0) throw new Error(`${name} must be a finite number >= 0, got ${value}`);
  return scale;
}

/** Parses, checks and prepares a resolved definition; throws one error listing every state that cannot run. */
export function prepareDefinition(definition: object | string, options: PrepareOptions): PreparedMachine {
  const given = (typeof definition === 'string' ? JSON.parse(definition) : definition) as AslDefinition;
  if (given === null || typeof given !== 'object' || typeof given.StartAt !== 'string' || given.States === null || typeof given.States !== 'object') {
    throw new Error(`State machine "${options.name}": the definition needs StartAt and States`);
  }
  // asl-validator writes defaults into what it checks: it gets a copy.
  const validation = aslValidator(JSON.parse(JSON.stringify(given)), { checkArn: false, checkPaths: true });
  if (!validation.isValid) throw new Error(`State machine "${options.name}": the definition is not valid ASL: ${validation.errorsText('; ')}`);
  const retryScale = scaleCheck('retryIntervalScale', options.retryIntervalScale);
  const waitScale = scaleCheck('waitScale', options.waitScale);

  const problems: string[] = [];
  if (given.QueryLanguage === 'JSONata') problems.push('the definition uses JSONata, which aws-local-stepfunctions 3 does not run');
  const states = new Map<string, AslState>();
  const tasks = new Map<string, TaskRunner>();
  const waitOverrides: Record<string, number> = {};
  forEachState(given, (stateName, state) => {
    if (states.has(stateName)) problems.push(`state "${stateName}" is defined twice`);
    states.set(stateName, state);
    for (const field of ['QueryLanguage', 'Assign', 'Arguments', 'Output', 'ItemReader', 'ResultWriter', 'ItemBatcher']) {
      if (state[field] !== undefined && !(field === 'QueryLanguage' && state[field] === 'JSONPath')) {
        problems.push(`state "${stateName}" uses ${field}, which the local engine does not run`);
      }
    }
    if (state.Type === 'Wait' && waitScale === 0) waitOverrides[stateName] = 0;
    if (state.Type !== 'Task') return;
    const resource = String(state.Resource);
    if (options.type === 'EXPRESS' && resource.endsWith('.waitForTaskToken')) {
      problems.push(`state "${stateName}" uses ${resource}: EXPRESS state machines do not support .waitForTaskToken`);
      return;
    }
    const bound = bindTask(resource, options.bindings);
    if ('problem' in bound) problems.push(`state "${stateName}" uses ${resource}: ${bound.problem}`);
    else tasks.set(stateName, bound.run);
  });
  if (problems.length > 0) throw new Error(`State machine "${options.name}" cannot run locally: ${problems.join('; ')}`);

  // What the library runs: a copy with the timers adjusted (see the module comment).
  const runnable = JSON.parse(JSON.stringify(given)) as AslDefinition;
  const cap = (seconds: number) => Math.min(seconds, MAX_TIMER_SECONDS);
  runnable.TimeoutSeconds = options.type === 'EXPRESS'
    ? Math.min(given.TimeoutSeconds ?? EXPRESS_MAX_SECONDS, EXPRESS_MAX_SECONDS)
    : given.TimeoutSeconds === undefined ? undefined : cap(given.TimeoutSeconds);
  forEachState(runnable, (_name, state) => {
    const heartbeat = state.HeartbeatSeconds !== undefined || state.HeartbeatSecondsPath !== undefined;
    for (const handler of [...(state.Retry as AslState[] | undefined) ?? [], ...(state.Catch as AslState[] | undefined) ?? []]) {
      const errors = handler.ErrorEquals as string[];
      if (heartbeat && errors.includes('States.Timeout') && !errors.includes('States.HeartbeatTimeout')) errors.push('States.HeartbeatTimeout');
    }
    for (const retrier of (state.Retry as AslState[] | undefined) ?? []) {
      retrier.IntervalSeconds = ((retrier.IntervalSeconds as number | undefined) ?? 1) * retryScale;
      if (typeof retrier.MaxDelaySeconds === 'number') retrier.MaxDelaySeconds *= retryScale;
    }
    if (state.Type === 'Task') {
      if (typeof state.TimeoutSeconds === 'number') state.TimeoutSeconds = cap(state.TimeoutSeconds);
      else if (state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = MAX_TIMER_SECONDS;
    }
    if (state.Type === 'Wait' && waitScale !== 0 && waitScale !== 1 && typeof state.Seconds === 'number') state.Seconds *= waitScale;
  });
  const machine = new StateMachine(runnable, { validationOptions: { noValidate: true } });
  return { name: options.name, type: options.type, definition: given, states, tasks, machine, waitOverrides };
}

// ---------------------------------------------------------------------------------------------
// Runs

/** Who runs: the Context Object's fields. */
export interface RunContext {
  readonly executionArn: string;
  readonly executionName: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly roleArn: string;
  /** `$$.Execution.StartTime`. */
  readonly startDate: Date;
}

/** Wraps one attempt of a Task state (the test helper injects faults with it). */
export type TaskWrapper = (stateName: string, attempt: (input: unknown) => Promise<unknown>) => (input: unknown) => Promise<unknown>;

export interface RunOptions {
  readonly tokens: TaskTokens;
  /** Milliseconds per second of HeartbeatSeconds. @default 1000 */
  readonly heartbeatMillisPerSecond?: number;
  readonly wrapTask?: TaskWrapper;
  /** Called whenever a task starts or ends, a token wait blocks or unblocks, and when the run ends. */
  readonly onActivity?: () => void;
}

export type RunOutcome =
  | { readonly status: 'SUCCEEDED'; readonly output: unknown }
  | { readonly status: 'FAILED' | 'TIMED_OUT' | 'ABORTED'; readonly error?: string; readonly cause?: string };

export interface DefinitionRun {
  /** Settles when the run has ended and its event log is complete. */
  readonly done: Promise<RunOutcome>;
  /** The library's event log, as it comes. */
  readonly events: EventLog[];
  /** Names of the states entered, in order (a retried state once per attempt). */
  readonly statesEntered: string[];
  /** Names of the states retried, once per retry. */
  readonly retries: string[];
  /** True while nothing runs but task-token waits (only an answer from outside moves the run on). */
  idle(): boolean;
  /** Stops the run: it ends ABORTED with this error and cause; its open tokens close. */
  abort(error?: string, cause?: string): void;
}

/**
 * Runs `Date` at `ms` for the synchronous part of `fn`: the library stamps `$$.Execution.StartTime`
 * with `new Date()` inside `run`, and it must be the execution's start date.
 */
function atTime<T>(ms: number, fn: () => T): T {
  const RealDate = globalThis.Date;
  class FixedDate extends RealDate {
    public static now(): number {
      return ms;
    }

    constructor(...args: unknown[]) {
      if (args.length === 0) super(ms);
      else super(...(args as [string]));
    }
  }
  globalThis.Date = FixedDate as DateConstructor;
  try {
    return fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

export function runDefinition(prepared: PreparedMachine, input: unknown, context: RunContext, options: RunOptions): DefinitionRun {
  const events: EventLog[] = [];
  const statesEntered: string[] = [];
  const retries: string[] = [];
  const notify = () => options.onActivity?.();
  const millisPerSecond = options.heartbeatMillisPerSecond ?? 1_000;
  let running = 0;
  let blocked = 0;
  let ended = false;
  let stopped: { error?: string; cause?: string } | undefined;
  // Rejects when the run ends or stops, so that no task of it stays pending (nor the library's timer on it).
  let endTasks!: (e: Error) => void;
  const runEnded = new Promise<never>((_, reject) => { endTasks = reject; });
  runEnded.catch(() => undefined);

  // `$$.Task.Token`: read while the library resolves a state's Parameters, then claimed by that
  // state's handler, which the library calls synchronously right after.
  let pendingToken: string | undefined;
  const taskContext = {
    get Token(): string {
      pendingToken ??= newTaskToken();
      return pendingToken;
    },
  };

  /**
   * One attempt of a Task state, counted in `running` (and `blocked` while it waits for its
   * token) until it ends. Its TimeoutSeconds timer starts here, synchronously, just before the
   * library starts its own for the same state: when they fire, the library fails the state
   * (`States.Timeout`, which `States.TaskFailed` does not match) and this one closes the
   * attempt's token (a late answer gets TaskTimedOut) and stops counting the attempt, which the
   * execution has left behind.
   */
  const startAttempt = (stateName: string, claimed: string | undefined) => {
    const state = prepared.states.get(stateName)!;
    const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? Math.min(state.TimeoutSeconds, MAX_TIMER_SECONDS) : undefined;
    let token: string | undefined;
    let finished = false;
    let waiting = false;
    const setWaiting = (value: boolean) => {
      if (waiting === value) return;
      waiting = value;
      blocked += value ? 1 : -1;
      notify();
    };
    const finish = () => {
      if (finished) return;
      setWaiting(false);
      finished = true;
      running--;
      notify();
    };
    running++;
    notify();
    let timer: NodeJS.Timeout | undefined;
    let expire!: (e: Error) => void;
    const timedOut = new Promise<never>((_, reject) => { expire = reject; });
    timedOut.catch(() => undefined);
    if (timeoutSeconds !== undefined) {
      timer = setTimeout(() => {
        if (token !== undefined) options.tokens.close(token);
        finish();
        // Well after the library's own timer has failed the state: this only releases the wait.
        timer = setTimeout(() => expire(new StepFunctionsError('States.Timeout', 'Task timed out')), 1_000);
      }, timeoutSeconds * 1_000);
    }
    const call: TaskCall = {
      executionArn: context.executionArn,
      stateName,
      waitForTaskToken: async (send) => {
        token = claimed ?? newTaskToken();
        const heartbeatMs = typeof state.HeartbeatSeconds === 'number' ? state.HeartbeatSeconds * millisPerSecond : undefined;
        const answer = options.tokens.register(token, { executionArn: context.executionArn, stateName }, heartbeatMs);
        answer.catch(() => undefined);
        if (finished) options.tokens.close(token);
        try {
          await send(token);
          if (!finished) setWaiting(true);
          return await Promise.race([answer, timedOut]);
        } finally {
          setWaiting(false);
          options.tokens.close(token);
        }
      },
    };
    return {
      call,
      end: () => {
        clearTimeout(timer);
        finish();
      },
    };
  };

  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [stateName, task] of prepared.tasks) {
    handlers[stateName] = (taskInput) => {
      const claimed = pendingToken;
      pendingToken = undefined;
      if (stopped || ended) return Promise.reject(new ExecutionStoppedError());
      const attempt = startAttempt(stateName, claimed);
      const work = (async () => {
        try {
          // Out of the synchronous part of `run` (see atTime) before any binding runs.
          await Promise.resolve();
          const once = (attemptInput: unknown) => task(attemptInput, attempt.call);
          return await (options.wrapTask ? options.wrapTask(stateName, once) : once)(taskInput);
        } finally {
          attempt.end();
        }
      })();
      return Promise.race([work, runEnded]);
    };
  }

  const execution = atTime(context.startDate.getTime(), () => prepared.machine.run(input, {
    overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: prepared.waitOverrides },
    context: {
      Execution: { Id: context.executionArn, Name: context.executionName, RoleArn: context.roleArn, RedriveCount: 0 },
      StateMachine: { Id: context.stateMachineArn, Name: context.stateMachineName },
      Task: taskContext,
    },
  }));
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      events.push(event);
      if (event.type === 'StateEntered' && event.state) statesEntered.push(event.state.name);
      if (event.type === 'StateRetried' && event.state) retries.push(event.state.name);
    }
  })();

  const done = (async (): Promise<RunOutcome> => {
    let outcome: RunOutcome;
    try {
      outcome = { status: 'SUCCEEDED', output: await execution.result };
    } catch (err) {
      const e = err as Error & { cause?: unknown };
      if (stopped) {
        outcome = { status: 'ABORTED', ...stopped };
      } else if (e.name === 'ExecutionTimeoutError') {
        outcome = { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution ran longer than its TimeoutSeconds' };
      } else {
        // An ExecutionError's cause is the error of the state that failed the execution.
        const inner = e.name === 'ExecutionError' && e.cause instanceof Error ? e.cause : e;
        outcome = { status: 'FAILED', error: inner.name, cause: inner.message };
      }
    }
    ended = true;
    endTasks(new ExecutionStoppedError());
    options.tokens.closeExecution(context.executionArn);
    await collecting;
    notify();
    return outcome;
  })();

  return {
    done,
    events,
    statesEntered,
    retries,
    idle: () => blocked > 0 && running === blocked,
    abort(error, cause) {
      if (stopped || ended) return;
      stopped = { ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) };
      execution.abort();
      endTasks(new ExecutionStoppedError());
      options.tokens.closeExecution(context.executionArn);
    },
  };
}
