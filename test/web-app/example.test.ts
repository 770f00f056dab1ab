import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { WebApplicationExampleStack } from '../../examples/web-app';

/** The example stack as `cdk synth` builds it, with `-c key=value` context (always a string from the CLI). */
function exampleTemplate(context: Record<string, string> = {}): Template {
  const app = new App({ context });
  return Template.fromStack(new WebApplicationExampleStack(app, 'WebApplicationExample'));
}

function appClient(template: Template): Record<string, any> {
  const clients = Object.values(template.findResources('AWS::Cognito::UserPoolClient'));
  expect(clients).toHaveLength(1);
  return clients[0].Properties;
}

describe('the web application example', () => {
  test('deploys production settings by default: no localhost sign-in callback, no SRP sign-in flow', () => {
    const client = appClient(exampleTemplate());

    expect(JSON.stringify([client.CallbackURLs, client.LogoutURLs])).not.toContain('localhost');
    expect(client.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
  });

  test('-c webAppDevelopment=true lets a local development server sign in too, still without SRP', () => {
    const client = appClient(exampleTemplate({ webAppDevelopment: 'true' }));

    expect(client.CallbackURLs).toEqual(expect.arrayContaining(['http://localhost:5173/auth/callback']));
    expect(client.LogoutURLs).toEqual(expect.arrayContaining(['http://localhost:5173/']));
    expect(client.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
  });

  test.each(['false', 'yes'])('-c webAppDevelopment=%s adds no development origin', (value) => {
    expect(JSON.stringify(appClient(exampleTemplate({ webAppDevelopment: value })).CallbackURLs)).not.toContain('localhost');
  });
});
