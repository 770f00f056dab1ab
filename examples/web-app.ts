import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AlarmTopic, WebApplication } from '../lib';

/** `cdk deploy -c webAppDevelopment=true`: also let a development server of the SPA on this origin sign in. */
const WEB_APP_DEVELOPMENT_CONTEXT = 'webAppDevelopment';
const DEVELOPMENT_SERVER_ORIGIN = 'http://localhost:5173';

/**
 * The web application with its defaults: the reference SPA on CloudFront + private S3, a Cognito
 * user pool (administrators create users, optional TOTP MFA) with managed login, and the per-user
 * items API under /api (reachable only through CloudFront), its alarms sent to an encrypted topic.
 * Production settings unless the context `webAppDevelopment` is `true`.
 */
export class WebApplicationExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    // `-c key=value` gives a string; a cdk.json context entry may give a boolean.
    const development = String(this.node.tryGetContext(WEB_APP_DEVELOPMENT_CONTEXT)) === 'true';
    const alarms = new AlarmTopic(this, 'Alarms');
    const app = new WebApplication(this, 'App', {
      alarmTopic: alarms.topic,
      // Sign-in codes for an http://localhost callback go to whatever listens on that port of the user's machine: development stacks only.
      additionalCallbackOrigins: development ? [DEVELOPMENT_SERVER_ORIGIN] : undefined,
    });
    new CfnOutput(this, 'SiteUrl', { value: app.url, description: 'Open this in a browser and sign in' });
    new CfnOutput(this, 'UserPoolId', { value: app.userPool.userPoolId, description: 'Create users here (see lib/web-app/README.md)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
  }
}
