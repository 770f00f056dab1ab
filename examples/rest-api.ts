import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AlarmTopic, RestfulMicroservice } from '../lib';

/**
 * The RESTful microservice with its defaults: IAM-authorized REGIONAL API, reference handler,
 * encrypted on-demand table, alarms sent to an encrypted topic, and a dashboard.
 */
export class RestApiExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');
    const service = new RestfulMicroservice(this, 'Items', {
      alarmTopic: alarms.topic,
      dashboard: true,
    });
    new CfnOutput(this, 'ItemsUrl', { value: service.url, description: 'Collection URL (IAM/SigV4-signed requests)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
  }
}
