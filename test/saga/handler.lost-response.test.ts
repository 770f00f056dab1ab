/**
 * Lost responses (DESIGN.md section 4): a step's conditional write is applied by the engine but its
 * answer never arrives; the SDK retries it, the condition then fails, and the step must recognise
 * its own earlier attempt and answer as one write, neither failing the saga nor applying twice.
 */
import { useDynamoBehindFaultProxy } from '../helpers/dynamo-fault-proxy';
import { isolatedRequire } from '../helpers/load-handler';
import { paymentOf, seedStock, stockOf } from '../helpers/saga';
import { executionArnOf } from '../helpers/step-functions-local';

// The handlers' clients go through the proxy (AWS_ENDPOINT_URL_DYNAMODB); the test reads dynalite directly.
const local = useDynamoBehindFaultProxy();
const db = { get dynamo() { return local.dynamo; }, tableName: '' };
const proxy = { loseResponses: (op: string, n: number) => local.proxy.loseResponses(op, n), forwarded: (op: string) => local.proxy.forwarded(op) };
type Step = (event: unknown) => Promise<Record<string, unknown>>;
let inventory: Step;
let payment: Step;

beforeAll(async () => {
  db.tableName = await local.dynamo.createTable();
  inventory = isolatedRequire<{ handler: Step }>('lambda/saga/inventory', { TABLE_NAME: db.tableName }).module.handler;
  payment = isolatedRequire<{ handler: Step }>('lambda/saga/payment', { TABLE_NAME: db.tableName }).module.handler;
});
afterEach(() => {
  for (const op of ['PutItem', 'UpdateItem']) proxy.loseResponses(op, 0);
});

const order = (sku: string) => ({ orderId: `o-${sku}`, customerId: 'c-1', sku, quantity: 4, amount: 700 });

test('reserve: the answer of the applied update is lost; the retry answers as that write and takes the stock once', async () => {
  await seedStock(db.dynamo.client, db.tableName, 'lost', 10);
  const executionId = executionArnOf('lost-reserve');
  const before = proxy.forwarded('UpdateItem');
  proxy.loseResponses('UpdateItem', 1);
  expect(await inventory({ action: 'reserve', executionId, order: order('lost') })).toEqual({ sku: 'lost', quantity: 4, changed: true });
  expect(proxy.forwarded('UpdateItem') - before).toBe(2);
  expect(await stockOf(db.dynamo.client, db.tableName, 'lost')).toEqual({ available: 6, reservations: [executionId] });
});

test('charge: the answer of the applied put is lost; one charge', async () => {
  const executionId = executionArnOf('lost-charge');
  const before = proxy.forwarded('PutItem');
  proxy.loseResponses('PutItem', 1);
  expect(await payment({ action: 'charge', executionId, order: order('pay') })).toEqual(expect.objectContaining({ status: 'CHARGED' }));
  expect(proxy.forwarded('PutItem') - before).toBe(2);
  expect(await paymentOf(db.dynamo.client, db.tableName, executionId)).toBe('CHARGED');
});

test('release and refund: lost answers, still applied once', async () => {
  await seedStock(db.dynamo.client, db.tableName, 'lost-rel', 10);
  const executionId = executionArnOf('lost-comp');
  await inventory({ action: 'reserve', executionId, order: order('lost-rel') });
  await payment({ action: 'charge', executionId, order: order('lost-rel') });
  const before = proxy.forwarded('UpdateItem');
  proxy.loseResponses('UpdateItem', 2);
  expect(await payment({ action: 'refund', executionId, order: order('lost-rel') })).toEqual(expect.objectContaining({ status: 'REFUNDED' }));
  await inventory({ action: 'release', executionId, order: order('lost-rel') });
  // Each compensation: its lost first attempt and the SDK's retry.
  expect(proxy.forwarded('UpdateItem') - before).toBe(4);
  expect(await stockOf(db.dynamo.client, db.tableName, 'lost-rel')).toEqual({ available: 10, reservations: [] });
  expect(await paymentOf(db.dynamo.client, db.tableName, executionId)).toBe('REFUNDED');
});
