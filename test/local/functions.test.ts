/**
 * LocalFunction (local/functions.ts) against the Lambda developer guide's Node.js runtime
 * behaviour: handlers in ESM (`.mjs`) and CommonJS (`.js`), async and callback style; the
 * environment variables a function sees; the context's remaining time; how errors, init errors,
 * timeouts and crashes are reported ("Lambda execution environment lifecycle": a timeout or a
 * crash resets the environment, an init error is the invocation's error and the next invocation
 * initializes again); one invocation per environment, more environments up to the concurrency
 * limit; results serialized as JSON.
 *
 * Handlers that must stay busy wait on files the test writes: nothing here depends on how fast
 * the machine is. The only timer is the function's own timeout, in the timeout test.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FunctionDefinition, type FunctionLog, handlerEntry, type InvokeOutcome, LocalFunction } from '../../local/functions';

/** An ESM module with one export per behaviour under test. */
const ESM_HANDLERS = `
import { existsSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

let invocations = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const environment = async () => ({ ...process.env });

export const remaining = async (event, context) => {
  const first = context.getRemainingTimeInMillis();
  const start = Date.now();
  while (Date.now() - start < 20) { /* the clock moves on */ }
  return { first, second: context.getRemainingTimeInMillis() };
};

export const context = async (event, context) => ({
  functionName: context.functionName,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  awsRequestId: context.awsRequestId,
});

class OrderRejected extends Error {
  constructor(message) {
    super(message);
    this.name = 'OrderRejected';
  }
}
export const fail = async () => { throw new OrderRejected('no stock for sku-1'); };

export const count = async (event) => {
  invocations++;
  if (event.hang === true) await new Promise(() => {});
  return invocations;
};

export const hold = async (event) => {
  writeFileSync(event.started, String(threadId));
  while (!existsSync(event.release)) await sleep(5);
  return { threadId };
};

export const crash = async (event) => {
  if (event.crash === true) process.exit(3);
  return 'alive';
};

export const chatty = async () => {
  console.log('hello from the handler');
  console.error('and from stderr');
  return 'done';
};

export const shapes = async () => ({ missing: undefined, when: new Date(0), list: [undefined, 1], nested: { none: null } });
export const nothing = async () => undefined;
export const echo = async (event) => ({ event, whenType: typeof event.when });
`;

/** A CommonJS module: callback-style handlers and a nested export. */
const CJS_HANDLERS = `
exports.callback = (event, context, callback) => {
  setImmediate(() => callback(null, { echo: event, style: 'callback', remaining: context.getRemainingTimeInMillis() > 0 }));
};
exports.callbackError = (event, context, callback) => callback(new TypeError('bad input'));
exports.nested = { handler: async () => 'nested' };
`;

/** A module whose initialization fails until its configuration file exists. */
const INIT_HANDLERS = `
import { existsSync } from 'node:fs';
if (!existsSync(process.env.CONFIG_FILE)) {
  const error = new Error('configuration file missing');
  error.name = 'ConfigError';
  throw error;
}
export const handler = async () => 'configured';
`;

let dir: string;
const started: LocalFunction[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-functions-'));
  writeFileSync(join(dir, 'esm.mjs'), ESM_HANDLERS);
  writeFileSync(join(dir, 'cjs.js'), CJS_HANDLERS);
  writeFileSync(join(dir, 'init.mjs'), INIT_HANDLERS);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'app.cjs'), 'exports.v1 = { handler: async () => 1 };');
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((fn) => fn.stop()));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function localFunction(handler: string, overrides: Partial<FunctionDefinition> = {}, log: FunctionLog = () => {}): LocalFunction {
  const fn = new LocalFunction({
    logicalId: 'OrdersFunction',
    name: 'orders-function',
    arn: 'arn:aws:lambda:us-east-1:123456789012:function:orders-function',
    codeDir: dir,
    handler,
    environment: { TABLE_NAME: 'orders', LOG_LEVEL: 'DEBUG' },
    timeoutSeconds: 30, // far beyond any cold start; the timeout test sets its own
    memoryMb: 256,
    maxConcurrency: 2,
    ...overrides,
  }, log);
  started.push(fn);
  return fn;
}

/** Polls a condition the test controls (a file, a log line); the test's own timeout bounds it. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

function payloadOf(outcome: InvokeOutcome): unknown {
  if (!outcome.ok) throw new Error(`the invocation failed: ${outcome.errorType}: ${outcome.errorMessage}`);
  return outcome.payload;
}

describe('handler files', () => {
  test('index.handler is index.mjs, .js or .cjs; the export path may be nested and the file in a folder', () => {
    expect(handlerEntry(dir, 'esm.count')).toEqual({ entry: join(dir, 'esm.mjs'), exportPath: ['count'] });
    expect(handlerEntry(dir, 'cjs.nested.handler')).toEqual({ entry: join(dir, 'cjs.js'), exportPath: ['nested', 'handler'] });
    expect(handlerEntry(dir, 'src/app.v1.handler')).toEqual({ entry: join(dir, 'src', 'app.cjs'), exportPath: ['v1', 'handler'] });
  });

  test('fails when the handler file does not exist', () => {
    expect(() => handlerEntry(dir, 'absent.handler')).toThrow(/no absent\.mjs, \.js or \.cjs/);
    expect(() => handlerEntry(dir, 'nodot')).toThrow(/not of the form file\.export/);
  });
});

describe('LocalFunction', () => {
  test('the function sees exactly its own environment variables, none of the parent process', async () => {
    process.env.LOCAL_FUNCTIONS_TEST_PARENT_ONLY = 'must-not-leak';
    try {
      const fn = localFunction('esm.environment');
      expect(payloadOf(await fn.invoke({}))).toEqual({ TABLE_NAME: 'orders', LOG_LEVEL: 'DEBUG' });
    } finally {
      delete process.env.LOCAL_FUNCTIONS_TEST_PARENT_ONLY;
    }
  });

  test('the context names the function and the ARN it was invoked by', async () => {
    const fn = localFunction('esm.context');
    const plain = payloadOf(await fn.invoke({})) as Record<string, string>;
    expect(plain).toMatchObject({
      functionName: 'orders-function',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders-function',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/orders-function',
    });
    const viaAlias = payloadOf(await fn.invoke({}, { invokedArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders-function:live' })) as Record<string, string>;
    expect(viaAlias.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:123456789012:function:orders-function:live');
    expect(viaAlias.awsRequestId).not.toBe(plain.awsRequestId);
  });

  test('context.getRemainingTimeInMillis() counts down from the timeout', async () => {
    const fn = localFunction('esm.remaining', { timeoutSeconds: 30 });
    const { first, second } = payloadOf(await fn.invoke({})) as { first: number; second: number };
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(30_000);
    // The handler spins until the clock has moved 20 ms between the two readings.
    expect(first - second).toBeGreaterThanOrEqual(20);
  });

  test('an async ESM handler\'s error is { ok: false, errorType: error.name, errorMessage }', async () => {
    const outcome = await localFunction('esm.fail').invoke({});
    expect(outcome).toMatchObject({ ok: false, errorType: 'OrderRejected', errorMessage: 'no stock for sku-1' });
    expect(outcome.ok === false && outcome.trace?.[0]).toMatch(/OrderRejected: no stock for sku-1/);
  });

  test('a callback-style CommonJS handler answers through its callback, errors included', async () => {
    expect(payloadOf(await localFunction('cjs.callback').invoke({ id: 7 }))).toEqual({ echo: { id: 7 }, style: 'callback', remaining: true });
    expect(await localFunction('cjs.callbackError').invoke({})).toMatchObject({ ok: false, errorType: 'TypeError', errorMessage: 'bad input' });
    expect(payloadOf(await localFunction('cjs.nested.handler').invoke({}))).toBe('nested');
  });

  test('an export that does not exist is Runtime.HandlerNotFound', async () => {
    const outcome = await localFunction('esm.absent').invoke({});
    expect(outcome).toMatchObject({ ok: false, errorType: 'Runtime.HandlerNotFound', errorMessage: 'esm.absent is undefined or not exported' });
  });

  test('an error at import time is the invocation\'s error, and the next invocation initializes again', async () => {
    const configFile = join(dir, 'config.json');
    const fn = localFunction('init.handler', { environment: { CONFIG_FILE: configFile } });
    expect(await fn.invoke({})).toMatchObject({ ok: false, errorType: 'ConfigError', errorMessage: 'configuration file missing' });
    expect(await fn.invoke({})).toMatchObject({ ok: false, errorType: 'ConfigError' });

    writeFileSync(configFile, '{}');
    expect(payloadOf(await fn.invoke({}))).toBe('configured');
  });

  test('a timeout ends the environment with Sandbox.Timedout; the next invocation cold-starts', async () => {
    const fn = localFunction('esm.count', { timeoutSeconds: 3, maxConcurrency: 1 });
    expect(payloadOf(await fn.invoke({}))).toBe(1);
    expect(payloadOf(await fn.invoke({}))).toBe(2); // a warm environment keeps its module state

    // The handler never returns: the function's own 3 s timer ends it.
    expect(await fn.invoke({ hang: true })).toEqual({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 3.00 seconds' });

    expect(payloadOf(await fn.invoke({}))).toBe(1); // module state reset: a new environment
  });

  test('concurrent invocations get separate environments up to maxConcurrency, and queue beyond it', async () => {
    const fn = localFunction('esm.hold', { maxConcurrency: 2 });
    const file = (name: string): string => join(dir, `concurrency-${name}`);
    const event = (n: number): Record<string, string> => ({ started: file(`started-${n}`), release: file(`release-${n}`) });

    const first = fn.invoke(event(1));
    const second = fn.invoke(event(2));
    const third = fn.invoke(event(3));

    // Both are inside their handlers at once, neither released: two environments.
    await until(() => existsSync(file('started-1')) && existsSync(file('started-2')));
    const thread1 = readFileSync(file('started-1'), 'utf8');
    const thread2 = readFileSync(file('started-2'), 'utf8');
    expect(thread1).not.toBe(thread2);
    expect(existsSync(file('started-3'))).toBe(false);

    // Releasing the first frees its environment: the queued third runs there, not in a third one.
    writeFileSync(file('release-3'), '');
    writeFileSync(file('release-1'), '');
    expect(payloadOf(await first)).toEqual({ threadId: Number(thread1) });
    expect(payloadOf(await third)).toEqual({ threadId: Number(thread1) });
    expect(existsSync(file('started-3'))).toBe(true);

    writeFileSync(file('release-2'), '');
    expect(payloadOf(await second)).toEqual({ threadId: Number(thread2) });
    expect(fn.invocations).toBe(3);
  });

  test('a handler that exits its process is Runtime.ExitError, and the function keeps working', async () => {
    const fn = localFunction('esm.crash', { maxConcurrency: 1 });
    expect(await fn.invoke({ crash: true })).toMatchObject({ ok: false, errorType: 'Runtime.ExitError', errorMessage: expect.stringMatching(/code 3/) });
    expect(payloadOf(await fn.invoke({ crash: false }))).toBe('alive');
  });

  test('the lines a handler prints reach the log callback with the function\'s name', async () => {
    const lines: Array<[string, string]> = [];
    const fn = localFunction('esm.chatty', {}, (name, line) => lines.push([name, line]));
    expect(payloadOf(await fn.invoke({}))).toBe('done');
    await until(() => lines.length >= 2);
    expect(lines).toEqual(expect.arrayContaining([
      ['orders-function', 'hello from the handler'],
      ['orders-function', 'and from stderr'],
    ]));
  });

  test('events and results cross as JSON: undefined is dropped or null, Dates become strings', async () => {
    expect(payloadOf(await localFunction('esm.shapes').invoke({}))).toStrictEqual({
      when: '1970-01-01T00:00:00.000Z',
      list: [null, 1],
      nested: { none: null },
    });
    expect(payloadOf(await localFunction('esm.nothing').invoke({}))).toBeNull();
    expect(payloadOf(await localFunction('esm.echo').invoke({ when: new Date(0), gone: undefined }))).toStrictEqual({
      event: { when: '1970-01-01T00:00:00.000Z' },
      whenType: 'string',
    });
  });

  test('an event that is not JSON is refused without taking an environment', async () => {
    const fn = localFunction('esm.count', { maxConcurrency: 1 });
    expect(await fn.invoke({ amount: BigInt(1) })).toMatchObject({ ok: false, errorType: 'InvalidRequestContentException' });
    expect(payloadOf(await fn.invoke({}))).toBe(1);
  });

  test('stopping ends running invocations and refuses queued ones', async () => {
    const fn = localFunction('esm.hold', { maxConcurrency: 1 });
    const event = { started: join(dir, 'stop-started'), release: join(dir, 'stop-release-never') };
    const running = fn.invoke(event);
    const queued = fn.invoke(event);
    await until(() => existsSync(event.started));

    await fn.stop();
    expect(await running).toMatchObject({ ok: false, errorType: 'ServiceException' });
    expect(await queued).toMatchObject({ ok: false, errorType: 'ServiceException' });
    expect(await fn.invoke({})).toMatchObject({ ok: false, errorType: 'ServiceException' });
  });
});
