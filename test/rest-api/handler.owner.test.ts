/**
 * REST API handler with ITEM_OWNER_CLAIM (the web application's per-user items): the DynamoDB
 * layout, against dynalite. Each caller's items live in their own partition `<resource>#<claim
 * value>`, the shared collection's in `<resource>`; a request without a usable claim never reaches
 * the table. The behaviour every back end shares (isolation, 404s, paging tokens, Idempotency-Keys,
 * 401s, the cold start) is the contract's: test/helpers/resource-api-contract.ts, run by
 * handler.contract.test.ts.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { asCaller, collectionEvent, itemEvent, jsonBody } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { loadRestApi, type Invoke } from '../helpers/load-handler';

interface Item {
  id: string;
  version: number;
  [field: string]: unknown;
}

const ALICE = '7d4c2a10-0000-4000-8000-00000000a11c';
const BOB = '7d4c2a10-0000-4000-8000-000000000b0b';

const db = useDynaliteTable();
let owned: Invoke;
let shared: Invoke;
let others: Invoke;

beforeAll(() => {
  owned = loadRestApi({ TABLE_NAME: db.tableName, ITEM_OWNER_CLAIM: 'sub' }).invoke;
  shared = loadRestApi({ TABLE_NAME: db.tableName }).invoke;
  others = loadRestApi({ TABLE_NAME: db.tableName, ITEM_OWNER_CLAIM: 'sub', RESOURCE_NAME: 'others' }).invoke;
});

async function created(response: Promise<APIGatewayProxyResult>): Promise<Item> {
  const result = await response;
  expect(result.statusCode).toBe(201);
  return jsonBody<Item>(result);
}

/** Every stored key as `<pk>/<sk>`, sorted. */
async function storedKeys(): Promise<string[]> {
  const rows = await db.dynamo.scanAll(db.tableName);
  return rows.map((row) => `${row.pk.S}/${row.sk.S}`).sort();
}

test('each caller\'s items are stored in the partition <resource>#<claim value>, the shared collection\'s in <resource>', async () => {
  // Act
  const alices = [
    await created(owned(asCaller(ALICE, collectionEvent('POST', 'items', { json: { title: 'a1' } })))),
    await created(owned(asCaller(ALICE, collectionEvent('POST', 'items', { json: { title: 'a2' } })))),
  ];
  const bobs = await created(owned(asCaller(BOB, collectionEvent('POST', 'items', { json: { title: 'b1' } }))));
  const common = await created(shared(collectionEvent('POST', 'items', { json: { title: 'shared' } })));
  const other = await created(others(asCaller(ALICE, collectionEvent('POST', 'others', { json: { title: 'other resource' } }))));

  // Assess
  expect(await storedKeys()).toEqual([
    ...alices.map((i) => `items#${ALICE}/${i.id}`),
    `items#${BOB}/${bobs.id}`,
    `items/${common.id}`,
    `others#${ALICE}/${other.id}`,
  ].sort());
  const [row] = (await db.dynamo.scanAll(db.tableName)).filter((r) => r.sk.S === bobs.id);
  expect(Object.keys(row).sort()).toEqual(['createdAt', 'data', 'id', 'pk', 'sk', 'updatedAt', 'version']);
});

test('a Lambda authorizer\'s context claim names the same partition', async () => {
  const event = collectionEvent('POST', 'items', { json: { title: 'from context' } });

  const item = await created(owned({ ...event, requestContext: { ...event.requestContext, authorizer: { principalId: 'x', sub: BOB } } }));

  expect(await storedKeys()).toContain(`items#${BOB}/${item.id}`);
});

test('a claim value containing # stays in its own partition', async () => {
  const prefix = await created(owned(asCaller('tenant', collectionEvent('POST', 'items', { json: { n: 1 } }))));
  const nested = await created(owned(asCaller('tenant#x', collectionEvent('POST', 'items', { json: { n: 2 } }))));

  expect(await storedKeys()).toEqual(expect.arrayContaining([`items#tenant/${prefix.id}`, `items#tenant#x/${nested.id}`]));
  const list = await owned(asCaller('tenant', collectionEvent('GET', 'items')));
  expect(jsonBody<{ items: Item[] }>(list).items.map((i) => i.id)).toEqual([prefix.id]);
});

test('a request without a usable claim never reaches DynamoDB', async () => {
  // Prepare: a handler whose DocumentClient is mocked (no engine behind it)
  const api = loadRestApi({ TABLE_NAME: 'unreachable', ITEM_OWNER_CLAIM: 'sub' });
  const ddb = mockClient(api.libDynamodb.DynamoDBDocumentClient);
  try {
    // Act
    const responses = [
      await api.invoke(collectionEvent('POST', 'items', { json: { a: 1 } })),
      await api.invoke(collectionEvent('GET', 'items')),
      await api.invoke(asCaller('', itemEvent('GET', 'items', ALICE))),
      await api.invoke(asCaller('x'.repeat(257), itemEvent('DELETE', 'items', ALICE, { headers: { 'If-Match': '*' } }))),
    ];

    // Assess
    expect(responses.map((r) => r.statusCode)).toEqual([401, 401, 401, 401]);
    expect(ddb.calls()).toHaveLength(0);
  } finally {
    ddb.restore();
  }
});
