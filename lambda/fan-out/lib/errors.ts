/**
 * Errors of the fan-out handlers. Invocation errors (publisher, redrive) extend the shared
 * `HttpError` model, so a caller (or an API in front) sees a stable `code`, a 4xx status for its
 * own mistakes and the problems in `details`. Consumer errors mark one SQS message as failed.
 */
import { formatProblems } from './order-event';
import { HttpError, HttpStatus, ErrorCode, ValidationError, type ErrorDetail } from '../../shared/http-errors';

/** The publisher's input is not a valid order event (or batch): nothing was published. */
export class OrderEventValidationError extends ValidationError {
  constructor(problems: readonly ErrorDetail[]) {
    super(`Invalid order event: ${formatProblems(problems)}`, problems);
  }
}

/** The redrive function's input is not valid. */
export class RedriveRequestError extends ValidationError {
  constructor(problems: readonly ErrorDetail[]) {
    super(`Invalid redrive request: ${formatProblems(problems)}`, problems);
  }
}

/** The redrive function was asked for a subscriber that REDRIVE_TARGETS does not name. */
export class UnknownSubscriberError extends HttpError {
  public readonly known: readonly string[];

  constructor(subscriber: string, known: readonly string[]) {
    const shown = /^[\x21-\x7e]{1,80}$/.test(subscriber) ? JSON.stringify(subscriber) : 'the given subscriber';
    super(HttpStatus.NotFound, ErrorCode.NotFound, `Unknown subscriber ${shown}; known subscribers: ${known.join(', ')}`);
    this.known = known;
  }
}

export interface PublishFailure {
  /** Index in `events`. */
  readonly index: number;
  readonly code?: string;
  readonly message?: string;
  readonly senderFault?: boolean;
}

/** Some entries of a PublishBatch were not published (the others were). */
export class PartialPublishError extends HttpError {
  constructor(
    message: string,
    /** Per input event, the SNS message id, or `undefined` when that entry failed. */
    public readonly messageIds: ReadonlyArray<string | undefined>,
    public readonly eventIds: readonly string[],
    public readonly failures: readonly PublishFailure[],
  ) {
    super(HttpStatus.ServiceUnavailable, ErrorCode.ServiceUnavailable, message);
  }
}

/**
 * A message that can never be processed (bad JSON, bad SNS envelope, invalid event): it fails
 * every delivery and reaches the queue's DLQ after maxReceiveCount receives.
 */
export class PoisonMessageError extends Error {
  constructor(public readonly reason: string, message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}
