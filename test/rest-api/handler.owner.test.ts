/**
 * REST API handler with ITEM_OWNER_CLAIM (the web application's per-user items) against dynalite:
 * every read and write is scoped to the authorizer's claim, whatever ids, tokens or keys the client
 * sends; a request without the claim is 401 and changes nothing.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { collectionEvent, itemEvent, jsonBody, responseHeader } from '../helpers/api-gateway-events';
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
let invoke: Invoke;

beforeAll(() => {
  ({ invoke } = loadRestApi({ TABLE_NAME: db.tableName, ITEM_OWNER_CLAIM: 'sub' }));
});

/** The event as API Gateway's Cognito user pool authorizer passes it: claims under `authorizer.claims`. */
function as(sub: string | undefined, event: APIGatewayProxyEvent): APIGatewayProxyEvent {
  const claims = sub === undefined ? {} : { 'sub': sub, 'cognito:username': `user-${sub.slice(-4)}`, 'token_use': 'access' };
  return { ...event, requestContext: { ...event.requestContext, authorizer: { claims } } };
}

async function create(sub: string, fields: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Item> {
  const response = await invoke(as(sub, collectionEvent('POST', 'items', { json: fields, headers })));
  expect(response.statusCode).toBe(201);
  return jsonBody<Item>(response);
}

async function listIds(sub: string, query: Record<string, string> = {}): Promise<string[]> {
  const response = await invoke(as(sub, collectionEvent('GET', 'items', { query })));
  expect(response.statusCode).toBe(200);
  return jsonBody<{ items: Item[] }>(response).items.map((item) => item.id);
}

async function storedKeys(): Promise<string[]> {
  const rows = await db.dynamo.scanAll(db.tableName);
  return rows.map((row) => `${row.pk.S}/${row.sk.S}`).sort();
}

describe('items belong to the caller', () => {
  test('each caller lists only their own items, stored in their own partition', async () => {
    const alices = [await create(ALICE, { title: 'a1' }), await create(ALICE, { title: 'a2' })];
    const bobs = [await create(BOB, { title: 'b1' })];

    expect(await listIds(ALICE)).toEqual(alices.map((i) => i.id).sort());
    expect(await listIds(BOB)).toEqual(bobs.map((i) => i.id));
    expect(await storedKeys()).toEqual(expect.arrayContaining([`items#${ALICE}/${alices[0].id}`, `items#${BOB}/${bobs[0].id}`]));
  });

  test('another caller\'s item is 404 for GET, PUT and DELETE, and stays unchanged', async () => {
    const item = await create(ALICE, { title: 'private' });
    const before = await storedKeys();

    const get = await invoke(as(BOB, itemEvent('GET', 'items', item.id)));
    const put = await invoke(as(BOB, itemEvent('PUT', 'items', item.id, { json: { title: 'stolen' }, headers: { 'If-Match': '"1"' } })));
    const putAny = await invoke(as(BOB, itemEvent('PUT', 'items', item.id, { json: { title: 'stolen' }, headers: { 'If-Match': '*' } })));
    const del = await invoke(as(BOB, itemEvent('DELETE', 'items', item.id, { headers: { 'If-Match': '"1"' } })));

    expect([get.statusCode, put.statusCode, putAny.statusCode, del.statusCode]).toEqual([404, 404, 404, 404]);
    expect(await storedKeys()).toEqual(before);
    const mine = await invoke(as(ALICE, itemEvent('GET', 'items', item.id)));
    expect(jsonBody<Item>(mine)).toMatchObject({ title: 'private', version: 1 });
  });

  test('a paging token from one caller does not open another caller\'s partition', async () => {
    for (let i = 0; i < 3; i += 1) await create(ALICE, { n: i });
    const first = jsonBody<{ nextToken?: string }>(await invoke(as(ALICE, collectionEvent('GET', 'items', { query: { limit: '1' } }))));
    expect(first.nextToken).toBeDefined();

    const bobsPage = await listIds(BOB, { nextToken: first.nextToken! });

    const bobsOwn = new Set(await listIds(BOB));
    expect(bobsPage.filter((id) => !bobsOwn.has(id))).toEqual([]);
  });

  test('the same Idempotency-Key from two callers creates one item each, and replays only for its caller', async () => {
    const headers = { 'Idempotency-Key': 'shared-key-0001' };

    const alices = await create(ALICE, { title: 'same' }, headers);
    const bobs = await invoke(as(BOB, collectionEvent('POST', 'items', { json: { title: 'same' }, headers })));
    const aliceAgain = await invoke(as(ALICE, collectionEvent('POST', 'items', { json: { title: 'same' }, headers })));

    expect(bobs.statusCode).toBe(201);
    expect(responseHeader(bobs, 'idempotent-replayed')).toBeUndefined();
    expect(aliceAgain.statusCode).toBe(201);
    expect(responseHeader(aliceAgain, 'idempotent-replayed')).toBe('true');
    expect(jsonBody<Item>(aliceAgain).id).toBe(alices.id);
    expect(await listIds(BOB)).toContain(jsonBody<Item>(bobs).id);
  });

  test('a Lambda authorizer\'s context claim scopes the same way', async () => {
    const event = collectionEvent('POST', 'items', { json: { title: 'from context' } });
    const response = await invoke({ ...event, requestContext: { ...event.requestContext, authorizer: { principalId: 'x', sub: BOB } } });

    expect(response.statusCode).toBe(201);
    expect(await listIds(BOB)).toContain(jsonBody<Item>(response).id);
  });
});

test('ITEM_OWNER_CLAIM must be a claim name', () => {
  expect(() => loadRestApi({ TABLE_NAME: db.tableName, ITEM_OWNER_CLAIM: 'sub claim' })).toThrow(/ITEM_OWNER_CLAIM/);
});

describe('a request without a usable caller identity', () => {
  test.each([
    ['no authorizer', (e: APIGatewayProxyEvent) => ({ ...e, requestContext: { ...e.requestContext, authorizer: null } })],
    ['no claims', (e: APIGatewayProxyEvent) => as(undefined, e)],
    ['an empty claim', (e: APIGatewayProxyEvent) => as('', e)],
    ['a non-string claim', (e: APIGatewayProxyEvent) => ({ ...e, requestContext: { ...e.requestContext, authorizer: { claims: { sub: 42 } } } })],
    ['a control character', (e: APIGatewayProxyEvent) => as('a\nb', e)],
    ['an oversized claim', (e: APIGatewayProxyEvent) => as('x'.repeat(257), e)],
  ])('%s: 401 and nothing is written', async (_case, strip) => {
    const before = await storedKeys();

    const response = await invoke(strip(collectionEvent('POST', 'items', { json: { title: 'anonymous' } }) as APIGatewayProxyEvent));

    expect(response.statusCode).toBe(401);
    expect(jsonBody(response)).toMatchObject({ error: 'Unauthorized' });
    expect(await storedKeys()).toEqual(before);
  });

  test('the identity is never taken from the client: a sub header or query parameter is ignored', async () => {
    const event = collectionEvent('GET', 'items', { headers: { 'sub': ALICE, 'x-amzn-oidc-identity': ALICE }, query: { sub: ALICE } });

    const response = await invoke(as(undefined, event));

    expect(response.statusCode).toBe(401);
  });
});
