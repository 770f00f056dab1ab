import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { mergeProps } from './merge';
import { acknowledgeNagFindings } from './nag';
import { QUEUE_DEFAULTS } from './sqs-defaults';

/**
 * A queue that is itself the end of a failure path (an on-failure destination, a DLQ, a
 * rejected-records queue): encrypted, TLS-only, 14-day retention, and no DLQ of its own,
 * since there is nowhere further for a message to go.
 */
export function createTerminalQueue(scope: Construct, id: string, purpose: string, queueProps?: sqs.QueueProps): sqs.Queue {
  const queue = new sqs.Queue(scope, id, mergeProps<sqs.QueueProps>(QUEUE_DEFAULTS, queueProps));
  const reason = `This queue is the last stop of a failure path (${purpose}); messages stay 14 days for a person or a redrive to handle, so it has no DLQ of its own.`;
  acknowledgeNagFindings(queue, [
    { id: 'AwsSolutions-SQS3', reason },
    { id: 'Serverless-SQSRedrivePolicy', reason },
  ]);
  return queue;
}
