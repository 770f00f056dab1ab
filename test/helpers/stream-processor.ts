/**
 * Cold-starts `lambda/stream-processing/processor.ts` in an isolated module registry with a given
 * environment, and returns its handler with the SDK classes of that registry (to mock or spy on).
 */
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamHandler } from 'aws-lambda';
import { lambdaContext } from './api-gateway-events';
import { isolatedRequire, type Env } from './load-handler';

/** Every variable the stream processor reads; unset before each load unless given. */
export const STREAM_PROCESSOR_ENV_VARS = [
  'TABLE_NAME',
  'REJECTED_QUEUE_URL',
  'MAX_PARALLEL_WRITES',
  'COUNT_SHARDS',
  'MAX_PAYLOAD_BYTES',
  'POWERTOOLS_SERVICE_NAME',
] as const;

export const TEST_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/rejected-records';

export interface LoadedStreamProcessor {
  readonly handler: KinesisStreamHandler;
  /** `@aws-sdk/lib-dynamodb` from the handler's registry (to mock or spy on its DocumentClient). */
  readonly libDynamodb: typeof import('@aws-sdk/lib-dynamodb');
  /** `@aws-sdk/client-sqs` from the handler's registry (mock its SQSClient, match its commands). */
  readonly clientSqs: typeof import('@aws-sdk/client-sqs');
  /** Calls the handler with a fresh Lambda context; fails when it returns nothing. */
  invoke(event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse>;
}

export function loadStreamProcessor(env: Env): LoadedStreamProcessor {
  const { module, others } = isolatedRequire<{ handler: KinesisStreamHandler }>(
    'lambda/stream-processing/processor',
    env,
    STREAM_PROCESSOR_ENV_VARS,
    ['@aws-sdk/lib-dynamodb', '@aws-sdk/client-sqs'],
  );
  const handler = module.handler;
  return {
    handler,
    async invoke(event, context = lambdaContext({ functionName: 'stream-processor', getRemainingTimeInMillis: () => 60_000 })) {
      const result = await handler(event, context, () => undefined);
      if (!result) throw new Error('handler returned no result');
      return result;
    },
    libDynamodb: others[0] as typeof import('@aws-sdk/lib-dynamodb'),
    clientSqs: others[1] as typeof import('@aws-sdk/client-sqs'),
  };
}
