/**
 * Runs Node.js Lambda functions from their assets, as Lambda does: each execution environment is
 * a worker thread with exactly the function's environment, which imports the handler once (its
 * cold start) and then serves one invocation at a time. Concurrent invocations get more
 * environments, up to the function's reserved concurrency. A timeout ends the environment, as
 * Lambda ends the sandbox; so does a crash. Results cross as JSON, as over Lambda's API.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export interface FunctionDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The folder holding the function's code (its asset). */
  readonly codeDir: string;
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** At most this many environments at once. */
  readonly maxConcurrency: number;
  /**
   * Its layers' `node_modules` folders, in `NODE_PATH`'s order: where an ES module's `import` of a
   * package by name looks last, as Lambda's runtime does (Node.js's ES-module loader ignores `NODE_PATH`).
   */
  readonly layerModules?: readonly string[];
}

export type InvokeOutcome =
  | { readonly ok: true; readonly payload: unknown }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string; readonly trace?: readonly string[] };

export interface InvokeOptions {
  /** The ARN the caller used (an alias or version ARN), as `context.invokedFunctionArn`. */
  readonly invokedArn?: string;
}

/**
 * Module resolution hooks for an environment whose function has layers: a package an ES module
 * imports by name and does not find beside itself is looked for in the layers, as from a module
 * in each folder above their `node_modules`.
 */
const LAYER_RESOLVE_HOOKS = `data:text/javascript,${encodeURIComponent(`
let parents = [];
export function initialize(data) { parents = data.parents; }
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || /^(\\.|\\/|[a-z][a-z0-9+.-]*:)/i.test(specifier)) throw error;
    for (const parentURL of parents) {
      try { return await nextResolve(specifier, { ...context, parentURL }); } catch {}
    }
    throw error;
  }
}`)}`;

/** Writes one line of a function's output. */
export type FunctionLog = (functionName: string, line: string) => void;

/**
 * The environment's bootstrap: it imports the handler on the first invocation (so an init error
 * is that invocation's error, as in Lambda) and builds a Lambda context whose remaining time
 * counts down to the deadline the host set.
 */
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
process.setSourceMapsEnabled?.(true);
if (workerData.layerParents.length > 0) {
  require('node:module').register(workerData.layerHooks, { data: { parents: workerData.layerParents } });
}
// The SDK prefixes some operations' host (StartSyncExecution: "sync-"); a loopback endpoint's
// prefixed name resolves nowhere, so it is sent to the loopback address itself.
const dns = require('node:dns');
const lookup = dns.lookup;
// A call to AWS itself (a URL the code built, an imported queue, an SDK that ignores the endpoint
// variables) is refused here, so nothing a local function does ever reaches an AWS account.
const AWS_DOMAIN = /(^|\.)(amazonaws\.com|amazonaws\.com\.cn|api\.aws|on\.aws)\.?$/i;
dns.lookup = function (hostname, ...rest) {
  if (AWS_DOMAIN.test(String(hostname))) {
    const callback = rest[rest.length - 1];
    const error = Object.assign(new Error(hostname + ': the local runner never calls AWS; this resource is not local (see "What runs locally")'), { code: 'ENOTFOUND', hostname });
    if (typeof callback === 'function') { process.nextTick(() => callback(error)); return {}; }
    throw error;
  }
  const prefixed = /^[a-z0-9-]+-(127\.\d+\.\d+\.\d+)$/.exec(String(hostname));
  return lookup.call(this, prefixed ? prefixed[1] : hostname, ...rest);
};
// The function's output travels on the same port as its results, so every line it wrote during an
// invocation reaches the host before that invocation's answer (a piped stdout may lag behind it).
const partial = { stdout: '', stderr: '' };
function flushOutput() {
  for (const name of ['stdout', 'stderr']) {
    if (partial[name] !== '') parentPort.postMessage({ log: partial[name] });
    partial[name] = '';
  }
}
for (const name of ['stdout', 'stderr']) {
  process[name].write = (chunk, encoding, callback) => {
    partial[name] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let newline = partial[name].indexOf('\\n');
    while (newline >= 0) {
      parentPort.postMessage({ log: partial[name].slice(0, newline) });
      partial[name] = partial[name].slice(newline + 1);
      newline = partial[name].indexOf('\\n');
    }
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') done();
    return true;
  };
}
let loaded;
function load() {
  loaded ??= import(pathToFileURL(workerData.entry).href).then((module) => {
    let handler = module;
    for (const part of workerData.exportPath) handler = handler?.[part] ?? handler?.default?.[part];
    if (typeof handler !== 'function') {
      const error = new Error(workerData.handler + ' is undefined or not exported');
      error.name = 'Runtime.HandlerNotFound';
      throw error;
    }
    return handler;
  });
  return loaded;
}
function describe(error) {
  if (error instanceof Error) {
    return { errorType: error.name || 'Error', errorMessage: error.message, trace: String(error.stack ?? '').split('\\n') };
  }
  return { errorType: 'Error', errorMessage: typeof error === 'string' ? error : JSON.stringify(error) };
}
parentPort.on('message', async ({ id, event, context }) => {
  const lambdaContext = {
    ...context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, context.deadline - Date.now()),
    done() {}, succeed() {}, fail() {},
  };
  let handler;
  try {
    handler = await load();
  } catch (error) {
    // An init error: Lambda reports it as this invocation's error and resets the environment.
    parentPort.postMessage({ id, ok: false, init: true, ...describe(error) });
    return;
  }
  try {
    const result = handler.length >= 3
      ? await new Promise((resolve, reject) => {
        const returned = handler(event, lambdaContext, (error, value) => (error ? reject(error) : resolve(value)));
        if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
      })
      : await handler(event, lambdaContext);
    flushOutput();
    parentPort.postMessage({ id, ok: true, payload: result === undefined ? 'null' : JSON.stringify(result) });
  } catch (error) {
    flushOutput();
    parentPort.postMessage({ id, ok: false, ...describe(error) });
  }
});
`;

/** What an environment's worker posts: a line of output, or an invocation's result. */
interface WorkerMessage {
  readonly log?: string;
  readonly ok: boolean;
  readonly init?: boolean;
  readonly payload?: string;
  readonly errorType?: string;
  readonly errorMessage?: string;
  readonly trace?: string[];
}

interface Pending {
  readonly resolve: (outcome: InvokeOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

class Environment {
  public readonly worker: Worker;
  public busy = false;
  public ended = false;
  private endOutcome: InvokeOutcome | undefined;
  private pending: Pending | undefined;
  private counter = 0;

  constructor(
    private readonly definition: FunctionDefinition,
    entry: string,
    exportPath: readonly string[],
    log: FunctionLog,
    private readonly onEnd: (env: Environment) => void,
  ) {
    this.worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: {
        entry,
        exportPath,
        handler: definition.handler,
        layerHooks: LAYER_RESOLVE_HOOKS,
        layerParents: (definition.layerModules ?? []).map((folder) => pathToFileURL(join(dirname(folder), 'layer-import.mjs')).href),
      },
      env: { ...definition.environment },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, definition.memoryMb) },
    });
    // What bypasses the bootstrap's stdout and stderr (native code, the runtime's own warnings).
    pipeLines(this.worker.stdout, (line) => log(definition.name, line));
    pipeLines(this.worker.stderr, (line) => log(definition.name, line));
    this.worker.on('message', (message: WorkerMessage) => {
      if (message.log !== undefined) {
        log(definition.name, message.log);
        return;
      }
      const pending = this.pending;
      if (pending === undefined) return;
      const outcome: InvokeOutcome = message.ok
        ? { ok: true, payload: JSON.parse(message.payload ?? 'null') as unknown }
        : { ok: false, errorType: message.errorType ?? 'Error', errorMessage: message.errorMessage ?? '', trace: message.trace };
      // After an init error the next invocation initializes again, in a new environment.
      if (message.init === true) this.end(outcome);
      else this.settle(outcome);
    });
    this.worker.on('error', (error) => this.end({ ok: false, errorType: 'Runtime.ExitError', errorMessage: `the environment failed: ${error.message}` }));
    this.worker.on('exit', (code) => this.end({ ok: false, errorType: 'Runtime.ExitError', errorMessage: `the environment exited with code ${code}` }));
  }

  public invoke(event: unknown, options: InvokeOptions): Promise<InvokeOutcome> {
    // An environment that died before its first invocation (its worker failed to start) answers at once.
    if (this.ended) return Promise.resolve(this.endOutcome ?? { ok: false, errorType: 'Runtime.ExitError', errorMessage: 'the environment ended' });
    this.busy = true;
    const timeoutMs = this.definition.timeoutSeconds * 1000;
    return new Promise<InvokeOutcome>((resolve) => {
      const timer = setTimeout(() => {
        // Lambda ends a timed-out sandbox: the next invocation cold-starts.
        this.end({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.definition.timeoutSeconds.toFixed(2)} seconds` });
      }, timeoutMs);
      timer.unref();
      this.pending = { resolve, timer };
      const requestId = randomUUID();
      this.worker.postMessage({
        id: ++this.counter,
        event,
        context: {
          functionName: this.definition.name,
          functionVersion: '$LATEST',
          invokedFunctionArn: options.invokedArn ?? this.definition.arn,
          memoryLimitInMB: String(this.definition.memoryMb),
          awsRequestId: requestId,
          logGroupName: `/aws/lambda/${this.definition.name}`,
          logStreamName: `local/[$LATEST]${this.worker.threadId}`,
          deadline: Date.now() + timeoutMs,
        },
      });
    });
  }

  private settle(outcome: InvokeOutcome): void {
    const pending = this.pending;
    this.pending = undefined;
    this.busy = false;
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    pending.resolve(outcome);
  }

  public end(outcome?: InvokeOutcome): void {
    if (this.ended) return;
    this.ended = true;
    this.endOutcome = outcome;
    if (outcome !== undefined) this.settle(outcome);
    void this.worker.terminate();
    this.onEnd(this);
  }
}

function pipeLines(stream: Readable, write: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      write(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffered !== '') write(buffered);
  });
}

/** Finds the handler's module file in the code folder: `index.handler` → `index.mjs`, `.js` or `.cjs`. */
export function handlerEntry(codeDir: string, handler: string): { entry: string; exportPath: string[] } {
  const lastSlash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', lastSlash + 1);
  if (dot <= 0) throw new Error(`handler ${handler} is not of the form file.export`);
  const file = handler.slice(0, dot);
  for (const extension of ['.mjs', '.js', '.cjs']) {
    const entry = join(codeDir, file + extension);
    if (existsSync(entry)) return { entry, exportPath: handler.slice(dot + 1).split('.') };
  }
  throw new Error(`handler ${handler}: no ${file}.mjs, .js or .cjs in ${codeDir}`);
}

const STOPPING: InvokeOutcome = { ok: false, errorType: 'ServiceException', errorMessage: 'the local runner is stopping' };

export class LocalFunction {
  private readonly environments = new Set<Environment>();
  private readonly waiting: Array<() => void> = [];
  private readonly entry: string;
  private readonly exportPath: string[];
  private stopped = false;
  /** Invocations so far. */
  public invocations = 0;

  constructor(public readonly definition: FunctionDefinition, private readonly log: FunctionLog) {
    ({ entry: this.entry, exportPath: this.exportPath } = handlerEntry(definition.codeDir, definition.handler));
  }

  public get name(): string {
    return this.definition.name;
  }

  /** Invokes the function synchronously (RequestResponse); an error is an outcome, never a rejection. */
  public async invoke(event: unknown, options: InvokeOptions = {}): Promise<InvokeOutcome> {
    if (this.stopped) return STOPPING;
    let payload: unknown;
    try {
      // A deep copy: the handler sees the event as it would arrive over the wire.
      payload = JSON.parse(JSON.stringify(event ?? null)) as unknown;
    } catch (error) {
      return { ok: false, errorType: 'InvalidRequestContentException', errorMessage: `the event is not JSON: ${String(error)}` };
    }
    this.invocations++;
    const environment = await this.acquire();
    if (environment === undefined) return STOPPING;
    try {
      return await environment.invoke(payload, options);
    } finally {
      this.release();
    }
  }

  /** A free environment, a new one while under the concurrency limit, or (once stopped) none. */
  private async acquire(): Promise<Environment | undefined> {
    for (;;) {
      if (this.stopped) return undefined;
      for (const env of this.environments) {
        if (!env.busy && !env.ended) {
          env.busy = true;
          return env;
        }
      }
      if (this.environments.size < this.definition.maxConcurrency) {
        const env = new Environment(this.definition, this.entry, this.exportPath, this.log, (ended) => {
          this.environments.delete(ended);
          this.release();
        });
        env.busy = true;
        this.environments.add(env);
        return env;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(): void {
    this.waiting.shift()?.();
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    const workers = [...this.environments].map((env) => env.worker);
    for (const env of [...this.environments]) env.end({ ok: false, errorType: 'ServiceException', errorMessage: 'the local runner stopped' });
    await Promise.all(workers.map((worker) => worker.terminate()));
    for (const wake of this.waiting.splice(0)) wake();
  }
}
