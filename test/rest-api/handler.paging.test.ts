/**
 * REST API handler: listing with opaque page tokens over a local DynamoDB engine (dynalite).
 */
import { BatchWriteItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { collectionEvent, jsonBody } from '../helpers/api-gateway-events';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { loadRestApi, type Invoke } from '../helpers/load-handler';

interface Page {
  items: Array<{ id: string; version: number; n: number }>;
  nextToken?: string;
}

const ITEM_COUNT = 1000;

let dynamo: LocalDynamo;
let tableName: string;
let invoke: Invoke;
let ids: string[];

function token(json: unknown): string {
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

function expectBadRequest(response: APIGatewayProxyResult, message: RegExp): void {
  expect(response.statusCode).toBe(400);
  const body = jsonBody<{ error: string; message: string }>(response);
  expect(body.error).toBe('BadRequest');
  expect(body.message).toMatch(message);
}

beforeAll(async () => {
  dynamo = await startDynalite();
  tableName = await dynamo.createTable();
  ({ invoke } = loadRestApi({ TABLE_NAME: tableName, MAX_PAGE_SIZE: '200' }));

  // Prepare: 1,000 items written directly in the stored layout, plus items of another resource
  // in the same table that must never show up.
  ids = Array.from({ length: ITEM_COUNT }, (_, i) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`);
  const now = new Date().toISOString();
  const requests: WriteRequest[] = ids.map((id, n) => ({
    PutRequest: {
      Item: {
        pk: { S: 'items' },
        sk: { S: id },
        id: { S: id },
        version: { N: '1' },
        createdAt: { S: now },
        updatedAt: { S: now },
        data: { M: { n: { N: String(n) } } },
      },
    },
  }));
  for (let i = 0; i < 5; i++) {
    const id = `ffffffff-0000-4000-8000-00000000000${i}`;
    requests.push({ PutRequest: { Item: { pk: { S: 'other' }, sk: { S: id }, id: { S: id }, version: { N: '1' }, data: { M: {} } } } });
  }
  for (let i = 0; i < requests.length; i += 25) {
    await dynamo.client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests.slice(i, i + 25) } }));
  }
});

afterAll(async () => {
  await dynamo.stop();
});

test('paging through 1,000 items with limit=37 returns each exactly once and terminates', async () => {
  // Act
  const seen: string[] = [];
  let next: string | undefined;
  let pages = 0;
  do {
    const response = await invoke(collectionEvent('GET', 'items', { query: { limit: '37', ...(next ? { nextToken: next } : {}) } }));
    expect(response.statusCode).toBe(200);
    const page = jsonBody<Page>(response);
    expect(page.items.length).toBeLessThanOrEqual(37);
    seen.push(...page.items.map((i) => i.id));
    next = page.nextToken;
    pages++;
    expect(pages).toBeLessThanOrEqual(Math.ceil(ITEM_COUNT / 37) + 1);
  } while (next !== undefined);

  // Assess
  expect(seen).toHaveLength(ITEM_COUNT);
  expect(new Set(seen).size).toBe(ITEM_COUNT);
  expect([...seen].sort()).toEqual([...ids].sort());
  expect(pages).toBe(Math.ceil(ITEM_COUNT / 37));
});

test('a page has DEFAULT_PAGE_SIZE items by default and flattened representations', async () => {
  const page = jsonBody<Page>(await invoke(collectionEvent('GET', 'items')));

  expect(page.items).toHaveLength(25);
  expect(page.items[0]).toEqual({ id: ids[0], version: 1, createdAt: expect.any(String), updatedAt: expect.any(String), n: 0 });
  expect(typeof page.nextToken).toBe('string');
});

test('the page token is base64url JSON {v:1,k:<id>} and decoded strictly', async () => {
  const page = jsonBody<Page>(await invoke(collectionEvent('GET', 'items', { query: { limit: '3' } })));

  expect(JSON.parse(Buffer.from(page.nextToken!, 'base64url').toString())).toEqual({ v: 1, k: ids[2] });
  const next = jsonBody<Page>(await invoke(collectionEvent('GET', 'items', { query: { limit: '2', nextToken: page.nextToken! } })));
  expect(next.items.map((i) => i.id)).toEqual([ids[3], ids[4]]);
});

test('an upper case id in a token continues after that id', async () => {
  const next = jsonBody<Page>(await invoke(collectionEvent('GET', 'items', { query: { limit: '1', nextToken: token({ v: 1, k: ids[9].toUpperCase() }) } })));

  expect(next.items.map((i) => i.id)).toEqual([ids[10]]);
});

test('an empty collection is an empty page without a token', async () => {
  const { invoke: empty } = loadRestApi({ TABLE_NAME: tableName, RESOURCE_NAME: 'nothing' });

  const page = jsonBody<Page>(await empty(collectionEvent('GET', 'nothing')));

  expect(page).toEqual({ items: [] });
});

test('MAX_PAGE_SIZE bounds limit', async () => {
  const full = jsonBody<Page>(await invoke(collectionEvent('GET', 'items', { query: { limit: '200' } })));

  expect(full.items).toHaveLength(200);
  expectBadRequest(await invoke(collectionEvent('GET', 'items', { query: { limit: '201' } })), /limit/);
});

test.each([['0'], ['-1'], ['1.5'], ['abc'], [''], ['1e2'], [' 5'], ['0x10'], ['99999999999999999999']])('limit=%j is 400', async (limit) => {
  expectBadRequest(await invoke(collectionEvent('GET', 'items', { query: { limit } })), /limit/);
});

test('limit given twice with different values is 400', async () => {
  expectBadRequest(await invoke(collectionEvent('GET', 'items', { query: { limit: ['5', '6'] } })), /limit/);
});

describe('bad or tampered nextToken is 400 "invalid nextToken"', () => {
  const valid = token({ v: 1, k: '00000001-0000-4000-8000-000000000000' });
  // 52 bytes of valid JSON: the last base64url character carries 4 unused bits; setting one of
  // them gives a different string that decodes to the same bytes (only the canonical check rejects it).
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const spaced = Buffer.from('{ "v":1, "k":"00000001-0000-4000-8000-000000000000"}').toString('base64url');
  const nonCanonical = spaced.slice(0, -1) + ALPHABET[ALPHABET.indexOf(spaced.slice(-1)) + 1];
  test('(control: the canonical spelling of the same token is accepted)', async () => {
    expect((await invoke(collectionEvent('GET', 'items', { query: { nextToken: spaced } }))).statusCode).toBe(200);
  });

  test.each([
    ['empty', ''],
    ['not base64url', '!!!!'],
    ['standard base64 padding', `${valid}=`],
    ['non-canonical trailing bits', nonCanonical],
    ['truncated', valid.slice(0, -3)],
    ['not JSON', Buffer.from('hello').toString('base64url')],
    ['JSON array', token([1, 'x'])],
    ['JSON null', token(null)],
    ['wrong version', token({ v: 2, k: '00000000-0000-4000-8000-000000000000' })],
    ['missing version', token({ k: '00000000-0000-4000-8000-000000000000' })],
    ['extra key (partition smuggling)', token({ v: 1, k: '00000000-0000-4000-8000-000000000000', pk: 'other' })],
    ['id not a UUID', token({ v: 1, k: 'other#x' })],
    ['id a number', token({ v: 1, k: 5 })],
    ['raw key object', token({ pk: 'other', sk: '00000000-0000-4000-8000-000000000000' })],
    ['too long', 'A'.repeat(300)],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')],
  ])('%s', async (_name, nextToken) => {
    expectBadRequest(await invoke(collectionEvent('GET', 'items', { query: { nextToken } })), /^invalid nextToken$/);
  });
});
