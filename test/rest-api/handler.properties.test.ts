/**
 * REST API handler, property-based (fast-check): malformed, oversized and hostile input is always
 * a 4xx (never a 5xx or a crash) and leaves the table exactly as it was; any storable object
 * round-trips through POST and GET unchanged. Runs against a local DynamoDB engine (dynalite).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { collectionEvent, itemEvent, jsonBody, responseHeader } from '../helpers/api-gateway-events';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import {
  anyString,
  badIdempotencyKey,
  isJsonObjectText,
  nonJsonContentType,
  notAnObjectText,
  poisonedObjectText,
  storableJsonObject,
} from '../helpers/hostile-input';
import { loadRestApi, type Invoke } from '../helpers/load-handler';

const MAX_BODY_BYTES = 4096;
const RUNS = { numRuns: 150 } as const;
// FC_DEBUG=1 reports the first failing input as generated (no shrinking): useful when a
// failure changed the table and every later input fails too.
if (process.env.FC_DEBUG) fc.configureGlobal({ endOnFailure: true });

let dynamo: LocalDynamo;
let tableName: string;
let invoke: Invoke;
/** Existing items (version 1) that hostile requests target. */
let existing: string[];
let snapshot: Awaited<ReturnType<LocalDynamo['scanAll']>>;

beforeAll(async () => {
  dynamo = await startDynalite();
  tableName = await dynamo.createTable();
  ({ invoke } = loadRestApi({ TABLE_NAME: tableName, MAX_BODY_BYTES: String(MAX_BODY_BYTES) }));
  existing = [];
  for (let i = 0; i < 3; i++) {
    const response = await invoke(collectionEvent('POST', 'items', { json: { seed: i } }));
    existing.push(jsonBody<{ id: string }>(response).id);
  }
  await invoke(collectionEvent('POST', 'items', { json: { seed: 'idem' }, headers: { 'Idempotency-Key': 'seeded-key' } }));
  snapshot = await dynamo.scanAll(tableName);
});

afterAll(async () => {
  await dynamo.stop();
});

/** Asserts a client error with the standard error body, and an unchanged table. */
async function expectRejectedWithoutChange(response: APIGatewayProxyResult): Promise<void> {
  expect(response.statusCode).toBeGreaterThanOrEqual(400);
  expect(response.statusCode).toBeLessThan(500);
  const body = jsonBody<{ error: string; message: string; requestId: string }>(response);
  expect(typeof body.error).toBe('string');
  expect(typeof body.message).toBe('string');
  expect(typeof body.requestId).toBe('string');
  expect(await dynamo.scanAll(tableName)).toEqual(snapshot);
}

/** A request body as API Gateway delivers it: text, or base64 with the flag set. */
interface BodyVariant {
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
  readonly contentType?: string;
}

/** `contentType: undefined` sends no Content-Type header. */
function asBody(text: string, base64: boolean, contentType: string | undefined): BodyVariant {
  return { body: base64 ? Buffer.from(text, 'utf8').toString('base64') : text, isBase64Encoded: base64, contentType };
}

/** Bodies that must be rejected: each kind of bad input, in plain and base64 form. */
const badBody: fc.Arbitrary<BodyVariant> = fc.oneof(
  // not a JSON object
  fc.tuple(notAnObjectText, fc.boolean()).map(([text, b64]) => asBody(text, b64, 'application/json')),
  // a JSON object with an unstorable value or key, or a server-owned field
  fc.tuple(poisonedObjectText, fc.boolean()).map(([text, b64]) => asBody(text, b64, 'application/json')),
  // too large (huge strings), otherwise valid
  fc.tuple(fc.string({ minLength: MAX_BODY_BYTES, maxLength: MAX_BODY_BYTES * 3, unit: 'grapheme-ascii' }), fc.boolean())
    .map(([s, b64]) => asBody(JSON.stringify({ s }), b64, 'application/json')),
  // a valid object with a non-JSON content type
  fc.tuple(storableJsonObject, nonJsonContentType, fc.boolean()).map(([o, ct, b64]) => asBody(JSON.stringify(o), b64, ct)),
  // base64 flag set on text that is not base64 (JSON text always has braces)
  storableJsonObject.map((o) => ({ body: JSON.stringify(o), isBase64Encoded: true, contentType: 'application/json' })),
  // base64 that decodes to invalid UTF-8
  fc.uint8Array({ minLength: 1, maxLength: 64 }).filter((bytes) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      return false;
    } catch {
      return true;
    }
  }).map((bytes) => ({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true, contentType: 'application/json' })),
  // missing body
  fc.constantFrom<BodyVariant>({ body: null, isBase64Encoded: false, contentType: 'application/json' }, { body: '', isBase64Encoded: true, contentType: 'application/json' }),
);

function withBody(event: APIGatewayProxyEvent, variant: BodyVariant): APIGatewayProxyEvent {
  const headers = { ...event.headers };
  const multiValueHeaders = { ...event.multiValueHeaders };
  if (variant.contentType !== undefined) {
    headers['Content-Type'] = variant.contentType;
    multiValueHeaders['Content-Type'] = [variant.contentType];
  }
  return { ...event, headers, multiValueHeaders, body: variant.body, isBase64Encoded: variant.isBase64Encoded };
}

describe('hostile input is a 4xx and changes nothing', () => {
  test('bad bodies on POST and PUT', async () => {
    await fc.assert(
      fc.asyncProperty(badBody, fc.constantFrom('POST', 'PUT'), fc.nat(2), async (variant, method, which) => {
        // Prepare
        const base = method === 'POST'
          ? collectionEvent('POST', 'items', { headers: { 'Idempotency-Key': 'seeded-key' } })
          : itemEvent('PUT', 'items', existing[which], { headers: { 'If-Match': '"1"' } });

        // Act
        const response = await invoke(withBody(base, variant));

        // Assess
        await expectRejectedWithoutChange(response);
      }),
      { numRuns: 200 },
    );
  });

  test('If-Match garbage on PUT and DELETE', async () => {
    // Without "*" and without the literal strong tag "1", nothing can match version 1.
    const garbage = fc.oneof(
      anyString,
      fc.array(fc.oneof(anyString, fc.nat().map((n) => `"${n + 2}"`), fc.constant('W/"1"')), { maxLength: 60 }).map((parts) => parts.join(', ')),
    ).filter((h) => !h.includes('*') && !h.includes('"1"'));
    await fc.assert(
      fc.asyncProperty(garbage, fc.constantFrom('PUT', 'DELETE'), fc.nat(2), async (ifMatch, method, which) => {
        const event = itemEvent(method, 'items', existing[which], { json: method === 'PUT' ? { changed: true } : undefined, headers: { 'If-Match': ifMatch } });

        await expectRejectedWithoutChange(await invoke(event));
      }),
      RUNS,
    );
  });

  test('Idempotency-Key garbage on POST', async () => {
    await fc.assert(
      fc.asyncProperty(badIdempotencyKey, storableJsonObject, async (key, fields) => {
        const response = await invoke(collectionEvent('POST', 'items', { json: fields, headers: { 'Idempotency-Key': key } }));

        await expectRejectedWithoutChange(response);
        expect(jsonBody(response)).toMatchObject({ error: 'BadRequest' });
      }),
      RUNS,
    );
  });

  test('hostile ids on GET, PUT and DELETE', async () => {
    const hostileId = fc.oneof(
      anyString,
      fc.uuid(), // well-formed but absent: 404
      fc.uuid().map((u) => `${u}x`),
      fc.uuid().map((u) => u.replace(/-/g, '')),
      fc.constantFrom('../items', '%2e%2e', "' OR 1=1 --", 'items#x', '{id}', existing[0] ?? ''),
    ).filter((id) => !existing.includes(id.toLowerCase()));
    await fc.assert(
      fc.asyncProperty(hostileId, fc.constantFrom('GET', 'PUT', 'DELETE'), async (id, method) => {
        const event = itemEvent(method, 'items', id, { json: method === 'PUT' ? { changed: true } : undefined, headers: { 'If-Match': '*' } });

        await expectRejectedWithoutChange(await invoke(event));
      }),
      RUNS,
    );
  });

  test('hostile nextToken and limit values on GET', async () => {
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    /** Independent oracle: the only valid token is canonical base64url of exactly {"v":1,"k":<uuid>}. */
    const isValidToken = (t: string): boolean => {
      try {
        if (!/^[A-Za-z0-9_-]+$/.test(t) || Buffer.from(t, 'base64url').toString('base64url') !== t) return false;
        const v = JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as Record<string, unknown>;
        return v !== null && Object.keys(v).length === 2 && v.v === 1 && typeof v.k === 'string' && UUID.test(v.k);
      } catch {
        return false;
      }
    };
    const badToken = fc.oneof(
      anyString,
      fc.base64String({ minLength: 1, maxLength: 80 }),
      fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? '').toString('base64url')),
      fc.record({ v: fc.jsonValue({ maxDepth: 1 }), k: fc.oneof(fc.string(), fc.uuid()) }).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
      fc.record({ v: fc.constant(1), k: fc.uuid(), pk: fc.string() }).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
    ).filter((t) => !isValidToken(t));
    const badLimit = fc.oneof(
      anyString.filter((s) => !/^[1-9][0-9]{0,1}$|^100$/.test(s)),
      fc.integer({ max: 0 }).map(String),
      fc.integer({ min: 101 }).map(String),
      fc.double().map(String).filter((s) => !/^[1-9][0-9]{0,1}$|^100$/.test(s)),
    );
    const query = fc.oneof(
      badToken.map((nextToken) => ({ nextToken })),
      badLimit.map((limit) => ({ limit })),
      fc.tuple(badToken, fc.integer({ min: 1, max: 100 })).map(([nextToken, limit]) => ({ nextToken, limit: String(limit) })),
    );
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const response = await invoke(collectionEvent('GET', 'items', { query: q }));

        await expectRejectedWithoutChange(response);
        expect(response.statusCode).toBe(400);
      }),
      RUNS,
    );
  });

  test('arbitrary methods, resources and headers never cause a 5xx', async () => {
    const headerName = fc.constantFrom('If-Match', 'If-None-Match', 'Content-Type', 'Idempotency-Key', 'Origin', 'X-Correlation-Id', 'Accept');
    const request = fc.record({
      method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', ''), anyString),
      resource: fc.oneof(fc.constantFrom('/items', '/items/{id}', '/', '/other', ''), anyString),
      id: fc.oneof(fc.constantFrom(...existing), anyString),
      headers: fc.dictionary(headerName, anyString, { maxKeys: 4 }),
      body: fc.option(fc.oneof(anyString, poisonedObjectText), { nil: null }),
    }).filter((r) => !Object.entries(r.headers).some(([name, value]) =>
      // keep it a "bad input" property: no precondition that could match, no JSON content type
      (name === 'If-Match' && (value.includes('*') || value.includes('"1"'))) || (name === 'Content-Type' && /json/i.test(value))));
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const event = itemEvent(r.method, 'items', r.id, { headers: r.headers, body: r.body, overrides: { resource: r.resource } });

        const response = await invoke(event);

        expect(response.statusCode).toBeLessThan(500);
        expect(response.statusCode).toBeGreaterThanOrEqual(200);
        if (response.statusCode >= 400) expect(responseHeader(response, 'content-type')).toBe('application/json');
      }),
      RUNS,
    );
    expect(await dynamo.scanAll(tableName)).toEqual(snapshot);
  });
});

describe('valid input', () => {
  let roundTrip: Invoke;
  beforeAll(() => {
    ({ invoke: roundTrip } = loadRestApi({ TABLE_NAME: tableName, RESOURCE_NAME: 'round-trip', MAX_BODY_BYTES: '262144' }));
  });

  /** JSON equality (so -0 and 0 are the same JSON number). */
  const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

  test('any storable object round-trips through POST then GET exactly', async () => {
    await fc.assert(
      fc.asyncProperty(storableJsonObject, fc.boolean(), async (fields, base64) => {
        // Prepare
        const text = JSON.stringify(fields);
        expect(isJsonObjectText(text)).toBe(true);
        const event = withBody(collectionEvent('POST', 'round-trip'), asBody(text, base64, 'application/json'));

        // Act
        const created = await roundTrip(event);
        const id = jsonBody<{ id: string }>(created).id;
        const read = await roundTrip(itemEvent('GET', 'round-trip', id));

        // Assess
        expect(created.statusCode).toBe(201);
        expect(read.statusCode).toBe(200);
        const { id: _id, version, createdAt, updatedAt, ...rest } = jsonBody(read);
        expect(version).toBe(1);
        expect(typeof createdAt).toBe('string');
        expect(updatedAt).toBe(createdAt);
        expect(asJson(rest)).toEqual(asJson(fields));
        expect(jsonBody(created)).toEqual(jsonBody(read));
      }),
      RUNS,
    );
  });

  test('any storable object replaces the fields through PUT exactly', async () => {
    const created = await roundTrip(collectionEvent('POST', 'round-trip', { json: { start: true } }));
    const id = jsonBody<{ id: string }>(created).id;
    let version = 1;
    await fc.assert(
      fc.asyncProperty(storableJsonObject, async (fields) => {
        const response = await roundTrip(itemEvent('PUT', 'round-trip', id, { json: fields, headers: { 'If-Match': `"${version}"` } }));

        expect(response.statusCode).toBe(200);
        version++;
        const { id: _id, version: v, createdAt: _c, updatedAt: _u, ...rest } = jsonBody(response);
        expect(v).toBe(version);
        expect(asJson(rest)).toEqual(asJson(fields));
      }),
      { numRuns: 100 },
    );
  });
});
