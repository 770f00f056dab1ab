import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';

/** Period of every alarm metric unless a pattern says otherwise. */
export const ALARM_PERIOD = Duration.minutes(5);

/** Metric factories, one per service; units in the names where they carry one. */
export const LambdaMetrics = {
  errorCount: (fn: lambda.IFunction) => fn.metricErrors({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
  throttleCount: (fn: lambda.IFunction) => fn.metricThrottles({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
  durationP99InMillis: (fn: lambda.IFunction) => fn.metricDuration({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.p(99) }),
  /** Age of the last record of a stream batch when the function received it. */
  iteratorAgeMaxInMillis: (fn: lambda.IFunction) => fn.metric('IteratorAge', { period: ALARM_PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
} as const;

/** Stage-scoped API Gateway metrics (dimensions ApiName and Stage). */
export const ApiGatewayMetrics = {
  serverErrorRateInPercent: (stage: apigw.Stage) => new cloudwatch.MathExpression({
    expression: '100 * errors / MAX([requests, 1])',
    usingMetrics: {
      errors: stage.metricServerError({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
      requests: stage.metricCount({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SAMPLE_COUNT }),
    },
    period: ALARM_PERIOD,
    label: '5XX error rate (%)',
  }),
  latencyP99InMillis: (stage: apigw.Stage) => stage.metricLatency({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.p(99) }),
} as const;

export const DynamoDbMetrics = {
  /** Throttled requests of the operations a handler uses, summed. */
  throttledRequestCount: (table: dynamodb.ITable, operations: dynamodb.Operation[]) =>
    table.metricThrottledRequestsForOperations({ operations, period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
} as const;

export const SqsMetrics = {
  visibleMessageCount: (queue: sqs.IQueue) =>
    queue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
  oldestMessageAgeInSeconds: (queue: sqs.IQueue) =>
    queue.metricApproximateAgeOfOldestMessage({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
} as const;
