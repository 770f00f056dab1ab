import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';

/** Defaults every function of the library starts from; users override them with `functionProps`. */
export const LAMBDA_DEFAULTS = {
  runtime: lambda.Runtime.NODEJS_24_X,
  architecture: lambda.Architecture.ARM_64,
  // 512 MB gives the bundled SDK v3 a cold start near its floor at a fraction of 1 GB's cost.
  memorySize: 512,
  timeout: Duration.seconds(10),
  tracing: lambda.Tracing.ACTIVE,
  loggingFormat: lambda.LoggingFormat.JSON,
  applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
  systemLogLevelV2: lambda.SystemLogLevel.WARN,
  recursiveLoop: lambda.RecursiveLoop.TERMINATE,
} as const;

export const LOG_RETENTION_DEFAULT = logs.RetentionDays.THREE_MONTHS;
