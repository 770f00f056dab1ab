/**
 * A local Step Functions engine (for the local runner and tests): a `node:http` server on
 * 127.0.0.1 that speaks the Step Functions JSON protocol (awsJson1_0,
 * `X-Amz-Target: AWSStepFunctions.<Operation>`) to the real `@aws-sdk/client-sfn`, and runs
 * state machines with `aws-local-stepfunctions` (local/engines/step-functions-tasks.ts: the
 * definition checks, the Context Object, the task bindings and the task tokens).
 *
 * - `createStateMachine({ name, type, definition })`: a resolved ASL definition (object or JSON
 *   text); a Task state whose Resource cannot run here (or whose binding was not given) makes it
 *   throw, naming the state and the resource. Creating the same name again with the same
 *   definition and type returns it; anything else is `StateMachineAlreadyExists`.
 * - StartExecution: `name` optional (a UUID); STANDARD names are idempotent as the API reference
 *   says: the same name and input as an open execution returns that execution, a different input
 *   or a closed execution `ExecutionAlreadyExists`. EXPRESS executions never share a name
 *   (`arn:...:express:<machine>:<name>:<run id>`). StartSyncExecution (EXPRESS only,
 *   else `StateMachineTypeNotSupported`) answers when the execution ends: SUCCEEDED, FAILED or
 *   TIMED_OUT with output or error and cause. Note that the SDK sends StartSyncExecution to the
 *   host `sync-<endpoint host>` (the operation's host prefix): a client of this engine needs
 *   `disableHostPrefix: true`, or a resolver that maps `sync-127.0.0.1` to 127.0.0.1.
 * - DescribeExecution, StopExecution (ABORTED with the error and cause given), ListExecutions
 *   (newest first, `statusFilter`, paged), GetExecutionHistory (the library's event log as
 *   Step Functions history events: `ExecutionStarted`, `<Type>StateEntered|Exited`, `TaskFailed`,
 *   `MapIteration*`, `Execution<End>`), all of them STANDARD only as in AWS (an EXPRESS execution
 *   ARN is `InvalidArn`); DescribeStateMachine, ListStateMachines.
 * - SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat: `InvalidToken`, `TaskDoesNotExist`,
 *   `TaskTimedOut`, `InvalidOutput` as Step Functions answers.
 * - Errors carry the SDK's exception names: `StateMachineDoesNotExist`, `ExecutionDoesNotExist`,
 *   `InvalidArn`, `InvalidName`, `InvalidExecutionInput`, `ValidationException`, ...
 * - In process: `startExecution`, `stopExecution`, `executions` (every execution, by ARN, with
 *   its status, output, event log and states entered), `settled()`, `stop()`.
 *
 * Timers: Retry intervals and Wait states run as defined unless scaled (`retryIntervalScale`,
 * `waitScale`; 0 skips them), HeartbeatSeconds on `heartbeatMillisPerSecond`, TimeoutSeconds in
 * real time. Not modelled: redrive, versions and aliases, map runs, activities, `.sync`, tags,
 * logging and tracing configuration, `ExecutionLimitExceeded` and throttling.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, readBody, sendJson, sendJsonError } from './aws-protocol';
import { closeServer, listenOnLoopback } from './loopback';
import {
  prepareDefinition, runDefinition, StepFunctionsError, TaskTokens,
  type DefinitionRun, type EventLog, type PreparedMachine, type StateMachineType, type TaskBindings,
} from './step-functions-tasks';

export { LOCAL_ACCOUNT, LOCAL_REGION, StepFunctionsError, TaskTokens };
export type { EventEntry, EventLog, PutEventsAnswer, QueueMessageExtra, SnsMessageExtra, StateMachineType } from './step-functions-tasks';

const PROTOCOL = '1.0' as const;
const TARGET_PREFIX = 'AWSStepFunctions.';
/** Step Functions' limit on an execution's input and a task's output. */
const MAX_PAYLOAD_BYTES = 262_144;
/** Names of state machines and executions: 1..80 characters, none of these (API reference, StartExecution). */
const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:(execution|express):[^:]+:[^:]+(?::[^:]+)?$/;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface LocalStepFunctionsOptions {
  /** Runs the Lambda Task states (function ARNs and `lambda:invoke`). See `TaskBindings`. */
  readonly invokeFunction?: TaskBindings['invokeFunction'];
  /** Runs `sqs:sendMessage` states (and `.waitForTaskToken`). */
  readonly sendQueueMessage?: TaskBindings['sendQueueMessage'];
  /** The DynamoDB endpoint (dynalite) of `dynamodb:*` and `aws-sdk:dynamodb:*` states. */
  readonly dynamodbEndpoint?: string;
  /** Runs `events:putEvents` states. */
  readonly publishEvents?: TaskBindings['publishEvents'];
  /** Runs `sns:publish` states. */
  readonly publishSns?: TaskBindings['publishSns'];
  /** Factor on Retry intervals: 1 waits as defined, 0 retries at once. @default 1 */
  readonly retryIntervalScale?: number;
  /** Factor on Wait states: 1 waits as defined, 0 skips them. @default the retryIntervalScale */
  readonly waitScale?: number;
  /** Milliseconds per second of a state's HeartbeatSeconds. @default 1000 */
  readonly heartbeatMillisPerSecond?: number;
  /** The time of starts and stops (and `$$.Execution.StartTime`). @default the system clock */
  readonly clock?: () => Date;
}

export interface StateMachineInput {
  readonly name: string;
  readonly type?: StateMachineType;
  /** The resolved ASL definition (intrinsics resolved), as an object or JSON text. */
  readonly definition: object | string;
  /** @default a local role ARN */
  readonly roleArn?: string;
}

export interface LocalStateMachine {
  readonly arn: string;
  readonly name: string;
  readonly type: StateMachineType;
  readonly roleArn: string;
  readonly creationDate: Date;
  /** The definition as JSON text. */
  readonly definition: string;
}

export interface LocalExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly type: StateMachineType;
  /** The input as JSON text. */
  readonly input: string;
  readonly startDate: Date;
  readonly status: ExecutionStatus;
  readonly stopDate?: Date;
  /** The output as JSON text (SUCCEEDED). */
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  /** The library's event log, as it comes. */
  readonly events: readonly EventLog[];
  /** Names of the states entered, in order (a retried state once per attempt). */
  readonly statesEntered: readonly string[];
  /** Names of the states retried, once per retry. */
  readonly retries: readonly string[];
  /** Settles with the execution when it has ended. */
  readonly done: Promise<LocalExecution>;
}

export interface LocalStepFunctions {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Every execution, by ARN, in the order started. */
  readonly executions: ReadonlyMap<string, LocalExecution>;
  readonly stateMachines: ReadonlyMap<string, LocalStateMachine>;
  /** The open task tokens (SendTask* of the HTTP API answer through them). */
  readonly tokens: TaskTokens;
  /** Throws when a Task state cannot run here (the message names the state and the resource). */
  createStateMachine(input: StateMachineInput): { arn: string };
  /** StartExecution in process: `input` is serialized with JSON.stringify; errors as the API answers them. */
  startExecution(stateMachineArn: string, input?: unknown, name?: string): LocalExecution;
  stopExecution(executionArn: string, error?: string, cause?: string): LocalExecution;
  /**
   * Waits until every execution started so far has ended or only waits for task tokens (nothing
   * moves it on but an answer from outside), including the executions started meanwhile.
   */
  settled(): Promise<void>;
  /** Stops every running execution (ABORTED) and the server. */
  stop(): Promise<void>;
}

interface MachineRecord extends LocalStateMachine {
  readonly prepared: PreparedMachine;
}

interface ExecutionRecord extends LocalExecution {
  status: ExecutionStatus;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  readonly run: DefinitionRun;
}

type Body = Record<string, unknown>;

const epochSeconds = (date: Date | undefined) => (date === undefined ? undefined : date.getTime() / 1_000);

function required(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new StepFunctionsError('ValidationException', `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new StepFunctionsError('ValidationException', `${field} must be a string`);
  return value;
}

function pageOf<T>(items: T[], body: Body): { page: T[]; nextToken?: string } {
  const maxResults = typeof body.maxResults === 'number' && body.maxResults > 0 ? Math.min(body.maxResults, 1_000) : 100;
  const token = optionalString(body, 'nextToken');
  const start = token === undefined ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new StepFunctionsError('InvalidToken', 'Invalid Token: the nextToken is not valid');
  const end = start + maxResults;
  return { page: items.slice(start, end), ...(end < items.length ? { nextToken: String(end) } : {}) };
}

/** The library's event log as Step Functions history events. */
function historyOf(execution: ExecutionRecord, machine: MachineRecord, includeData: boolean): Body[] {
  const data = (value: unknown) => (includeData ? JSON.stringify(value ?? null) : undefined);
  const history: Body[] = [];
  const add = (timestamp: number, type: string, details: Body) => {
    history.push({ timestamp: timestamp / 1_000, type, id: history.length + 1, previousEventId: history.length, ...details });
  };
  for (const event of execution.events) {
    const stateName = event.state?.name;
    switch (event.type) {
      case 'ExecutionStarted':
        add(event.timestamp, 'ExecutionStarted', {
          executionStartedEventDetails: {
            input: includeData ? execution.input : undefined, inputDetails: { truncated: false }, roleArn: machine.roleArn,
          },
        });
        break;
      case 'StateEntered':
        add(event.timestamp, `${event.state!.type}StateEntered`, { stateEnteredEventDetails: { name: stateName, input: data(event.state!.input) } });
        break;
      case 'StateExited':
        add(event.timestamp, `${event.state!.type}StateExited`, { stateExitedEventDetails: { name: stateName, output: data(event.state!.output) } });
        break;
      case 'StateFailed':
        if (event.state!.type === 'Task') {
          const resource = String(machine.prepared.states.get(stateName!)?.Resource ?? '');
          const integration = /^arn:[^:]+:states:::([^:]+):(.+)$/.exec(resource);
          add(event.timestamp, 'TaskFailed', {
            taskFailedEventDetails: {
              resourceType: integration ? integration[1] : 'lambda',
              resource: integration ? integration[2] : resource,
              error: event.Error,
              cause: typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause ?? null),
            },
          });
        } else if (event.state!.type === 'Map' || event.state!.type === 'Parallel') {
          add(event.timestamp, `${event.state!.type}StateFailed`, {});
        }
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `${event.type.charAt(0).toLowerCase()}${event.type.slice(1)}EventDetails`;
        add(event.timestamp, event.type, { [key]: { name: event.parentState?.name, index: event.index } });
        break;
      }
      case 'ExecutionSucceeded':
        add(event.timestamp, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: includeData ? execution.output : undefined, outputDetails: { truncated: false } } });
        break;
      case 'ExecutionFailed':
        add(event.timestamp, 'ExecutionFailed', { executionFailedEventDetails: { error: execution.error, cause: execution.cause } });
        break;
      case 'ExecutionAborted':
        add(event.timestamp, 'ExecutionAborted', { executionAbortedEventDetails: { error: execution.error, cause: execution.cause } });
        break;
      case 'ExecutionTimeout':
        add(event.timestamp, 'ExecutionTimedOut', { executionTimedOutEventDetails: { error: execution.error, cause: execution.cause } });
        break;
      default:
        break;
    }
  }
  return history;
}

export async function startLocalStepFunctions(options: LocalStepFunctionsOptions = {}): Promise<LocalStepFunctions> {
  const clock = options.clock ?? (() => new Date());
  const dynamodb = options.dynamodbEndpoint === undefined ? undefined : new DynamoDBClient({
    endpoint: options.dynamodbEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    // One attempt per state attempt: the state's Retry decides, as in Step Functions.
    maxAttempts: 1,
  });
  const bindings: TaskBindings = {
    invokeFunction: options.invokeFunction,
    sendQueueMessage: options.sendQueueMessage,
    publishEvents: options.publishEvents,
    publishSns: options.publishSns,
    dynamodb,
  };
  const machines = new Map<string, MachineRecord>();
  const executions = new Map<string, ExecutionRecord>();
  /** STANDARD executions by state machine ARN and name. */
  const named = new Map<string, ExecutionRecord>();
  const tokens = new TaskTokens();
  const waiters = new Set<() => void>();
  const activity = () => {
    for (const wake of [...waiters]) wake();
  };

  const machineOf = (arn: string): MachineRecord => {
    if (!STATE_MACHINE_ARN.test(arn)) throw new StepFunctionsError('InvalidArn', `Invalid Arn: '${arn}'`);
    const machine = machines.get(arn);
    if (!machine) throw new StepFunctionsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  };

  /** A STANDARD execution, as the APIs that serve only STANDARD find it. */
  const standardExecutionOf = (arn: string): ExecutionRecord => {
    const kind = EXECUTION_ARN.exec(arn)?.[1];
    if (kind === undefined) throw new StepFunctionsError('InvalidArn', `Invalid Arn: '${arn}'`);
    if (kind === 'express') throw new StepFunctionsError('InvalidArn', 'Invalid Arn: \'Resource type not valid in this context: express\'');
    const execution = executions.get(arn);
    if (!execution) throw new StepFunctionsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  };

  const createStateMachine = (input: StateMachineInput): { arn: string } => {
    if (!NAME.test(input.name)) throw new StepFunctionsError('InvalidName', `Invalid Name: '${input.name}'`);
    const type = input.type ?? 'STANDARD';
    const arn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${input.name}`;
    const prepared = prepareDefinition(input.definition, {
      name: input.name, type, bindings, retryIntervalScale: options.retryIntervalScale, waitScale: options.waitScale ?? options.retryIntervalScale,
    });
    const definition = JSON.stringify(prepared.definition);
    const existing = machines.get(arn);
    if (existing) {
      if (existing.definition === definition && existing.type === type) return { arn };
      throw new StepFunctionsError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    machines.set(arn, {
      arn,
      name: input.name,
      type,
      prepared,
      definition,
      roleArn: input.roleArn ?? `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-step-functions`,
      creationDate: clock(),
    });
    return { arn };
  };

  const start = (stateMachineArn: string, inputText: string | undefined, givenName: string | undefined): ExecutionRecord => {
    const machine = machineOf(stateMachineArn);
    if (givenName !== undefined && !NAME.test(givenName)) throw new StepFunctionsError('InvalidName', `Invalid Name: '${givenName}'`);
    const input = inputText ?? '{}';
    if (Buffer.byteLength(input, 'utf8') > MAX_PAYLOAD_BYTES) {
      throw new StepFunctionsError('InvalidExecutionInput', `Invalid Execution Input: the input is larger than ${MAX_PAYLOAD_BYTES} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new StepFunctionsError('InvalidExecutionInput', 'Invalid Execution Input: the input is not valid JSON');
    }
    const name = givenName ?? randomUUID();
    const key = `${machine.arn}\n${name}`;
    if (machine.type === 'STANDARD') {
      const existing = named.get(key);
      if (existing) {
        if (existing.status === 'RUNNING' && existing.input === input) return existing;
        throw new StepFunctionsError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`);
      }
    }
    const prefix = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}`;
    const executionArn = machine.type === 'STANDARD'
      ? `${prefix}:execution:${machine.name}:${name}`
      : `${prefix}:express:${machine.name}:${name}:${randomUUID()}`;
    const startDate = clock();
    const run = runDefinition(machine.prepared, parsed, {
      executionArn, executionName: name, stateMachineArn: machine.arn, stateMachineName: machine.name, roleArn: machine.roleArn, startDate,
    }, { tokens, heartbeatMillisPerSecond: options.heartbeatMillisPerSecond, onActivity: activity });
    let settle!: (e: LocalExecution) => void;
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      type: machine.type,
      input,
      startDate,
      status: 'RUNNING',
      events: run.events,
      statesEntered: run.statesEntered,
      retries: run.retries,
      run,
      done: new Promise<LocalExecution>((resolve) => { settle = resolve; }),
    };
    executions.set(executionArn, record);
    if (machine.type === 'STANDARD') named.set(key, record);
    void run.done.then((outcome) => {
      if (record.status === 'RUNNING') {
        record.status = outcome.status;
        record.stopDate = clock();
        if (outcome.status === 'SUCCEEDED') {
          record.output = JSON.stringify(outcome.output ?? null);
        } else {
          record.error = outcome.error;
          record.cause = outcome.cause;
        }
      }
      settle(record);
      activity();
    });
    activity();
    return record;
  };

  const stopExecution = (executionArn: string, error?: string, cause?: string): ExecutionRecord => {
    const record = standardExecutionOf(executionArn);
    if (record.status === 'RUNNING') {
      record.status = 'ABORTED';
      record.stopDate = clock();
      record.error = error;
      record.cause = cause;
      record.run.abort(error, cause);
    }
    return record;
  };

  const describe = (record: ExecutionRecord): Body => ({
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: epochSeconds(record.startDate),
    stopDate: epochSeconds(record.stopDate),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
  });

  const taskOutput = (body: Body): string => {
    const output = required(body, 'output');
    if (Buffer.byteLength(output, 'utf8') > MAX_PAYLOAD_BYTES) throw new StepFunctionsError('InvalidOutput', `Invalid Output: larger than ${MAX_PAYLOAD_BYTES} bytes`);
    return output;
  };

  const operations: Record<string, (body: Body) => Promise<Body> | Body> = {
    StartExecution: (body) => {
      const record = start(required(body, 'stateMachineArn'), optionalString(body, 'input'), optionalString(body, 'name'));
      return { executionArn: record.executionArn, startDate: epochSeconds(record.startDate) };
    },
    StartSyncExecution: async (body) => {
      const machine = machineOf(required(body, 'stateMachineArn'));
      if (machine.type !== 'EXPRESS') throw new StepFunctionsError('StateMachineTypeNotSupported', 'This operation is supported by EXPRESS state machines only');
      const record = start(machine.arn, optionalString(body, 'input'), optionalString(body, 'name'));
      await record.done;
      return { ...describe(record), billingDetails: { billedMemoryUsedInMB: 64, billedDurationInMilliseconds: 100 } };
    },
    DescribeExecution: (body) => describe(standardExecutionOf(required(body, 'executionArn'))),
    StopExecution: (body) => {
      const record = stopExecution(required(body, 'executionArn'), optionalString(body, 'error'), optionalString(body, 'cause'));
      return { stopDate: epochSeconds(record.stopDate) };
    },
    ListExecutions: (body) => {
      const machine = machineOf(required(body, 'stateMachineArn'));
      if (machine.type !== 'STANDARD') throw new StepFunctionsError('StateMachineTypeNotSupported', 'This operation is not supported by EXPRESS state machines');
      const status = optionalString(body, 'statusFilter');
      const matching = [...executions.values()]
        .filter((e) => e.stateMachineArn === machine.arn && (status === undefined || e.status === status))
        .reverse();
      const { page, nextToken } = pageOf(matching, body);
      return {
        executions: page.map((e) => ({
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: epochSeconds(e.startDate),
          stopDate: epochSeconds(e.stopDate),
        })),
        ...(nextToken !== undefined ? { nextToken } : {}),
      };
    },
    GetExecutionHistory: (body) => {
      const record = standardExecutionOf(required(body, 'executionArn'));
      const history = historyOf(record, machines.get(record.stateMachineArn)!, body.includeExecutionData !== false);
      const { page, nextToken } = pageOf(body.reverseOrder === true ? history.reverse() : history, body);
      return { events: page, ...(nextToken !== undefined ? { nextToken } : {}) };
    },
    SendTaskSuccess: (body) => {
      tokens.sendTaskSuccess(required(body, 'taskToken'), taskOutput(body));
      return {};
    },
    SendTaskFailure: (body) => {
      tokens.sendTaskFailure(required(body, 'taskToken'), optionalString(body, 'error'), optionalString(body, 'cause'));
      return {};
    },
    SendTaskHeartbeat: (body) => {
      tokens.sendTaskHeartbeat(required(body, 'taskToken'));
      return {};
    },
    DescribeStateMachine: (body) => {
      const machine = machineOf(required(body, 'stateMachineArn'));
      return {
        stateMachineArn: machine.arn,
        name: machine.name,
        status: 'ACTIVE',
        definition: machine.definition,
        roleArn: machine.roleArn,
        type: machine.type,
        creationDate: epochSeconds(machine.creationDate),
      };
    },
    ListStateMachines: (body) => {
      const { page, nextToken } = pageOf([...machines.values()], body);
      return {
        stateMachines: page.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: m.type, creationDate: epochSeconds(m.creationDate) })),
        ...(nextToken !== undefined ? { nextToken } : {}),
      };
    },
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = (await readBody(req)).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? operations[target.slice(TARGET_PREFIX.length)] : undefined;
      if (!operation) return sendJsonError(res, 'UnknownOperationException', `${target} is not supported here`, 400, PROTOCOL);
      let body: unknown;
      try {
        body = text === '' ? {} : JSON.parse(text);
      } catch {
        return sendJsonError(res, 'SerializationException', 'The body is not JSON', 400, PROTOCOL);
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) return sendJsonError(res, 'SerializationException', 'The body is not a JSON object', 400, PROTOCOL);
      try {
        sendJson(res, 200, await operation(body as Body), undefined, PROTOCOL);
      } catch (err) {
        if (err instanceof StepFunctionsError) return sendJsonError(res, err.name, err.message, 400, PROTOCOL);
        sendJsonError(res, 'InternalServerError', (err as Error).message, 500, PROTOCOL);
      }
    })();
  });
  const endpoint = await listenOnLoopback(server);

  return {
    endpoint,
    executions,
    stateMachines: machines,
    tokens,
    createStateMachine,
    startExecution: (stateMachineArn, input, name) => start(stateMachineArn, input === undefined ? undefined : JSON.stringify(input), name),
    stopExecution,
    async settled() {
      for (;;) {
        // Two turns of the event loop with nothing but idle or ended executions: the library moves
        // from state to state in microtasks, so a run between two tasks is seen as busy by then.
        let quiet = 0;
        while (quiet < 2) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          const busy = [...executions.values()].some((e) => e.status === 'RUNNING' && !e.run.idle());
          if (busy) break;
          quiet++;
        }
        if (quiet === 2) return;
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
        });
      }
    },
    async stop() {
      for (const record of executions.values()) {
        if (record.status === 'RUNNING' && record.type === 'STANDARD') stopExecution(record.executionArn, 'States.Aborted', 'The local engine stopped');
        else if (record.status === 'RUNNING') record.run.abort('States.Aborted', 'The local engine stopped');
      }
      dynamodb?.destroy();
      await closeServer(server);
    },
  };
}
