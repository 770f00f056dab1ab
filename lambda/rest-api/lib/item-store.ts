/**
 * DynamoDB storage of the resource API (`ItemStore`): one item per resource item, in the table's
 * partition named after the resource (`<resource>`, or `<resource>#<owner>` when items belong to
 * callers), with single-item conditional writes. Every expression uses
 * ExpressionAttributeNames/Values; no user input is ever concatenated into one.
 *
 * Stored: `{ pk: <resource name>[#<owner>], sk: <id>, id, version, createdAt, updatedAt, data: {...}, requestHash? }`.
 * A deleted item created with an Idempotency-Key becomes a tombstone in place:
 * `{ pk, sk, id, requestHash, deletedAt, keyExpiresAt, expiresAt }` (`expiresAt`: epoch seconds, the
 * table's TTL attribute, which removes it some time after the key's retention; until then every
 * read ignores an expired tombstone and an insert replaces it).
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, jsonToMarshallable } from '../../shared/dynamodb';
import { PayloadTooLargeError } from '../../shared/http-errors';
import type { ItemRecord } from '../../shared/resource-api/item';
import type { ItemStore, Tombstone, WriteOutcome } from '../../shared/resource-api/routes';
import { assertDynamoStorable } from '../../shared/validate';

export interface DynamoItemStoreOptions {
  /** The DocumentClient, created on first use. */
  readonly db: () => DynamoDBDocumentClient;
  readonly tableName: string;
  readonly resourceName: string;
  /** The caller who owns the items: reads and writes only ever touch this caller's partition. */
  readonly owner?: string;
  /** Aborts the DynamoDB calls of this request (the invocation deadline). */
  readonly abortSignal?: AbortSignal;
}

/** The DynamoDB layout of one item. */
export interface StoredItem extends ItemRecord {
  readonly pk: string;
  readonly sk: string;
}

/** The DynamoDB layout of a tombstone (`deletedAt` set). */
interface StoredTombstone extends Tombstone {
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  /** Epoch seconds: the table's TTL attribute (`TOMBSTONE_TTL_ATTRIBUTE`). */
  readonly expiresAt: number;
}

/** The TTL attribute of tombstones; enable it on the table to have expired tombstones removed. */
export const TOMBSTONE_TTL_ATTRIBUTE = 'expiresAt';

function isTombstone(stored: Record<string, unknown>): boolean {
  return stored.deletedAt !== undefined;
}

/**
 * Limit on the estimated DynamoDB size of the client fields: an item is at most 400 KB
 * (409,600 bytes) and the key and system attributes need a few hundred bytes. Only reachable
 * with MAX_BODY_BYTES above ~250 KB and number-dense bodies such as `[-1,-1,...]`.
 */
export const MAX_STORED_DATA_BYTES = 400_000;

/** DynamoDB's rules for client fields: 400 for unstorable values, 413 when the item would be too large. */
export function assertDynamoItemStorable(fields: Record<string, unknown>): void {
  const size = assertDynamoStorable(fields);
  if (size > MAX_STORED_DATA_BYTES) {
    throw new PayloadTooLargeError(`The item would exceed DynamoDB's item size (about ${size} bytes stored)`);
  }
}

interface WriteCondition {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, number>;
}

/** The item exists (not as a tombstone) and, when `versions` is given, has one of them. */
function writeCondition(versions: readonly number[] | undefined): WriteCondition {
  if (versions === undefined) {
    return { expression: 'attribute_exists(#pk) AND attribute_not_exists(#deletedAt)', names: { '#pk': 'pk', '#deletedAt': 'deletedAt' }, values: {} };
  }
  const values: Record<string, number> = {};
  versions.forEach((v, i) => {
    values[`:v${i}`] = v;
  });
  return {
    expression: `attribute_exists(#pk) AND attribute_not_exists(#deletedAt) AND #version IN (${Object.keys(values).join(', ')})`,
    names: { '#pk': 'pk', '#deletedAt': 'deletedAt', '#version': 'version' },
    values,
  };
}

export function dynamoItemStore(options: DynamoItemStoreOptions): ItemStore {
  const { tableName } = options;
  // The partition always comes from the server (the resource and the authorizer's claim), never from the request.
  const partition = options.owner === undefined ? options.resourceName : `${options.resourceName}#${options.owner}`;
  const sendOptions = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const key = (id: string): Record<string, string> => ({ pk: partition, sk: id });

  return {
    async insert(item, now) {
      const stored: StoredItem = { pk: partition, sk: item.id, ...item };
      try {
        await options.db().send(new PutCommand({
          TableName: tableName,
          Item: { ...stored, data: jsonToMarshallable(item.data) },
          // A live item has no keyExpiresAt, so only an expired tombstone is replaced.
          ConditionExpression: 'attribute_not_exists(#pk) OR #keyExpiresAt <= :now',
          ExpressionAttributeNames: { '#pk': 'pk', '#keyExpiresAt': 'keyExpiresAt' },
          ExpressionAttributeValues: { ':now': now },
        }), sendOptions);
        return { status: 'applied', result: item };
      } catch (err) {
        return refusedOrThrow(err);
      }
    },

    async get(id) {
      // Strongly consistent: a read after a write sees it.
      const result = await options.db().send(new GetCommand({ TableName: tableName, Key: key(id), ConsistentRead: true }), sendOptions);
      return result.Item === undefined || isTombstone(result.Item) ? undefined : result.Item as StoredItem;
    },

    async getTombstone(id) {
      const result = await options.db().send(new GetCommand({ TableName: tableName, Key: key(id), ConsistentRead: true }), sendOptions);
      if (result.Item === undefined || !isTombstone(result.Item)) return undefined;
      const { deletedAt, keyExpiresAt, requestHash } = result.Item as StoredTombstone;
      return { deletedAt, keyExpiresAt, ...(requestHash !== undefined ? { requestHash } : {}) };
    },

    async list(afterId, limit) {
      const page = await options.db().send(new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk',
        // Tombstones are read and skipped: a page may then hold fewer than `limit` items before its token.
        FilterExpression: 'attribute_not_exists(#deletedAt)',
        ExpressionAttributeNames: { '#pk': 'pk', '#deletedAt': 'deletedAt' },
        ExpressionAttributeValues: { ':pk': partition },
        Limit: limit,
        // The token only names the last id; the partition is the server's.
        ...(afterId !== undefined ? { ExclusiveStartKey: key(afterId) } : {}),
      }), sendOptions);
      const lastId = page.LastEvaluatedKey?.sk;
      return {
        items: (page.Items ?? []) as StoredItem[],
        ...(typeof lastId === 'string' ? { lastId } : {}),
      };
    },

    async replace(id, data, updatedAt, versions) {
      const condition = writeCondition(versions);
      try {
        const result = await options.db().send(new UpdateCommand({
          TableName: tableName,
          Key: key(id),
          UpdateExpression: 'SET #data = :data, #updatedAt = :now, #version = #version + :one',
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: { ...condition.names, '#data': 'data', '#updatedAt': 'updatedAt', '#version': 'version' },
          ExpressionAttributeValues: { ...condition.values, ':data': jsonToMarshallable(data), ':now': updatedAt, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }), sendOptions);
        return { status: 'applied', result: (result.Attributes ?? {}) as StoredItem };
      } catch (err) {
        return refusedOrThrow(err);
      }
    },

    async delete(id, versions, tombstone) {
      const condition = writeCondition(versions);
      if (tombstone !== undefined) {
        try {
          // The item becomes its tombstone in one conditional write: its data goes, its key's record stays.
          await options.db().send(new UpdateCommand({
            TableName: tableName,
            Key: key(id),
            UpdateExpression: 'SET #deletedAt = :deletedAt, #keyExpiresAt = :keyExpiresAt, #ttl = :ttl REMOVE #data, #version, #createdAt, #updatedAt',
            ConditionExpression: condition.expression,
            ExpressionAttributeNames: {
              ...condition.names,
              '#deletedAt': 'deletedAt',
              '#keyExpiresAt': 'keyExpiresAt',
              '#ttl': TOMBSTONE_TTL_ATTRIBUTE,
              '#data': 'data',
              '#version': 'version',
              '#createdAt': 'createdAt',
              '#updatedAt': 'updatedAt',
            },
            ExpressionAttributeValues: {
              ...condition.values,
              ':deletedAt': tombstone.deletedAt,
              ':keyExpiresAt': tombstone.keyExpiresAt,
              ':ttl': Math.ceil(Date.parse(tombstone.keyExpiresAt) / 1000),
            },
          }), sendOptions);
          return { status: 'applied', result: undefined };
        } catch (err) {
          return refusedOrThrow(err);
        }
      }
      try {
        await options.db().send(new DeleteCommand({
          TableName: tableName,
          Key: key(id),
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: condition.names,
          ...(Object.keys(condition.values).length > 0 ? { ExpressionAttributeValues: condition.values } : {}),
        }), sendOptions);
        return { status: 'applied', result: undefined };
      } catch (err) {
        return refusedOrThrow(err);
      }
    },
  };
}

/**
 * A failed condition is `refused`; `retried` when the SDK sent the write more than once (an
 * earlier attempt timed out or lost its connection, and may have applied).
 */
function refusedOrThrow(err: unknown): WriteOutcome<never> {
  if (!isConditionalCheckFailed(err)) throw err;
  const attempts = (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
  return { status: 'refused', retried: attempts > 1 };
}
