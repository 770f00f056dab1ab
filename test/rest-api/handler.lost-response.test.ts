/**
 * REST API handler when DynamoDB applies a write but its response is lost: the SDK retries the
 * same request, whose condition then fails because the first attempt applied. The client must
 * see what a single attempt would have answered, and the table must hold exactly one item.
 * The fault comes from a proxy in front of dynalite (test/helpers/dynamo-fault-proxy.ts).
 */
import { collectionEvent, itemEvent, jsonBody, responseHeader } from '../helpers/api-gateway-events';
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

async function created(name: string): Promise<{ id: string }> {
  const response = await invoke(collectionEvent('POST', 'items', { json: { name } }));
  expect(response.statusCode).toBe(201);
  return jsonBody<{ id: string }>(response);
}

describe('PUT /items/{id} with If-Match whose UpdateItem applied but whose response was lost', () => {
  test('200 with the new version and ETag, applied once', async () => {
    const { id } = await created('before');
    const sent = proxy.forwarded('UpdateItem');
    proxy.loseResponses('UpdateItem', 1);

    const response = await invoke(itemEvent('PUT', 'items', id, { json: { name: 'after' }, headers: { 'If-Match': '"1"' } }));

    expect(response.statusCode).toBe(200);
    expect(responseHeader(response, 'etag')).toBe('"2"');
    expect(jsonBody(response)).toMatchObject({ id, name: 'after', version: 2 });
    expect(proxy.forwarded('UpdateItem') - sent).toBe(2);
    const stored = (await db.dynamo.scanAll(db.tableName)).find((item) => item.sk?.S === id);
    expect(stored?.version).toEqual({ N: '2' });
  });

  test('another writer\'s change is still a 412, even after a lost response', async () => {
    const { id } = await created('contested');
    const other = await invoke(itemEvent('PUT', 'items', id, { json: { name: 'other writer' }, headers: { 'If-Match': '"1"' } }));
    proxy.loseResponses('UpdateItem', 1);

    // Its first attempt fails its condition (version 2 is stored); the response of that refusal is lost, the retry is refused too.
    const response = await invoke(itemEvent('PUT', 'items', id, { json: { name: 'late' }, headers: { 'If-Match': '"1"' } }));

    expect(other.statusCode).toBe(200);
    expect(response.statusCode).toBe(412);
  });
});

describe('DELETE /items/{id} with If-Match whose DeleteItem applied but whose response was lost', () => {
  test('204, and the item is gone', async () => {
    const { id } = await created('doomed');
    const sent = proxy.forwarded('DeleteItem');
    proxy.loseResponses('DeleteItem', 1);

    const response = await invoke(itemEvent('DELETE', 'items', id, { headers: { 'If-Match': '"1"' } }));

    expect(response.statusCode).toBe(204);
    expect(proxy.forwarded('DeleteItem') - sent).toBe(2);
    expect((await db.dynamo.scanAll(db.tableName)).some((item) => item.sk?.S === id)).toBe(false);
  });

  test('a missing item is still a 404 when nothing was lost', async () => {
    const response = await invoke(itemEvent('DELETE', 'items', '00000000-0000-4000-8000-000000000000', { headers: { 'If-Match': '"1"' } }));
    expect(response.statusCode).toBe(404);
  });
});

describe('when every answer of a write is lost', () => {
  test('PUT: 503 with Retry-After, and the item was replaced exactly once', async () => {
    const { id } = await created('before all lost');
    proxy.loseResponses('UpdateItem', 100);

    const response = await invoke(itemEvent('PUT', 'items', id, { json: { name: 'after all lost' }, headers: { 'If-Match': '"1"' } }));
    proxy.loseResponses('UpdateItem', 0);

    expect(response.statusCode).toBe(503);
    expect(responseHeader(response, 'retry-after')).toBe('1');
    const stored = (await db.dynamo.scanAll(db.tableName)).find((item) => item.sk?.S === id);
    expect(stored?.version).toEqual({ N: '2' });
  });

  test('DELETE: 503 with Retry-After, and the item is gone', async () => {
    const { id } = await created('deleted unanswered');
    proxy.loseResponses('DeleteItem', 100);

    const response = await invoke(itemEvent('DELETE', 'items', id, { headers: { 'If-Match': '"1"' } }));
    proxy.loseResponses('DeleteItem', 0);

    expect(response.statusCode).toBe(503);
    expect((await db.dynamo.scanAll(db.tableName)).some((item) => item.sk?.S === id)).toBe(false);
  });
});
