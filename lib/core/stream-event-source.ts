import { Duration, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { assertIntegerInRange, InvalidPropsError } from './errors';

/**
 * How Lambda reads a stream (Kinesis, DynamoDB Streams). Every default is explicit because each
 * one changes failure behaviour.
 */
export interface StreamEventSourceOptions {
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /** How long Lambda gathers records before invoking. @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent batches per shard (1..10); order is kept per partition key. @default 1 */
  readonly parallelizationFactor?: number;
  /** Split a failing batch in two and retry each half, to isolate a bad record. @default true */
  readonly bisectBatchOnError?: boolean;
  /** Retries of a failing batch before it goes to the on-failure destination (0..10000). @default 5 */
  readonly retryAttempts?: number;
  /** Records older than this go to the on-failure destination instead of being processed (1 min..7 days). @default Duration.hours(6) */
  readonly maxRecordAge?: Duration;
  /** @default StartingPosition.TRIM_HORIZON: nothing already in the stream is skipped */
  readonly startingPosition?: lambda.StartingPosition;
}

/** The defaults of `StreamEventSourceOptions`, with what every stream mapping of the library needs. */
const STREAM_EVENT_SOURCE_DEFAULTS = {
  batchSize: 100,
  maxBatchingWindow: Duration.seconds(1),
  parallelizationFactor: 1,
  bisectBatchOnError: true,
  retryAttempts: 5,
  maxRecordAge: Duration.hours(6),
  startingPosition: lambda.StartingPosition.TRIM_HORIZON,
};

/**
 * The mapping options: the user's over the defaults, then what the library's stream handlers rely
 * on: partial batch failures, and a destination for batches Lambda gives up on.
 */
export function streamEventSourceProps(options: StreamEventSourceOptions | undefined, onFailure: lambda.IEventSourceDlq) {
  return {
    ...STREAM_EVENT_SOURCE_DEFAULTS,
    ...definedOnly(options ?? {}),
    reportBatchItemFailures: true,
    onFailure,
  };
}

/** Fails on options that Lambda rejects or that could block a shard forever; `prop` is the prop's name. */
export function validateStreamEventSource(construct: string, prop: string, options: StreamEventSourceOptions | undefined): void {
  const source = options ?? {};
  assertIntegerInRange(construct, `${prop}.batchSize`, source.batchSize, 1, 10_000);
  assertIntegerInRange(construct, `${prop}.parallelizationFactor`, source.parallelizationFactor, 1, 10);
  assertIntegerInRange(construct, `${prop}.retryAttempts`, source.retryAttempts, 0, 10_000);
  if (source.maxRecordAge !== undefined && !Token.isUnresolved(source.maxRecordAge.toSeconds())) {
    const seconds = source.maxRecordAge.toSeconds();
    if (seconds < 60 || seconds > 604_800) {
      throw new InvalidPropsError(construct, `${prop}.maxRecordAge must be 1 minute..7 days (finite, so a poison batch cannot block a shard forever), got ${seconds} seconds`);
    }
  }
  const windowSeconds = source.maxBatchingWindow?.toSeconds();
  if (windowSeconds !== undefined && !Token.isUnresolved(windowSeconds) && windowSeconds > 300) {
    throw new InvalidPropsError(construct, `${prop}.maxBatchingWindow must be at most 5 minutes, got ${windowSeconds} seconds`);
  }
  if (source.startingPosition === lambda.StartingPosition.AT_TIMESTAMP) {
    throw new InvalidPropsError(construct, `${prop}.startingPosition AT_TIMESTAMP needs a timestamp this construct does not take; use TRIM_HORIZON or LATEST`);
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
