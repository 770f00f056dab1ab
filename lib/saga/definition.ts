import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/** The names of the saga's states: the README's table and the tests use them. */
export const SAGA_STATES = {
  reserve: 'Reserve',
  charge: 'Charge',
  awaitConfirmation: 'AwaitConfirmation',
  confirm: 'Confirm',
  confirmed: 'Confirmed',
  refund: 'Refund',
  release: 'Release',
  cancelled: 'Cancelled',
} as const;

/** Errors of a Lambda invocation that say nothing about the function's code: always worth a retry. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException',
];
/** A step function that ran out of its Lambda timeout (the step is idempotent, so it is retried). */
export const LAMBDA_FUNCTION_TIMEOUT = 'Sandbox.Timedout';
/** What the reference steps throw for a throttled or failing dependency (lambda/saga/lib/errors.ts). */
export const TRANSIENT_STEP_ERROR = 'TransientStepError';
/** DynamoDB service-integration errors worth a retry. */
export const DYNAMODB_TRANSIENT_ERRORS = [
  'DynamoDB.ProvisionedThroughputExceededException', 'DynamoDB.ThrottlingException', 'DynamoDB.RequestLimitExceeded',
  'DynamoDB.InternalServerErrorException', 'DynamoDB.SdkClientException',
];
/** SQS service-integration errors worth a retry (sending the callback message failed). */
export const SQS_TRANSIENT_ERRORS = ['SQS.SdkClientException', 'SQS.KmsThrottledException', 'SQS.RequestThrottledException'];

export interface SagaDefinitionOptions {
  readonly inventory: lambda.IFunction;
  readonly payment: lambda.IFunction;
  readonly table: dynamodb.ITable;
  /** With a callback queue the saga waits for the external confirmation (Standard only). */
  readonly callback?: { readonly queue: sqs.IQueue; readonly heartbeatTimeout: Duration; readonly timeout: Duration };
  /** Timeout of one Lambda step attempt. */
  readonly stepTimeout: Duration;
  /** Attempts of a compensation on transient errors (more than a forward step: it must get through). */
  readonly compensationMaxAttempts: number;
}

interface RetryPlan {
  readonly errors: string[];
  readonly maxAttempts: number;
  readonly interval: Duration;
}

/** Exponential backoff (rate 2) with full jitter, capped, per error type. */
function addRetries(task: sfn.TaskStateBase, plans: RetryPlan[]): void {
  for (const plan of plans) {
    task.addRetry({
      errors: plan.errors,
      maxAttempts: plan.maxAttempts,
      interval: plan.interval,
      backoffRate: 2,
      maxDelay: Duration.seconds(30),
      jitterStrategy: sfn.JitterType.FULL,
    });
  }
}

/**
 * The saga: Reserve (Lambda) -> Charge (Lambda) -> AwaitConfirmation (SQS + task token, Standard
 * only) -> Confirm (DynamoDB UpdateItem, no Lambda) -> Confirmed. Each forward step catches every
 * error and runs the compensations of the steps already done, in reverse order
 * (Refund -> Release -> Cancelled). A compensation that still fails after its retries fails the
 * execution at that state, which is where a redrive resumes it.
 */
export function buildSagaDefinition(scope: Construct, options: SagaDefinitionOptions): sfn.IChainable {
  const stepPayload = (action: string) => sfn.TaskInput.fromObject({
    action,
    executionId: sfn.JsonPath.executionId,
    order: sfn.JsonPath.objectAt('$.order'),
  });
  const lambdaStep = (id: string, fn: lambda.IFunction, action: string, resultPath: string, comment: string, compensation: boolean) => {
    const task = new tasks.LambdaInvoke(scope, id, {
      stateName: id,
      comment,
      lambdaFunction: fn,
      payload: stepPayload(action),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath,
      taskTimeout: sfn.Timeout.duration(options.stepTimeout),
    });
    addRetries(task, [
      { errors: LAMBDA_SERVICE_ERRORS, maxAttempts: compensation ? options.compensationMaxAttempts : 4, interval: Duration.seconds(1) },
      {
        errors: [TRANSIENT_STEP_ERROR, sfn.Errors.TIMEOUT, LAMBDA_FUNCTION_TIMEOUT],
        maxAttempts: compensation ? options.compensationMaxAttempts : 3,
        interval: Duration.seconds(2),
      },
    ]);
    return task;
  };

  const cancelled = new sfn.Pass(scope, SAGA_STATES.cancelled, {
    stateName: SAGA_STATES.cancelled,
    comment: 'Every compensation ran: the order is cancelled. The output carries the error that cancelled it.',
    parameters: {
      'status': 'CANCELLED',
      'orderId.$': '$.order.orderId',
      'error.$': '$.error',
    },
  });
  const release = lambdaStep(SAGA_STATES.release, options.inventory, 'release', '$.release',
    'Compensation of Reserve: gives the reserved stock back (no-op when nothing is reserved).', true);
  const refund = lambdaStep(SAGA_STATES.refund, options.payment, 'refund', '$.refund',
    'Compensation of Charge: refunds the charge, or voids the payment when nothing was charged.', true);
  refund.next(release);
  release.next(cancelled);

  const reserve = lambdaStep(SAGA_STATES.reserve, options.inventory, 'reserve', '$.reservation', 'Reserves the stock of the order.', false);
  const charge = lambdaStep(SAGA_STATES.charge, options.payment, 'charge', '$.payment', 'Charges the customer (idempotent per execution).', false);

  const confirm = new tasks.DynamoUpdateItem(scope, SAGA_STATES.confirm, {
    stateName: SAGA_STATES.confirm,
    comment: 'Direct DynamoDB integration: turns the reservation into a sale (removes it from the SKU item). Idempotent.',
    table: options.table,
    key: {
      pk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format('SKU#{}', sfn.JsonPath.stringAt('$.order.sku'))),
      sk: tasks.DynamoAttributeValue.fromString('STOCK'),
    },
    updateExpression: 'REMOVE reservations.#r',
    conditionExpression: 'attribute_exists(pk)',
    expressionAttributeNames: { '#r': sfn.JsonPath.executionId },
    resultPath: sfn.JsonPath.DISCARD,
  });
  addRetries(confirm, [{ errors: DYNAMODB_TRANSIENT_ERRORS, maxAttempts: 4, interval: Duration.seconds(1) }]);

  const confirmed = new sfn.Pass(scope, SAGA_STATES.confirmed, {
    stateName: SAGA_STATES.confirmed,
    comment: 'The order is confirmed.',
    parameters: {
      'status': 'CONFIRMED',
      'orderId.$': '$.order.orderId',
      'payment.$': '$.payment',
      ...(options.callback ? { 'confirmation.$': '$.confirmation' } : {}),
    },
  });
  confirm.next(confirmed);

  const catchInto = (state: sfn.TaskStateBase, handler: sfn.IChainable) => state.addCatch(handler, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  // A failed step is compensated too: its last attempt may have applied with its answer lost
  // (a timeout). Release and Refund are idempotent and change nothing when there is nothing to undo.
  catchInto(reserve, release);
  catchInto(charge, refund);
  catchInto(confirm, refund);

  if (!options.callback) return reserve.next(charge).next(confirm);
  const wait = new tasks.SqsSendMessage(scope, SAGA_STATES.awaitConfirmation, {
    stateName: SAGA_STATES.awaitConfirmation,
    comment: 'Sends the task token through the callback queue and waits for the external confirmation (POST /callbacks).',
    queue: options.callback.queue,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    messageBody: sfn.TaskInput.fromObject({
      taskToken: sfn.JsonPath.taskToken,
      executionId: sfn.JsonPath.executionId,
      order: sfn.JsonPath.objectAt('$.order'),
      heartbeatSeconds: options.callback.heartbeatTimeout.toSeconds(),
    }),
    heartbeatTimeout: sfn.Timeout.duration(options.callback.heartbeatTimeout),
    taskTimeout: sfn.Timeout.duration(options.callback.timeout),
    resultPath: '$.confirmation',
  });
  addRetries(wait, [{ errors: SQS_TRANSIENT_ERRORS, maxAttempts: 4, interval: Duration.seconds(1) }]);
  catchInto(wait, refund);
  return reserve.next(charge).next(wait).next(confirm);
}
