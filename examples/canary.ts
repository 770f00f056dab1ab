import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import { Construct } from 'constructs';
import { AlarmTopic, RestfulMicroservice } from '../lib';

/**
 * The RESTful microservice deployed by canary: every change publishes a version, CodeDeploy
 * smoke-tests it (pre-traffic hook: `GET /items` must answer 200), shifts 10% of traffic to it
 * for 5 minutes, checks its errors (post-traffic hook) and rolls back on any rollback alarm:
 * the new version's errors, throttles and p99 duration, and the API's 5XX rate. The alarm topic
 * receives them all. The API reaches the alias through the stage variable `lambdaAlias`.
 */
export class CanaryDeploymentExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');
    const service = new RestfulMicroservice(this, 'Items', {
      alarmTopic: alarms.topic,
      invokeAliasThroughStageVariable: true,
      deployment: {
        deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
        preTrafficHook: {
          smokeTestPayload: {
            resource: '/items',
            path: '/items',
            httpMethod: 'GET',
            headers: { accept: 'application/json' },
            queryStringParameters: { limit: '1' },
            requestContext: { requestId: 'codedeploy-smoke-test' },
          },
          expectedStatusCode: 200,
          expectedBodyContains: '"items"',
        },
        postTrafficHook: { window: Duration.minutes(10), maxErrors: 0 },
      },
    });
    new CfnOutput(this, 'ItemsUrl', { value: service.url, description: 'Collection URL (IAM/SigV4-signed requests)' });
    new CfnOutput(this, 'AliasArn', { value: service.deployment!.alias.functionArn });
  }
}
