import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
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
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }));
    this.topic = topic;
    this.key = key;
  }
}
