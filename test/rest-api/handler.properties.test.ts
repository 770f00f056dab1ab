/**
 * REST API handler, property-based (fast-check), on a local DynamoDB engine (dynalite): the shared
 * hostile-input properties (test/helpers/resource-api-properties.ts) that the RDS Proxy pattern
 * passes too, and that any storable object replaces an item's fields through PUT exactly.
 */
import fc from 'fast-check';
import { collectionEvent, itemEvent, jsonBody } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { storableJsonObject } from '../helpers/hostile-input';
import { loadRestApi, type Invoke } from '../helpers/load-handler';
import { asJson, describeResourceApiProperties } from '../helpers/resource-api-properties';

const local = useDynaliteTable();

describeResourceApiProperties('DynamoDB (dynalite) through the REST handler', () => ({
  numRuns: { badBodies: 200, other: 150 },
  storesNul: true,
  load: (env) => loadRestApi({ TABLE_NAME: local.tableName, ...env }).invoke,
  snapshot: () => local.dynamo.scanAll(local.tableName),
}));

describe('valid input on DynamoDB', () => {
  let roundTrip: Invoke;
  beforeAll(() => {
    ({ invoke: roundTrip } = loadRestApi({ TABLE_NAME: local.tableName, RESOURCE_NAME: 'round-trip', MAX_BODY_BYTES: '262144' }));
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
