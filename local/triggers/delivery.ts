/**
 * How EventBridge and Scheduler deliver to a target: a function is invoked asynchronously (its
 * own errors are Lambda's to retry and dead-letter: `RunningFunctions.invokeAsync`); any other
 * target (a queue, a topic) gets the message, tried again when it cannot be delivered (three
 * attempts here; the services retry for up to 24 hours with backoff), then sent to the target's
 * dead-letter queue with the service's error attributes.
 */
import type { InvokeOutcome } from '../functions';
import type { DestinationMessage, RunContext, RunningFunctions } from '../provider';

/** Attempts per event and target here: enough to see a retry, without a day of backoff. */
export const LOCAL_DELIVERY_ATTEMPTS = 3;

export interface TargetDelivery {
  readonly targetArn: string;
  /** The target's input, as text. */
  readonly input: string;
  /** The target's retry policy. @default 185 (EventBridge's default) */
  readonly maximumRetryAttempts?: number;
  readonly deadLetterArn?: string;
  /** Attributes of the dead-lettered message that say where it came from (RULE_ARN, ...). */
  readonly deadLetterAttributes?: Record<string, string>;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  /** Who delivers, for the log (`rule X`, `schedule Y`). */
  readonly source: string;
}

export async function deliverToTarget(context: RunContext, functions: RunningFunctions, delivery: TargetDelivery): Promise<InvokeOutcome> {
  if (functions.has(delivery.targetArn)) return functions.invokeAsync(delivery.targetArn, JSON.parse(delivery.input) as unknown);
  const attempts = Math.min(LOCAL_DELIVERY_ATTEMPTS, 1 + (delivery.maximumRetryAttempts ?? 185));
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await context.deliver(delivery.targetArn, {
        body: delivery.input, messageGroupId: delivery.messageGroupId, messageDeduplicationId: delivery.messageDeduplicationId,
      });
      return { ok: true, payload: null };
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
  }
  context.log(`${delivery.source}: ${delivery.targetArn} refused the event ${attempts} times: ${lastError}`);
  if (delivery.deadLetterArn !== undefined) {
    const attributes: DestinationMessage['messageAttributes'] = Object.fromEntries(Object.entries({
      ...delivery.deadLetterAttributes,
      ERROR_MESSAGE: lastError.slice(0, 256) || 'failed',
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      RETRY_ATTEMPTS: String(attempts - 1),
    }).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]));
    await context.deliver(delivery.deadLetterArn, { body: delivery.input, messageAttributes: attributes })
      .catch((error: unknown) => context.log(`${delivery.source}: the dead-letter queue refused the event too: ${String(error)}`));
  }
  return { ok: false, errorType: 'DeliveryFailed', errorMessage: lastError };
}
