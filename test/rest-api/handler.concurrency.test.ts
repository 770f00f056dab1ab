/**
 * REST API handler: optimistic concurrency under contention against a local DynamoDB (dynalite).
 */
import { collectionEvent, itemEvent, jsonBody, responseHeader } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { loadRestApi, type Invoke } from '../helpers/load-handler';

const db = useDynaliteTable();
let invoke: Invoke;

beforeAll(() => {
  ({ invoke } = loadRestApi({ TABLE_NAME: db.tableName }));
});

test('50 concurrent PUTs with the same If-Match: exactly one 200, 49 412s, no lost update', async () => {
  // Prepare
  const created = await invoke(collectionEvent('POST', 'items', { json: { writer: -1 } }));
  const { id } = jsonBody<{ id: string }>(created);
  const etag = responseHeader(created, 'etag')!;

  // Act
  const responses = await Promise.all(
    Array.from({ length: 50 }, (_, writer) =>
      invoke(itemEvent('PUT', 'items', id, { json: { writer, payload: `from-${writer}` }, headers: { 'If-Match': etag } }))),
  );

  // Assess
  const statuses = responses.map((r) => r.statusCode);
  expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  expect(statuses.filter((s) => s === 412)).toHaveLength(49);
  const winner = responses.findIndex((r) => r.statusCode === 200);
  expect(jsonBody(responses[winner])).toMatchObject({ id, version: 2, writer: winner, payload: `from-${winner}` });
  expect(responseHeader(responses[winner], 'etag')).toBe('"2"');
  for (const loser of responses.filter((r) => r.statusCode === 412)) {
    expect(jsonBody(loser)).toMatchObject({ error: 'PreconditionFailed' });
  }
  const stored = (await db.dynamo.scanAll(db.tableName)).find((r) => r.sk?.S === id);
  expect(stored?.version).toEqual({ N: '2' });
  expect(stored?.data).toEqual({ M: { writer: { N: String(winner) }, payload: { S: `from-${winner}` } } });
});

test('50 concurrent DELETEs with the same If-Match: exactly one 204, the others 404 or 412', async () => {
  const created = await invoke(collectionEvent('POST', 'items', { json: { a: 1 } }));
  const { id } = jsonBody<{ id: string }>(created);

  const responses = await Promise.all(Array.from({ length: 50 }, () => invoke(itemEvent('DELETE', 'items', id, { headers: { 'If-Match': '"1"' } }))));

  const statuses = responses.map((r) => r.statusCode);
  expect(statuses.filter((s) => s === 204)).toHaveLength(1);
  expect(statuses.every((s) => s === 204 || s === 404 || s === 412)).toBe(true);
  expect((await db.dynamo.scanAll(db.tableName)).find((r) => r.sk?.S === id)).toBeUndefined();
});

test('sequential PUTs each presenting the latest ETag all succeed and count versions', async () => {
  const created = await invoke(collectionEvent('POST', 'items', { json: { n: 0 } }));
  const { id } = jsonBody<{ id: string }>(created);
  let etag = responseHeader(created, 'etag')!;

  for (let n = 1; n <= 10; n++) {
    const response = await invoke(itemEvent('PUT', 'items', id, { json: { n }, headers: { 'If-Match': etag } }));
    expect(response.statusCode).toBe(200);
    etag = responseHeader(response, 'etag')!;
  }

  expect(etag).toBe('"11"');
  expect(jsonBody(await invoke(itemEvent('GET', 'items', id)))).toMatchObject({ version: 11, n: 10 });
});
