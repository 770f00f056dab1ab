/**
 * SQS's errors as the local SQS engine answers them. SQS speaks AWS JSON 1.0 in "query compatible"
 * mode: an error is `{ __type: 'com.amazonaws.sqs#<Shape>', message }` plus the header
 * `x-amzn-query-error: <awsQuery code>;Sender`. `@aws-sdk/client-sqs` reads the awsQuery code first
 * and finds the exception class whose model trait `awsQueryError` carries it (`QueueDoesNotExist`
 * for `AWS.SimpleQueueService.NonExistentQueue`); codes the model does not know
 * (`InvalidParameterValue`, `MissingParameter`) become an `SQSServiceException` with that name.
 */

/** Per error: the awsQuery code (the header and batch entries' `Code`) and the HTTP status, as the SQS model declares them. */
const CATALOGUE = {
  QueueDoesNotExist: { queryCode: 'AWS.SimpleQueueService.NonExistentQueue', status: 400 },
  ReceiptHandleIsInvalid: { queryCode: 'ReceiptHandleIsInvalid', status: 404 },
  MessageNotInflight: { queryCode: 'AWS.SimpleQueueService.MessageNotInflight', status: 400 },
  InvalidParameterValue: { queryCode: 'InvalidParameterValue', status: 400 },
  MissingParameter: { queryCode: 'MissingParameter', status: 400 },
  InvalidAttributeName: { queryCode: 'InvalidAttributeName', status: 400 },
  InvalidAttributeValue: { queryCode: 'InvalidAttributeValue', status: 400 },
  InvalidMessageContents: { queryCode: 'InvalidMessageContents', status: 400 },
  InvalidAddress: { queryCode: 'InvalidAddress', status: 404 },
  InvalidBatchEntryId: { queryCode: 'AWS.SimpleQueueService.InvalidBatchEntryId', status: 400 },
  BatchEntryIdsNotDistinct: { queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', status: 400 },
  TooManyEntriesInBatchRequest: { queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', status: 400 },
  EmptyBatchRequest: { queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest', status: 400 },
  BatchRequestTooLong: { queryCode: 'AWS.SimpleQueueService.BatchRequestTooLong', status: 400 },
  PurgeQueueInProgress: { queryCode: 'AWS.SimpleQueueService.PurgeQueueInProgress', status: 403 },
  QueueNameExists: { queryCode: 'QueueAlreadyExists', status: 400 },
  ResourceNotFoundException: { queryCode: 'ResourceNotFoundException', status: 404 },
  UnsupportedOperation: { queryCode: 'AWS.SimpleQueueService.UnsupportedOperation', status: 400 },
} as const;

/** The exception name the SDK throws. */
export type SqsErrorCode = keyof typeof CATALOGUE;

/** An SQS error, thrown by the in-process API and answered by the wire as SQS answers it. */
export class SqsError extends Error {
  public readonly queryCode: string;
  public readonly status: number;

  constructor(public readonly code: SqsErrorCode, message: string) {
    super(message);
    this.name = 'SqsError';
    this.queryCode = CATALOGUE[code].queryCode;
    this.status = CATALOGUE[code].status;
  }

  /** The `__type` of the JSON error body. */
  get errorType(): string {
    return `com.amazonaws.sqs#${this.code}`;
  }
}

/** `Value <v> for parameter <name> is invalid. Reason: <reason>`: SQS's InvalidParameterValue wording. */
export function invalidParameter(name: string, value: unknown, reason: string): SqsError {
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  return new SqsError('InvalidParameterValue', `Value ${shown} for parameter ${name} is invalid. Reason: ${reason}`);
}

export function missingParameter(name: string): SqsError {
  return new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
}
