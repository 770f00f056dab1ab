/**
 * Runs a SYNTHESIZED state machine locally, on the task bindings of the local Step Functions
 * engine (local/engines/step-functions-tasks.ts, over `aws-local-stepfunctions`):
 * - `definitionFromTemplate` takes the `DefinitionString` of a template and resolves its
 *   intrinsics (`Fn::Join`, `Ref`, `Fn::GetAtt`) with local stand-ins for ARNs, queue URLs and
 *   names (a table's `Ref` becomes the dynalite table given for it);
 * - `runLocalExecution` runs it with the engine's Context Object (execution id/name, a task token
 *   per attempt) and binds each Task state by its resource: Lambda functions to local handlers,
 *   `dynamodb:*` service integrations to dynalite (executing the state's own resolved Parameters,
 *   errors named `DynamoDB.<name>` as Step Functions names them), `sqs:sendMessage.waitForTaskToken`
 *   to the test's external system, which answers through the `TaskTokenBroker`
 *   (SendTaskSuccess/Failure/Heartbeat); a silent one fails the state with
 *   `States.HeartbeatTimeout` after the state's own `HeartbeatSeconds` (scaled:
 *   `heartbeatMillisPerSecond`, so a silent external system needs no long wait);
 * - every Retry interval is scaled to 0: retries are counted, never waited for;
 * - `faults` and `lostAnswers` fail chosen attempts of a state before or after it ran.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../local/engines/aws-protocol';
import {
  prepareDefinition, runDefinition, StepFunctionsError, TaskTokens, type AslDefinition, type EventLog,
} from '../../local/engines/step-functions-tasks';

export { LOCAL_ACCOUNT, LOCAL_REGION };
export type { AslDefinition, EventLog };

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
export { StepFunctionsError as NamedError };

export type LocalLambda = (event: unknown) => Promise<unknown>;

/** One message sent by a `.waitForTaskToken` state. */
export interface CallbackMessage {
  readonly stateName: string;
  readonly queueUrl: string;
  readonly body: Record<string, unknown>;
}

/**
 * The engine's task tokens, answered by the test's callback handler (its SFN client is mocked to
 * call these methods). Any token that is not open answers TaskTimedOut, as for a token that was
 * answered or timed out: the tests' made-up tokens stand for those.
 */
export class TaskTokenBroker extends TaskTokens {
  protected notOpen(): never {
    throw new StepFunctionsError('TaskTimedOut', 'Task Timed Out: \'Provided task does not exist anymore\'');
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
  /** FAILED also for an execution that timed out (`error.name` States.Timeout). */
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

const MACHINE_NAME = 'Saga';

export function executionArnOf(name: string, workflowType: 'STANDARD' | 'EXPRESS' = 'STANDARD'): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${workflowType === 'EXPRESS' ? 'express' : 'execution'}:${MACHINE_NAME}:${name}`;
}

export async function runLocalExecution(definition: AslDefinition, input: unknown, options: LocalExecutionOptions): Promise<LocalExecutionResult> {
  const type = options.workflowType ?? 'STANDARD';
  for (const [stateName, state] of Object.entries(definition.States)) {
    const resource = state.Resource;
    if (typeof resource === 'string' && resource.startsWith('arn:aws:lambda:') && !options.lambdas[resource]) {
      throw new Error(`No local handler for ${stateName} (${resource})`);
    }
  }
  const prepared = prepareDefinition(definition, {
    name: MACHINE_NAME,
    type,
    retryIntervalScale: 0,
    bindings: {
      invokeFunction: async (arn, payload) => options.lambdas[arn](payload),
      sendQueueMessage: async (queueUrl, body, extra) => {
        await options.onCallbackMessage?.({ stateName: extra.sentBy.stateName, queueUrl, body: JSON.parse(body) as Record<string, unknown> });
      },
      dynamodb: options.dynamodb,
    },
  });
  const faults = Object.fromEntries(Object.entries(options.faults ?? {}).map(([k, v]) => [k, [...v]]));
  const lostAnswers = Object.fromEntries(Object.entries(options.lostAnswers ?? {}).map(([k, v]) => [k, [...v]]));
  const executionArn = executionArnOf(options.executionName, type);
  const run = runDefinition(prepared, input, {
    executionArn,
    executionName: options.executionName,
    stateMachineArn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${MACHINE_NAME}`,
    stateMachineName: MACHINE_NAME,
    roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${MACHINE_NAME}`,
    startDate: new Date(),
  }, {
    tokens: options.broker ?? new TaskTokenBroker(),
    heartbeatMillisPerSecond: options.heartbeatMillisPerSecond ?? 1,
    wrapTask: (stateName, attempt) => async (taskInput) => {
      const fault = faults[stateName]?.shift();
      if (fault) throw fault;
      const output = await attempt(taskInput);
      const lost = lostAnswers[stateName]?.shift();
      if (lost) throw lost;
      return output;
    },
  });
  const outcome = await run.done;
  return {
    ...(outcome.status === 'SUCCEEDED'
      ? { status: outcome.status, output: outcome.output }
      : { status: 'FAILED' as const, error: { name: outcome.error ?? '', message: outcome.cause ?? '' } }),
    executionArn,
    events: run.events,
    statesEntered: run.statesEntered,
    retries: run.retries,
  };
}
