/**
 * Audit consumer: an append-only log of every event, one item per eventId
 * (`AUDIT#<eventId>` / `EVENT`), written once with `attribute_not_exists(pk)`: a redelivered or
 * republished event changes nothing (the first copy wins). DynamoDB: PutItem.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ApplyFunction } from './consumer';
import { auditKey } from './keys';
import { isConditionalCheckFailed } from '../../shared/dynamodb';

export const applyAudit: ApplyFunction = async ({ event, occurredAtMs, sns }, deps) => {
  try {
    await deps.db.send(new PutCommand({
      TableName: deps.tableName,
      Item: {
        ...auditKey(event.eventId),
        ...event,
        occurredAtMs,
        delivery: sns.delivery,
        snsMessageId: sns.snsMessageId,
        topicArn: sns.topicArn,
        publishedAt: sns.timestamp,
        sqsMessageId: deps.sqsMessageId,
        recordedAt: new Date().toISOString(),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    }), { abortSignal: deps.abortSignal });
    return 'applied';
  } catch (err) {
    if (isConditionalCheckFailed(err)) return 'duplicate';
    throw err;
  }
};
