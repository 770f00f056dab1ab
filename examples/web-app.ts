import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AlarmTopic, WebApplication } from '../lib';

/**
 * The web application with its defaults: the reference SPA on CloudFront + private S3, a Cognito
 * user pool (administrators create users, optional TOTP MFA) with managed login, and the per-user
 * items API under /api, its alarms sent to an encrypted topic.
 */
export class WebApplicationExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');
    const app = new WebApplication(this, 'App', {
      alarmTopic: alarms.topic,
      // Sign-in callbacks for a development server of the SPA on this port (remove for production).
      additionalCallbackOrigins: ['http://localhost:5173'],
    });
    new CfnOutput(this, 'SiteUrl', { value: app.url, description: 'Open this in a browser and sign in' });
    new CfnOutput(this, 'UserPoolId', { value: app.userPool.userPoolId, description: 'Create users here (see lib/web-app/README.md)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
  }
}
