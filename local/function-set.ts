/**
 * The stack's Node.js functions, each from its asset with the environment Lambda would give it:
 * the template's variables (resolved to local resources, `/var/task` and `/opt` paths to the
 * asset folder and the merged layers), Lambda's reserved variables and `NODE_PATH`, and the SDK
 * endpoint variables of the local engines, with a fallback endpoint that refuses every other service.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { devNull, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFunction, type FunctionLog, type InvokeOptions, type InvokeOutcome } from './functions';
import type { Provider, RunContext, RunningFunctions } from './provider';
import type { LocalTemplate } from './template';

/**
 * What every SDK client of the runner needs: dummy credentials, and neither this machine's
 * ~/.aws/config nor credentials file (`ignore_configured_endpoint_urls` there would send every call
 * to AWS; a profile there could sign with real keys).
 */
export const LOCAL_SDK_SETTINGS: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: 'LOCALRUNNER',
  AWS_SECRET_ACCESS_KEY: 'local-runner',
  AWS_CONFIG_FILE: devNull,
  AWS_SHARED_CREDENTIALS_FILE: devNull,
  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false',
};

/** Lambda's cap is the account's concurrency; each local environment is a worker thread, so fewer. */
const MAX_LOCAL_CONCURRENCY = 10;

export interface FunctionSet extends RunningFunctions {
  readonly functions: ReadonlyMap<string, LocalFunction>;
  stop(): Promise<void>;
}

/** A path of the Lambda file system (`/var/task`, `/opt`) as the local folder that holds it. */
function localPath(text: string, folders: Readonly<Record<string, string | undefined>>): string {
  for (const [root, folder] of Object.entries(folders)) {
    if (folder !== undefined && (text === root || text.startsWith(`${root}/`))) return join(folder, text.slice(root.length));
  }
  return text;
}

/** Where Lambda's Node.js runtime finds a layer's packages: `NODE_PATH`'s `/opt` folders, for the function's runtime. */
function layerModuleFolders(optDir: string | undefined, runtime: string): string[] {
  if (optDir === undefined) return [];
  return [join(optDir, 'nodejs', runtime.replace(/^nodejs(\d+).*$/, 'node$1'), 'node_modules'), join(optDir, 'nodejs', 'node_modules')];
}

function lambdaEnvironment(
  template: LocalTemplate, logicalId: string, name: string, codeDir: string, optDir: string | undefined, layerModules: readonly string[],
): Record<string, string> {
  const props = template.properties(logicalId);
  const declared = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(declared)) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    // The code's own folder is /var/task in Lambda and its layers are /opt; here they are asset folders.
    environment[key] = localPath(text, { '/var/task': codeDir, '/opt': optDir });
  }
  return {
    // Lambda's NODE_PATH, so that `require` finds a layer's node_modules; the function's own wins.
    NODE_PATH: [...layerModules, codeDir].join(':'),
    ...environment,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_REGION: template.region,
    AWS_DEFAULT_REGION: template.region,
    ...LOCAL_SDK_SETTINGS,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props.MemorySize ?? 128),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_EXECUTION_ENV: `AWS_Lambda_${String(props.Runtime ?? 'nodejs')}`,
    LAMBDA_TASK_ROOT: codeDir,
    // The SDK warns at every cold start that this machine's Node.js is old; Lambda runs Node.js 24.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    _HANDLER: String(props.Handler ?? 'index.handler'),
  };
}

/** The folder of a function's code: its asset, or a file written from inline code. */
function codeDirOf(context: RunContext, logicalId: string): string | undefined {
  const code = (context.template.resource(logicalId).Properties?.Code ?? {}) as { S3Key?: unknown; ZipFile?: unknown };
  if (code.ZipFile !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'local-function-'));
    writeFileSync(join(dir, 'index.js'), String(context.template.resolve(code.ZipFile)));
    context.onStop(async () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }
  return code.S3Key !== undefined ? context.stack.assetPathOfObjectKey(String(context.template.resolve(code.S3Key))) : undefined;
}

/**
 * The folder that is a function's `/opt`: its layers of this stack, extracted in order with a
 * later layer's files over an earlier one's, as Lambda does (one layer is its asset folder as it
 * is; several are copied into a folder of their own, shared by the functions with the same layers).
 * Paths under `/opt` in its environment and `NODE_PATH` point there; code that reads `/opt` by a
 * literal path still reads this machine's `/opt`.
 */
function optDirOf(context: RunContext, logicalId: string, functionName: string, merged: Map<string, string>): string | undefined {
  const { template } = context;
  const layers = (template.properties(logicalId).Layers ?? []) as string[];
  const folders: string[] = [];
  for (const layer of layers) {
    const layerId = template.logicalIdOf(layer);
    const key = layerId === undefined ? undefined : (template.resource(layerId).Properties?.Content as { S3Key?: unknown } | undefined)?.S3Key;
    const folder = key === undefined ? undefined : context.stack.assetPathOfObjectKey(String(template.resolve(key)));
    if (folder === undefined) {
      context.notEmulated(`function ${functionName}: layer ${layer} is not an asset of this stack, so its files are not in /opt`);
    } else {
      folders.push(folder);
    }
  }
  if (folders.length <= 1) return folders[0];
  const cacheKey = folders.join('\n');
  let opt = merged.get(cacheKey);
  if (opt === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'local-opt-'));
    for (const folder of folders) cpSync(folder, dir, { recursive: true, force: true });
    context.onStop(async () => rmSync(dir, { recursive: true, force: true }));
    merged.set(cacheKey, opt = dir);
  }
  return opt;
}

/** Lambda retries a failed asynchronous invocation twice unless the function's event invoke config says otherwise. */
const DEFAULT_ASYNC_RETRIES = 2;

interface AsyncInvokeConfig {
  readonly retries: number;
  readonly onFailure?: string;
  readonly deadLetterQueue?: string;
}

/** Per function logical id: its `AWS::Lambda::EventInvokeConfig` and `DeadLetterConfig`. */
function asyncInvokeConfigs(context: RunContext): Map<string, AsyncInvokeConfig> {
  const { template } = context;
  const configs = new Map<string, AsyncInvokeConfig>();
  for (const [id] of template.resources('AWS::Lambda::Function')) {
    const dlq = (template.properties(id).DeadLetterConfig as { TargetArn?: string } | undefined)?.TargetArn;
    configs.set(id, { retries: DEFAULT_ASYNC_RETRIES, deadLetterQueue: dlq });
  }
  for (const [id] of template.resources('AWS::Lambda::EventInvokeConfig')) {
    const props = template.properties(id);
    const fn = template.logicalIdOf(String(props.FunctionName));
    if (fn === undefined) continue;
    const onFailure = (props.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure?.Destination;
    configs.set(fn, { ...configs.get(fn), retries: Number(props.MaximumRetryAttempts ?? DEFAULT_ASYNC_RETRIES), onFailure });
  }
  return configs;
}

/**
 * Where an asynchronous invocation goes once its retries are exhausted (Lambda developer guide,
 * "Handling errors in asynchronous invocations"): the on-failure destination gets the invocation
 * record, else the dead-letter queue gets the event with its RequestID/ErrorCode/ErrorMessage.
 */
async function deliverAsyncFailure(
  context: RunContext, fn: LocalFunction, config: AsyncInvokeConfig, event: unknown, outcome: InvokeOutcome, attempts: number,
): Promise<void> {
  const error = outcome.ok ? undefined : outcome;
  const requestId = randomUUID();
  try {
    if (config.onFailure !== undefined) {
      await context.deliver(config.onFailure, {
        body: JSON.stringify({
          version: '1.0',
          timestamp: new Date().toISOString(),
          requestContext: { requestId, functionArn: `${fn.definition.arn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: attempts },
          requestPayload: event,
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          responsePayload: { errorType: error?.errorType, errorMessage: error?.errorMessage },
        }),
      });
    } else if (config.deadLetterQueue !== undefined) {
      await context.deliver(config.deadLetterQueue, {
        body: JSON.stringify(event),
        messageAttributes: {
          RequestID: { DataType: 'String', StringValue: requestId },
          ErrorCode: { DataType: 'Number', StringValue: '200' },
          ErrorMessage: { DataType: 'String', StringValue: (error?.errorMessage ?? '').slice(0, 256) || 'failed' },
        },
      });
    } else {
      context.log(`asynchronous invocation of ${fn.name} failed ${attempts} times and was dropped (no on-failure destination or dead-letter queue): ${error?.errorType}: ${error?.errorMessage}`);
    }
  } catch (failure) {
    context.log(`asynchronous invocation of ${fn.name}: its failure destination refused it: ${String(failure)}`);
  }
}

export function startFunctions(
  context: RunContext,
  providers: readonly Provider[],
  sdkEnvironment: Readonly<Record<string, string>>,
  log: FunctionLog,
): FunctionSet {
  const { template } = context;
  const functions = new Map<string, LocalFunction>();
  const codeDirs = new Map<string, string>();
  const mergedLayers = new Map<string, string>();
  for (const [id] of template.resources('AWS::Lambda::Function')) {
    const props = template.properties(id);
    const name = template.physicalName(id);
    const runtime = String(props.Runtime ?? '');
    if (!runtime.startsWith('nodejs')) {
      context.notEmulated(`function ${name} (${runtime || 'container image'}): only Node.js functions run locally`);
      continue;
    }
    const codeDir = codeDirOf(context, id);
    if (codeDir === undefined) {
      context.notEmulated(`function ${name}: its code is not an asset of this assembly`);
      continue;
    }
    codeDirs.set(id, codeDir);
    const optDir = optDirOf(context, id, name, mergedLayers);
    const layerModules = layerModuleFolders(optDir, runtime);
    let environment = { ...lambdaEnvironment(template, id, name, codeDir, optDir, layerModules), ...sdkEnvironment };
    for (const provider of providers) environment = provider.environment?.(id, environment) ?? environment;
    const timeoutSeconds = Number(props.Timeout ?? 3);
    functions.set(id, new LocalFunction({
      logicalId: id,
      name,
      arn: String(template.getAtt(id, 'Arn')),
      codeDir,
      handler: String(props.Handler ?? 'index.handler'),
      environment,
      timeoutSeconds,
      memoryMb: Number(props.MemorySize ?? 128),
      maxConcurrency: Math.max(1, Math.min(MAX_LOCAL_CONCURRENCY, Number(props.ReservedConcurrentExecutions ?? MAX_LOCAL_CONCURRENCY))),
      layerModules,
    }, log));
    context.report(`function ${name} (${String(props.Handler)}, ${timeoutSeconds} s)`);
  }

  const find = (functionId: string): LocalFunction | undefined => {
    const direct = functions.get(functionId);
    if (direct !== undefined) return direct;
    // An ARN, qualified (`:alias`, `:1`) or not, or a name.
    const name = functionId.startsWith('arn:') ? functionId.split(':')[6] ?? '' : functionId.split(':')[0] ?? '';
    for (const fn of functions.values()) if (fn.name === name) return fn;
    return undefined;
  };
  const asyncConfig = asyncInvokeConfigs(context);
  let running = 0;
  const invoke = async (functionId: string, event: unknown, options: InvokeOptions = {}): Promise<InvokeOutcome> => {
    const fn = find(functionId);
    if (fn === undefined) return { ok: false, errorType: 'ResourceNotFoundException', errorMessage: `Function not found: ${functionId}` };
    running++;
    try {
      return await fn.invoke(event, { invokedArn: functionId.startsWith('arn:') ? functionId : undefined, ...options });
    } finally {
      running--;
    }
  };
  return {
    functions,
    has: (functionId) => find(functionId) !== undefined,
    invoke,
    async invokeAsync(functionId, event) {
      const fn = find(functionId);
      if (fn === undefined) return invoke(functionId, event);
      const config = asyncConfig.get(fn.definition.logicalId) ?? { retries: DEFAULT_ASYNC_RETRIES };
      let outcome: InvokeOutcome = { ok: false, errorType: 'ServiceException', errorMessage: 'not invoked' };
      let attempts = 0;
      for (; attempts <= config.retries; attempts++) {
        outcome = await invoke(functionId, event);
        if (outcome.ok) return outcome;
      }
      await deliverAsyncFailure(context, fn, config, event, outcome, attempts);
      return outcome;
    },
    invocationsOf: (functionId) => find(functionId)?.invocations ?? 0,
    activity: () => ({ invocations: [...functions.values()].reduce((sum, f) => sum + f.invocations, 0), running }),
    codeDir: (functionId) => {
      const fn = find(functionId);
      return fn === undefined ? undefined : codeDirs.get(fn.definition.logicalId);
    },
    async stop() {
      await Promise.all([...functions.values()].map((f) => f.stop()));
    },
  };
}
