/**
 * POST /sagas: the reference start handler. STANDARD starts go to a local registry with
 * StartExecution's documented name rules, which runs the synthesized definition on dynalite;
 * EXPRESS claims its key on dynalite (Express does not deduplicate names).
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { jsonBody } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { badIdempotencyKey, nonJsonContentType, notAnObjectText } from '../helpers/hostile-input';
import { callbackCompleter, callbackEvent, callsNamed, LocalStandardStarts, sagaDefinition, sagaLambdas, seedStock, starter, startEvent, stockOf, synthSaga } from '../helpers/saga';
import { invalidOrder } from '../helpers/saga-input';
import { runLocalExecution, TaskTokenBroker, type CallbackMessage } from '../helpers/step-functions-local';

const db = useDynaliteTable();
const synth = synthSaga();
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Saga';
const order = (sku: string, quantity = 2) => ({ orderId: `o-${sku}`, customerId: 'c-1', sku, quantity, amount: 1_500 });

describe('STANDARD', () => {
  test('a start repeated with the same Idempotency-Key begins one saga, while it runs and after it ended', async () => {
    await seedStock(db.dynamo.client, db.tableName, 'rep', 10);
    const broker = new TaskTokenBroker();
    const completer = callbackCompleter(broker);
    const messages: CallbackMessage[] = [];
    let arrived!: () => void;
    const messageArrived = new Promise<void>((resolve) => { arrived = resolve; });
    let confirm!: () => void;
    const confirmed = new Promise<void>((resolve) => { confirm = resolve; });
    const starts = new LocalStandardStarts((name, input) => runLocalExecution(sagaDefinition(synth, db.tableName), input, {
      executionName: name,
      lambdas: sagaLambdas(synth, db.tableName),
      dynamodb: db.dynamo.client,
      broker,
      // The external system answers only when the test says so; the heartbeat clock runs at real speed meanwhile.
      heartbeatMillisPerSecond: 1_000,
      onCallbackMessage: async (message) => {
        messages.push(message);
        arrived();
        await confirmed;
        await completer(callbackEvent({ taskToken: message.body.taskToken, outcome: 'confirmed' }));
      },
    }));
    const { invoke, sfn } = starter({ TABLE_NAME: db.tableName, STATE_MACHINE_ARN }, starts);

    const first = await invoke(startEvent(order('rep'), 'order-rep-1'));
    expect(first.statusCode).toBe(202);
    const { executionArn, executionName } = jsonBody<{ executionArn: string; executionName: string }>(first);
    expect(executionName).toMatch(/^k-[0-9a-f]{64}$/);
    await messageArrived;

    const whileRunning = await invoke(startEvent(order('rep'), 'order-rep-1'));
    expect(whileRunning.statusCode).toBe(202);
    expect(jsonBody(whileRunning)).toEqual(expect.objectContaining({ executionArn }));

    const otherOrder = await invoke(startEvent(order('rep', 3), 'order-rep-1'));
    expect(otherOrder.statusCode).toBe(409);

    confirm();
    await starts.executions.get(executionName)!.done;
    const afterEnd = await invoke(startEvent(order('rep'), 'order-rep-1'));
    expect(afterEnd.statusCode).toBe(202);
    expect(jsonBody(afterEnd)).toEqual({ executionArn, executionName, status: 'SUCCEEDED' });

    expect(starts.executions.size).toBe(1);
    expect(messages).toHaveLength(1);
    expect(await stockOf(db.dynamo.client, db.tableName, 'rep')).toEqual({ available: 8, reservations: [] });
    // Four StartExecution calls, one saga.
    expect(callsNamed(sfn, 'StartExecutionCommand')).toBe(4);
  });

  test('another caller\'s same key names another execution', async () => {
    const starts = new LocalStandardStarts(async () => new Promise(() => undefined));
    const { invoke } = starter({ TABLE_NAME: db.tableName, STATE_MACHINE_ARN }, starts);
    const as = (user: string) => ({ ...startEvent(order('callers'), 'shared-key'), requestContext: { ...startEvent({}).requestContext, identity: { ...startEvent({}).requestContext.identity, userArn: user } } });
    const a = jsonBody<{ executionName: string }>(await invoke(as('arn:aws:iam::123456789012:user/a')));
    const b = jsonBody<{ executionName: string }>(await invoke(as('arn:aws:iam::123456789012:user/b')));
    expect(a.executionName).not.toBe(b.executionName);
    expect(starts.executions.size).toBe(2);
  });

  test('throttling answers 503 with Retry-After', async () => {
    const { invoke, sfn } = starter({ TABLE_NAME: db.tableName, STATE_MACHINE_ARN });
    sfn.onAnyCommand().rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const response = await invoke(startEvent(order('throttled'), 'k-throttled'));
    expect(response.statusCode).toBe(503);
  });
});

/** The event with `contentType` as its only Content-Type, or none. */
function withContentType(event: APIGatewayProxyEvent, contentType: string | undefined): APIGatewayProxyEvent {
  const headers = { ...event.headers };
  const multiValueHeaders = { ...event.multiValueHeaders };
  delete headers['Content-Type'];
  delete multiValueHeaders['Content-Type'];
  if (contentType !== undefined) {
    headers['Content-Type'] = contentType;
    multiValueHeaders['Content-Type'] = [contentType];
  }
  return { ...event, headers, multiValueHeaders };
}

describe('bad input: 4xx, and no saga is started', () => {
  // Bad input never reaches the table.
  const { invoke, sfn } = starter({ TABLE_NAME: 'never-used', STATE_MACHINE_ARN });
  beforeEach(() => sfn.reset());

  test.each([
    ['no Idempotency-Key', startEvent(order('a')), 400, /Idempotency-Key header is required/],
    ['two Idempotency-Keys', startEvent(order('a'), ['k1', 'k2']), 400, /must appear once/],
    ['no body', startEvent('', 'k1'), 400, /JSON request body is required/],
  ])('%s', async (_name, event, status, message) => {
    const response = await invoke(event);
    expect(response.statusCode).toBe(status);
    expect(jsonBody<{ message: string }>(response).message).toMatch(message);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('any malformed key, body, content type or order', async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(
        badIdempotencyKey.map((key) => startEvent(order('a'), key)),
        notAnObjectText.map((body) => startEvent(body, 'good-key')),
        invalidOrder.map((o) => startEvent(o, 'good-key')),
        nonJsonContentType.map((ct) => withContentType(startEvent(order('a'), 'good-key'), ct)),
      ),
      async (event) => {
        const response = await invoke(event);
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(response.statusCode).toBeLessThan(500);
        expect(sfn.calls()).toHaveLength(0);
      },
    ), { numRuns: 150 });
  });
});

describe('EXPRESS (no name deduplication: the key is claimed on the table)', () => {
  test('async: a repeated start begins one execution; another order with the key gets 409', async () => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, STATE_MACHINE_ARN, WORKFLOW_TYPE: 'EXPRESS' });
    sfn.on(sdk.StartExecutionCommand as never).callsFake((i: { name: string }) => ({ executionArn: `arn:aws:states:us-east-1:123456789012:express:Saga:${i.name}:run1` }));
    const first = await invoke(startEvent(order('x1'), 'express-key'));
    const again = await invoke(startEvent(order('x1'), 'express-key'));
    const other = await invoke(startEvent(order('x2'), 'express-key'));
    expect(first.statusCode).toBe(202);
    expect(jsonBody(again)).toEqual(jsonBody(first));
    expect(other.statusCode).toBe(409);
    expect(callsNamed(sfn, 'StartExecutionCommand')).toBe(1);
    const name = jsonBody<{ executionName: string }>(first).executionName;
    const claim = await db.dynamo.client.send(new GetItemCommand({ TableName: db.tableName, Key: { pk: { S: `START#${name}` }, sk: { S: 'START' } } }));
    expect(claim.Item?.executionArn?.S).toBe(jsonBody<{ executionArn: string }>(first).executionArn);
    expect(Number(claim.Item?.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000);
  });

  test('sync: StartSyncExecution once, the output answered and kept for a retry', async () => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, STATE_MACHINE_ARN, WORKFLOW_TYPE: 'EXPRESS', START_MODE: 'sync' });
    sfn.on(sdk.StartSyncExecutionCommand as never).callsFake((i: { name: string }) => ({
      executionArn: `arn:aws:states:us-east-1:123456789012:express:Saga:${i.name}:run1`, status: 'SUCCEEDED', output: JSON.stringify({ status: 'CONFIRMED' }),
    }));
    const first = await invoke(startEvent(order('s1'), 'sync-key'));
    const again = await invoke(startEvent(order('s1'), 'sync-key'));
    expect(first.statusCode).toBe(200);
    expect(jsonBody(first)).toEqual(expect.objectContaining({ status: 'SUCCEEDED', output: { status: 'CONFIRMED' } }));
    expect(jsonBody(again)).toEqual(jsonBody(first));
    expect(callsNamed(sfn, 'StartSyncExecutionCommand')).toBe(1);
  });

  test('a start that failed gives the key back, so the retry starts it', async () => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, STATE_MACHINE_ARN, WORKFLOW_TYPE: 'EXPRESS' });
    sfn.on(sdk.StartExecutionCommand as never)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
      .callsFake((i: { name: string }) => ({ executionArn: `arn:aws:states:us-east-1:123456789012:express:Saga:${i.name}:run2` }));
    expect((await invoke(startEvent(order('f1'), 'fail-key'))).statusCode).toBe(503);
    expect((await invoke(startEvent(order('f1'), 'fail-key'))).statusCode).toBe(202);
  });
});

test('the STANDARD start never writes to the table', async () => {
  const before = await db.dynamo.scanAll(db.tableName);
  const { invoke } = starter({ TABLE_NAME: db.tableName, STATE_MACHINE_ARN }, new LocalStandardStarts(async () => new Promise(() => undefined)));
  await invoke(startEvent(order('nowrite'), 'no-write-key'));
  expect((await db.dynamo.scanAll(db.tableName)).filter((i) => i.pk.S?.startsWith('START#'))).toEqual(before.filter((i) => i.pk.S?.startsWith('START#')));
});
