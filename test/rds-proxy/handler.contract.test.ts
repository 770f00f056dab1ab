/**
 * The shared resource API contract (test/helpers/resource-api-contract.ts) on the RDS Proxy
 * pattern's handler over a real PostgreSQL engine (PGlite), with the schema of the shipped
 * migrations: the same assertions the REST pattern passes on DynamoDB.
 */
import { ITEM_COLUMNS, loadMigrate, loadRdsApi } from './handlers';
import { pgliteEnv, startPglite, type PgliteEngine } from '../helpers/pglite';
import { describeResourceApiContract } from '../helpers/resource-api-contract';

describeResourceApiContract('PostgreSQL (PGlite) through the RDS Proxy handler', () => {
  let engine: PgliteEngine;
  return {
    async setup() {
      engine = await startPglite();
      await loadMigrate(pgliteEnv(engine.port)).run();
    },
    teardown: () => engine.stop(),
    load: (env) => loadRdsApi({ ...pgliteEnv(engine.port), ...env }).invoke,
    async snapshot() {
      return (await engine.query(`SELECT ${ITEM_COLUMNS} FROM items ORDER BY resource, owner, id`)).rows;
    },
    async storedItem(resourceName, id, owner = '') {
      // owner '' is the collection shared by every caller (no ITEM_OWNER_CLAIM).
      const rows = (await engine.query<{ version: unknown; data: Record<string, unknown> }>(
        'SELECT version, data FROM items WHERE resource = $1 AND owner = $2 AND id = $3',
        [resourceName, owner, id],
      )).rows;
      return rows.length === 0 ? undefined : { version: Number(rows[0].version), data: rows[0].data };
    },
  };
});
