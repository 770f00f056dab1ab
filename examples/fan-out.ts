import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmTopic, FanOut, FanOutConsumerCode } from '../lib';

export interface FanOutExampleStackProps extends StackProps {
  /** FIFO topic and queues (ordering per customer). @default false */
  readonly fifo?: boolean;
}

/**
 * Order events fanned out to three consumers: an audit log of every event, a high-value consumer
 * subscribed with a numeric filter (amount >= 100), and a projection of each order's status.
 * Plus a queue-only subscriber for an external system (cancellations only, raw delivery).
 */
export class FanOutExampleStack extends Stack {
  constructor(scope: Construct, id: string, props: FanOutExampleStackProps = {}) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');
    const orders = new FanOut(this, 'OrderEvents', {
      fifo: props.fifo,
      subscribers: [
        { name: 'audit', consumer: { code: FanOutConsumerCode.audit() } },
        {
          name: 'high-value',
          filterPolicy: { amount: sns.SubscriptionFilter.numericFilter({ greaterThanOrEqualTo: 100 }) },
          consumer: { code: FanOutConsumerCode.highValue() },
        },
        { name: 'projection', rawMessageDelivery: true, consumer: { code: FanOutConsumerCode.projection() } },
        {
          name: 'cancellations',
          rawMessageDelivery: true,
          filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: ['cancelled'] }) },
        },
      ],
      alarmTopic: alarms.topic,
      dashboard: true,
    });
    new CfnOutput(this, 'TopicArn', { value: orders.topic.topicArn });
    new CfnOutput(this, 'PublisherName', { value: orders.publisher!.functionName, description: 'aws lambda invoke --function-name <this> --payload <order event>' });
    new CfnOutput(this, 'RedriveName', { value: orders.redrive.functionName, description: 'invoke with {"subscriber": "<name>"} to move a DLQ back' });
  }
}
