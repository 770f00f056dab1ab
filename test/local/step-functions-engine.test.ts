/**
 * The local Step Functions engine (local/engines/step-functions.ts), driven by the real SDK client
 * over its JSON protocol: small ASL definitions (Pass, Choice, Task, Retry, Catch, Wait, Fail,
 * Parallel, Map), Lambda tasks bound to in-test functions, the waitForTaskToken round trip through
 * a fake queue whose consumer answers with the real SDK, direct DynamoDB integrations on dynalite,
 * the Context Object, name idempotency, StopExecution, StartSyncExecution and the API's errors.
 * Retry intervals and Wait states are scaled to 0; nothing here depends on how fast the machine is.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand, DescribeStateMachineCommand, GetExecutionHistoryCommand, ListExecutionsCommand, ListStateMachinesCommand,
  SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, StartSyncExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  startLocalStepFunctions, type EventEntry, type LocalStepFunctions, type LocalStepFunctionsOptions, type QueueMessageExtra,
} from '../../local/engines/step-functions';
import { useDynaliteTable } from '../helpers/dynalite';

const db = useDynaliteTable();
const ACCOUNT = '123456789012';
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;
const QUEUE_URL = `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/callbacks`;

/** The in-test functions, by ARN; a function error is an Error named by its errorType. */
const functions: Record<string, (payload: unknown) => unknown> = {};
/** Every message sent to the fake queue, and its consumer. */
interface QueueMessage { readonly queueUrl: string; readonly body: Record<string, unknown>; readonly extra: QueueMessageExtra }
const sent: QueueMessage[] = [];
let consumer: (message: QueueMessage) => Promise<void> | void = () => undefined;
const published: Array<{ topicArn: string; message: string; subject?: string }> = [];
const events: EventEntry[] = [];

class FunctionError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const bindings: LocalStepFunctionsOptions = {
  invokeFunction: async (arn, payload) => {
    const fn = functions[arn];
    if (!fn) throw new FunctionError('Lambda.ResourceNotFoundException', `Function not found: ${arn}`);
    return fn(payload);
  },
  sendQueueMessage: async (queueUrl, body, extra) => {
    const message = { queueUrl, body: JSON.parse(body) as Record<string, unknown>, extra };
    sent.push(message);
    await consumer(message);
  },
  publishSns: async (topicArn, message, extra) => {
    published.push({ topicArn, message, subject: extra.subject });
  },
  publishEvents: async (entries) => {
    events.push(...entries);
    return {
      FailedEntryCount: entries.filter((e) => e.DetailType === 'bad').length,
      Entries: entries.map((e) => (e.DetailType === 'bad' ? { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' } : { EventId: 'e-1' })),
    };
  },
  retryIntervalScale: 0,
};

let engine: LocalStepFunctions;
let sfn: SFNClient;
let machineCounter = 0;

const clientFor = (endpoint: string) => new SFNClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
  // StartSyncExecution has the host prefix `sync-`; a loopback endpoint has no such host.
  disableHostPrefix: true,
});

beforeAll(async () => {
  engine = await startLocalStepFunctions({ ...bindings, dynamodbEndpoint: db.dynamo.endpoint });
  sfn = clientFor(engine.endpoint);
});

afterAll(async () => {
  sfn.destroy();
  await engine.stop();
});

beforeEach(() => {
  sent.length = 0;
  published.length = 0;
  events.length = 0;
  consumer = () => undefined;
});

type States = Record<string, Record<string, unknown>>;

function createMachine(states: States, extra: Record<string, unknown> = {}, type: 'STANDARD' | 'EXPRESS' = 'STANDARD', target = engine): string {
  const startAt = Object.keys(states)[0];
  return target.createStateMachine({ name: `m-${++machineCounter}`, type, definition: { StartAt: startAt, States: states, ...extra } }).arn;
}

async function runToEnd(machineArn: string, input: unknown = {}, name?: string) {
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify(input), name }));
  await engine.executions.get(executionArn!)!.done;
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { ...described, parsedOutput: described.output === undefined ? undefined : JSON.parse(described.output) as Record<string, unknown> };
}

const rejection = (promise: Promise<unknown>) => promise.then(() => undefined, (err: Error) => err.name);

describe('state types', () => {
  test('Pass, Choice and Succeed: the output of the branch chosen', async () => {
    const arn = createMachine({
      Classify: { Type: 'Pass', Result: { limit: 10 }, ResultPath: '$.rules', Next: 'Route' },
      Route: {
        Type: 'Choice',
        Choices: [{ Variable: '$.n', NumericGreaterThanPath: '$.rules.limit', Next: 'Big' }],
        Default: 'Small',
      },
      Big: { Type: 'Pass', Parameters: { 'size': 'big', 'n.$': '$.n' }, End: true },
      Small: { Type: 'Succeed' },
    });

    const big = await runToEnd(arn, { n: 11 });
    const small = await runToEnd(arn, { n: 1 });

    expect(big.status).toBe('SUCCEEDED');
    expect(big.parsedOutput).toEqual({ size: 'big', n: 11 });
    expect(small.parsedOutput).toEqual({ n: 1, rules: { limit: 10 } });
  });

  test('a Fail state fails the execution with its Error and Cause', async () => {
    const arn = createMachine({ Stop: { Type: 'Fail', Error: 'Order.Invalid', Cause: 'no items' } });

    const out = await runToEnd(arn);

    expect(out).toEqual(expect.objectContaining({ status: 'FAILED', error: 'Order.Invalid', cause: 'no items' }));
    expect(out.output).toBeUndefined();
  });

  test('Wait states are skipped at scale 0, whatever they say', async () => {
    const arn = createMachine({
      Hour: { Type: 'Wait', Seconds: 3_600, Next: 'Until' },
      Until: { Type: 'Wait', Timestamp: '2999-01-01T00:00:00Z', Next: 'Done' },
      Done: { Type: 'Pass', End: true },
    });

    const out = await runToEnd(arn, { ok: true });

    expect(out.status).toBe('SUCCEEDED');
    expect(engine.executions.get(out.executionArn!)!.statesEntered).toEqual(['Hour', 'Until', 'Done']);
  });

  test('Parallel and Map run their nested Task states', async () => {
    functions[fnArn('double')] = (n) => (n as number) * 2;
    const arn = createMachine({
      Both: {
        Type: 'Parallel',
        Branches: [
          { StartAt: 'DoubleA', States: { DoubleA: { Type: 'Task', Resource: fnArn('double'), InputPath: '$.a', End: true } } },
          {
            StartAt: 'Each',
            States: {
              Each: {
                Type: 'Map',
                ItemsPath: '$.list',
                End: true,
                ItemProcessor: { StartAt: 'DoubleEach', States: { DoubleEach: { Type: 'Task', Resource: fnArn('double'), End: true } } },
              },
            },
          },
        ],
        End: true,
      },
    });

    const out = await runToEnd(arn, { a: 2, list: [1, 2, 3] });

    expect(out.parsedOutput).toEqual([4, [2, 4, 6]]);
  });
});

describe('Lambda tasks', () => {
  test('Retry by error name, then success; the retries are counted, not waited for', async () => {
    let calls = 0;
    functions[fnArn('flaky')] = () => {
      calls++;
      if (calls <= 2) throw new FunctionError('TransientError', `attempt ${calls}`);
      return { attempt: calls };
    };
    const arn = createMachine({
      Call: {
        Type: 'Task',
        Resource: fnArn('flaky'),
        ResultPath: '$.result',
        End: true,
        Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 3_600, MaxAttempts: 2, BackoffRate: 2 }],
      },
    });

    const out = await runToEnd(arn, { id: 1 });

    expect(out.parsedOutput).toEqual({ id: 1, result: { attempt: 3 } });
    expect(engine.executions.get(out.executionArn!)!.retries).toEqual(['Call', 'Call']);
  });

  test('a function error is caught by name: Error is its errorType, Cause Lambda\'s error object', async () => {
    functions[fnArn('declines')] = () => {
      throw new FunctionError('PaymentDeclinedError', 'over the limit');
    };
    const arn = createMachine({
      Charge: {
        Type: 'Task',
        Resource: fnArn('declines'),
        Next: 'Charged',
        Retry: [{ ErrorEquals: ['TransientError'], MaxAttempts: 3 }],
        Catch: [{ ErrorEquals: ['PaymentDeclinedError'], ResultPath: '$.error', Next: 'Declined' }],
      },
      Charged: { Type: 'Succeed' },
      Declined: { Type: 'Pass', End: true },
    });

    const out = await runToEnd(arn, { order: 'o-1' });

    expect(out.status).toBe('SUCCEEDED');
    const error = out.parsedOutput!.error as { Error: string; Cause: string };
    expect(error.Error).toBe('PaymentDeclinedError');
    expect(JSON.parse(error.Cause)).toEqual(expect.objectContaining({ errorType: 'PaymentDeclinedError', errorMessage: 'over the limit', trace: expect.any(Array) }));
    expect(engine.executions.get(out.executionArn!)!.statesEntered).toEqual(['Charge', 'Declined']);
  });

  test('lambda:invoke: the Payload is wrapped as Step Functions does; Lambda.* service errors are retried', async () => {
    let throttled = 0;
    functions[fnArn('echo')] = (payload) => {
      if (throttled++ === 0) throw new FunctionError('Lambda.TooManyRequestsException', 'Rate exceeded');
      return { echoed: payload };
    };
    const arn = createMachine({
      Invoke: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        End: true,
        Parameters: { 'FunctionName': 'echo', 'Payload.$': '$' },
        ResultSelector: { 'body.$': '$.Payload', 'status.$': '$.StatusCode' },
        Retry: [{ ErrorEquals: ['Lambda.TooManyRequestsException'], MaxAttempts: 2 }],
      },
    });

    const out = await runToEnd(arn, { x: 1 });

    expect(out.parsedOutput).toEqual({ body: { echoed: { x: 1 } }, status: 200 });
    expect(engine.executions.get(out.executionArn!)!.retries).toEqual(['Invoke']);
  });

  test('an error that outlasts its retries fails the execution with its name', async () => {
    functions[fnArn('always')] = () => {
      throw new FunctionError('TransientError', 'still failing');
    };
    const arn = createMachine({
      Call: { Type: 'Task', Resource: fnArn('always'), End: true, Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }] },
    });

    const out = await runToEnd(arn);

    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('TransientError');
    expect(engine.executions.get(out.executionArn!)!.retries).toHaveLength(3);
  });
});

describe('the Context Object', () => {
  test('$$.Execution.Id, Name, Input, StartTime and $$.StateMachine.Id are those DescribeExecution reports', async () => {
    const arn = createMachine({
      Context: {
        Type: 'Pass',
        End: true,
        Parameters: {
          'id.$': '$$.Execution.Id',
          'name.$': '$$.Execution.Name',
          'input.$': '$$.Execution.Input',
          'start.$': '$$.Execution.StartTime',
          'machine.$': '$$.StateMachine.Id',
          'machineName.$': '$$.StateMachine.Name',
        },
      },
    });

    const out = await runToEnd(arn, { order: { id: 'o-9' } }, 'ctx-run');

    expect(out.parsedOutput).toEqual({
      id: out.executionArn,
      name: 'ctx-run',
      input: { order: { id: 'o-9' } },
      start: out.startDate!.toISOString(),
      machine: arn,
      machineName: arn.split(':').pop(),
    });
    expect(out.executionArn).toBe(`arn:aws:states:us-east-1:${ACCOUNT}:execution:${arn.split(':').pop()}:ctx-run`);
  });

  test('a clock option dates starts and stops and $$.Execution.StartTime', async () => {
    const fixed = new Date('2030-05-06T07:08:09.123Z');
    const clocked = await startLocalStepFunctions({ clock: () => fixed });
    try {
      const arn = createMachine({ At: { Type: 'Pass', Parameters: { 'start.$': '$$.Execution.StartTime' }, End: true } }, {}, 'STANDARD', clocked);
      const execution = clocked.startExecution(arn, {});
      await execution.done;
      expect(JSON.parse(execution.output!)).toEqual({ start: '2030-05-06T07:08:09.123Z' });
      expect(execution.startDate).toEqual(fixed);
      expect(execution.stopDate).toEqual(fixed);
    } finally {
      await clocked.stop();
    }
  });
});

describe('waitForTaskToken', () => {
  const callbackMachine = (extra: Record<string, unknown> = {}) => createMachine({
    Await: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      ResultPath: '$.answer',
      Next: 'Done',
      Parameters: { QueueUrl: QUEUE_URL, MessageBody: { 'token.$': '$$.Task.Token', 'order.$': '$.order' } },
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Rejected' }],
      ...extra,
    },
    Done: { Type: 'Succeed' },
    Rejected: { Type: 'Pass', End: true },
  });

  test('SendTaskSuccess from the consumer (real SDK) completes the state with its output', async () => {
    consumer = async (message) => {
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: message.body.token as string }));
      await sfn.send(new SendTaskSuccessCommand({ taskToken: message.body.token as string, output: JSON.stringify({ confirmed: true }) }));
    };
    const out = await runToEnd(callbackMachine({ HeartbeatSeconds: 3_600 }), { order: 'o-1' });

    expect(out.parsedOutput).toEqual({ order: 'o-1', answer: { confirmed: true } });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual(expect.objectContaining({ queueUrl: QUEUE_URL, extra: expect.objectContaining({ sentBy: { executionArn: out.executionArn, stateName: 'Await' } }) }));
    expect(sent[0].body.token).toMatch(/^[\x21-\x7e]{1,2048}$/);
  });

  test('SendTaskFailure fails the state with its error and cause (caught); the token then answers TaskTimedOut', async () => {
    consumer = async (message) => {
      await sfn.send(new SendTaskFailureCommand({ taskToken: message.body.token as string, error: 'Rejected', cause: 'address not deliverable' }));
    };
    const out = await runToEnd(callbackMachine(), { order: 'o-2' });

    expect(out.parsedOutput).toEqual({ order: 'o-2', error: { Error: 'Rejected', Cause: 'address not deliverable' } });
    const token = sent[0].body.token as string;
    expect(await rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })))).toBe('TaskTimedOut');
    expect(await rejection(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })))).toBe('TaskTimedOut');
  });

  test('an execution waiting for its token counts as settled; an answer given later moves it on', async () => {
    const arn = callbackMachine();
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ order: 'o-3' }) }));

    await engine.settled();
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
    expect(engine.tokens.waiter(sent[0].body.token as string)).toEqual({ executionArn, stateName: 'Await' });

    await sfn.send(new SendTaskSuccessCommand({ taskToken: sent[0].body.token as string, output: '"late"' }));
    await engine.settled();
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(out.status).toBe('SUCCEEDED');
    expect(JSON.parse(out.output!)).toEqual({ order: 'o-3', answer: 'late' });
  });

  test('each attempt of a retried state gets a fresh token', async () => {
    let attempt = 0;
    consumer = async (message) => {
      if (++attempt === 1) throw new FunctionError('RequestThrottledException', 'slow down');
      await sfn.send(new SendTaskSuccessCommand({ taskToken: message.body.token as string, output: '{}' }));
    };
    const out = await runToEnd(callbackMachine({ Retry: [{ ErrorEquals: ['SQS.RequestThrottledException'], MaxAttempts: 2 }] }), { order: 'o-4' });

    expect(out.status).toBe('SUCCEEDED');
    expect(sent).toHaveLength(2);
    expect(sent[0].body.token).not.toBe(sent[1].body.token);
    // The failed send's token never waited: it is closed.
    expect(await rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: sent[0].body.token as string, output: '{}' })))).toBe('TaskTimedOut');
  });

  test('tokens that are not open: InvalidToken, TaskDoesNotExist; output that is not JSON: InvalidOutput', async () => {
    expect(await rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })))).toBe('InvalidToken');
    expect(await rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: `AQB${'a'.repeat(128)}`, output: '{}' })))).toBe('TaskDoesNotExist');

    const arn = callbackMachine();
    const execution = engine.startExecution(arn, { order: 'o-5' });
    await engine.settled();
    const token = sent[0].body.token as string;
    expect(await rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{not json' })))).toBe('InvalidOutput');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
    await execution.done;
    expect(execution.status).toBe('SUCCEEDED');
  });

  test('HeartbeatSeconds on a scaled clock: a silent consumer times the state out with States.HeartbeatTimeout', async () => {
    const fast = await startLocalStepFunctions({ ...bindings, heartbeatMillisPerSecond: 1 });
    try {
      const arn = createMachine({
        Await: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
          HeartbeatSeconds: 5,
          End: true,
          Parameters: { QueueUrl: QUEUE_URL, MessageBody: { 'token.$': '$$.Task.Token' } },
          Retry: [{ ErrorEquals: ['States.Timeout'], MaxAttempts: 1 }],
        },
      }, {}, 'STANDARD', fast);
      const execution = fast.startExecution(arn, {});
      await execution.done;

      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('States.HeartbeatTimeout');
      // States.Timeout matches a heartbeat timeout too: the state was retried once.
      expect(execution.retries).toEqual(['Await']);
      expect(fast.tokens.waiter(sent[0].body.token as string)).toBeUndefined();
    } finally {
      await fast.stop();
    }
  });

  test('a token wait\'s TimeoutSeconds fails the state with States.Timeout (not matched by States.TaskFailed) and closes the token', async () => {
    const arn = createMachine({
      Await: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        TimeoutSeconds: 1,
        Parameters: { QueueUrl: QUEUE_URL, MessageBody: { 'token.$': '$$.Task.Token' } },
        End: true,
        Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Failed' }, { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' }],
      },
      Failed: { Type: 'Fail', Error: 'Wrong' },
      TimedOut: { Type: 'Pass', End: true },
    });

    const out = await runToEnd(arn, {});

    expect(out.status).toBe('SUCCEEDED');
    expect(out.parsedOutput).toEqual({ error: expect.objectContaining({ Error: 'States.Timeout' }) });
    expect(await rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: sent[0].body.token as string, output: '{}' })))).toBe('TaskTimedOut');
    await engine.settled();
  });
});

describe('other integrations', () => {
  test('sns:publish and events:putEvents: the message and the Detail as JSON text; a failed entry is EventBridge.FailedEntry', async () => {
    const arn = createMachine({
      Notify: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sns:publish',
        Parameters: { 'TopicArn': `arn:aws:sns:us-east-1:${ACCOUNT}:orders`, 'Message.$': '$.order', 'Subject': 'order' },
        ResultSelector: { 'id.$': '$.MessageId' },
        ResultPath: '$.published',
        Next: 'Emit',
      },
      Emit: {
        Type: 'Task',
        Resource: 'arn:aws:states:::events:putEvents',
        Parameters: { Entries: [{ 'Source': 'orders', 'DetailType.$': '$.kind', 'Detail.$': '$.order', 'EventBusName': 'bus' }] },
        ResultPath: '$.emitted',
        End: true,
        Catch: [{ ErrorEquals: ['EventBridge.FailedEntry'], ResultPath: '$.error', Next: 'Failed' }],
      },
      Failed: { Type: 'Pass', End: true },
    });

    const ok = await runToEnd(arn, { order: { id: 'o-1' }, kind: 'created' });
    const failed = await runToEnd(arn, { order: { id: 'o-2' }, kind: 'bad' });

    expect(published).toEqual([
      { topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:orders`, message: '{"id":"o-1"}', subject: 'order' },
      { topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:orders`, message: '{"id":"o-2"}', subject: 'order' },
    ]);
    expect(events[0]).toEqual({ Source: 'orders', DetailType: 'created', Detail: '{"id":"o-1"}', EventBusName: 'bus' });
    expect(ok.parsedOutput).toEqual(expect.objectContaining({ emitted: { Entries: [{ EventId: 'e-1' }], FailedEntryCount: 0 }, published: { id: expect.any(String) } }));
    expect(failed.parsedOutput).toEqual(expect.objectContaining({ error: expect.objectContaining({ Error: 'EventBridge.FailedEntry' }) }));
  });

  test('lambda:invoke.waitForTaskToken: the function gets the token and answers through the real SDK', async () => {
    functions[fnArn('approver')] = async (payload) => {
      const { token, amount } = payload as { token: string; amount: number };
      setImmediate(() => void sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: amount < 100 }) })));
      return 'accepted';
    };
    const arn = createMachine({
      Approve: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: fnArn('approver'), Payload: { 'token.$': '$$.Task.Token', 'amount.$': '$.amount' } },
        End: true,
      },
    });

    const out = await runToEnd(arn, { amount: 5 });

    expect(out.parsedOutput).toEqual({ approved: true });
  });
});

describe('executions', () => {
  test('StartExecution is idempotent by name for STANDARD: same input while open -> the same execution, else ExecutionAlreadyExists', async () => {
    const arn = createMachine({
      Await: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        End: true,
        Parameters: { QueueUrl: QUEUE_URL, MessageBody: { 'token.$': '$$.Task.Token' } },
      },
    });
    const start = (input: unknown) => sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'order-1', input: JSON.stringify(input) }));

    const first = await start({ a: 1 });
    const again = await start({ a: 1 });
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);
    expect(await rejection(start({ a: 2 }))).toBe('ExecutionAlreadyExists');

    await engine.settled();
    await sfn.send(new SendTaskSuccessCommand({ taskToken: sent[0].body.token as string, output: '{}' }));
    await engine.executions.get(first.executionArn!)!.done;
    expect(await rejection(start({ a: 1 }))).toBe('ExecutionAlreadyExists');
    expect(sent).toHaveLength(1);
  });

  test('StopExecution aborts a waiting execution with the error and cause given; its token is closed', async () => {
    const arn = createMachine({
      Await: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        End: true,
        Parameters: { QueueUrl: QUEUE_URL, MessageBody: { 'token.$': '$$.Task.Token' } },
      },
    });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    await engine.settled();

    const stopped = await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'cancelled by hand' }));

    expect(stopped.stopDate).toBeInstanceOf(Date);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toEqual(expect.objectContaining({ status: 'ABORTED', error: 'Operator', cause: 'cancelled by hand' }));
    expect(await rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: sent[0].body.token as string, output: '{}' })))).toBe('TaskTimedOut');
    await engine.settled();
  });

  test('ListExecutions (newest first, by status) and GetExecutionHistory', async () => {
    functions[fnArn('ok')] = () => 'done';
    const arn = createMachine({ Call: { Type: 'Task', Resource: fnArn('ok'), End: true } });
    const one = await runToEnd(arn, {}, 'one');
    const two = await runToEnd(arn, {}, 'two');

    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'SUCCEEDED' }));
    expect(listed.executions?.map((e) => e.name)).toEqual(['two', 'one']);
    const paged = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 1 }));
    expect(paged.executions).toHaveLength(1);
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, nextToken: paged.nextToken }))).executions?.map((e) => e.name)).toEqual(['one']);

    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: one.executionArn }));
    expect(history.events?.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskStateExited', 'ExecutionSucceeded']);
    expect(history.events?.[2].stateExitedEventDetails).toEqual(expect.objectContaining({ name: 'Call', output: '"done"' }));
    expect(two.status).toBe('SUCCEEDED');
  });

  test('the API\'s errors by the SDK\'s names', async () => {
    const arn = createMachine({ Done: { Type: 'Succeed' } });
    const missing = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:nope`;

    expect(await rejection(sfn.send(new StartExecutionCommand({ stateMachineArn: missing })))).toBe('StateMachineDoesNotExist');
    expect(await rejection(sfn.send(new StartExecutionCommand({ stateMachineArn: 'not-an-arn' })))).toBe('InvalidArn');
    expect(await rejection(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'has space' })))).toBe('InvalidName');
    expect(await rejection(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{oops' })))).toBe('InvalidExecutionInput');
    expect(await rejection(sfn.send(new StartExecutionCommand({ stateMachineArn: undefined })))).toBe('ValidationException');
    expect(await rejection(sfn.send(new DescribeExecutionCommand({ executionArn: `arn:aws:states:us-east-1:${ACCOUNT}:execution:x:y` })))).toBe('ExecutionDoesNotExist');
    expect(await rejection(sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn })))).toBe('StateMachineTypeNotSupported');
  });

  test('DescribeStateMachine and ListStateMachines', async () => {
    const arn = createMachine({ Done: { Type: 'Succeed' } });

    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    const listed = await sfn.send(new ListStateMachinesCommand({ maxResults: 1_000 }));

    expect(described).toEqual(expect.objectContaining({ stateMachineArn: arn, type: 'STANDARD', status: 'ACTIVE' }));
    expect(JSON.parse(described.definition!)).toEqual({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } });
    expect(listed.stateMachines?.map((m) => m.stateMachineArn)).toContain(arn);
  });
});

describe('EXPRESS', () => {
  test('StartSyncExecution answers the end: SUCCEEDED with output, FAILED with error and cause', async () => {
    functions[fnArn('check')] = (input) => {
      if ((input as { ok: boolean }).ok) return { checked: true };
      throw new FunctionError('CheckFailed', 'not ok');
    };
    const arn = createMachine({ Check: { Type: 'Task', Resource: fnArn('check'), End: true } }, {}, 'EXPRESS');

    const ok = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ ok: true }) }));
    const failed = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ ok: false }) }));

    expect(ok).toEqual(expect.objectContaining({ status: 'SUCCEEDED', output: JSON.stringify({ checked: true }) }));
    expect(ok.executionArn).toMatch(new RegExp(`^arn:aws:states:us-east-1:${ACCOUNT}:express:${arn.split(':').pop()}:[0-9a-f-]{36}:[0-9a-f-]{36}$`));
    expect(failed).toEqual(expect.objectContaining({ status: 'FAILED', error: 'CheckFailed' }));
    expect(JSON.parse(failed.cause!)).toEqual(expect.objectContaining({ errorMessage: 'not ok' }));
  });

  test('the execution\'s TimeoutSeconds: TIMED_OUT', async () => {
    functions[fnArn('hangs')] = () => new Promise(() => undefined);
    const arn = createMachine({ Hang: { Type: 'Task', Resource: fnArn('hangs'), End: true } }, { TimeoutSeconds: 1 }, 'EXPRESS');

    const out = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn }));

    expect(out).toEqual(expect.objectContaining({ status: 'TIMED_OUT', error: 'States.Timeout' }));
  });

  test('names are not idempotent, and the APIs that serve STANDARD only refuse an EXPRESS execution (InvalidArn)', async () => {
    const arn = createMachine({ Done: { Type: 'Succeed' } }, {}, 'EXPRESS');

    const a = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'same' }));
    const b = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'same' }));

    expect(a.executionArn).not.toBe(b.executionArn);
    expect(await rejection(sfn.send(new DescribeExecutionCommand({ executionArn: a.executionArn })))).toBe('InvalidArn');
    expect(await rejection(sfn.send(new ListExecutionsCommand({ stateMachineArn: arn })))).toBe('StateMachineTypeNotSupported');
    await engine.settled();
  });
});

describe('direct DynamoDB integrations (dynalite)', () => {
  test('putItem, getItem, updateItem run the state\'s Parameters; a failed condition is DynamoDB.ConditionalCheckFailedException', async () => {
    const key = { pk: { 'S.$': "States.Format('ORDER#{}', $.id)" }, sk: { S: 'ORDER' } };
    const arn = createMachine({
      Put: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:putItem',
        ResultPath: null,
        Next: 'Get',
        Parameters: { TableName: db.tableName, Item: { pk: { 'S.$': "States.Format('ORDER#{}', $.id)" }, sk: { S: 'ORDER' }, status: { S: 'NEW' } } },
      },
      Get: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:getItem',
        ResultSelector: { 'status.$': '$.Item.status.S' },
        ResultPath: '$.read',
        Next: 'Confirm',
        Parameters: { TableName: db.tableName, Key: key, ConsistentRead: true },
      },
      Confirm: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:updateItem',
        ResultPath: null,
        Next: 'ConfirmAgain',
        Parameters: {
          TableName: db.tableName,
          Key: key,
          UpdateExpression: 'SET #s = :c',
          ConditionExpression: '#s = :n',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':c': { S: 'CONFIRMED' }, ':n': { S: 'NEW' } },
        },
      },
      ConfirmAgain: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:updateItem',
        End: true,
        Parameters: {
          TableName: db.tableName,
          Key: key,
          UpdateExpression: 'SET #s = :c',
          ConditionExpression: '#s = :n',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':c': { S: 'CONFIRMED' }, ':n': { S: 'NEW' } },
        },
        Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.error', Next: 'AlreadyConfirmed' }],
      },
      AlreadyConfirmed: { Type: 'Pass', End: true },
    });

    const out = await runToEnd(arn, { id: '42' });

    expect(out.status).toBe('SUCCEEDED');
    expect(out.parsedOutput).toEqual({ id: '42', read: { status: 'NEW' }, error: expect.objectContaining({ Error: 'DynamoDB.ConditionalCheckFailedException' }) });
    const item = await db.dynamo.client.send(new GetItemCommand({ TableName: db.tableName, Key: { pk: { S: 'ORDER#42' }, sk: { S: 'ORDER' } } }));
    expect(item.Item?.status).toEqual({ S: 'CONFIRMED' });
  });

  test('the AWS SDK integration aws-sdk:dynamodb:<action> answers the SDK\'s output, errors named DynamoDb.<name>', async () => {
    const arn = createMachine({
      Query: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:dynamodb:query',
        ResultSelector: { 'count.$': '$.Count' },
        Next: 'Missing',
        Parameters: { TableName: db.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'ORDER#42' } } },
      },
      Missing: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:dynamodb:getItem',
        End: true,
        Parameters: { TableName: 'no-such-table', Key: { pk: { S: 'x' }, sk: { S: 'y' } } },
        Catch: [{ ErrorEquals: ['DynamoDb.ResourceNotFoundException'], Next: 'NotFound' }],
      },
      NotFound: { Type: 'Succeed' },
    });

    const out = await runToEnd(arn);

    expect(out.status).toBe('SUCCEEDED');
    expect(engine.executions.get(out.executionArn!)!.statesEntered).toEqual(['Query', 'Missing', 'NotFound']);
  });
});

describe('createStateMachine refuses what cannot run here, naming the state and the resource', () => {
  test.each<[string, States, string, RegExp]>([
    ['an activity', { A: { Type: 'Task', Resource: `arn:aws:states:us-east-1:${ACCOUNT}:activity:approve`, End: true } }, 'STANDARD', /state "A" uses arn:aws:states:us-east-1:123456789012:activity:approve/],
    ['an integration without a binding', { Put: { Type: 'Task', Resource: 'arn:aws:states:::s3:putObject', End: true } }, 'STANDARD', /state "Put" uses arn:aws:states:::s3:putObject/],
    ['.waitForTaskToken in EXPRESS', {
      W: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken', Parameters: { QueueUrl: QUEUE_URL, MessageBody: 'x' }, End: true },
    }, 'EXPRESS', /EXPRESS state machines do not support \.waitForTaskToken/],
    ['JSONata', { P: { Type: 'Pass', QueryLanguage: 'JSONata', End: true } }, 'STANDARD', /state "P" uses QueryLanguage/],
  ])('%s', (_case, states, type, message) => {
    expect(() => createMachine(states, {}, type as 'STANDARD')).toThrow(message);
  });

  test('a DynamoDB state without a DynamoDB endpoint', async () => {
    const bare = await startLocalStepFunctions({});
    try {
      expect(() => createMachine({ Get: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:getItem', End: true } }, {}, 'STANDARD', bare))
        .toThrow(/state "Get" uses arn:aws:states:::dynamodb:getItem: no DynamoDB endpoint was given/);
    } finally {
      await bare.stop();
    }
  });

  test('a definition that is not valid ASL', () => {
    expect(() => createMachine({ A: { Type: 'Nope', End: true } })).toThrow(/not valid ASL/);
  });
});
