/**
 * API Gateway's CloudWatch Logs role is one setting per account and region
 * (`AWS::ApiGateway::Account`), which every stack with an API of the library sets by default, so
 * that a first deploy in a fresh account can log. Two rules keep that safe:
 * - deleting one such stack must not unset it under the others: the role and the setting are
 *   retained on deletion and on replacement;
 * - an account that manages the setting elsewhere turns it off with
 *   `apiProps: { cloudWatchRole: false }`, on every pattern with an API, and the stack then
 *   touches neither.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { FileStorageService, RelationalMicroservice, RestfulMicroservice, SecureRestApiProps, WebApplication } from '../../lib';
import { siteFixture } from '../helpers/site-fixture';

const SITE = siteFixture();
const code = lambda.Code.fromInline('exports.handler = async () => ({})');
const PUSH_TO_CLOUDWATCH = /AmazonAPIGatewayPushToCloudWatchLogs/;

const PATTERNS: Array<[string, (stack: Stack, apiProps?: SecureRestApiProps) => void]> = [
  ['RestfulMicroservice', (stack, apiProps) => new RestfulMicroservice(stack, 'Pattern', { apiProps })],
  ['WebApplication', (stack, apiProps) => new WebApplication(stack, 'Pattern', { siteDirectory: SITE, apiProps })],
  ['RelationalMicroservice', (stack, apiProps) => new RelationalMicroservice(stack, 'Pattern', { code, apiProps })],
  ['FileStorageService', (stack, apiProps) => new FileStorageService(stack, 'Pattern', { code, apiProps })],
];

function synth(build: (stack: Stack, apiProps?: SecureRestApiProps) => void, apiProps?: SecureRestApiProps): Template {
  const stack = new Stack(new App(), 'Test');
  build(stack, apiProps);
  return Template.fromStack(stack);
}

function pushRoles(template: Template): string[] {
  return Object.entries(template.findResources('AWS::IAM::Role'))
    .filter(([, role]) => PUSH_TO_CLOUDWATCH.test(JSON.stringify(role.Properties?.ManagedPolicyArns ?? [])))
    .map(([id]) => id);
}

describe.each(PATTERNS)('%s', (_name, build) => {
  test('sets the account\'s API Gateway logging role by default, and keeps the role and the setting when the stack goes', () => {
    const template = synth(build);
    const roles = pushRoles(template);
    expect(roles).toHaveLength(1);
    template.hasResource('AWS::ApiGateway::Account', {
      Properties: { CloudWatchRoleArn: { 'Fn::GetAtt': [roles[0], 'Arn'] } },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(template.toJSON().Resources[roles[0]]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('apiProps.cloudWatchRole: false leaves the account setting and its role to whoever manages them', () => {
    const template = synth(build, { cloudWatchRole: false });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(pushRoles(template)).toEqual([]);
  });
});
