/**
 * The shared resource API contract (test/helpers/resource-api-contract.ts) on the RDS Proxy
 * pattern's handler over a real PostgreSQL engine (PGlite), with the schema of the shipped
 * migrations: the same assertions the REST pattern passes on DynamoDB.
 */
import { loadMigrate, loadRdsApi } from './handlers';
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
      return (await engine.query('SELECT resource, id, version, created_at, updated_at, data, request_hash FROM items ORDER BY resource, id')).rows;
    },
    async storedItem(resourceName, id) {
      const rows = (await engine.query<{ version: unknown; data: Record<string, unknown> }>('SELECT version, data FROM items WHERE resource = $1 AND id = $2', [resourceName, id])).rows;
      return rows.length === 0 ? undefined : { version: Number(rows[0].version), data: rows[0].data };
    },
  };
});
