/**
 * Saga step: charge and refund (`action` "charge" | "refund"), a reference stand-in for a payment
 * provider that keeps one payment item per execution: `{ pk: "PAYMENT#<execution id>", sk: "PAYMENT",
 * status: CHARGED | REFUNDED | VOIDED, ... }`. Replace it with your provider's client, passing the
 * execution id as the provider's idempotency key.
 *
 * - charge: declines amounts above PAYMENT_LIMIT (`PaymentDeclinedError`), else creates the item
 *   as CHARGED if it does not exist. A retry after a lost response finds CHARGED and answers as
 *   that write; VOIDED (the refund ran first because this step had timed out) -> `PaymentVoidedError`.
 * - refund (compensation): CHARGED -> REFUNDED; no item -> a VOIDED tombstone, so that a charge
 *   still in flight cannot apply afterwards; REFUNDED or VOIDED -> nothing to do. Idempotent.
 * Configuration: TABLE_NAME, PAYMENT_LIMIT (`lib/config.ts`).
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, lazyDocumentClient } from '../shared/dynamodb';
import { loadPaymentConfig } from './lib/config';
import { PaymentDeclinedError, PaymentVoidedError, TransientStepError } from './lib/errors';
import { readAfterRefusal, refusedString } from './lib/refused';
import { createStepHandler } from './lib/step';

const config = loadPaymentConfig();
const documentClient = lazyDocumentClient();

export type PaymentStatus = 'CHARGED' | 'REFUNDED' | 'VOIDED';

export interface PaymentResult {
  readonly status: PaymentStatus;
  readonly amount: number;
  /** True when this call changed the payment (false: an earlier attempt or a compensation had). */
  readonly changed: boolean;
}

export function paymentKey(executionId: string): { pk: string; sk: string } {
  return { pk: `PAYMENT#${executionId}`, sk: 'PAYMENT' };
}

function oldStatus(err: unknown): PaymentStatus | undefined {
  return refusedString(err, 'status') as PaymentStatus | undefined;
}

export const { handler } = createStepHandler('payment', ['charge', 'refund'] as const, async ({ action, executionId, order }): Promise<PaymentResult> => {
  const Key = paymentKey(executionId);
  const now = new Date().toISOString();
  if (action === 'charge') {
    if (order.amount > config.paymentLimit) throw new PaymentDeclinedError(`Charges above ${config.paymentLimit} are declined, got ${order.amount}`);
    try {
      await documentClient().send(new PutCommand({
        TableName: config.tableName,
        Item: { ...Key, status: 'CHARGED', amount: order.amount, customerId: order.customerId, orderId: order.orderId, chargedAt: now },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
      return { status: 'CHARGED', amount: order.amount, changed: true };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const status = oldStatus(await readAfterRefusal(err, documentClient(), config.tableName, Key));
      if (status === 'VOIDED') throw new PaymentVoidedError(executionId);
      return { status: status ?? 'CHARGED', amount: order.amount, changed: false };
    }
  }
  try {
    await documentClient().send(new UpdateCommand({
      TableName: config.tableName,
      Key,
      UpdateExpression: 'SET #s = :refunded, refundedAt = :now',
      ConditionExpression: '#s = :charged',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':refunded': 'REFUNDED', ':charged': 'CHARGED', ':now': now },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return { status: 'REFUNDED', amount: order.amount, changed: true };
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    const status = oldStatus(await readAfterRefusal(err, documentClient(), config.tableName, Key));
    if (status !== undefined) return { status, amount: order.amount, changed: false };
  }
  // Nothing was charged: leave a tombstone so that a charge still in flight fails instead of applying.
  try {
    await documentClient().send(new PutCommand({
      TableName: config.tableName,
      Item: { ...Key, status: 'VOIDED', amount: order.amount, orderId: order.orderId, voidedAt: now },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return { status: 'VOIDED', amount: order.amount, changed: true };
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    // The charge landed between the two writes: the next attempt of this state refunds it.
    const status = oldStatus(await readAfterRefusal(err, documentClient(), config.tableName, Key));
    if (status === 'CHARGED') throw new TransientStepError('The charge landed while voiding it; the next attempt refunds it');
    return { status: status ?? 'VOIDED', amount: order.amount, changed: false };
  }
});
