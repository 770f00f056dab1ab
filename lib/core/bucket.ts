import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { mergeProps } from './merge';
import { acknowledgeNagFindings, ruleAcknowledgements } from './nag';

/**
 * A private bucket: public access blocked, TLS 1.2+ only (bucket policy), S3-managed encryption,
 * versioned, ACLs off, retained on stack deletion. `overrides` are merged over these defaults.
 */
export function secureBucket(scope: Construct, id: string, overrides: s3.BucketProps = {}): s3.Bucket {
  return new s3.Bucket(scope, id, mergeProps<s3.BucketProps>({
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
  }, overrides));
}

/**
 * A bucket for access logs (S3 server access logs and CloudFront standard logs): private and
 * TLS-only like any bucket, ACLs enabled because CloudFront's standard logging writes with an ACL,
 * logs expire after `retention`. Versioned, so a log overwritten or deleted within a day can still
 * be read (the noncurrent version expires after that day).
 */
export function accessLogBucket(scope: Construct, id: string, retention: Duration): s3.Bucket {
  const bucket = secureBucket(scope, id, {
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [{ expiration: retention, noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
  });
  acknowledgeNagFindings(bucket, [
    ...ruleAcknowledgements('S3DefaultEncryptionKMS',
      'S3 server access logs and CloudFront standard logs are delivered by the services themselves, which write to a KMS-encrypted bucket only when its key policy lets them; S3-managed encryption (SSE-S3) encrypts every log at rest without a key policy that a mistake would turn into lost logs.'),
    ...ruleAcknowledgements('S3BucketReplicationEnabled',
      'Access logs expire after their retention; a second copy belongs in your log archive account, replicated from there, not in a bucket this stack would have to create in another Region.'),
  ]);
  return bucket;
}

/**
 * S3 server access logs of `bucket` into `logBucket` under `prefix`, granted by a bucket policy
 * for the S3 logging service scoped to the source bucket and account. (CDK's
 * `serverAccessLogsBucket` grants with the legacy `LogDeliveryWrite` ACL unless the app sets the
 * `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` feature flag; a library cannot rely on that.)
 */
export function logServerAccess(bucket: s3.Bucket, logBucket: s3.IBucket, prefix: string): void {
  (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = { destinationBucketName: logBucket.bucketName, logFilePrefix: prefix };
  logBucket.addToResourcePolicy(new iam.PolicyStatement({
    sid: `S3ServerAccessLogs${Names.uniqueResourceName(bucket, { maxLength: 40, separator: '' })}`.replace(/[^A-Za-z0-9]/g, ''),
    principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [logBucket.arnForObjects(`${prefix}*`)],
    conditions: { ArnLike: { 'aws:SourceArn': bucket.bucketArn }, StringEquals: { 'aws:SourceAccount': Stack.of(bucket).account } },
  }));
}
