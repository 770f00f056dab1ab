/**
 * The reference Lambda steps on dynalite: idempotent per execution and step (a retry, a redrive
 * or a repeated invocation after a lost answer applies once), compensations idempotent and safe
 * before their step, bad input rejected without a write; and the callback completer's input checks.
 */
import fc from 'fast-check';
import { jsonBody } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { isolatedRequire } from '../helpers/load-handler';
import { callbackCompleter, callbackEvent, paymentOf, seedStock, stockOf } from '../helpers/saga';
import { invalidOrder, validOrder } from '../helpers/saga-input';
import { executionArnOf, TaskTokenBroker } from '../helpers/step-functions-local';

const db = useDynaliteTable();
type Step = (event: unknown) => Promise<Record<string, unknown>>;
let inventory: Step;
let payment: Step;
beforeAll(() => {
  inventory = isolatedRequire<{ handler: Step }>('lambda/saga/inventory', { TABLE_NAME: db.tableName }).module.handler;
  payment = isolatedRequire<{ handler: Step }>('lambda/saga/payment', { TABLE_NAME: db.tableName, PAYMENT_LIMIT: '5000' }).module.handler;
});

let n = 0;
const order = (sku: string, quantity = 3, amount = 1_000) => ({ orderId: `o-${sku}`, customerId: 'c-1', sku, quantity, amount });
const step = (action: string, sku: string, executionId = executionArnOf(`exec-${++n}`), o = order(sku)) => ({ action, executionId, order: o });

describe('inventory', () => {
  test('reserve twice for one execution takes the stock once (the second answers as the first)', async () => {
    await seedStock(db.dynamo.client, db.tableName, 'twice', 10);
    const input = step('reserve', 'twice');
    expect(await inventory(input)).toEqual({ sku: 'twice', quantity: 3, changed: true });
    expect(await inventory(input)).toEqual({ sku: 'twice', quantity: 3, changed: true });
    expect(await stockOf(db.dynamo.client, db.tableName, 'twice')).toEqual({ available: 7, reservations: [input.executionId] });
  });

  test('two executions reserve separately; OutOfStockError when there is not enough, nothing changed', async () => {
    await seedStock(db.dynamo.client, db.tableName, 'scarce', 5);
    await inventory(step('reserve', 'scarce'));
    await expect(inventory(step('reserve', 'scarce'))).rejects.toMatchObject({ name: 'OutOfStockError' });
    await expect(inventory(step('reserve', 'no-such-sku'))).rejects.toMatchObject({ name: 'OutOfStockError' });
    expect((await stockOf(db.dynamo.client, db.tableName, 'scarce')).available).toBe(2);
  });

  test('release gives the stock back once, and is a no-op without a reservation', async () => {
    await seedStock(db.dynamo.client, db.tableName, 'rel', 10);
    const executionId = executionArnOf('rel-1');
    await inventory(step('reserve', 'rel', executionId));
    expect(await inventory(step('release', 'rel', executionId))).toEqual(expect.objectContaining({ changed: true }));
    expect(await inventory(step('release', 'rel', executionId))).toEqual(expect.objectContaining({ changed: false }));
    expect(await inventory(step('release', 'rel', executionArnOf('never-reserved')))).toEqual(expect.objectContaining({ changed: false }));
    expect(await stockOf(db.dynamo.client, db.tableName, 'rel')).toEqual({ available: 10, reservations: [] });
  });
});

describe('payment', () => {
  test('charge twice for one execution charges once; refund twice refunds once', async () => {
    const input = step('charge', 'pay');
    expect(await payment(input)).toEqual({ status: 'CHARGED', amount: 1_000, changed: true });
    expect(await payment(input)).toEqual({ status: 'CHARGED', amount: 1_000, changed: false });
    const refund = { ...input, action: 'refund' };
    expect(await payment(refund)).toEqual({ status: 'REFUNDED', amount: 1_000, changed: true });
    expect(await payment(refund)).toEqual({ status: 'REFUNDED', amount: 1_000, changed: false });
    expect(await paymentOf(db.dynamo.client, db.tableName, input.executionId)).toBe('REFUNDED');
  });

  test('a refund before the charge voids the payment: a late charge then fails with PaymentVoidedError', async () => {
    const executionId = executionArnOf('late-charge');
    expect(await payment(step('refund', 'late', executionId))).toEqual(expect.objectContaining({ status: 'VOIDED', changed: true }));
    await expect(payment(step('charge', 'late', executionId))).rejects.toMatchObject({ name: 'PaymentVoidedError' });
    expect(await paymentOf(db.dynamo.client, db.tableName, executionId)).toBe('VOIDED');
  });

  test('a charge above PAYMENT_LIMIT is declined without a write', async () => {
    const input = step('charge', 'big', undefined, order('big', 1, 5_001));
    await expect(payment(input)).rejects.toMatchObject({ name: 'PaymentDeclinedError' });
    expect(await paymentOf(db.dynamo.client, db.tableName, input.executionId)).toBeUndefined();
  });
});

test('any step input that the state machine would not send: InvalidStepInputError, no write', async () => {
  const before = await db.dynamo.scanAll(db.tableName);
  const badInput = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({ action: fc.string(), executionId: fc.constant(executionArnOf('x')), order: validOrder }),
    fc.record({ action: fc.constantFrom('reserve', 'release', 'charge', 'refund'), executionId: fc.string(), order: validOrder }),
    fc.record({ action: fc.constantFrom('reserve', 'release', 'charge', 'refund'), executionId: fc.constant(executionArnOf('x')), order: invalidOrder }),
  );
  await fc.assert(fc.asyncProperty(badInput, fc.boolean(), async (input, useInventory) => {
    const action = (input as { action?: unknown } | null)?.action;
    // A valid action for the other handler is still invalid here.
    const run = useInventory ? inventory : payment;
    void action;
    await expect(run(input)).rejects.toMatchObject({ name: 'InvalidStepInputError' });
  }), { numRuns: 200 });
  expect(await db.dynamo.scanAll(db.tableName)).toEqual(before);
});

describe('callback completer', () => {
  test('every malformed callback: 4xx and nothing sent to Step Functions', async () => {
    const broker = new TaskTokenBroker();
    const completer = callbackCompleter(broker);
    const bad = fc.oneof(
      fc.record({ taskToken: fc.oneof(fc.constant(''), fc.string({ minLength: 2049, maxLength: 2100 }).map((s) => s.padEnd(2049, 'a')), fc.integer()), outcome: fc.constant('confirmed') }),
      fc.record({ taskToken: fc.constant('tok'), outcome: fc.string().filter((s) => !['confirmed', 'rejected', 'heartbeat'].includes(s)) }),
      fc.record({ taskToken: fc.constant('tok'), outcome: fc.constant('rejected'), reason: fc.oneof(fc.integer(), fc.string({ minLength: 257, maxLength: 300 })) }),
      fc.record({ taskToken: fc.constant('tok'), outcome: fc.constant('confirmed'), extra: fc.jsonValue() }),
      fc.jsonValue().filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
    );
    await fc.assert(fc.asyncProperty(bad, async (body) => {
      const response = await completer(callbackEvent(JSON.stringify(body)));
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
    }), { numRuns: 150 });
    expect(broker.answered).toEqual([]);
  });

  test('an unknown token gets 409 with a clear message', async () => {
    const response = await callbackCompleter(new TaskTokenBroker())(callbackEvent({ taskToken: 'nobody-waits', outcome: 'rejected', reason: 'x' }));
    expect(response.statusCode).toBe(409);
    expect(jsonBody<{ message: string }>(response).message).toMatch(/no longer waiting/);
  });
});
