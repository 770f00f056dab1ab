import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AlarmTopic, RelationalMicroservice } from '../lib';

/**
 * The relational microservice with its defaults: IAM-authorized API, reference handler in an
 * isolated VPC (no NAT), RDS Proxy with TLS and IAM auth, Aurora Serverless v2 PostgreSQL
 * (0.5..4 ACUs) with enhanced monitoring, rotated secrets (first rotated after the schema
 * migrations, a failed rotation alarmed), schema migrations at deploy time, alarms and a dashboard.
 */
export class RelationalMicroserviceExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');
    const service = new RelationalMicroservice(this, 'Items', {
      alarmTopic: alarms.topic,
      dashboard: true,
    });
    new CfnOutput(this, 'ItemsUrl', { value: service.url, description: 'Collection URL (IAM/SigV4-signed requests)' });
    new CfnOutput(this, 'ProxyEndpoint', { value: service.proxy.endpoint });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
  }
}
