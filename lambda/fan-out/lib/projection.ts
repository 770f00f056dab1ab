/**
 * Projection consumer: the current status of each order, and per-type event counts.
 *
 * Status (`ORDER#<orderId>` / `STATUS`): each event has a position
 * `(statusRank, occurredAtMs, eventId)` with ranks created 1 < paid 2 < shipped 3 < cancelled 4
 * (cancelled is terminal and wins over every other status); the item holds the event with the
 * highest position, written by one PutItem whose condition is "no item yet, or the stored position
 * is lower". The result is the maximum over all events, so it never moves backwards and does not
 * depend on delivery order or redelivery (the same event is not higher than itself: no-op).
 *
 * Counts (`TYPECOUNT#<type>` / `HOUR#<YYYY-MM-DDTHH>#<shard>`): one UpdateItem that ADDs 1 to
 * `eventCount` and the eventId to the set `eventIds` unless the set contains it already, so each
 * event is counted exactly once. DynamoDB: PutItem, UpdateItem.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApplyFunction } from './consumer';
import { orderStatusKey, typeCountKey, utcHour } from './keys';
import type { OrderEventType } from './order-event';
import { isConditionalCheckFailed } from '../../shared/dynamodb';

export const STATUS_RANK: Readonly<Record<OrderEventType, number>> = {
  created: 1,
  paid: 2,
  shipped: 3,
  cancelled: 4,
};

export const applyProjection: ApplyFunction = async ({ event, occurredAtMs }, deps) => {
  let statusChanged = true;
  try {
    await deps.db.send(new PutCommand({
      TableName: deps.tableName,
      Item: {
        ...orderStatusKey(event.orderId),
        orderId: event.orderId,
        customerId: event.customerId,
        status: event.type,
        statusRank: STATUS_RANK[event.type],
        eventId: event.eventId,
        occurredAt: event.occurredAt,
        occurredAtMs,
        amount: event.amount,
        currency: event.currency,
      },
      ConditionExpression: 'attribute_not_exists(pk) OR statusRank < :rank OR (statusRank = :rank AND (occurredAtMs < :at OR (occurredAtMs = :at AND eventId < :eventId)))',
      ExpressionAttributeValues: { ':rank': STATUS_RANK[event.type], ':at': occurredAtMs, ':eventId': event.eventId },
    }), { abortSignal: deps.abortSignal });
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    statusChanged = false;
  }
  const hour = utcHour(occurredAtMs);
  let counted = true;
  try {
    await deps.db.send(new UpdateCommand({
      TableName: deps.tableName,
      Key: typeCountKey(event.type, hour, event.eventId),
      UpdateExpression: 'SET #type = :type, #hour = :hour ADD eventCount :one, eventIds :eventIds',
      ConditionExpression: 'attribute_not_exists(eventIds) OR NOT contains(eventIds, :eventId)',
      ExpressionAttributeNames: { '#type': 'type', '#hour': 'hour' },
      ExpressionAttributeValues: { ':type': event.type, ':hour': hour, ':one': 1, ':eventIds': new Set([event.eventId]), ':eventId': event.eventId },
    }), { abortSignal: deps.abortSignal });
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    counted = false;
  }
  return statusChanged || counted ? 'applied' : 'duplicate';
};
