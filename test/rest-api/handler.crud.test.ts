/**
 * REST API handler against a local DynamoDB engine (dynalite): what is specific to the DynamoDB
 * store and the REST pattern's configuration. The resource contract itself (CRUD, conditional
 * requests, body validation, Idempotency-Key, paging, CORS) is held by
 * test/helpers/resource-api-contract.ts, run against DynamoDB in handler.contract.test.ts.
 */
import { collectionEvent, itemEvent, jsonBody, responseHeader } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { loadRestApi, type Invoke } from '../helpers/load-handler';


interface Item {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  [field: string]: unknown;
}

const db = useDynaliteTable();
let invoke: Invoke;

beforeAll(() => {
  ({ invoke } = loadRestApi({ TABLE_NAME: db.tableName }));
});

async function create(fields: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Item> {
  const response = await invoke(collectionEvent('POST', 'items', { json: fields, headers }));
  expect(response.statusCode).toBe(201);
  return jsonBody<Item>(response);
}


describe('CRUD round trip', () => {
  test('header names are matched case-insensitively', async () => {
    const item = await create({ v: 1 });

    const response = await invoke(itemEvent('PUT', 'items', item.id, { body: '{"v":2}', headers: { 'CONTENT-TYPE': 'Application/JSON; Charset="UTF-8"', 'if-MATCH': '"1"' } }));

    expect(response.statusCode).toBe(200);
  });

  test('null headers and query parameters are handled', async () => {
    const response = await invoke(collectionEvent('GET', 'items', { overrides: { headers: null as never, multiValueHeaders: null as never } }));

    expect(response.statusCode).toBe(200);
  });

  test('large and small numbers within DynamoDB range round-trip', async () => {
    const fields = { big: 1e125, neg: -9.99e125, tiny: 1e-130, unsafe: 2 ** 60, precise: 0.1 + 0.2, zero: 0 };

    const item = await create(fields);
    const read = jsonBody<Item>(await invoke(itemEvent('GET', 'items', item.id)));

    expect(read).toMatchObject(fields);
  });

  test('keys that confuse object-based marshalling are stored as plain fields', async () => {
    const fields = { constructor: { name: 'Set' }, toString: 'x', hasOwnProperty: { name: 'Uint8Array' }, valueOf: 1 };

    const item = await create(fields);
    const read = jsonBody<Item>(await invoke(itemEvent('GET', 'items', item.id)));

    expect(read).toEqual({ ...item });
    expect(read.constructor).toEqual({ name: 'Set' });
    expect(read.hasOwnProperty).toEqual({ name: 'Uint8Array' });
  });
});

describe('CORS', () => {
  test('CORS_ALLOW_ORIGINS=* allows any origin', async () => {
    const { invoke: cors } = loadRestApi({ TABLE_NAME: db.tableName, CORS_ALLOW_ORIGINS: '*' });

    const response = await cors(collectionEvent('GET', 'items', { headers: { Origin: 'https://anything.example' } }));

    expect(responseHeader(response, 'access-control-allow-origin')).toBe('*');
  });
});

describe('item size at MAX_BODY_BYTES=262144', () => {
  const LIMIT = 262_144;
  /** `{"a":[e,e,...]}` with as many elements as fit in LIMIT bytes. */
  const denseList = (element: string): string => {
    const count = Math.floor((LIMIT - '{"a":[]}'.length + 1) / (element.length + 1));
    return `{"a":[${Array(count).fill(element).join(',')}]}`;
  };
  const manyKeys = (): string => {
    const parts: string[] = [];
    let size = 2;
    for (let i = 0; ; i++) {
      const part = `"k${i.toString(36)}":0`;
      if (size + part.length + 1 > LIMIT) break;
      parts.push(part);
      size += part.length + 1;
    }
    return `{${parts.join(',')}}`;
  };

  test.each([
    ['ones (the densest shape: 2 bytes of JSON, 3 stored)', () => denseList('1'), 201],
    ['negative numbers', () => denseList('-1'), 201],
    ['decimals', () => denseList('-1.1'), 201],
    ['zeros', () => denseList('0'), 201],
    ['empty strings', () => denseList('""'), 201],
    ['empty maps', () => denseList('{}'), 201],
    ['nulls', () => denseList('null'), 201],
    ['long numbers', () => denseList('-1.2345678901234567e-100'), 201],
    ['many keys', manyKeys, 201],
    ['one long string', () => JSON.stringify({ a: 'x'.repeat(LIMIT - 10) }), 201],
    ['multi-byte text', () => JSON.stringify({ a: 'é'.repeat((LIMIT - 10) / 2) }), 201],
  ])('a body of dense %s is stored (dynalite enforces the 400 KB item limit)', async (_name, build, expected) => {
    // Prepare
    const { invoke: large } = loadRestApi({ TABLE_NAME: db.tableName, RESOURCE_NAME: 'large', MAX_BODY_BYTES: String(LIMIT) });
    const body = build();
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(LIMIT);
    expect(Buffer.byteLength(body)).toBeGreaterThan(LIMIT - 64);

    // Act
    const response = await large(collectionEvent('POST', 'large', { body, headers: { 'Content-Type': 'application/json' } }));

    // Assess
    expect(response.statusCode).toBe(expected);
  });
});
