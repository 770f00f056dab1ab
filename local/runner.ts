/**
 * Runs one synthesized stack on this machine: reads its template and assets from the cloud
 * assembly, starts a local engine for each kind of resource it has (one provider each), runs its
 * Node.js functions with their template environment (every reference resolved to the local
 * resource, every SDK call pointed at the local engines), and serves or drives their triggers.
 */
import { readStack } from './assembly';
import { LOCAL_SDK_SETTINGS, startFunctions } from './function-set';
import type { FunctionLog, InvokeOptions, InvokeOutcome } from './functions';
import { servicesWithoutEngine, startNotEmulatedEndpoint } from './not-emulated';
import type { Destination, Provider, RunContext } from './provider';
import { DynamoDbProvider } from './providers/dynamodb';
import { EfsProvider } from './providers/efs';
import { EventBridgeProvider } from './providers/event-bridge';
import { EventSourceMappingProvider } from './providers/event-source-mappings';
import { KinesisProvider } from './providers/kinesis';
import { LambdaProvider } from './providers/lambda';
import { PostgresProvider } from './providers/postgres';
import { RestApiProvider } from './providers/rest-api';
import { SchedulesProvider } from './providers/schedules';
import { SecretsManagerProvider } from './providers/secrets-manager';
import { SnsProvider } from './providers/sns';
import { SqsProvider } from './providers/sqs';
import { StepFunctionsProvider } from './providers/step-functions';
import { WebSiteProvider } from './providers/web-site';
import { LocalTemplate } from './template';

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
  /**
   * How much faster than the wall clock the engines' own clocks run: visibility timeouts, delays
   * and retention of queues. Tests set it to see a poison message redriven without waiting.
   * @default 1
   */
  readonly timeScale?: number;
  /**
   * `rate`: schedules fire on their `rate(...)` (and `at(...)`); `manual`: only when fired
   * (`fireSchedule`). @default 'manual'
   */
  readonly schedules?: 'rate' | 'manual';
  /** A JSON file of secret values by secret name or logical id (see the README). @default - generated or empty values */
  readonly secretsFile?: string;
  /** The folder that stands in for EFS file systems (one subfolder each). @default a fresh temporary folder, removed at stop */
  readonly efsRoot?: string;
  /** Each start-up step as it begins, for a progress display. */
  readonly progress?: (step: string) => void;
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
  /** The CloudFront distributions served locally: their site and its proxied origins. */
  readonly sites: ReadonlyArray<{ readonly logicalId: string; readonly url: string }>;
  /** What does not run locally, as start-up said it. */
  readonly notEmulated: readonly string[];
  /** The start-up report: what runs where, and what is not emulated. */
  readonly summary: string;
  /** The URL of the REST API with this logical id, or of the only one. */
  apiUrl(logicalId?: string): string;
  /** The environment an SDK client needs to reach the local engines (endpoints, Region, dummy credentials). */
  clientEnvironment(): Record<string, string>;
  /** What `Ref` gives for a resource, by logical id (a table's name, a queue's local URL). */
  ref(logicalId: string): string;
  /** Invokes a function (logical id, name or ARN) synchronously. */
  invoke(functionId: string, event: unknown, options?: InvokeOptions): Promise<InvokeOutcome>;
  /** How many times a function (logical id, name or ARN) was invoked so far, retries included. */
  invocations(functionId: string): number;
  /** Fires a schedule (logical id or name) once; resolves with its target's outcome. */
  fireSchedule(scheduleId: string): Promise<InvokeOutcome>;
  /**
   * Resolves when every poller has caught up with its source (records, messages, events) and no
   * invocation runs or is started by another. A message that keeps failing without a dead-letter
   * queue, or a stream record retried forever (`MaximumRetryAttempts: -1`), never settles, as in AWS:
   * give `timeoutMs` to fail with what is still running instead of waiting for ever.
   */
  settled(options?: { readonly timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const functionLog: FunctionLog = options.functionLog ?? ((name, line) => log(`[${name}] ${line}`));
  const stack = readStack(options.assembly ?? 'cdk.out', options.stack);
  const template = new LocalTemplate(stack);
  const report: string[] = [];
  const notEmulated: string[] = [];
  const endpoints: Record<string, string> = {};
  const stoppers: Array<() => Promise<void>> = [];
  const destinations: Destination[] = [];
  const context: RunContext = {
    template,
    stack,
    log,
    report: (line) => report.push(line),
    notEmulated: (line) => notEmulated.push(line),
    endpoint: (service, url) => { endpoints[service] = url; },
    onStop: (stop) => { stoppers.push(stop); },
    addDestination: (destination) => { destinations.push(destination); },
    async deliver(arn, message) {
      const destination = destinations.find((d) => d.accepts(arn));
      if (destination === undefined) throw new Error(`nothing in the local stack takes messages for ${arn}`);
      await destination.deliver(arn, message);
    },
  };
  // The functions stop first: a poller waiting on a long invocation would hold the stop up for it.
  let stopFunctions: (() => Promise<void>) | undefined;
  const stopAll = async (): Promise<void> => {
    await stopFunctions?.().catch((error: unknown) => log(`stopping the functions: ${String(error)}`));
    for (const stop of stoppers.splice(0).reverse()) await stop().catch((error: unknown) => log(`stopping: ${String(error)}`));
  };

  const dynamodb = new DynamoDbProvider();
  const kinesis = new KinesisProvider();
  const started = Date.now();
  const scale = options.timeScale ?? 1;
  const sqs = new SqsProvider({ clock: scale === 1 ? undefined : () => started + (Date.now() - started) * scale });
  const sns = new SnsProvider(sqs);
  const mappings = new EventSourceMappingProvider({ dynamodb, kinesis, queues: sqs });
  const events = new EventBridgeProvider();
  const schedules = new SchedulesProvider(options.schedules ?? 'manual');
  const lambda = new LambdaProvider();
  const secrets = new SecretsManagerProvider({ secretsFile: options.secretsFile });
  const stepFunctions = new StepFunctionsProvider({ dynamodb, sqs, events });
  const restApis = new RestApiProvider({ port: options.port, host: options.host });
  const webSites = new WebSiteProvider({ restApis, host: options.host });
  // Order matters: engines before the functions (prepare), the database's migrations before the
  // APIs serve, and the sites after the APIs they proxy (connect).
  const providers: Provider[] = [
    dynamodb, kinesis, sqs, sns, events, secrets, new PostgresProvider(), new EfsProvider({ root: options.efsRoot }),
    stepFunctions, lambda, mappings, schedules, restApis, webSites,
  ];
  try {
    const fallback = await startNotEmulatedEndpoint();
    context.onStop(() => fallback.stop());
    for (const provider of providers) {
      if (provider.prepare === undefined) continue;
      options.progress?.(`starting ${provider.name}`);
      await provider.prepare(context);
    }
    options.progress?.('starting the functions');

    const sdkEnvironment: Record<string, string> = {
      // Every service without a local engine gets a clear error, and no call ever reaches real AWS.
      AWS_ENDPOINT_URL: fallback.endpoint,
      ...Object.fromEntries(Object.entries(endpoints).map(([service, url]) => [`AWS_ENDPOINT_URL_${service}`, url])),
    };
    const functions = startFunctions(context, providers, sdkEnvironment, functionLog);
    stopFunctions = () => functions.stop();
    for (const [id, services] of servicesWithoutEngine(template, [...functions.functions.keys()])) {
      notEmulated.push(`function ${template.physicalName(id)} may call ${services.join(', ')}: not emulated, such calls fail with NotEmulatedByLocalRunner`);
    }
    for (const provider of providers) {
      if (provider.connect === undefined) continue;
      options.progress?.(`connecting ${provider.name}`);
      await provider.connect(context, functions);
    }

    const summary = [
      `Stack ${stack.stackName} (${stack.assemblyDir})`,
      ...report.map((line) => `  ${line}`),
      ...(notEmulated.length > 0 ? ['Not emulated:', ...notEmulated.map((line) => `  - ${line}`)] : []),
    ].join('\n');
    const apis = restApis.apis;
    return {
      stackName: stack.stackName,
      apis: apis.map((a) => ({ logicalId: a.model.logicalId, name: a.model.name, url: a.url })),
      sites: webSites.sites.map((site) => ({ logicalId: site.logicalId, url: site.url })),
      notEmulated,
      summary,
      apiUrl(logicalId) {
        const found = logicalId === undefined ? (apis.length === 1 ? apis[0] : undefined) : apis.find((a) => a.model.logicalId === logicalId);
        if (found === undefined) throw new Error(logicalId === undefined ? `the stack has ${apis.length} REST APIs: name one` : `no REST API ${logicalId}`);
        return found.url;
      },
      clientEnvironment: () => ({ AWS_REGION: template.region, ...LOCAL_SDK_SETTINGS, ...sdkEnvironment }),
      ref: (logicalId) => template.ref(logicalId),
      invoke: (functionId, event, invokeOptions) => functions.invoke(functionId, event, invokeOptions),
      invocations: (functionId) => functions.invocationsOf(functionId),
      fireSchedule: (scheduleId) => schedules.fire(scheduleId),
      async settled(settleOptions = {}) {
        // Round after round until one starts no invocation: what one trigger does (a message
        // processed) can start another (a publish, an event, a message).
        const rounds = async (): Promise<void> => {
          for (;;) {
            const before = functions.activity().invocations;
            await lambda.settled();
            await stepFunctions.settled();
            await sns.settled();
            await events.settled();
            await mappings.settled();
            const after = functions.activity();
            if (after.invocations === before && after.running === 0) return;
          }
        };
        if (settleOptions.timeoutMs === undefined) return rounds();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const { invocations, running } = functions.activity();
            const waiting = sqs.engine?.queues().filter((queue) => queue.messages().length > 0).map((queue) => queue.name) ?? [];
            reject(new Error(`not settled after ${settleOptions.timeoutMs} ms: ${running} invocations running (${invocations} so far)` +
              (waiting.length > 0 ? `; messages still in ${waiting.join(', ')}` : '')));
          }, settleOptions.timeoutMs);
        });
        try {
          await Promise.race([rounds(), timeout]);
        } finally {
          clearTimeout(timer);
        }
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
