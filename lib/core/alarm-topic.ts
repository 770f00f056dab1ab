import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { servicePrincipalFor } from './managed-policy-role';
import { createEncryptedTopic } from './topic';

export interface AlarmTopicProps {
  /** @default - a CloudFormation-generated name */
  readonly topicName?: string;
}

/**
 * An SNS topic for alarm actions, encrypted with its own KMS key (CloudWatch cannot publish
 * to a topic under the AWS-managed SNS key) and reachable over TLS only.
 */
export class AlarmTopic extends Construct {
  public readonly topic: sns.ITopic;
  public readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const { topic, key } = createEncryptedTopic(this, 'Topic', 'alarm notifications', { topicName: props.topicName }, 'Key');
    const stack = Stack.of(this);
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      // Only for this account's alarms: CloudWatch cannot be made to use the key for another's.
      principals: [servicePrincipalFor('cloudwatch.amazonaws.com', stack.account, `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`)],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }));
    this.topic = topic;
    this.key = key;
  }
}
