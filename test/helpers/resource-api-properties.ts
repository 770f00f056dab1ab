/**
 * The resource API's hostile-input properties (fast-check) as one suite that every back end must
 * pass with the same assertions: the REST pattern on DynamoDB (dynalite) and the RDS Proxy pattern
 * on PostgreSQL (PGlite). Malformed, oversized and hostile bodies, ids, headers and query strings
 * are always a 4xx (never a 5xx or a crash) and leave the stored state exactly as it was; any
 * storable object round-trips through POST and GET unchanged.
 *
 * The test file owns the engine (its own `beforeAll`/`afterAll`), so that its back-end-specific
 * tests and hooks (PostgreSQL: only the handler's fixed SQL reaches the server, after every test)
 * apply to these properties too. Known difference, chosen by the back end: PostgreSQL cannot store
 * U+0000 in strings or keys (`storesNul: false`).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { collectionEvent, itemEvent, jsonBody, responseHeader } from './api-gateway-events';
import {
  anyString,
  badIdempotencyKey,
  isJsonObjectText,
  nonJsonContentType,
  notAnObjectText,
  nulObjectText,
  poisonedObjectText,
  storableJsonObject,
} from './hostile-input';
import type { Invoke } from './load-handler';
import type { StoredView } from './resource-api-contract';

// FC_DEBUG=1 reports the first failing input as generated (no shrinking): useful when a
// failure changed the stored state and every later input fails too.
if (process.env.FC_DEBUG) fc.configureGlobal({ endOnFailure: true });

export interface PropertiesBackend {
  /** fast-check runs of the bad-body property, and of each other property. */
  readonly numRuns: { readonly badBodies: number; readonly other: number };
  /**
   * Whether strings and keys with U+0000 are stored. When false (PostgreSQL), bodies with it are
   * among the bad bodies, and the round trip leaves them out.
   */
  readonly storesNul: boolean;
  /**
   * Cold-starts the handler over this back end's storage with the variables in `env`
   * (MAX_BODY_BYTES, RESOURCE_NAME). Called from the suite's hooks, after the file's own.
   */
  load(env: Record<string, string>): Invoke;
  /** Everything stored, in a stable order, comparable with `toEqual`. */
  snapshot(): Promise<unknown>;
  /** One item read straight from storage; when given, the round trip also asserts that the fields are stored as sent. */
  storedItem?(resourceName: string, id: string): Promise<StoredView | undefined>;
}

/** The body limit the hostile-input properties run with. */
const MAX_BODY_BYTES = 4096;
/** The round trip's resource and environment (a body limit no storable object reaches). */
const ROUND_TRIP = 'round-trip';
const ROUND_TRIP_ENV = { RESOURCE_NAME: ROUND_TRIP, MAX_BODY_BYTES: '262144' } as const;
const SEEDED_KEY = 'seeded-key';
const JSON_TYPE = 'application/json';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A valid `limit`: 1..100 in canonical form. */
const VALID_LIMIT = /^[1-9][0-9]?$|^100$/;

/** JSON equality (so -0 and 0 are the same JSON number); `undefined` stays `undefined`. */
export const asJson = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/** A request body as API Gateway delivers it: text, or base64 with the flag set. */
export interface BodyVariant {
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
  readonly contentType?: string;
}

/** `contentType: undefined` sends no Content-Type header. */
export function asBody(text: string, base64: boolean, contentType: string | undefined): BodyVariant {
  return { body: base64 ? Buffer.from(text, 'utf8').toString('base64') : text, isBase64Encoded: base64, contentType };
}

export function withBody(event: APIGatewayProxyEvent, variant: BodyVariant): APIGatewayProxyEvent {
  const headers = { ...event.headers };
  const multiValueHeaders = { ...event.multiValueHeaders };
  if (variant.contentType !== undefined) {
    headers['Content-Type'] = variant.contentType;
    multiValueHeaders['Content-Type'] = [variant.contentType];
  }
  return { ...event, headers, multiValueHeaders, body: variant.body, isBase64Encoded: variant.isBase64Encoded };
}

/** JSON object text in plain and base64 form, as `application/json`. */
const jsonBodyOf = (text: fc.Arbitrary<string>): fc.Arbitrary<BodyVariant> =>
  fc.tuple(text, fc.boolean()).map(([t, b64]) => asBody(t, b64, JSON_TYPE));

/**
 * Bodies that must be rejected with a body limit of `maxBodyBytes`: each kind of bad input, in
 * plain and base64 form; with `nul`, also objects with U+0000 in a string or key.
 */
export function badBody(maxBodyBytes: number, nul: boolean): fc.Arbitrary<BodyVariant> {
  return fc.oneof(
    // not a JSON object
    jsonBodyOf(notAnObjectText),
    // a JSON object with an unstorable value or key, or a server-owned field
    jsonBodyOf(poisonedObjectText),
    // too large (huge strings), otherwise valid
    jsonBodyOf(fc.string({ minLength: maxBodyBytes, maxLength: maxBodyBytes * 3, unit: 'grapheme-ascii' }).map((s) => JSON.stringify({ s }))),
    // a valid object with a non-JSON content type
    fc.tuple(storableJsonObject, nonJsonContentType, fc.boolean()).map(([o, ct, b64]) => asBody(JSON.stringify(o), b64, ct)),
    // base64 flag set on text that is not base64 (JSON text always has braces)
    storableJsonObject.map((o) => ({ body: JSON.stringify(o), isBase64Encoded: true, contentType: JSON_TYPE })),
    // base64 that decodes to invalid UTF-8
    fc.uint8Array({ minLength: 1, maxLength: 64 }).filter((bytes) => {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        return false;
      } catch {
        return true;
      }
    }).map((bytes) => ({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true, contentType: JSON_TYPE })),
    // missing body
    fc.constantFrom<BodyVariant>({ body: null, isBase64Encoded: false, contentType: JSON_TYPE }, { body: '', isBase64Encoded: true, contentType: JSON_TYPE }),
    // U+0000, where the back end cannot store it
    ...(nul ? [jsonBodyOf(nulObjectText)] : []),
  );
}

/** Independent oracle: the only valid token is canonical base64url of exactly {"v":1,"k":<uuid>}. */
function isValidToken(t: string): boolean {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(t) || Buffer.from(t, 'base64url').toString('base64url') !== t) return false;
    const v = JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as Record<string, unknown>;
    return v !== null && Object.keys(v).length === 2 && v.v === 1 && typeof v.k === 'string' && UUID.test(v.k);
  } catch {
    return false;
  }
}

const base64urlJson = (value: unknown): string => Buffer.from(JSON.stringify(value) ?? '').toString('base64url');

export function describeResourceApiProperties(name: string, createBackend: () => PropertiesBackend): void {
  describe(`resource API properties: ${name}`, () => {
    const backend = createBackend();
    const RUNS = { numRuns: backend.numRuns.other } as const;

    describe('hostile input is a 4xx and changes nothing', () => {
      let invoke: Invoke;
      /** Existing items (version 1) that hostile requests target. */
      let existing: string[];
      let snapshot: unknown;

      beforeAll(async () => {
        invoke = backend.load({ MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
        existing = [];
        for (let i = 0; i < 3; i++) {
          const response = await invoke(collectionEvent('POST', 'items', { json: { seed: i } }));
          expect(response.statusCode).toBe(201);
          existing.push(jsonBody<{ id: string }>(response).id);
        }
        const seeded = await invoke(collectionEvent('POST', 'items', { json: { seed: 'idem' }, headers: { 'Idempotency-Key': SEEDED_KEY } }));
        expect(seeded.statusCode).toBe(201);
        snapshot = await backend.snapshot();
      });

      /** Asserts a client error with the standard error body, and unchanged storage. */
      async function expectRejectedWithoutChange(response: APIGatewayProxyResult): Promise<void> {
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(response.statusCode).toBeLessThan(500);
        expect(jsonBody(response)).toMatchObject({ error: expect.any(String), message: expect.any(String), requestId: expect.any(String) });
        expect(await backend.snapshot()).toEqual(snapshot);
      }

      test('bad bodies on POST (with a seeded Idempotency-Key) and PUT', async () => {
        await fc.assert(
          fc.asyncProperty(badBody(MAX_BODY_BYTES, !backend.storesNul), fc.constantFrom('POST', 'PUT'), fc.nat(2), async (variant, method, which) => {
            // Prepare
            const base = method === 'POST'
              ? collectionEvent('POST', 'items', { headers: { 'Idempotency-Key': SEEDED_KEY } })
              : itemEvent('PUT', 'items', existing[which], { headers: { 'If-Match': '"1"' } });

            // Act
            const response = await invoke(withBody(base, variant));

            // Assess
            await expectRejectedWithoutChange(response);
          }),
          { numRuns: backend.numRuns.badBodies },
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
          fc.uuid().map((u) => `${u}'; DROP TABLE items; --`),
          fc.uuid().map((u) => u.replace(/-/g, '')),
          fc.constantFrom('../items', '%2e%2e', '%00', "' OR 1=1 --", '$1', 'items#x', '{id}'),
        ).filter((id) => !existing.includes(id.toLowerCase()));
        await fc.assert(
          fc.asyncProperty(hostileId, fc.constantFrom('GET', 'PUT', 'DELETE'), async (id, method) => {
            const event = itemEvent(method, 'items', id, { json: method === 'PUT' ? { changed: true } : undefined, headers: { 'If-Match': '*' } });

            await expectRejectedWithoutChange(await invoke(event));
          }),
          RUNS,
        );
      });

      test('hostile nextToken and limit values on GET are a 400', async () => {
        const badToken = fc.oneof(
          anyString,
          fc.base64String({ minLength: 1, maxLength: 80 }),
          fc.jsonValue({ maxDepth: 2 }).map(base64urlJson),
          fc.record({ v: fc.jsonValue({ maxDepth: 1 }), k: fc.oneof(fc.string(), fc.uuid()) }).map(base64urlJson),
          fc.record({ v: fc.constant(1), k: fc.oneof(anyString, fc.constantFrom("' OR 1=1 --", '$1')) }).map(base64urlJson),
          fc.record({ v: fc.constant(1), k: fc.uuid(), pk: fc.string() }).map(base64urlJson),
        ).filter((t) => !isValidToken(t));
        const badLimit = fc.oneof(
          anyString.filter((s) => !VALID_LIMIT.test(s)),
          fc.integer({ max: 0 }).map(String),
          fc.integer({ min: 101 }).map(String),
          fc.double().map(String).filter((s) => !VALID_LIMIT.test(s)),
        );
        const query = fc.oneof(
          badToken.map((nextToken) => ({ nextToken })),
          badLimit.map((limit) => ({ limit })),
          fc.tuple(badToken, fc.integer({ min: 1, max: 100 })).map(([nextToken, limit]) => ({ nextToken, limit: String(limit) })),
        );
        await fc.assert(
          fc.asyncProperty(query, async (q) => {
            const response = await invoke(collectionEvent('GET', 'items', { query: q }));

            expect(response.statusCode).toBe(400);
            await expectRejectedWithoutChange(response);
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
        }).filter((r) => !Object.entries(r.headers).some(([header, value]) =>
          // keep it a "bad input" property: no precondition that could match, no JSON content type
          (header === 'If-Match' && (value.includes('*') || value.includes('"1"'))) || (header === 'Content-Type' && /json/i.test(value))));
        await fc.assert(
          fc.asyncProperty(request, async (r) => {
            const event = itemEvent(r.method, 'items', r.id, { headers: r.headers, body: r.body, overrides: { resource: r.resource } });

            const response = await invoke(event);

            expect(response.statusCode).toBeGreaterThanOrEqual(200);
            expect(response.statusCode).toBeLessThan(500);
            if (response.statusCode >= 400) expect(responseHeader(response, 'content-type')).toBe('application/json');
          }),
          RUNS,
        );
        expect(await backend.snapshot()).toEqual(snapshot);
      });
    });

    describe('valid input', () => {
      let roundTrip: Invoke;
      beforeAll(() => {
        roundTrip = backend.load(ROUND_TRIP_ENV);
      });

      const storable = backend.storesNul ? storableJsonObject : storableJsonObject.filter((o) => !JSON.stringify(o).includes('\\u0000'));
      const title = `any storable object round-trips through POST then GET exactly${backend.storedItem ? ', and is stored as sent' : ''}`;

      test(title, async () => {
        await fc.assert(
          fc.asyncProperty(storable, fc.boolean(), async (fields, base64) => {
            // Prepare
            const text = JSON.stringify(fields);
            expect(isJsonObjectText(text)).toBe(true);
            const event = withBody(collectionEvent('POST', ROUND_TRIP), asBody(text, base64, JSON_TYPE));

            // Act
            const created = await roundTrip(event);
            const id = jsonBody<{ id: string }>(created).id;
            const read = await roundTrip(itemEvent('GET', ROUND_TRIP, id));

            // Assess
            expect([created.statusCode, read.statusCode]).toEqual([201, 200]);
            const { id: _id, version, createdAt, updatedAt, ...rest } = jsonBody(read);
            expect(version).toBe(1);
            expect(typeof createdAt).toBe('string');
            expect(updatedAt).toBe(createdAt);
            expect(asJson(rest)).toEqual(asJson(fields));
            expect(jsonBody(created)).toEqual(jsonBody(read));
            if (backend.storedItem) expect(asJson(await backend.storedItem(ROUND_TRIP, id))).toEqual({ version: 1, data: asJson(fields) });
          }),
          RUNS,
        );
      });
    });
  });
}
