/**
 * REST API handler when DynamoDB applies a write but its response is lost: the SDK retries the
 * same request, whose condition then fails because the first attempt applied. The client must
 * see what a single attempt would have answered, and the table must hold exactly one item.
 * The fault comes from a proxy in front of dynalite (test/helpers/dynamo-fault-proxy.ts).
 */
import { collectionEvent, jsonBody } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { startDynamoFaultProxy, type DynamoFaultProxy } from '../helpers/dynamo-fault-proxy';
import { loadRestApi, type Invoke } from '../helpers/load-handler';

const db = useDynaliteTable();
let proxy: DynamoFaultProxy;
let invoke: Invoke;

beforeAll(async () => {
  proxy = await startDynamoFaultProxy(db.dynamo.endpoint);
  // Read when the handler creates its client, on the first invocation.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.endpoint;
  ({ invoke } = loadRestApi({ TABLE_NAME: db.tableName }));
});

afterAll(async () => {
  await proxy?.stop();
});

async function itemsStored(): Promise<number> {
  return (await db.dynamo.scanAll(db.tableName)).length;
}

describe('POST /items whose first PutItem applied but whose response was lost', () => {
  test('without an Idempotency-Key: 201 with the item, stored once', async () => {
    const before = await itemsStored();
    const sent = proxy.forwarded('PutItem');
    proxy.loseResponses('PutItem', 1);

    const response = await invoke(collectionEvent('POST', 'items', { json: { name: 'lost once' } }));

    expect(response.statusCode).toBe(201);
    expect(jsonBody(response)).toMatchObject({ name: 'lost once', version: 1 });
    expect(proxy.forwarded('PutItem') - sent).toBe(2);
    expect(await itemsStored()).toBe(before + 1);
  });

  test('with an Idempotency-Key: 201 with the item, stored once', async () => {
    const before = await itemsStored();
    proxy.loseResponses('PutItem', 1);

    const response = await invoke(collectionEvent('POST', 'items', { json: { name: 'keyed' }, headers: { 'Idempotency-Key': 'lost-response-key-1' } }));

    expect(response.statusCode).toBe(201);
    expect(jsonBody(response)).toMatchObject({ name: 'keyed', version: 1 });
    expect(await itemsStored()).toBe(before + 1);
  });

  test('when every attempt\'s response is lost: a 5xx, and still exactly one item', async () => {
    const before = await itemsStored();
    proxy.loseResponses('PutItem', 100);

    const response = await invoke(collectionEvent('POST', 'items', { json: { name: 'never answered' } }));
    proxy.loseResponses('PutItem', 0);

    expect(response.statusCode).toBeGreaterThanOrEqual(500);
    expect(await itemsStored()).toBe(before + 1);
  });
});
