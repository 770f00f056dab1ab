/**
 * The errors the saga's Lambda steps throw. Their `name` is what Step Functions matches in a
 * state's `Retry` and `Catch` (Lambda reports it as `errorType`), so the names are part of the
 * state machine's contract: `TransientStepError` is retried, the others go straight to the
 * compensations.
 */

/** A dependency was throttled or failed transiently after the SDK's own retries; the state retries it. */
export class TransientStepError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientStepError';
  }
}

/** The task input is not what the state machine sends: a bug or a hand-started execution. Never retried. */
export class InvalidStepInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStepInputError';
  }
}

/** Not enough stock left for the order (or the SKU does not exist). */
export class OutOfStockError extends Error {
  constructor(sku: string, quantity: number) {
    super(`Not enough stock of ${sku} for ${quantity}`);
    this.name = 'OutOfStockError';
  }
}

/** The payment provider declined the charge. */
export class PaymentDeclinedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentDeclinedError';
  }
}

/** A refund of this execution ran first (the charge step had timed out): the charge must not apply. */
export class PaymentVoidedError extends Error {
  constructor(executionId: string) {
    super(`The payment of ${executionId} was voided by its compensation; it is not charged`);
    this.name = 'PaymentVoidedError';
  }
}

/** The error names the state machine retries, and those it never retries, in one place for the construct's tests. */
export const STEP_ERROR_NAMES = {
  transient: 'TransientStepError',
  business: ['OutOfStockError', 'PaymentDeclinedError', 'PaymentVoidedError'],
  invalidInput: 'InvalidStepInputError',
} as const;
