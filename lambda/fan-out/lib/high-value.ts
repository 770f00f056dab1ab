/**
 * High-value consumer (its subscription filters `amount >= 100`): per customer, a flag item per
 * order and running totals per currency and month, exact under redelivery and in any order.
 *
 * 1. Total (`HV#<customerId>` / `TOTAL#<currency>#<YYYY-MM>`): one UpdateItem that ADDs the amount,
 *    1 to `eventCount` and the eventId to the string set `eventIds`, on the condition that the set
 *    does not contain the eventId yet. The addition and the record that it happened are one atomic
 *    single-item write, so each eventId is summed exactly once (a failed condition = already summed);
 *    DynamoDB adds decimals exactly, so the order of additions does not matter.
 * 2. Order flag (`HV#<customerId>` / `ORDER#<orderId>`): one UpdateItem that SETs the ids and ADDs the
 *    event type to the set `eventTypes` - a set union, idempotent and order-independent.
 * A failure between 1 and 2 is retried as a whole: 1 is then a no-op, 2 completes.
 * DynamoDB: UpdateItem.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApplyFunction } from './consumer';
import { highValueOrderKey, highValueTotalKey, utcMonth } from './keys';
import { isConditionalCheckFailed } from '../../shared/dynamodb';

export const applyHighValue: ApplyFunction = async ({ event, occurredAtMs }, deps) => {
  const month = utcMonth(occurredAtMs);
  let outcome: 'applied' | 'duplicate' = 'applied';
  try {
    await deps.db.send(new UpdateCommand({
      TableName: deps.tableName,
      Key: highValueTotalKey(event.customerId, event.currency, month),
      UpdateExpression: 'SET customerId = :customerId, currency = :currency, #month = :month ADD totalAmount :amount, eventCount :one, eventIds :eventIds',
      ConditionExpression: 'attribute_not_exists(eventIds) OR NOT contains(eventIds, :eventId)',
      ExpressionAttributeNames: { '#month': 'month' },
      ExpressionAttributeValues: {
        ':customerId': event.customerId,
        ':currency': event.currency,
        ':month': month,
        ':amount': event.amount,
        ':one': 1,
        ':eventIds': new Set([event.eventId]),
        ':eventId': event.eventId,
      },
    }), { abortSignal: deps.abortSignal });
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    outcome = 'duplicate';
  }
  await deps.db.send(new UpdateCommand({
    TableName: deps.tableName,
    Key: highValueOrderKey(event),
    UpdateExpression: 'SET customerId = :customerId, orderId = :orderId ADD eventTypes :types',
    ExpressionAttributeValues: {
      ':customerId': event.customerId,
      ':orderId': event.orderId,
      ':types': new Set([event.type]),
    },
  }), { abortSignal: deps.abortSignal });
  return outcome;
};
