/**
 * Cold-starts the fan-out handlers (`lambda/fan-out/*.ts`) in an isolated module registry with a
 * given environment, and returns each handler with the SDK classes of that registry (to mock).
 * Also builds order events and the SNS messages the publisher would send for them.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext } from './api-gateway-events';
import { isolatedRequire, type Env } from './load-handler';
import type { PublishedAttribute, SnsPublish } from './sqs-events';

/** Every variable a fan-out handler reads; unset before each load unless given. */
export const FAN_OUT_ENV_VARS = ['TABLE_NAME', 'TOPIC_ARN', 'FIFO', 'REDRIVE_TARGETS', 'POWERTOOLS_SERVICE_NAME'] as const;

export const CONSUMERS = ['audit-consumer', 'high-value-consumer', 'projection-consumer'] as const;
export type ConsumerName = (typeof CONSUMERS)[number];

export function fanOutContext(functionName = 'fan-out'): Context {
  return lambdaContext({
    functionName,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    getRemainingTimeInMillis: () => 30_000,
  });
}

export interface LoadedConsumer {
  readonly libDynamodb: typeof import('@aws-sdk/lib-dynamodb');
  invoke(event: SQSEvent, context?: Context): Promise<SQSBatchResponse>;
}

export function loadConsumer(name: ConsumerName, env: Env): LoadedConsumer {
  const { module, others } = isolatedRequire<{ handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void> }>(
    `lambda/fan-out/${name}`,
  env,
  FAN_OUT_ENV_VARS,
  ['@aws-sdk/lib-dynamodb'],
  );
  return {
    async invoke(event, context = fanOutContext(name)) {
      const result = await module.handler(event, context);
      if (!result) throw new Error('handler returned no result');
      return result;
    },
    libDynamodb: others[0] as typeof import('@aws-sdk/lib-dynamodb'),
  };
}

export interface PublisherResult {
  readonly messageIds: string[];
  readonly eventIds: string[];
}

export interface LoadedPublisher {
  readonly clientSns: typeof import('@aws-sdk/client-sns');
  invoke(payload: unknown): Promise<PublisherResult>;
}

export function loadPublisher(env: Env): LoadedPublisher {
  const { module, others } = isolatedRequire<{ handler: (payload: unknown, context?: Context) => Promise<PublisherResult> }>(
    'lambda/fan-out/publisher',
  env,
  FAN_OUT_ENV_VARS,
  ['@aws-sdk/client-sns'],
  );
  return {
    invoke: (payload) => module.handler(payload, fanOutContext('publisher')),
    clientSns: others[0] as typeof import('@aws-sdk/client-sns'),
  };
}

export interface LoadedRedrive {
  readonly clientSqs: typeof import('@aws-sdk/client-sqs');
  invoke(payload: unknown): Promise<Record<string, unknown>>;
}

export function loadRedrive(env: Env): LoadedRedrive {
  const { module, others } = isolatedRequire<{ handler: (payload: unknown, context?: Context) => Promise<Record<string, unknown>> }>(
    'lambda/fan-out/redrive',
  env,
  FAN_OUT_ENV_VARS,
  ['@aws-sdk/client-sqs'],
  );
  return {
    invoke: (payload) => module.handler(payload, fanOutContext('redrive')),
    clientSqs: others[0] as typeof import('@aws-sdk/client-sqs'),
  };
}

export interface TestOrderEvent {
  eventId: string;
  orderId: string;
  customerId: string;
  type: 'created' | 'paid' | 'shipped' | 'cancelled';
  amount: number;
  currency: string;
  occurredAt: string;
}

let orderCounter = 0;

/** A valid order event; fields may be overridden. */
export function orderEvent(overrides: Partial<TestOrderEvent> = {}): TestOrderEvent {
  orderCounter += 1;
  return {
    eventId: randomUUID(),
    orderId: `order-${orderCounter}`,
    customerId: 'customer-1',
    type: 'created',
    amount: 120.5,
    currency: 'EUR',
    occurredAt: '2025-01-31T12:00:00Z',
    ...overrides,
  };
}

/** The attributes the publisher sets (independent copy of the contract, for the tests). */
export function publishedAttributes(event: TestOrderEvent): Record<string, PublishedAttribute> {
  return {
    type: { DataType: 'String', StringValue: event.type },
    amount: { DataType: 'Number', StringValue: String(event.amount) },
    customerId: { DataType: 'String', StringValue: event.customerId },
    currency: { DataType: 'String', StringValue: event.currency },
  };
}

/** What SNS delivers for an event published by the publisher. */
export function publishOf(event: TestOrderEvent): SnsPublish {
  return { message: JSON.stringify(event), attributes: publishedAttributes(event) };
}
