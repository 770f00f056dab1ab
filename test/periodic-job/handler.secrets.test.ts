/**
 * Periodic job poller: the API credential from Secrets Manager (no local engine speaks it: the
 * exact GetSecretValue request is asserted with aws-sdk-client-mock), sent to a local HTTP server.
 */
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { Env } from '../helpers/load-handler';
import { capturingStdout, FAST_RETRY_ENV, loadPoller, readJobTable, runFailure, usePollerHarness, type LoadedPoller } from '../helpers/load-poller';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:feed-token-AbCdEf';
const TOKEN = 'tok_3f9a.b-c~d+e/f=';

const harness = usePollerHarness(() => ({ json: { items: [{ id: 'a' }] } }));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let secrets: AwsStub<any, any, any> | undefined;

beforeEach(() => {
  harness.server.respond(() => ({ json: { items: [{ id: 'a' }] } }));
});

afterEach(() => {
  secrets?.restore();
  secrets = undefined;
});


/** Cold-starts the poller with a mocked Secrets Manager answering `secretString`. */
function load(secretString: string | undefined, env: Env = {}): LoadedPoller {
  const poller = loadPoller({ TABLE_NAME: harness.tableName, JOB_NAME: 'feed', SOURCE_URL: `${harness.server.origin}/feed`, SECRET_ARN, ...FAST_RETRY_ENV, ...env });
  secrets = mockClient(poller.secretsManager.SecretsManagerClient);
  const output = secretString === undefined ? { SecretBinary: new Uint8Array([1]) } : { SecretString: secretString, ARN: SECRET_ARN };
  secrets.on(poller.secretsManager.GetSecretValueCommand).resolves(output);
  return poller;
}


test('reads the secret once per cold start with the exact request, and sends Authorization: Bearer <token>', async () => {
  // Prepare
  const poller = load(TOKEN);

  // Act: two warm invocations
  await poller.invoke();
  await poller.invoke();

  // Assess
  expect(secrets!.calls()).toHaveLength(1);
  expect(secrets!.call(0).args[0].input).toEqual({ SecretId: SECRET_ARN });
  expect(harness.server.requests).toHaveLength(2);
  for (const request of harness.server.requests) expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
});

test('a JSON secret {"token": ...} with a custom header and no scheme', async () => {
  const poller = load(JSON.stringify({ token: ` ${TOKEN}\n`, note: 'rotated monthly' }), { AUTH_HEADER: 'X-Api-Key', AUTH_SCHEME: 'none' });

  await poller.invoke();

  expect(harness.server.requests[0].headers['x-api-key']).toBe(TOKEN);
  expect(harness.server.requests[0].headers.authorization).toBeUndefined();
});

test('without SECRET_ARN no credential is sent and Secrets Manager is not called', async () => {
  const poller = loadPoller({ TABLE_NAME: harness.tableName, JOB_NAME: 'feed', SOURCE_URL: `${harness.server.origin}/feed`, ...FAST_RETRY_ENV });
  secrets = mockClient(poller.secretsManager.SecretsManagerClient);

  await poller.invoke();

  expect(secrets.calls()).toHaveLength(0);
  expect(harness.server.requests[0].headers.authorization).toBeUndefined();
});

test.each([
  ['a JSON secret without token', '{"user": "x"}', /no string "token" field/],
  ['broken JSON', '{"token": ', /does not parse/],
  ['a token with a line break', 'abc\r\nX-Injected: 1', /printable ASCII/],
  ['an empty token', '   ', /printable ASCII/],
  ['a binary secret', undefined, /no SecretString/],
])('fails the run on %s, without leaking it, and reads the secret again next time', async (_name, secretString, message) => {
  // Prepare
  const poller = load(secretString);

  // Act
  const err = await runFailure(poller.invoke());
  await runFailure(poller.invoke());

  // Assess
  expect(err.message).toMatch(message);
  expect(harness.server.requests).toHaveLength(0);
  expect(secrets!.calls()).toHaveLength(2);
  const { runs } = await readJobTable(harness.dynamo.client, harness.tableName);
  expect(runs.map((r) => r.status)).toEqual(['failed', 'failed']);
  if (secretString !== undefined && secretString.trim().length > 3) expect(JSON.stringify(runs)).not.toContain(secretString.slice(2, 12));
});

describe('a credential nobody has set yet', () => {
  const PLACEHOLDER = JSON.stringify({ notSet: true, howTo: 'Set this secret to the API token, or to {"token": "<token>"}' });

  test('skips the run: nothing is sent, the run is recorded as skipped, the alarm\'s metric is emitted', async () => {
    // Prepare
    const poller = load(PLACEHOLDER, { POWERTOOLS_METRICS_DISABLED: 'false' });

    // Act
    const { result: outcome, stdout } = await capturingStdout(() => poller.invokeOutcome());

    // Assess
    expect(outcome).toEqual({ runId: expect.any(String), status: 'skipped', reason: 'credential-not-set', startedAt: expect.any(String) });
    expect(harness.server.requests).toHaveLength(0);
    const { runs, records, leases } = await readJobTable(harness.dynamo.client, harness.tableName);
    expect(runs).toEqual([expect.objectContaining({ status: 'skipped', skipReason: 'credential-not-set', errorName: 'CredentialNotSetError' })]);
    expect(records).toEqual([]);
    expect(leases).toEqual([expect.objectContaining({ leaseUntil: 0 })]);
    const emf = stdout.split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(emf).toEqual([expect.objectContaining({ JobName: 'feed', PeriodicJobCredentialNotSet: 1 })]);
    expect(emf[0]).not.toHaveProperty('PeriodicJobSuccess');
  });

  test('the next run after someone sets the token reads the secret again and runs', async () => {
    // Prepare
    const poller = load(PLACEHOLDER);
    await poller.invokeOutcome();
    secrets!.on(poller.secretsManager.GetSecretValueCommand).resolves({ SecretString: TOKEN, ARN: SECRET_ARN });

    // Act
    const summary = await poller.invoke();

    // Assess
    expect(summary).toMatchObject({ status: 'succeeded' });
    expect(secrets!.calls()).toHaveLength(2);
    expect(harness.server.requests[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });
});

test('a Secrets Manager error fails the run and is not cached', async () => {
  // Prepare
  const poller = load(TOKEN);
  secrets!.on(poller.secretsManager.GetSecretValueCommand)
    .rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }))
    .resolves({ SecretString: TOKEN });

  // Act
  const err = await runFailure(poller.invoke());
  await poller.invoke();

  // Assess
  expect(err.message).toMatch(/not authorized/);
  expect(secrets!.calls()).toHaveLength(2);
  expect(harness.server.requests).toHaveLength(1);
});

test('a 401 from the API makes the next invocation read the (rotated) secret again', async () => {
  // Prepare
  const poller = load('old-token');
  harness.server.respond((req) => (req.headers.authorization === 'Bearer new-token' ? { json: { items: [] } } : { status: 401 }));

  // Act
  const err = await runFailure(poller.invoke());
  secrets!.on(poller.secretsManager.GetSecretValueCommand).resolves({ SecretString: 'new-token' });
  const summary = await poller.invoke();

  // Assess
  expect(err.message).toMatch(/HTTP 401/);
  expect(summary.status).toBe('succeeded');
  expect(secrets!.calls()).toHaveLength(2);
});
