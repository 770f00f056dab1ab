/**
 * The canary deployment example through the local runner: its API invokes the function through
 * the alias its stage variable names (`${stageVariables.lambdaAlias}`), as deployed; CodeDeploy,
 * the traffic hooks and the alarms are not emulated, and start-up says so.
 */
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { CanaryDeploymentExampleStack } from '../../examples/canary';
import { createThenGet, useLocalStack } from '../helpers/local-runner';

const IDENTITY = { 'x-local-identity': 'arn:aws:iam::123456789012:user/alice' };

describe('the canary deployment example, run locally', () => {
  const running = useLocalStack((app) => new CanaryDeploymentExampleStack(app, 'CanaryDeploymentExample'));

  test('the alias route creates and gets an item', async () => {
    await createThenGet(`${running.local.apiUrl()}/items`, IDENTITY, { name: 'canary' });
  });

  test('start-up names the services it cannot run', () => {
    expect(running.local.notEmulated.join('\n')).toMatch(/codedeploy/);
  });

  test('Lambda Invoke: an SDK client invokes a function by alias ARN; an unknown function is ResourceNotFoundException', async () => {
    const env = running.local.clientEnvironment();
    const lambda = new LambdaClient({ endpoint: env.AWS_ENDPOINT_URL_LAMBDA, region: env.AWS_REGION, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    try {
      const handler = running.local.ref('ItemsHandler566307F4');
      const out = await lambda.send(new InvokeCommand({
        FunctionName: handler,
        Qualifier: 'live',
        Payload: Buffer.from(JSON.stringify({ httpMethod: 'GET', path: '/items', resource: '/items', headers: {}, requestContext: {} })),
      }));
      expect(out.FunctionError).toBeUndefined();
      expect(JSON.parse(Buffer.from(out.Payload!).toString('utf8'))).toHaveProperty('statusCode');
      await expect(lambda.send(new InvokeCommand({ FunctionName: 'no-such-function' }))).rejects.toThrow(ResourceNotFoundException);
    } finally {
      lambda.destroy();
    }
  });
});
