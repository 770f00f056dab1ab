/**
 * The pre-built bundles (what Lambda runs): each imports in a fresh `node` process with the
 * configuration the construct gives it, and the SYNTHESIZED definition runs with its Lambda steps
 * bound to the inventory and payment bundles (one fresh process per invocation) on dynalite.
 * Build them first with `npx projen bundle` (`npm test` does).
 */
import { SAGA_STATES as S } from '../../lib/saga/definition';
import { useDynaliteTable } from '../helpers/dynalite';
import { builtBundle, invokeBundle, runInFreshNode } from '../helpers/fresh-node';
import { callbackCompleter, callbackEvent, paymentOf, sagaDefinition, seedStock, stockOf, synthSaga } from '../helpers/saga';
import { localFunctionArn, NamedError, runLocalExecution, TaskTokenBroker, type LocalLambda } from '../helpers/step-functions-local';

const db = useDynaliteTable();
const synth = synthSaga();

/** The smallest configuration each saga bundle accepts at cold start. */
const IMPORT_ENV: Record<string, Record<string, string>> = {
  'saga/inventory': { TABLE_NAME: 'bundle-test' },
  'saga/payment': { TABLE_NAME: 'bundle-test' },
  'saga/start': { TABLE_NAME: 'bundle-test', STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:bundle-test' },
  'saga/callback': {},
};

test.each(Object.keys(IMPORT_ENV))('%s imports in a fresh node process and exports handler', async (asset) => {
  const [pattern, entry] = asset.split('/');
  const run = await runInFreshNode<{ handlerType: string }>(
    `const m = await import(${JSON.stringify(builtBundle(pattern, entry))}); report({ handlerType: typeof m.handler });`, IMPORT_ENV[asset]);
  expect(run).toEqual(expect.objectContaining({ handlerType: 'function' }));
});

function bundleLambda(entry: string, env: Record<string, string>): LocalLambda {
  const bundle = builtBundle('saga', entry);
  return async (event) => {
    const run = await invokeBundle<unknown>(bundle, [event], { functionName: entry, awsRequestId: 'bundle-test' }, env);
    if (run.error !== undefined) throw new NamedError(run.errorName ?? 'Error', run.error);
    return run.results![0];
  };
}

async function runWithBundles(sku: string, amount: number) {
  await seedStock(db.dynamo.client, db.tableName, sku, 10);
  const env = { TABLE_NAME: db.tableName, AWS_ENDPOINT_URL_DYNAMODB: db.dynamo.endpoint, PAYMENT_LIMIT: '100000' };
  const broker = new TaskTokenBroker();
  const completer = callbackCompleter(broker);
  const input = { order: { orderId: `o-${sku}`, customerId: 'c-1', sku, quantity: 4, amount } };
  const result = await runLocalExecution(sagaDefinition(synth, db.tableName), input, {
    executionName: `bundle-${sku}`,
    lambdas: {
      [localFunctionArn(synth.logicalId(synth.saga.inventoryHandler as never))]: bundleLambda('inventory', env),
      [localFunctionArn(synth.logicalId(synth.saga.paymentHandler as never))]: bundleLambda('payment', env),
    },
    dynamodb: db.dynamo.client,
    broker,
    heartbeatMillisPerSecond: 1_000,
    onCallbackMessage: async (message) => {
      await completer(callbackEvent({ taskToken: message.body.taskToken, outcome: 'confirmed' }));
    },
  });
  const stock = await stockOf(db.dynamo.client, db.tableName, sku);
  return { result, stock, payment: await paymentOf(db.dynamo.client, db.tableName, result.executionArn) };
}

test('the saga on the bundles: happy path', async () => {
  const { result, stock, payment } = await runWithBundles('bundle-ok', 1_000);
  expect(result.statesEntered).toEqual([S.reserve, S.charge, S.awaitConfirmation, S.confirm, S.confirmed]);
  expect(stock).toEqual({ available: 6, reservations: [] });
  expect(payment).toBe('CHARGED');
});

test('the saga on the bundles: a declined charge (the bundle\'s error name) voids the payment and releases the stock', async () => {
  const { result, stock, payment } = await runWithBundles('bundle-declined', 200_000);
  // The failed step's own compensation runs too: nothing was charged, so the payment is voided.
  expect(result.statesEntered).toEqual([S.reserve, S.charge, S.refund, S.release, S.cancelled]);
  expect(result.output).toEqual(expect.objectContaining({ error: expect.objectContaining({ Error: 'PaymentDeclinedError' }) }));
  expect(stock.available).toBe(10);
  expect(payment).toBe('VOIDED');
});
