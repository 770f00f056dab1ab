/**
 * PostgreSQL storage of the resource API (`ItemStore`) in the `items` table of the migrations:
 * one row per item, keyed by (resource, owner, id), client fields in `data` (jsonb). `owner` is the
 * caller's identity with ITEM_OWNER_CLAIM (`requestOwner`), else '' (one shared collection): the
 * relational twin of the DynamoDB partition `<resource>[#<owner>]`. Every statement is
 * parameterized; every request changes at most one row with one statement (the Idempotency-Key
 * record is the item row itself, as in the DynamoDB layout), so no explicit transaction is needed.
 *
 * A deleted item created with an Idempotency-Key stays as a tombstone row (`deleted_at`,
 * `key_expires_at` set, `data` emptied; migration 0003) that every statement but the insert and
 * `getTombstone` skips. PostgreSQL has no TTL: an expired tombstone stays until its key creates an
 * item again (an insert replaces it); it holds no client data.
 *
 * Differences from DynamoDB that the contract does not see: jsonb keeps no key order (responses
 * list an item's fields in jsonb order: shorter keys first, then bytewise), and the last page of a
 * list never carries a `nextToken` (DynamoDB may return one that leads to an empty page).
 */
import { StatementOutcomeUnknownError, type Queryable } from './db';
import { ValidationError, type ErrorDetail } from '../../shared/http-errors';
import type { ItemRecord } from '../../shared/resource-api/item';
import type { ItemStore } from '../../shared/resource-api/routes';
import { assertDynamoStorable, pointerToken } from '../../shared/validate';

interface ItemRow {
  readonly id: string;
  /** bigint arrives as a string. */
  readonly version: string;
  readonly created_at: Date;
  readonly updated_at: Date;
  readonly data: Record<string, unknown>;
  readonly request_hash: string | null;
}

const COLUMNS = 'id, version, created_at, updated_at, data, request_hash';
/** The `owner` of the items of a collection shared by every caller (no ITEM_OWNER_CLAIM); never a caller's identity. */
export const SHARED_OWNER = '';

function toRecord(row: ItemRow): ItemRecord {
  return {
    id: row.id,
    version: Number(row.version),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    data: row.data,
    ...(row.request_hash !== null ? { requestHash: row.request_hash } : {}),
  };
}

/** Most NUL problems reported for one body. */
const MAX_PROBLEMS = 20;

/**
 * The contract's storage rules (the same numbers, depth and key rules on every back end, so a
 * body accepted by one is accepted by all), plus PostgreSQL's own: jsonb cannot hold U+0000.
 */
export function assertPostgresStorable(fields: Record<string, unknown>): void {
  assertDynamoStorable(fields);
  const problems: ErrorDetail[] = [];
  // The body passed the depth check above: an explicit stack keeps this safe on any input anyway.
  const stack: Array<{ value: unknown; path: string }> = [{ value: fields, path: '' }];
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) problems.push({ path: path === '' ? '/' : path, message: 'string contains U+0000, which cannot be stored' });
    } else if (Array.isArray(value)) {
      value.forEach((child, i) => stack.push({ value: child, path: `${path}/${i}` }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        const childPath = `${path}/${pointerToken(key)}`;
        if (key.includes('\u0000')) problems.push({ path: childPath, message: 'object key contains U+0000, which cannot be stored' });
        stack.push({ value: child, path: childPath });
      }
    }
  }
  if (problems.length > 0) {
    throw new ValidationError(`The request body cannot be stored: ${problems[0].path}: ${problems[0].message}`, problems);
  }
}

/**
 * The store of one resource's items, of one caller when `owner` is given (ITEM_OWNER_CLAIM), else
 * of the collection shared by every caller (`owner = ''`). The resource and the owner always come
 * from the server (configuration and the authorizer's claim) and are bound as parameters of
 * every statement, so no id, token or key a client sends reaches another caller's rows.
 */
export function postgresItemStore(db: Queryable, resourceName: string, owner?: string): ItemStore {
  const scope = owner ?? SHARED_OWNER;
  return {
    async insert(item, now) {
      // A live item has no key_expires_at, so only an expired tombstone is replaced.
      const result = await outcomeOf(db.query(
        `INSERT INTO items (resource, owner, id, version, created_at, updated_at, data, request_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
         ON CONFLICT (resource, owner, id) DO UPDATE SET version = EXCLUDED.version, created_at = EXCLUDED.created_at,
           updated_at = EXCLUDED.updated_at, data = EXCLUDED.data, request_hash = EXCLUDED.request_hash, deleted_at = NULL, key_expires_at = NULL
         WHERE items.key_expires_at <= $9`,
        [resourceName, scope, item.id, item.version, item.createdAt, item.updatedAt, JSON.stringify(item.data), item.requestHash ?? null, now],
        { retrySafe: false },
      ));
      if (result === undefined) return { status: 'unknown' };
      return result.rowCount === 1 ? { status: 'applied', result: item } : { status: 'refused', retried: false };
    },

    async get(id) {
      const result = await db.query<ItemRow>(
        `SELECT ${COLUMNS} FROM items WHERE resource = $1 AND owner = $2 AND id = $3 AND deleted_at IS NULL`,
        [resourceName, scope, id],
        { retrySafe: true },
      );
      return result.rows.length === 0 ? undefined : toRecord(result.rows[0]);
    },

    async getTombstone(id) {
      const result = await db.query<{ deleted_at: Date; key_expires_at: Date; request_hash: string | null }>(
        'SELECT deleted_at, key_expires_at, request_hash FROM items WHERE resource = $1 AND owner = $2 AND id = $3 AND deleted_at IS NOT NULL',
        [resourceName, scope, id],
        { retrySafe: true },
      );
      if (result.rows.length === 0) return undefined;
      const row = result.rows[0];
      return {
        deletedAt: row.deleted_at.toISOString(),
        keyExpiresAt: row.key_expires_at.toISOString(),
        ...(row.request_hash !== null ? { requestHash: row.request_hash } : {}),
      };
    },

    async list(afterId, limit) {
      // Keyset pagination on the primary key (resource, owner, id); one row more than the page tells whether more follow.
      const result = afterId === undefined
        ? await db.query<ItemRow>(
          `SELECT ${COLUMNS} FROM items WHERE resource = $1 AND owner = $2 AND deleted_at IS NULL ORDER BY id LIMIT $3`,
          [resourceName, scope, limit + 1],
          { retrySafe: true },
        )
        : await db.query<ItemRow>(
          `SELECT ${COLUMNS} FROM items WHERE resource = $1 AND owner = $2 AND deleted_at IS NULL AND id > $3 ORDER BY id LIMIT $4`,
          [resourceName, scope, afterId, limit + 1],
          { retrySafe: true },
        );
      const items = result.rows.slice(0, limit).map(toRecord);
      return result.rows.length > limit ? { items, lastId: items[items.length - 1].id } : { items };
    },

    async replace(id, data, updatedAt, versions) {
      // Optimistic concurrency: the version condition is part of the UPDATE, so two writers with
      // the same If-Match cannot both succeed.
      const set = 'SET data = $4::jsonb, updated_at = $5, version = version + 1';
      const values: unknown[] = [resourceName, scope, id, JSON.stringify(data), updatedAt];
      const result = await outcomeOf(versions === undefined
        ? db.query<ItemRow>(
          `UPDATE items ${set} WHERE resource = $1 AND owner = $2 AND id = $3 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
          values,
          { retrySafe: false },
        )
        : db.query<ItemRow>(
          `UPDATE items ${set} WHERE resource = $1 AND owner = $2 AND id = $3 AND deleted_at IS NULL AND version = ANY($6::bigint[]) RETURNING ${COLUMNS}`,
          [...values, versions.map(String)],
          { retrySafe: false },
        ));
      if (result === undefined) return { status: 'unknown' };
      return result.rows.length === 0 ? { status: 'refused', retried: false } : { status: 'applied', result: toRecord(result.rows[0]) };
    },

    async delete(id, versions, tombstone) {
      // One statement either way: the row goes, or becomes its tombstone (its data emptied, its key's record kept).
      const target = 'resource = $1 AND owner = $2 AND id = $3 AND deleted_at IS NULL';
      const statement = tombstone === undefined
        ? `DELETE FROM items WHERE ${target}`
        : `UPDATE items SET data = '{}'::jsonb, deleted_at = $4, key_expires_at = $5 WHERE ${target}`;
      const values: unknown[] = tombstone === undefined
        ? [resourceName, scope, id]
        : [resourceName, scope, id, tombstone.deletedAt, tombstone.keyExpiresAt];
      const result = await outcomeOf(versions === undefined
        ? db.query(statement, values, { retrySafe: false })
        : db.query(`${statement} AND version = ANY($${values.length + 1}::bigint[])`, [...values, versions.map(String)], { retrySafe: false }));
      if (result === undefined) return { status: 'unknown' };
      return result.rowCount === 1 ? { status: 'applied', result: undefined } : { status: 'refused', retried: false };
    },
  };
}

/** A write statement's result, or `undefined` when its connection was lost after it was sent. */
async function outcomeOf<T>(statement: Promise<T>): Promise<T | undefined> {
  try {
    return await statement;
  } catch (err) {
    if (err instanceof StatementOutcomeUnknownError) return undefined;
    throw err;
  }
}
