/**
 * Saga step: reserve and release stock (`action` "reserve" | "release"), one SKU item per product:
 * `{ pk: "SKU#<sku>", sk: "STOCK", available: <number>, reservations: {} }`.
 *
 * - reserve: one conditional update takes `quantity` from `available` and records the reservation
 *   under the execution id in `reservations`; a retry whose first attempt applied (lost response)
 *   finds its own reservation in the old item (returned with the failure, else read consistently)
 *   and answers as that write. Not enough stock (or no
 *   such SKU) -> `OutOfStockError`.
 * - release (compensation): gives the reserved quantity back and removes the reservation, on the
 *   condition that it is still there; without it (never reserved, released already, or confirmed)
 *   nothing changes. Idempotent.
 * The state machine's direct DynamoDB step `Confirm` removes a reservation once the order is
 * confirmed, so `reservations` holds the sagas in flight only.
 * Configuration: TABLE_NAME (`lib/config.ts`).
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, lazyDocumentClient } from '../shared/dynamodb';
import { loadTableConfig } from './lib/config';
import { OutOfStockError } from './lib/errors';
import { readAfterRefusal, refusedMapHas } from './lib/refused';
import { createStepHandler } from './lib/step';

const config = loadTableConfig();
const documentClient = lazyDocumentClient();

export interface InventoryResult {
  readonly sku: string;
  readonly quantity: number;
  /** reserve: true when this call (or its lost first attempt) reserved; release: true when stock was given back now. */
  readonly changed: boolean;
}

export function stockKey(sku: string): { pk: string; sk: string } {
  return { pk: `SKU#${sku}`, sk: 'STOCK' };
}

export const { handler } = createStepHandler('inventory', ['reserve', 'release'] as const, async ({ action, executionId, order }) => {
  const names = { '#r': executionId };
  if (action === 'reserve') {
    try {
      await documentClient().send(new UpdateCommand({
        TableName: config.tableName,
        Key: stockKey(order.sku),
        UpdateExpression: 'SET available = available - :q, reservations.#r = :reservation',
        ConditionExpression: 'attribute_exists(pk) AND available >= :q AND attribute_type(reservations, :map) AND attribute_not_exists(reservations.#r)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':q': order.quantity, ':map': 'M', ':reservation': { quantity: order.quantity, orderId: order.orderId } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // Our own earlier attempt applied and its answer was lost: it is the reservation.
      const old = await readAfterRefusal(err, documentClient(), config.tableName, stockKey(order.sku));
      if (!refusedMapHas(old, 'reservations', executionId)) throw new OutOfStockError(order.sku, order.quantity);
    }
    return { sku: order.sku, quantity: order.quantity, changed: true } satisfies InventoryResult;
  }
  try {
    await documentClient().send(new UpdateCommand({
      TableName: config.tableName,
      Key: stockKey(order.sku),
      UpdateExpression: 'SET available = available + :q REMOVE reservations.#r',
      ConditionExpression: 'attribute_exists(reservations.#r)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':q': order.quantity },
    }));
    return { sku: order.sku, quantity: order.quantity, changed: true } satisfies InventoryResult;
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    return { sku: order.sku, quantity: order.quantity, changed: false } satisfies InventoryResult;
  }
});
