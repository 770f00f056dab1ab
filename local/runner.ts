/**
 * Runs one synthesized stack on this machine: reads its template and assets from the cloud
 * assembly, starts a local engine for each kind of resource it has, runs its Node.js functions
 * with their template environment (every reference resolved to the local resource, every SDK
 * call pointed at the local engines), and serves or drives their triggers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStack } from './assembly';
import { startLocalDynamoDb, type LocalDynamoDb, type TableDefinition } from './engines/dynamodb';
import { LocalFunction, type FunctionLog, type InvokeOutcome, type InvokeOptions } from './functions';
import { servicesWithoutEngine, startNotEmulatedEndpoint, type NotEmulatedEndpoint } from './not-emulated';
import { LocalTemplate } from './template';
import { restApisOf, serveRestApi, type ServedRestApi } from './triggers/rest-api';

export interface LocalStackOptions {
  /** The stack to run: its artifact id (as `cdk deploy` takes it) or stack name. */
  readonly stack: string;
  /** @default 'cdk.out' */
  readonly assembly?: string;
  /** The port of the first REST API; the next APIs take the ports after it. 0 picks free ports. @default 3000 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** The runner's own lines (start-up, warnings). @default console.log */
  readonly log?: (line: string) => void;
  /** Each line a function writes. @default the runner's log, prefixed with `[function name]` */
  readonly functionLog?: FunctionLog;
}

export interface LocalApi {
  readonly logicalId: string;
  readonly name: string;
  /** Base URL with the stage, e.g. `http://127.0.0.1:3000/prod`. */
  readonly url: string;
}

export interface LocalStack {
  readonly stackName: string;
  readonly apis: readonly LocalApi[];
  /** What does not run locally, as start-up said it. */
  readonly notEmulated: readonly string[];
  /** The start-up report: what runs where, and what is not emulated. */
  readonly summary: string;
  /** The URL of the REST API with this logical id, or of the only one. */
  apiUrl(logicalId?: string): string;
  /** The environment an SDK client needs to reach the local engines (endpoints, Region, dummy credentials). */
  clientEnvironment(): Record<string, string>;
  /** Physical name (or `Ref`) of a resource by logical id. */
  ref(logicalId: string): string;
  /** Invokes a function (logical id, name or ARN) synchronously. */
  invoke(functionId: string, event: unknown, options?: InvokeOptions): Promise<InvokeOutcome>;
  stop(): Promise<void>;
}

/** Lambda's reserved variables and the endpoint variables every function gets. */
function functionEnvironment(
  template: LocalTemplate, logicalId: string, name: string, endpoints: Record<string, string>, fallback: string,
): Record<string, string> {
  const props = template.properties(logicalId);
  const declared = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(declared)) environment[key] = typeof value === 'string' ? value : JSON.stringify(value);
  const memory = String(props.MemorySize ?? 128);
  Object.assign(environment, {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_REGION: template.region,
    AWS_DEFAULT_REGION: template.region,
    AWS_ACCESS_KEY_ID: 'LOCALRUNNER',
    AWS_SECRET_ACCESS_KEY: 'local-runner',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: memory,
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_EXECUTION_ENV: `AWS_Lambda_${String(props.Runtime ?? 'nodejs')}`,
    _HANDLER: String(props.Handler ?? 'index.handler'),
    // Every service without a local engine: a clear error, and never a call to real AWS.
    AWS_ENDPOINT_URL: fallback,
  });
  for (const [service, endpoint] of Object.entries(endpoints)) environment[`AWS_ENDPOINT_URL_${service}`] = endpoint;
  return environment;
}

function tableDefinition(template: LocalTemplate, logicalId: string): TableDefinition {
  const props = template.properties(logicalId);
  const stream = props.StreamSpecification as { StreamViewType?: TableDefinition['streamViewType'] } | undefined;
  const indexes = (value: unknown) => ((value ?? []) as Array<Record<string, unknown>>)
    .map(({ IndexName, KeySchema, Projection }) => ({ IndexName: String(IndexName), KeySchema: KeySchema as unknown[], Projection }));
  return {
    name: template.physicalName(logicalId),
    keySchema: props.KeySchema as TableDefinition['keySchema'],
    attributeDefinitions: props.AttributeDefinitions as TableDefinition['attributeDefinitions'],
    globalSecondaryIndexes: indexes(props.GlobalSecondaryIndexes),
    localSecondaryIndexes: indexes(props.LocalSecondaryIndexes),
    streamViewType: stream?.StreamViewType,
  };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const functionLog: FunctionLog = options.functionLog ?? ((name, line) => log(`[${name}] ${line}`));
  const stack = readStack(options.assembly ?? 'cdk.out', options.stack);
  const template = new LocalTemplate(stack);
  const notEmulated: string[] = [];
  const report: string[] = [`Stack ${stack.stackName} (from ${stack.assemblyDir})`];
  const stoppers: Array<() => Promise<void>> = [];
  const endpoints: Record<string, string> = {};

  const fallback: NotEmulatedEndpoint = await startNotEmulatedEndpoint();
  stoppers.push(() => fallback.stop());

  try {
    // DynamoDB: tables with their keys, indexes and streams.
    const tableIds = [...template.resources('AWS::DynamoDB::Table'), ...template.resources('AWS::DynamoDB::GlobalTable')].map(([id]) => id);
    let dynamodb: LocalDynamoDb | undefined;
    if (tableIds.length > 0) {
      dynamodb = await startLocalDynamoDb();
      stoppers.push(() => dynamodb!.stop());
      endpoints.DYNAMODB = dynamodb.endpoint;
      for (const id of tableIds) {
        const definition = tableDefinition(template, id);
        await dynamodb.createTable(definition);
        const props = template.properties(id);
        if ((props.TimeToLiveSpecification as { Enabled?: boolean } | undefined)?.Enabled === true) {
          notEmulated.push(`table ${definition.name}: TTL is noted, expired items are not deleted`);
        }
        report.push(`  table   ${definition.name}${definition.streamViewType ? ` (stream ${definition.streamViewType})` : ''}`);
      }
      report.push(`  DynamoDB endpoint ${dynamodb.endpoint}`);
    }

    // Functions, from their assets.
    const functions = new Map<string, LocalFunction>();
    const codeDirs = new Map<string, string>();
    for (const [id, resource] of template.resources('AWS::Lambda::Function')) {
      const props = template.properties(id);
      const name = template.physicalName(id);
      const runtime = String(props.Runtime ?? '');
      if (!runtime.startsWith('nodejs')) {
        notEmulated.push(`function ${name} (${runtime || 'container image'}): only Node.js functions run locally`);
        continue;
      }
      const code = (resource.Properties?.Code ?? {}) as { S3Key?: unknown; ZipFile?: unknown };
      let codeDir: string | undefined;
      if (code.ZipFile !== undefined) {
        codeDir = mkdtempSync(join(tmpdir(), 'local-function-'));
        writeFileSync(join(codeDir, 'index.js'), String(template.resolve(code.ZipFile)));
      } else if (code.S3Key !== undefined) {
        codeDir = stack.assetPathOfObjectKey(String(template.resolve(code.S3Key)));
      }
      if (codeDir === undefined) {
        notEmulated.push(`function ${name}: its code is not an asset of this assembly`);
        continue;
      }
      codeDirs.set(id, codeDir);
      const definition = {
        logicalId: id,
        name,
        arn: String(template.getAtt(id, 'Arn')),
        codeDir,
        handler: String(props.Handler ?? 'index.handler'),
        environment: {},
        timeoutSeconds: Number(props.Timeout ?? 3),
        memoryMb: Number(props.MemorySize ?? 128),
        // Lambda's reserved concurrency, capped: each environment is a worker thread on this machine.
        maxConcurrency: Math.max(1, Math.min(10, Number(props.ReservedConcurrentExecutions ?? 10))),
      };
      const environment = functionEnvironment(template, id, name, endpoints, fallback.endpoint);
      functions.set(id, new LocalFunction({ ...definition, environment }, functionLog));
    }
    stoppers.push(async () => { await Promise.all([...functions.values()].map((f) => f.stop())); });
    for (const [id, services] of servicesWithoutEngine(template, [...functions.keys()])) {
      notEmulated.push(`function ${template.physicalName(id)} may call ${services.join(', ')}: not emulated, such calls fail with NotEmulatedByLocalRunner`);
    }
    for (const fn of functions.values()) report.push(`  function ${fn.name} (${fn.definition.handler}, ${fn.definition.timeoutSeconds} s)`);

    const functionByArn = (arn: string): LocalFunction | undefined => {
      const name = arn.startsWith('arn:') ? arn.split(':')[6] ?? '' : arn.split(':')[0] ?? '';
      for (const [id, fn] of functions) if (fn.name === name || id === name) return fn;
      return undefined;
    };
    const invoke = (functionId: string, event: unknown, invokeOptions: InvokeOptions = {}): Promise<InvokeOutcome> => {
      const fn = functions.get(functionId) ?? functionByArn(functionId);
      if (fn === undefined) return Promise.resolve({ ok: false, errorType: 'ResourceNotFoundException', errorMessage: `no function ${functionId} runs in this stack` });
      return fn.invoke(event, { invokedArn: functionId.startsWith('arn:') ? functionId : undefined, ...invokeOptions });
    };

    // REST APIs, each on its own port.
    const apis: ServedRestApi[] = [];
    let nextPort = options.port ?? 3000;
    for (const model of restApisOf(template)) {
      const served = await serveRestApi(model, {
        port: nextPort,
        host: options.host,
        log,
        invoke: (arn, event) => (functionByArn(arn) === undefined ? undefined : invoke(arn, event)),
      });
      apis.push(served);
      stoppers.push(() => served.stop());
      if (nextPort !== 0) nextPort++;
      report.push(`  REST API ${model.name}: ${served.url}/  (authorizers: send x-local-identity; nothing is authenticated locally)`);
    }

    const summary = [...report, ...(notEmulated.length > 0 ? ['Not emulated:', ...notEmulated.map((n) => `  - ${n}`)] : [])].join('\n');
    const clientEnvironment = (): Record<string, string> => ({
      AWS_REGION: template.region,
      AWS_ACCESS_KEY_ID: 'LOCALRUNNER',
      AWS_SECRET_ACCESS_KEY: 'local-runner',
      AWS_ENDPOINT_URL: fallback.endpoint,
      ...Object.fromEntries(Object.entries(endpoints).map(([service, endpoint]) => [`AWS_ENDPOINT_URL_${service}`, endpoint])),
    });

    return {
      stackName: stack.stackName,
      apis: apis.map((a) => ({ logicalId: a.model.logicalId, name: a.model.name, url: a.url })),
      apiUrl(logicalId) {
        const found = logicalId === undefined ? (apis.length === 1 ? apis[0] : undefined) : apis.find((a) => a.model.logicalId === logicalId);
        if (found === undefined) throw new Error(logicalId === undefined ? `the stack has ${apis.length} REST APIs: name one` : `no REST API ${logicalId}`);
        return found.url;
      },
      clientEnvironment,
      ref: (logicalId) => template.ref(logicalId),
      invoke,
      notEmulated,
      summary,
      async stop() {
        for (const stop of stoppers.reverse()) await stop();
      },
    };
  } catch (error) {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}
