import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';

/** Queue defaults: SQS-managed encryption, TLS only, and 14 days for whatever lands in it. */
export const QUEUE_DEFAULTS: Partial<sqs.QueueProps> = {
  encryption: sqs.QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
  retentionPeriod: Duration.days(14),
};
