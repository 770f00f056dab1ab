/**
 * Cold-starts the canary lifecycle hooks (`lambda/canary/*.ts`) in an isolated module registry
 * (see `isolatedRequire`), once per environment and test file, with aws-sdk-client-mock stubs on
 * that registry's own SDK clients (reset on every load): no
 * local engine speaks CodeDeploy, Lambda Invoke or CloudWatch GetMetricData. Also builds the
 * CodeDeploy hook events and a Lambda context whose remaining time counts down for real.
 */
import type { InvokeCommandOutput } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { HookResult } from '../../lambda/canary/lib/lifecycle-hook';
import { lambdaContext } from '../helpers/api-gateway-events';
import { isolatedRequire, type Env } from '../helpers/load-handler';

/** Every variable a canary hook reads; unset before each load unless given. */
export const CANARY_ENV_VARS = [
  'TARGET_VERSION_ARN',
  'SMOKE_TEST_PAYLOAD',
  'SMOKE_TEST_EXPECT',
  'FUNCTION_NAME',
  'ALIAS_NAME',
  'TARGET_VERSION',
  'WINDOW_MINUTES',
  'MAX_ERRORS',
  'MAX_ERROR_RATE_PERCENT',
  'MIN_INVOCATIONS',
  'REQUIRE_INVOCATIONS',
  'POWERTOOLS_SERVICE_NAME',
] as const;

export const FUNCTION_NAME = 'my-fn';
export const TARGET_VERSION = '7';
export const TARGET_VERSION_ARN = `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION_NAME}:${TARGET_VERSION}`;
export const DEPLOYMENT_ID = 'd-A1B2C3D4E';
export const HOOK_EXECUTION_ID = 'eyJlbmNyeXB0ZWREYXRhIjoiYWJjIiwiaXZQYXJhbWV0ZXJTcGVjIjoieHl6In0=';

export interface HookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

export function hookEvent(overrides: Partial<HookEvent> = {}): HookEvent {
  return { DeploymentId: DEPLOYMENT_ID, LifecycleEventHookExecutionId: HOOK_EXECUTION_ID, ...overrides };
}

/** The exact status report expected for `hookEvent()`. */
export function expectedReport(status: 'Succeeded' | 'Failed'): Record<string, string> {
  return { deploymentId: DEPLOYMENT_ID, lifecycleEventHookExecutionId: HOOK_EXECUTION_ID, status };
}

/** A context whose `getRemainingTimeInMillis` counts down from `remainingMs`, like Lambda's. */
export function hookContext(remainingMs = 30_000, functionName = 'canary-hook'): Context {
  const deadline = performance.now() + remainingMs;
  return lambdaContext({
    functionName,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, Math.round(deadline - performance.now())),
  });
}

/** What Invoke returns as `Payload`: UTF-8 bytes with the SDK blob adapter's `transformToString`. */
export type InvokePayload = NonNullable<InvokeCommandOutput['Payload']>;

/** `value` as a JSON Invoke payload (a string is taken as the JSON text itself). */
export function jsonBytes(value: unknown): InvokePayload {
  const bytes = new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
  return Object.assign(bytes, { transformToString: () => new TextDecoder().decode(bytes) });
}

/** The options (`abortSignal`, `requestTimeout`) a recorded `send` call was given. */
export function sendOptions(call: { readonly args: readonly unknown[] }): { abortSignal?: AbortSignal; requestTimeout?: number } {
  return (call.args[1] ?? {}) as { abortSignal?: AbortSignal; requestTimeout?: number };
}

/** An SDK-style service error. */
export function awsError(name: string, message = name, fault: 'client' | 'server' = 'client', httpStatusCode = fault === 'server' ? 500 : 400): Error {
  return Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode } });
}

type Stub = AwsStub<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Handler = (event: unknown, context?: Context) => Promise<HookResult>;

export interface LoadedHook<Sdk> {
  readonly codedeploy: Stub;
  readonly codedeploySdk: typeof import('@aws-sdk/client-codedeploy');
  /** The check's client: Lambda (pre-traffic) or CloudWatch (post-traffic). */
  readonly checkClient: Stub;
  readonly checkSdk: Sdk;
  /** Calls the handler with `hookEvent()` and a context with 30 s left unless told otherwise. */
  invoke(event?: unknown, context?: Context): Promise<HookResult>;
  /** Inputs of every PutLifecycleEventHookExecutionStatus call, in order. */
  reports(): unknown[];
  /** Forgets the stubs' behaviours and recorded calls (the stubs stay in place). */
  reset(): void;
}

/**
 * Loaded hooks of this test file by entry and environment: a cold start (SDK included) costs
 * ~100 ms, and the handlers keep no state between invocations besides their lazy clients.
 */
const loadedHooks = new Map<string, LoadedHook<unknown>>();

function loadHook<Sdk>(entry: string, env: Env, checkModule: string, checkClient: (sdk: Sdk) => unknown): LoadedHook<Sdk> {
  const key = `${entry} ${JSON.stringify(env)}`;
  const cached = loadedHooks.get(key) as LoadedHook<Sdk> | undefined;
  if (cached !== undefined) {
    cached.reset();
    return cached;
  }
  const { module, others } = isolatedRequire<{ handler: Handler }>(`lambda/canary/${entry}`, env, CANARY_ENV_VARS, ['@aws-sdk/client-codedeploy', checkModule]);
  const codedeploySdk = others[0] as typeof import('@aws-sdk/client-codedeploy');
  const checkSdk = others[1] as Sdk;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const codedeploy = mockClient(codedeploySdk.CodeDeployClient) as Stub;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const check = mockClient(checkClient(checkSdk) as any) as Stub;
  const hook: LoadedHook<Sdk> = {
    invoke: (event = hookEvent(), context = hookContext()) => module.handler(event, context),
    codedeploy,
    codedeploySdk,
    checkClient: check,
    checkSdk,
    reports: () => codedeploy.commandCalls(codedeploySdk.PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input),
    reset() {
      codedeploy.reset();
      check.reset();
    },
  };
  loadedHooks.set(key, hook as LoadedHook<unknown>);
  return hook;
}

export type LoadedPreTraffic = LoadedHook<typeof import('@aws-sdk/client-lambda')>;
export type LoadedPostTraffic = LoadedHook<typeof import('@aws-sdk/client-cloudwatch')>;

export function loadPreTraffic(env: Env): LoadedPreTraffic {
  return loadHook<typeof import('@aws-sdk/client-lambda')>('pre-traffic', env, '@aws-sdk/client-lambda', (sdk) => sdk.LambdaClient);
}

export function loadPostTraffic(env: Env): LoadedPostTraffic {
  return loadHook<typeof import('@aws-sdk/client-cloudwatch')>('post-traffic', env, '@aws-sdk/client-cloudwatch', (sdk) => sdk.CloudWatchClient);
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then((value) => {
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
  }, (err: unknown) => err as Error);
}

/** Captures what Powertools writes (INFO and WARN to stdout, ERROR to stderr) as parsed JSON lines. */
export function captureLogs(): { lines(): Array<Record<string, unknown>>; restore(): void } {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    }));
  return {
    lines: () => chunks.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}
