/**
 * RDS Proxy API handler with ITEM_OWNER_CLAIM: the PostgreSQL layout, against PGlite behind a
 * recording wire proxy. Each row carries its caller's claim value in `owner` ('' for the shared
 * collection), bound as a parameter of every statement; a request without a usable claim sends
 * no statement; one caller's keyset page is served by the primary key index. After every test,
 * only the handler's fixed statements reached the server. The behaviour every back end shares
 * (isolation, 404s, paging tokens, Idempotency-Keys, 401s, the cold start) is the contract's:
 * test/helpers/resource-api-contract.ts, run by handler.contract.test.ts.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { loadRdsApi, useGuardedDatabase } from './handlers';
import { asCaller, collectionEvent, itemEvent, jsonBody } from '../helpers/api-gateway-events';
import type { Invoke } from '../helpers/load-handler';
import { pgliteEnv } from '../helpers/pglite';

interface Item {
  id: string;
  version: number;
  [field: string]: unknown;
}

const ALICE = '7d4c2a10-0000-4000-8000-00000000a11c';
const BOB = '7d4c2a10-0000-4000-8000-000000000b0b';

const pg = useGuardedDatabase();
let owned: Invoke;
let shared: Invoke;

beforeAll(() => {
  owned = loadRdsApi({ ...pgliteEnv(pg.proxy.port), ITEM_OWNER_CLAIM: 'sub' }).invoke;
  shared = loadRdsApi(pgliteEnv(pg.proxy.port)).invoke;
});

async function created(response: Promise<APIGatewayProxyResult>): Promise<Item> {
  const result = await response;
  expect(result.statusCode).toBe(201);
  return jsonBody<Item>(result);
}

interface KeyRow {
  resource: string;
  owner: string;
  id: string;
}

const byKey = (a: KeyRow, b: KeyRow): number => `${a.owner}/${a.id}`.localeCompare(`${b.owner}/${b.id}`);

/** The stored keys of `ids`, sorted by owner and id. */
async function storedRows(ids: readonly string[]): Promise<KeyRow[]> {
  return (await pg.engine.query<KeyRow>('SELECT resource, owner, id FROM items WHERE id = ANY($1::uuid[])', [ids])).rows.sort(byKey);
}

test('each caller\'s rows carry the claim value in owner; the shared collection\'s carry \'\'', async () => {
  // Act
  const alices = [
    await created(owned(asCaller(ALICE, collectionEvent('POST', 'items', { json: { title: 'a1' } })))),
    await created(owned(asCaller(ALICE, collectionEvent('POST', 'items', { json: { title: 'a2' } })))),
  ];
  const event = collectionEvent('POST', 'items', { json: { title: 'from context' } });
  const bobs = await created(owned({ ...event, requestContext: { ...event.requestContext, authorizer: { principalId: 'x', sub: BOB } } }));
  const common = await created(shared(collectionEvent('POST', 'items', { json: { title: 'shared' } })));

  // Assess
  expect(await storedRows([...alices.map((i) => i.id), bobs.id, common.id])).toEqual([
    { resource: 'items', owner: '', id: common.id },
    ...alices.map((i) => ({ resource: 'items', owner: ALICE, id: i.id })),
    { resource: 'items', owner: BOB, id: bobs.id },
  ].sort(byKey));
});

test('claim values that look like SQL are bound as parameters: stored verbatim, each its own caller', async () => {
  const payloads = ["'; DROP TABLE items; --", "' OR '1'='1", '$1', '$$; DELETE FROM items; $$', '\\', "x' AND owner <> '"];
  const items: Item[] = [];

  for (const sub of payloads) items.push(await created(owned(asCaller(sub, collectionEvent('POST', 'items', { json: { sub } })))));

  for (const [i, sub] of payloads.entries()) {
    expect(await storedRows([items[i].id])).toEqual([{ resource: 'items', owner: sub, id: items[i].id }]);
    const list = await owned(asCaller(sub, collectionEvent('GET', 'items')));
    expect(jsonBody<{ items: Item[] }>(list).items.map((item) => item.id)).toEqual([items[i].id]);
  }
});

test('a request without a usable claim sends no statement', async () => {
  const responses = [
    await owned(collectionEvent('POST', 'items', { json: { a: 1 } })),
    await owned(collectionEvent('GET', 'items')),
    await owned(asCaller('', itemEvent('GET', 'items', ALICE))),
    await owned(asCaller('a\u0000b', itemEvent('PUT', 'items', ALICE, { json: { a: 1 }, headers: { 'If-Match': '*' } }))),
    await owned(asCaller('x'.repeat(257), itemEvent('DELETE', 'items', ALICE, { headers: { 'If-Match': '*' } }))),
  ];

  expect(responses.map((r) => r.statusCode)).toEqual([401, 401, 401, 401, 401]);
  expect(pg.proxy.statements).toEqual([]);
});

test('one caller\'s keyset page is an index scan of the primary key (resource, owner, id)', async () => {
  // Prepare: many callers with many rows, and statistics, so the planner has a real choice
  await pg.engine.exec(`
    INSERT INTO items (resource, owner, id, version, created_at, updated_at, data)
    SELECT 'items', 'caller-' || (n % 50), gen_random_uuid(), 1, now(), now(), '{}' FROM generate_series(1, 5000) AS n;
    ANALYZE items;`);
  const first = jsonBody<{ items: Item[]; nextToken?: string }>(await owned(asCaller('caller-7', collectionEvent('GET', 'items', { query: { limit: '5' } }))));
  expect(first.items).toHaveLength(5);
  pg.proxy.statements.length = 0;

  // Act: the handler's own statement text, as it reached the server
  await owned(asCaller('caller-7', collectionEvent('GET', 'items', { query: { limit: '5', nextToken: first.nextToken! } })));
  const [statement] = pg.proxy.statements;
  const plan = await pg.engine.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`, ['items', 'caller-7', first.items[4].id, 6]);

  // Assess
  expect(statement).toMatch(/WHERE resource = \$1 AND owner = \$2 AND deleted_at IS NULL AND id > \$3 ORDER BY id LIMIT \$4$/);
  const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
  expect(text).toMatch(/Index Scan using items_pkey on items/);
  expect(text).toMatch(/Index Cond: \(\(resource = 'items'::text\) AND \(owner = 'caller-7'::text\) AND \(id > '[0-9a-f-]{36}'::uuid\)\)/);
  expect(text).toMatch(/Filter: \(deleted_at IS NULL\)/);
  expect(text).not.toMatch(/Sort|Seq Scan/);
});
