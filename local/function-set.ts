/**
 * The stack's Node.js functions, each from its asset with the environment Lambda would give it:
 * the template's variables (resolved to local resources, `/var/task` paths to the asset folder),
 * Lambda's reserved variables, and the SDK endpoint variables of the local engines, with a
 * fallback endpoint that refuses every other service.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFunction, type FunctionLog, type InvokeOptions, type InvokeOutcome } from './functions';
import type { Provider, RunContext, RunningFunctions } from './provider';
import type { LocalTemplate } from './template';

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

function lambdaEnvironment(
  template: LocalTemplate, logicalId: string, name: string, codeDir: string, layerDir: string | undefined,
): Record<string, string> {
  const props = template.properties(logicalId);
  const declared = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(declared)) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    // The code's own folder is /var/task in Lambda and its layer is /opt; here they are asset folders.
    environment[key] = localPath(text, { '/var/task': codeDir, '/opt': layerDir });
  }
  return {
    ...environment,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_REGION: template.region,
    AWS_DEFAULT_REGION: template.region,
    AWS_ACCESS_KEY_ID: 'LOCALRUNNER',
    AWS_SECRET_ACCESS_KEY: 'local-runner',
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
    return dir;
  }
  return code.S3Key !== undefined ? context.stack.assetPathOfObjectKey(String(context.template.resolve(code.S3Key))) : undefined;
}

/**
 * The folder of a function's layer (its `/opt`): the asset of its one `AWS::Lambda::LayerVersion`
 * of this stack. Paths under `/opt` in its environment point there; code that reads `/opt` by a
 * literal path still reads this machine's `/opt`.
 */
function layerDirOf(context: RunContext, logicalId: string, functionName: string): string | undefined {
  const { template } = context;
  const layers = (template.properties(logicalId).Layers ?? []) as string[];
  if (layers.length === 0) return undefined;
  const local = layers.map((ref) => template.logicalIdOf(ref)).filter((id): id is string => id !== undefined);
  if (layers.length > 1 || local.length === 0) {
    context.notEmulated(`function ${functionName}: layers other than one layer of this stack are not mounted at /opt`);
  }
  const layer = local[0];
  if (layer === undefined) return undefined;
  const key = (template.resource(layer).Properties?.Content as { S3Key?: unknown } | undefined)?.S3Key;
  return key === undefined ? undefined : context.stack.assetPathOfObjectKey(String(template.resolve(key)));
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
    const layerDir = layerDirOf(context, id, name);
    let environment = { ...lambdaEnvironment(template, id, name, codeDir, layerDir), ...sdkEnvironment };
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
  return {
    functions,
    has: (functionId) => find(functionId) !== undefined,
    invoke(functionId: string, event: unknown, options: InvokeOptions = {}): Promise<InvokeOutcome> {
      const fn = find(functionId);
      if (fn === undefined) return Promise.resolve({ ok: false, errorType: 'ResourceNotFoundException', errorMessage: `Function not found: ${functionId}` });
      return fn.invoke(event, { invokedArn: functionId.startsWith('arn:') ? functionId : undefined, ...options });
    },
    codeDir: (functionId) => {
      const fn = find(functionId);
      return fn === undefined ? undefined : codeDirs.get(fn.definition.logicalId);
    },
    async stop() {
      await Promise.all([...functions.values()].map((f) => f.stop()));
    },
  };
}
