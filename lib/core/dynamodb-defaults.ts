import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';

/** Table defaults: on-demand, point-in-time recovery, encrypted at rest, kept on stack deletion. */
export const TABLE_DEFAULTS: Partial<dynamodb.TablePropsV2> = {
  billing: dynamodb.Billing.onDemand(),
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
  removalPolicy: RemovalPolicy.RETAIN,
  deletionProtection: true,
};
