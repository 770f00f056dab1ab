import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

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
    const key = new kms.Key(this, 'Key', {
      description: `Encrypts the alarm topic ${this.node.path}`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }));
    const topic = new sns.Topic(this, 'Topic', {
      topicName: props.topicName,
      masterKey: key,
      enforceSSL: true,
    });
    this.topic = topic;
    this.key = key;
  }
}
