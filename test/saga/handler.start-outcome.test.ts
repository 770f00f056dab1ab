/**
 * POST /sagas when Step Functions' answer to a start is lost or refused (DESIGN.md section 4).
 * The faults come from aws-sdk-client-mock (no engine produces them); the Express claims live on
 * dynalite. A start that may have begun a saga keeps its claim (`unknown`) and is never sent
 * again; a refused one gives the claim back. No assertion depends on time.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { jsonBody, lambdaContext, responseHeader } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { isolatedRequire } from '../helpers/load-handler';
import { callsNamed, starter, startEvent } from '../helpers/saga';

const db = useDynaliteTable();
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Saga';
const EXPRESS = { STATE_MACHINE_ARN, WORKFLOW_TYPE: 'EXPRESS' } as const;
const order = (sku: string) => ({ orderId: `o-${sku}`, customerId: 'c-1', sku, quantity: 1, amount: 900 });
const expressArn = (name: string) => `arn:aws:states:us-east-1:123456789012:express:Saga:${name}:0c3d5a1e-1b7e-4f11-9d5e-6f1a2b3c4d5e`;
/** A StartExecution answer. */
const started = (i: { name: string }) => ({ executionArn: expressArn(i.name) });

/** Faults as the SDK raises them: no answer, a reset, a server fault, refusals. */
const fault = {
  timeout: () => Object.assign(new Error('Request timed out'), { name: 'TimeoutError', code: 'ETIMEDOUT', $metadata: {} }),
  reset: () => Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET', $metadata: {} }),
  serverFault: () => Object.assign(new Error('Internal failure'), { name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 } }),
  aborted: () => Object.assign(new Error('Request aborted'), { name: 'AbortError', $metadata: {} }),
  throttled: () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
  refused: (name: string) => Object.assign(new Error(name), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } }),
};

async function claimOf(name: string): Promise<Record<string, string | undefined> | undefined> {
  const item = (await db.dynamo.client.send(new GetItemCommand({
    TableName: db.tableName, Key: { pk: { S: `START#${name}` }, sk: { S: 'START' } }, ConsistentRead: true,
  }))).Item;
  return item === undefined ? undefined : Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.S ?? v.N]));
}

/** The execution name the handler derived for a request (from its own exports, not a copy of the rule). */
function nameOf(event: APIGatewayProxyEvent): string {
  const { module } = isolatedRequire<typeof import('../../lambda/saga/start')>('lambda/saga/start', { TABLE_NAME: 'unused', ...EXPRESS });
  return module.executionNameFor(module.callerOf(event), event.headers['Idempotency-Key']!);
}

describe('EXPRESS: a start whose answer is lost keeps its claim as unknown, and no retry starts again', () => {
  test.each([
    ['timeout', fault.timeout],
    ['connection reset', fault.reset],
    ['server fault (5xx)', fault.serverFault],
    ['invocation deadline (abort)', fault.aborted],
  ])('sync, %s: 503 OutcomeUnknown, then 409 OutcomeUnknown; one StartSyncExecution in all', async (label, error) => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, ...EXPRESS, START_MODE: 'sync' });
    sfn.on(sdk.StartSyncExecutionCommand as never).rejectsOnce(error()).callsFake((i: { name: string }) => ({
      executionArn: expressArn(i.name), status: 'SUCCEEDED', output: '{}',
    }));
    const event = startEvent(order(`sync-${label.replace(/[^a-z]/g, '')}`), `sync-lost-${label}`);

    const first = await invoke(event);
    expect(first.statusCode).toBe(503);
    expect(jsonBody(first)).toEqual(expect.objectContaining({ error: 'OutcomeUnknown', message: expect.stringMatching(/same Idempotency-Key starts no second saga/) }));
    expect(responseHeader(first, 'retry-after')).toBe('1');
    const claim = await claimOf(nameOf(event));
    expect(claim).toEqual(expect.objectContaining({ state: 'unknown' }));
    expect(claim?.executionArn).toBeUndefined();

    for (let retry = 0; retry < 3; retry++) {
      const again = await invoke(event);
      expect(again.statusCode).toBe(409);
      expect(jsonBody(again)).toEqual(expect.objectContaining({ error: 'OutcomeUnknown' }));
    }
    expect(callsNamed(sfn, 'StartSyncExecutionCommand')).toBe(1);
    expect(callsNamed(sfn, 'StartExecutionCommand')).toBe(0);
  });

  test('async, lost answer: 503, the claim kept as unknown, a retry starts nothing', async () => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, ...EXPRESS });
    sfn.on(sdk.StartExecutionCommand as never).rejectsOnce(fault.timeout()).callsFake(started);
    const event = startEvent(order('async-lost'), 'async-lost');
    expect((await invoke(event)).statusCode).toBe(503);
    expect(await claimOf(nameOf(event))).toEqual(expect.objectContaining({ state: 'unknown' }));
    const again = await invoke(event);
    expect(again.statusCode).toBe(409);
    expect(jsonBody(again)).toEqual(expect.objectContaining({ error: 'OutcomeUnknown' }));
    // Another order under the key is still told that the key is taken by another order.
    expect(jsonBody(await invoke(startEvent({ ...order('async-lost'), quantity: 2 }, 'async-lost')))).toEqual(expect.objectContaining({ error: 'Conflict' }));
    expect(callsNamed(sfn, 'StartExecutionCommand')).toBe(1);
  });

  test('a start in flight: a retry meanwhile gets 409 in progress and starts nothing', async () => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, ...EXPRESS });
    let answerFirst!: () => void;
    const firstSent = new Promise<void>((sent) => {
      sfn.on(sdk.StartExecutionCommand as never).callsFake(async (i: { name: string }) => {
        sent();
        await new Promise<void>((resolve) => { answerFirst = resolve; });
        return { executionArn: expressArn(i.name) };
      });
    });
    const event = startEvent(order('in-flight'), 'in-flight');
    const first = invoke(event);
    await firstSent;
    const during = await invoke(event);
    expect(during.statusCode).toBe(409);
    expect(jsonBody(during)).toEqual(expect.objectContaining({ error: 'Conflict', message: expect.stringMatching(/in progress/) }));
    answerFirst();
    expect((await first).statusCode).toBe(202);
    expect(jsonBody(await invoke(event))).toEqual(jsonBody(await first));
    expect(callsNamed(sfn, 'StartExecutionCommand')).toBe(1);
  });

  test('a claim still starting after its invocation ended (stopped mid-start) answers as unknown', async () => {
    const env = { TABLE_NAME: db.tableName, ...EXPRESS };
    const { module, others } = isolatedRequire<typeof import('../../lambda/saga/start')>('lambda/saga/start', env, [], ['@aws-sdk/client-sfn']);
    const sdk = others[0] as typeof import('@aws-sdk/client-sfn');
    const sfn = mockClient(sdk.SFNClient as unknown as new () => SFNClient);
    let sent!: () => void;
    const firstSent = new Promise<void>((resolve) => { sent = resolve; });
    // The start never answers, as when Lambda stops the invocation at its timeout.
    sfn.on(sdk.StartExecutionCommand as never).callsFake(() => {
      sent();
      return new Promise(() => undefined);
    });
    const event = startEvent(order('stopped'), 'stopped');
    // An invocation whose time is already up: its claim's settleBy is in the past.
    void module.handler(event, lambdaContext({ getRemainingTimeInMillis: () => -1 }));
    await firstSent;
    expect(await claimOf(nameOf(event))).toEqual(expect.objectContaining({ state: 'starting' }));
    const retry = await module.handler(event, lambdaContext());
    expect(retry.statusCode).toBe(409);
    expect(jsonBody(retry)).toEqual(expect.objectContaining({ error: 'OutcomeUnknown' }));
    expect(callsNamed(sfn, 'StartExecutionCommand')).toBe(1);
    sfn.restore();
  });
});

describe('EXPRESS: a refused start gives the claim back', () => {
  test('throttled: 503, no claim left, and the retry starts the saga once', async () => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, ...EXPRESS, START_MODE: 'sync' });
    sfn.on(sdk.StartSyncExecutionCommand as never).rejectsOnce(fault.throttled()).callsFake((i: { name: string }) => ({
      executionArn: expressArn(i.name), status: 'SUCCEEDED', output: JSON.stringify({ status: 'CONFIRMED' }),
    }));
    const event = startEvent(order('throttled'), 'throttled');
    const first = await invoke(event);
    expect(first.statusCode).toBe(503);
    expect(jsonBody(first)).toEqual(expect.objectContaining({ error: 'ServiceUnavailable' }));
    expect(await claimOf(nameOf(event))).toBeUndefined();
    const retry = await invoke(event);
    expect(retry.statusCode).toBe(200);
    expect(await invoke(event)).toEqual(retry);
    expect(callsNamed(sfn, 'StartSyncExecutionCommand')).toBe(2);
    expect(await claimOf(nameOf(event))).toEqual(expect.objectContaining({ state: 'started', status: 'SUCCEEDED' }));
  });

  test.each(['KmsAccessDeniedException', 'KmsInvalidStateException', 'KmsThrottlingException'])('%s: 503, the claim given back', async (name) => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, ...EXPRESS });
    sfn.on(sdk.StartExecutionCommand as never).rejectsOnce(fault.refused(name)).callsFake(started);
    const event = startEvent(order(`kms-${name}`), `kms-${name}`);
    const first = await invoke(event);
    expect(first.statusCode).toBe(503);
    expect(jsonBody(first)).toEqual(expect.objectContaining({ error: 'ServiceUnavailable' }));
    expect(await claimOf(nameOf(event))).toBeUndefined();
    expect((await invoke(event)).statusCode).toBe(202);
    expect(callsNamed(sfn, 'StartExecutionCommand')).toBe(2);
  });

  test.each(['InvalidExecutionInput', 'StateMachineDoesNotExist', 'InvalidName'])('%s: the claim is given back (nothing started), 500', async (name) => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, ...EXPRESS });
    sfn.on(sdk.StartExecutionCommand as never).rejects(fault.refused(name));
    const event = startEvent(order(`refused-${name}`), `refused-${name}`);
    expect((await invoke(event)).statusCode).toBe(500);
    expect(await claimOf(nameOf(event))).toBeUndefined();
  });
});

describe('STANDARD', () => {
  test.each(['KmsAccessDeniedException', 'KmsInvalidStateException', 'KmsThrottlingException'])('%s: 503', async (name) => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, STATE_MACHINE_ARN });
    sfn.on(sdk.StartExecutionCommand as never).rejects(fault.refused(name));
    const response = await invoke(startEvent(order('kms'), 'kms'));
    expect(response.statusCode).toBe(503);
    expect(responseHeader(response, 'retry-after')).toBe('1');
  });

  test('a lost answer is retried here with the same name (Step Functions deduplicates it): one saga, 202', async () => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, STATE_MACHINE_ARN });
    const begun = new Set<string>();
    sfn.on(sdk.StartExecutionCommand as never).callsFake((i: { name: string }) => {
      const arn = `arn:aws:states:us-east-1:123456789012:execution:Saga:${i.name}`;
      // The first attempt starts the execution and its answer is lost; the retry gets the same execution.
      if (!begun.has(i.name)) {
        begun.add(i.name);
        throw fault.timeout();
      }
      return { executionArn: arn };
    });
    const response = await invoke(startEvent(order('std-lost'), 'std-lost'));
    expect(response.statusCode).toBe(202);
    expect(begun.size).toBe(1);
    expect(callsNamed(sfn, 'StartExecutionCommand')).toBe(2);
  });
});

describe('the execution name names the principal, not its session', () => {
  const withIdentity = (identity: { userArn?: string; caller?: string }, key = 'shared-key'): APIGatewayProxyEvent => {
    const event = startEvent(order('principal'), key);
    const ctx = event.requestContext;
    return { ...event, requestContext: { ...ctx, identity: { ...ctx.identity, userArn: null, caller: null, ...identity } } };
  };
  const role = (roleName: string, session: string) => ({
    userArn: `arn:aws:sts::123456789012:assumed-role/${roleName}/${session}`,
    caller: `AROA${roleName.toUpperCase().replace(/[^A-Z0-9]/g, '')}EXAMPLE:${session}`,
  });

  test('two sessions of one role: the same name, so a retry from another task starts nothing new', async () => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, ...EXPRESS });
    sfn.on(sdk.StartExecutionCommand as never).callsFake((i: { name: string }) => ({ executionArn: expressArn(i.name) }));
    const a = await invoke(withIdentity(role('OrderService', 'task-1a2b')));
    const b = await invoke(withIdentity(role('OrderService', 'i-0abc-9f8e7d')));
    expect(a.statusCode).toBe(202);
    expect(jsonBody(b)).toEqual(jsonBody(a));
    expect(callsNamed(sfn, 'StartExecutionCommand')).toBe(1);
  });

  test('two different roles: different names', () => {
    expect(nameOf(withIdentity(role('OrderService', 's1')))).not.toBe(nameOf(withIdentity(role('BillingService', 's1'))));
  });

  test('the session is dropped from the caller id too, when there is no ARN', () => {
    expect(nameOf(withIdentity({ caller: 'AROAEXAMPLEID:session-1' }))).toBe(nameOf(withIdentity({ caller: 'AROAEXAMPLEID:session-2' })));
    expect(nameOf(withIdentity({ caller: 'AROAEXAMPLEID:session-1' }))).not.toBe(nameOf(withIdentity({ caller: 'AROAOTHERID:session-1' })));
  });

  test('IAM users, authorizer principals and Cognito subjects are kept as they are', () => {
    const { module } = isolatedRequire<typeof import('../../lambda/saga/start')>('lambda/saga/start', { TABLE_NAME: 'unused', ...EXPRESS });
    expect(module.principalOf('arn:aws:iam::123456789012:user/alice')).toBe('arn:aws:iam::123456789012:user/alice');
    expect(module.principalOf('AIDAEXAMPLEUSERID')).toBe('AIDAEXAMPLEUSERID');
    expect(module.principalOf('arn:aws:sts::123456789012:assumed-role/Ops/alice@example.com')).toBe('arn:aws:sts::123456789012:assumed-role/Ops');
    expect(module.principalOf('arn:aws-us-gov:sts::123456789012:assumed-role/Ops/s')).toBe('arn:aws-us-gov:sts::123456789012:assumed-role/Ops');
    expect(module.principalOf('3f1c2b9e-0d4a-4e8b-9c1f-2a3b4c5d6e7f')).toBe('3f1c2b9e-0d4a-4e8b-9c1f-2a3b4c5d6e7f');
    const event = startEvent(order('sub'), 'k');
    const bySub = { ...event, requestContext: { ...event.requestContext, authorizer: { claims: { sub: 'user:with:colons' } } } };
    expect(module.callerOf(bySub)).toBe('user:with:colons');
  });
});

describe('the start clients make one attempt per call', () => {
  test('StartSyncExecution goes through a client with maxAttempts 1 and the SYNC_START_TIMEOUT_MS request timeout', async () => {
    const { invoke, sfn, sdk } = starter({ TABLE_NAME: db.tableName, ...EXPRESS, START_MODE: 'sync', SYNC_START_TIMEOUT_MS: '27000' });
    sfn.on(sdk.StartSyncExecutionCommand as never).rejects(fault.timeout());
    expect((await invoke(startEvent(order('cfg'), 'cfg'))).statusCode).toBe(503);
    const client = sfn.call(0).thisValue as SFNClient;
    expect(await client.config.maxAttempts()).toBe(1);
    const handler = client.config.requestHandler as unknown as { configProvider: Promise<{ requestTimeout?: number; connectionTimeout?: number }> };
    expect(await handler.configProvider).toEqual(expect.objectContaining({ requestTimeout: 27_000, connectionTimeout: 1_000 }));
  });

  test('SYNC_START_TIMEOUT_MS is validated at cold start', () => {
    for (const bad of ['999', '300001', '25s']) {
      expect(() => isolatedRequire('lambda/saga/start', { TABLE_NAME: 't', ...EXPRESS, START_MODE: 'sync', SYNC_START_TIMEOUT_MS: bad }))
        .toThrow(/SYNC_START_TIMEOUT_MS must be an integer in 1000\.\.300000/);
    }
  });
});
