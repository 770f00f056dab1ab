/**
 * The item DynamoDB returns with a failed condition (`ReturnValuesOnConditionCheckFailure:
 * ALL_OLD`): the DocumentClient leaves it in AttributeValue form (`{ status: { S: "CHARGED" } }`),
 * so it is read here, attribute by attribute. Where the engine returns no item with the failure
 * (dynalite, or an older SDK path), `readAfterRefusal` reads the item with a consistent read.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { itemOfRefusal as refusedItem, type DynamoDBDocumentClient } from '../../shared/dynamodb';

/** Whether the refused write found an item at all. */
export function refusedItemExists(refused: unknown): boolean {
  return refusedItem(refused) !== undefined;
}

/** A string attribute of the refused write's old item. */
export function refusedString(refused: unknown, name: string): string | undefined {
  const value = refusedItem(refused)?.[name]?.S;
  return typeof value === 'string' ? value : undefined;
}

/** Whether the old item's map attribute `map` has the key `key`. */
export function refusedMapHas(refused: unknown, map: string, key: string): boolean {
  const value = refusedItem(refused)?.[map]?.M;
  return value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, key);
}

/**
 * The refused write's old item as AttributeValues: from the failure when DynamoDB returned it,
 * else from a consistent read (marshalled back to the same form).
 */
export async function readAfterRefusal(
  refused: unknown, client: DynamoDBDocumentClient, tableName: string, key: Record<string, string>,
): Promise<unknown> {
  if (refusedItem(refused) !== undefined) return refused;
  const read = await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  if (read.Item === undefined) return {};
  // The shape DynamoDB returns with a failure, enough for the readers above (a map's values stay as read).
  const item: Record<string, { S?: string; N?: string; M?: unknown }> = {};
  for (const [name, value] of Object.entries(read.Item)) {
    if (typeof value === 'string') item[name] = { S: value };
    else if (typeof value === 'number') item[name] = { N: String(value) };
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) item[name] = { M: value };
  }
  return { Item: item };
}
