import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { mergeProps } from './merge';

/** A topic and the customer-managed key it is encrypted with. */
export interface EncryptedTopic {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
}

/**
 * An SNS topic encrypted with its own rotating KMS key and reachable over TLS only. A key of our
 * own (not alias/aws/sns) is what lets other services - CloudWatch, EventBridge - publish to it.
 */
export function createEncryptedTopic(scope: Construct, id: string, purpose: string, topicProps?: sns.TopicProps, keyId = `${id}Key`): EncryptedTopic {
  const key = new kms.Key(scope, keyId, {
    description: `Encrypts the topic ${scope.node.path}/${id}: ${purpose}`,
    enableKeyRotation: true,
    pendingWindow: Duration.days(7),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const topic = new sns.Topic(scope, id, mergeProps<sns.TopicProps>({}, topicProps, { masterKey: key, enforceSSL: true }));
  return { topic, key };
}
