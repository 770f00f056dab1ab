import { App, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';

/** A stack that breaks rules of both packs on purpose. */
function nonCompliantStack(app: App): Stack {
  const stack = new Stack(app, 'NonCompliant');
  new sqs.Queue(stack, 'Queue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_20_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 })'),
  });
  new apigw.LambdaRestApi(stack, 'Api', { handler: fn });
  return stack;
}

describe('cdk-nag runs (guards against the plugin silently checking nothing)', () => {
  test('AwsSolutions and Serverless report findings on a non-compliant stack', () => {
    const stack = nonCompliantStack(new App());
    const aws = new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName);
    const serverless = new ServerlessChecks().validateScope(stack).violations.map((v) => v.ruleName);
    expect(aws).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-APIG4', 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]']));
    expect(serverless).toEqual(expect.arrayContaining(['Serverless-LambdaTracing', 'Serverless-APIGWAccessLogging']));
  });

  test.each([
    ['NIST.800.53.R5', () => new NIST80053R5Checks()],
    ['HIPAA.Security', () => new HIPAASecurityChecks()],
    ['PCI.DSS.321', () => new PCIDSS321Checks()],
  ])('%s reports findings on a non-compliant stack', (pack, makePack) => {
    const stack = nonCompliantStack(new App());
    const found = makePack().validateScope(stack).violations.map((v) => v.ruleName);
    expect(found).toEqual(expect.arrayContaining([`${pack}-LambdaInsideVPC`, `${pack}-APIGWSSLEnabled`]));
  });

  test('as an app plugin (as bin/app.ts uses it) a finding fails synth', () => {
    const app = new App();
    nonCompliantStack(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3[\s\S]*Serverless-LambdaTracing/);
  });

  test('an acknowledgement on the construct removes exactly that finding', () => {
    const stack = nonCompliantStack(new App());
    const queue = stack.node.findChild('Queue');
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'test' });
    const aws = new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName);
    expect(aws).not.toContain('AwsSolutions-SQS3');
    expect(aws).toContain('AwsSolutions-SQS4');
  });
});
