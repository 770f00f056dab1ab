/**
 * The REST API example through the local runner: its synthesized template and asset, served over
 * HTTP, with the function in its own worker and DynamoDB on dynalite.
 */
import { RestApiExampleStack } from '../../examples/rest-api';
import { createThenGet, useLocalStack } from '../helpers/local-runner';

const IDENTITY = { 'x-local-identity': 'arn:aws:iam::123456789012:user/alice' };

describe('the REST API example, run locally', () => {
  const running = useLocalStack((app) => new RestApiExampleStack(app, 'RestApiExample'));

  test('creates an item over HTTP, then gets it', async () => {
    await createThenGet(`${running.local.apiUrl()}/items`, IDENTITY, { name: 'first' });
  });

  test('refuses a call without the local identity, as API Gateway refuses an unsigned one', async () => {
    const response = await fetch(`${running.local.apiUrl()}/items`);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-local-runner')).toMatch(/x-local-identity/);
  });

  test('answers an unknown route as API Gateway does', async () => {
    const response = await fetch(`${running.local.apiUrl()}/nothing-here`, { headers: IDENTITY });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  test('start-up says what runs where', () => {
    expect(running.local.summary).toMatch(/REST API .*http:\/\/127\.0\.0\.1:\d+\/prod/);
    expect(running.local.summary).toMatch(/table/);
  });
});
