/**
 * The one error model of every HTTP handler: an `HttpError` carries the status code, a stable
 * machine-readable `code` and optional `details`; `errorResponse()` (http.ts) renders it as
 * `{ "error": code, "message": ..., "requestId": ..., "details"?: [...] }`.
 * Anything that is not an `HttpError` becomes a 500 `InternalError` without internals.
 */

/** Stable error codes, the `error` field of every error response. */
export const ErrorCode = {
  BadRequest: 'BadRequest',
  Unauthorized: 'Unauthorized',
  ValidationError: 'ValidationError',
  NotFound: 'NotFound',
  MethodNotAllowed: 'MethodNotAllowed',
  Conflict: 'Conflict',
  PreconditionFailed: 'PreconditionFailed',
  PayloadTooLarge: 'PayloadTooLarge',
  UnsupportedMediaType: 'UnsupportedMediaType',
  UnprocessableEntity: 'UnprocessableEntity',
  PreconditionRequired: 'PreconditionRequired',
  InternalError: 'InternalError',
  ServiceUnavailable: 'ServiceUnavailable',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status codes used by the handlers. */
export const HttpStatus = {
  OK: 200,
  Created: 201,
  NoContent: 204,
  NotModified: 304,
  BadRequest: 400,
  Unauthorized: 401,
  NotFound: 404,
  MethodNotAllowed: 405,
  Conflict: 409,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  UnprocessableEntity: 422,
  PreconditionRequired: 428,
  InternalServerError: 500,
  ServiceUnavailable: 503,
} as const;
export type HttpStatus = (typeof HttpStatus)[keyof typeof HttpStatus];

/** One entry of `details`: where (a JSON pointer into the request body, or a parameter name) and what. */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

export interface HttpErrorOptions {
  readonly details?: readonly ErrorDetail[];
  /** Extra response headers, e.g. `allow` for 405 or `retry-after` for 503. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

/** Base class: an error whose message is safe to show to the client. */
export class HttpError extends Error {
  public readonly statusCode: number;
  public readonly code: string;
  public readonly details?: readonly ErrorDetail[];
  public readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, code: string, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.statusCode = statusCode;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

export class BadRequestError extends HttpError {
  constructor(message: string, options?: HttpErrorOptions) {
    super(HttpStatus.BadRequest, ErrorCode.BadRequest, message, options);
  }
}

/** 400 for a well-formed request whose content breaks the resource's rules (e.g. its JSON Schema). */
export class ValidationError extends HttpError {
  constructor(message: string, details: readonly ErrorDetail[]) {
    super(HttpStatus.BadRequest, ErrorCode.ValidationError, message, { details });
  }
}

/** 401: the request carries no caller identity the resource can be scoped to. */
export class UnauthorizedError extends HttpError {
  constructor(message = 'The request carries no caller identity') {
    super(HttpStatus.Unauthorized, ErrorCode.Unauthorized, message);
  }
}

export class NotFoundError extends HttpError {
  constructor(message = 'Resource not found') {
    super(HttpStatus.NotFound, ErrorCode.NotFound, message);
  }
}

export class MethodNotAllowedError extends HttpError {
  public readonly allow: readonly string[];

  constructor(method: string, allow: readonly string[]) {
    // The method comes from the client: only a plausible token is echoed.
    const shown = /^[A-Z][A-Z-]{0,19}$/.test(method) ? `Method ${method}` : 'This method';
    super(HttpStatus.MethodNotAllowed, ErrorCode.MethodNotAllowed, `${shown} is not allowed on this resource`, {
      headers: { allow: allow.join(', ') },
    });
    this.allow = allow;
  }
}

export class ConflictError extends HttpError {
  constructor(message: string) {
    super(HttpStatus.Conflict, ErrorCode.Conflict, message);
  }
}

export class PreconditionFailedError extends HttpError {
  constructor(message = 'The resource does not match the If-Match precondition') {
    super(HttpStatus.PreconditionFailed, ErrorCode.PreconditionFailed, message);
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(message: string) {
    super(HttpStatus.PayloadTooLarge, ErrorCode.PayloadTooLarge, message);
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  constructor(message: string) {
    super(HttpStatus.UnsupportedMediaType, ErrorCode.UnsupportedMediaType, message);
  }
}

export class UnprocessableEntityError extends HttpError {
  constructor(message: string) {
    super(HttpStatus.UnprocessableEntity, ErrorCode.UnprocessableEntity, message);
  }
}

export class PreconditionRequiredError extends HttpError {
  constructor(message = 'This request requires an If-Match header') {
    super(HttpStatus.PreconditionRequired, ErrorCode.PreconditionRequired, message);
  }
}

/** 503 for transient back-end conditions (throttling): the client should retry after a delay. */
export class ServiceUnavailableError extends HttpError {
  constructor(message = 'Service temporarily unavailable, retry later', retryAfterSeconds = 1, cause?: unknown) {
    super(HttpStatus.ServiceUnavailable, ErrorCode.ServiceUnavailable, message, {
      headers: { 'retry-after': String(retryAfterSeconds) },
      cause,
    });
  }
}

/**
 * 503: a write was sent but its answer was lost, and reading the store did not show it applied.
 * It may still apply (or have applied after the read); a retry with the same Idempotency-Key
 * (POST) or If-Match (PUT, DELETE) settles it.
 */
export class OutcomeUnknownError extends ServiceUnavailableError {
  constructor() {
    super('The write was sent but its outcome is unknown: retry it with the same Idempotency-Key or If-Match', 1);
  }
}

export function isHttpError(err: unknown): err is HttpError {
  return err instanceof HttpError;
}
