/**
 * The DynamoDB writes of the stream processor: single-item conditional writes only (PutItem and
 * UpdateItem), so they are idempotent and work without transactions.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TelemetryEvent } from './event';
import { LATEST_SK, sourcePk } from './keys';
import { isConditionalCheckFailed, itemOfRefusal, jsonToMarshallable } from '../../shared/dynamodb';

export interface WriteTarget {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly abortSignal?: AbortSignal;
}

/**
 * Stores `event` as the latest of its source unless the stored one is at least as recent in
 * (epochMillis, id) order: replays and out-of-order events never move it backwards.
 * Returns `false` when the stored event wins (nothing written).
 */
export async function putLatest(target: WriteTarget, event: TelemetryEvent): Promise<boolean> {
  try {
    await target.db.send(new PutCommand({
      TableName: target.tableName,
      Item: {
        pk: sourcePk(event.source),
        sk: LATEST_SK,
        id: event.id,
        source: event.source,
        type: event.type,
        timestamp: event.timestamp,
        epochMillis: event.epochMillis,
        payload: jsonToMarshallable(event.payload),
      },
      ConditionExpression: 'attribute_not_exists(pk) OR #ms < :ms OR (#ms = :ms AND #id < :id)',
      ExpressionAttributeNames: { '#ms': 'epochMillis', '#id': 'id' },
      ExpressionAttributeValues: { ':ms': event.epochMillis, ':id': event.id },
    }), { abortSignal: target.abortSignal });
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

export interface CountKey {
  readonly pk: string;
  readonly sk: string;
  readonly minute: string;
}

/**
 * Most ids in one grouped update: keeps the condition expression far below DynamoDB's 4 KB and
 * 300-operator limits (each id costs about 35 characters and 3 operators).
 */
export const MAX_IDS_PER_UPDATE = 50;

/** The result of `addToCount`: added, or refused because some id is counted already. */
export type AddResult =
  | { readonly added: true }
  /** `counted`: the item's ids when DynamoDB returned them with the failed condition. */
  | { readonly added: false; readonly counted?: ReadonlySet<string> };

/**
 * Adds `ids` (distinct, not empty, at most MAX_IDS_PER_UPDATE) to a count item in one atomic
 * update, only if none of them is counted yet. When at least one already is, nothing is written
 * and the item's counted ids come back when DynamoDB returns them
 * (`ReturnValuesOnConditionCheckFailure`; local engines may not).
 */
export async function addToCount(target: WriteTarget, key: CountKey, ids: readonly string[]): Promise<AddResult> {
  const values: Record<string, unknown> = { ':ids': new Set(ids), ':n': ids.length, ':minute': key.minute };
  const notCounted = ids.map((id, i) => {
    values[`:i${i}`] = id;
    return `NOT contains(#counted, :i${i})`;
  });
  try {
    await target.db.send(new UpdateCommand({
      TableName: target.tableName,
      Key: { pk: key.pk, sk: key.sk },
      UpdateExpression: 'SET #minute = :minute ADD #counted :ids, #eventCount :n',
      ConditionExpression: `attribute_not_exists(#counted) OR (${notCounted.join(' AND ')})`,
      ExpressionAttributeNames: { '#minute': 'minute', '#counted': 'counted', '#eventCount': 'eventCount' },
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }), { abortSignal: target.abortSignal });
    return { added: true };
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    const counted = itemOfRefusal(err)?.counted?.SS;
    return Array.isArray(counted) ? { added: false, counted: new Set(counted.map(String)) } : { added: false };
  }
}

/**
 * The ids a count item holds (strongly consistent): DynamoDB does not return the item with a
 * failed condition through the DocumentClient in every engine, so the caller may ask.
 */
export async function readCounted(target: WriteTarget, key: CountKey): Promise<ReadonlySet<string>> {
  const out = await target.db.send(new GetCommand({
    TableName: target.tableName,
    Key: { pk: key.pk, sk: key.sk },
    ConsistentRead: true,
    ProjectionExpression: '#counted',
    ExpressionAttributeNames: { '#counted': 'counted' },
  }), { abortSignal: target.abortSignal });
  const counted = out.Item?.counted;
  return counted instanceof Set ? (counted as Set<string>) : new Set();
}

/** DynamoDB refused the write because the item would exceed 400 KB. */
export function isItemTooLarge(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | null;
  return typeof e === 'object' && e !== null && e.name === 'ValidationException'
    && typeof e.message === 'string' && /item size|maximum allowed size/i.test(e.message);
}
