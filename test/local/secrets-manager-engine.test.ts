/**
 * The local Secrets Manager engine (local/engines/secrets-manager.ts), driven by the real SDK
 * client: secrets by name, full and partial ARN, generated values (CloudFormation's
 * GenerateSecretString), versions and stages through PutSecretValue, ListSecrets, the API's
 * errors, how `lambda/shared/secrets.ts` reads a secret, and the local values of secrets from a
 * file and the environment.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand, ListSecretsCommand, PutSecretValueCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as fc from 'fast-check';
import { cachedSecretString, SecretFormatError } from '../../lambda/shared/secrets';
import {
  generateSecretString, localSecretKey, localSecretValue, randomPassword, secretValuesFrom, startLocalSecretsManager, type LocalSecretsManager,
} from '../../local/engines/secrets-manager';

let engine: LocalSecretsManager;
let client: SecretsManagerClient;
let counter = 0;
const ENV = ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL_SECRETS_MANAGER'];
const savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  engine = await startLocalSecretsManager();
  client = new SecretsManagerClient({ endpoint: engine.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  for (const key of ENV) savedEnv[key] = process.env[key];
  // What the handlers' own clients find: the standard endpoint variable of the service.
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL_SECRETS_MANAGER: engine.endpoint });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
});

afterAll(async () => {
  client.destroy();
  await engine.stop();
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

const uniqueName = (base: string) => `${base}-${++counter}`;
const rejection = (promise: Promise<unknown>) => promise.then(() => undefined, (err: Error) => err.name);

describe('GetSecretValue', () => {
  test('by name, full ARN and partial ARN (without the suffix): the current value', async () => {
    const name = uniqueName('prod/db-credentials');
    const { arn } = engine.createSecret({ name, value: '{"username":"app","password":"pw"}' });

    expect(arn).toMatch(new RegExp(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-[A-Za-z0-9]{6}$`));
    for (const secretId of [name, arn, arn.slice(0, -7)]) {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      expect(out).toEqual(expect.objectContaining({ ARN: arn, Name: name, SecretString: '{"username":"app","password":"pw"}', VersionStages: ['AWSCURRENT'] }));
      expect(out.CreatedDate).toBeInstanceOf(Date);
    }
  });

  test('a secret without a value, an unknown secret, an unknown stage: ResourceNotFoundException', async () => {
    const name = uniqueName('empty');
    engine.createSecret({ name, value: undefined });

    expect(await rejection(client.send(new GetSecretValueCommand({ SecretId: name })))).toBe('ResourceNotFoundException');
    expect(await rejection(client.send(new GetSecretValueCommand({ SecretId: 'no-such-secret' })))).toBe('ResourceNotFoundException');
    expect(await rejection(client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPENDING' })))).toBe('ResourceNotFoundException');
    expect(await rejection(client.send(new GetSecretValueCommand({ SecretId: undefined })))).toBe('InvalidParameterException');
    expect((await client.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages).toEqual({});
  });
});

describe('PutSecretValue', () => {
  test('the new value becomes AWSCURRENT and the old one AWSPREVIOUS', async () => {
    const name = uniqueName('rotated');
    const { arn } = engine.createSecret({ name, value: 'v1', description: 'rotated by the test' });

    const put = await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'v2' }));

    expect(put).toEqual(expect.objectContaining({ ARN: arn, Name: name, VersionStages: ['AWSCURRENT'] }));
    expect((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('v2');
    expect((await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('v1');
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described).toEqual(expect.objectContaining({ ARN: arn, Name: name, Description: 'rotated by the test', RotationEnabled: false }));
    expect(described.VersionIdsToStages).toEqual(expect.objectContaining({ [put.VersionId!]: ['AWSCURRENT'] }));
    expect(Object.values(described.VersionIdsToStages!).sort()).toEqual([['AWSCURRENT'], ['AWSPREVIOUS']]);
    expect(engine.secrets.get(arn)?.value).toBe('v2');
  });

  test('idempotent by ClientRequestToken: a retry answers the same version; another value with the token is ResourceExistsException', async () => {
    const name = uniqueName('idempotent');
    engine.createSecret({ name, value: 'v1' });
    const token = 'a'.repeat(32);

    const first = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2', ClientRequestToken: token }));
    const retry = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2', ClientRequestToken: token }));

    expect(retry.VersionId).toBe(first.VersionId);
    expect(first.VersionId).toBe(token);
    expect(await rejection(client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v3', ClientRequestToken: token })))).toBe('ResourceExistsException');
    expect((await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('v1');
  });

  test('a binary secret round-trips as SecretBinary', async () => {
    const name = uniqueName('binary');
    engine.createSecret({ name, value: undefined });

    await client.send(new PutSecretValueCommand({ SecretId: name, SecretBinary: new Uint8Array([1, 2, 3, 255]) }));

    const out = await client.send(new GetSecretValueCommand({ SecretId: name }));
    expect(out.SecretString).toBeUndefined();
    expect([...out.SecretBinary!]).toEqual([1, 2, 3, 255]);
  });
});

test('ListSecrets: newest first, a name filter, pages', async () => {
  const prefix = uniqueName('listed');
  const arns = ['a', 'b', 'c'].map((n) => engine.createSecret({ name: `${prefix}/${n}`, value: n }).arn);

  const filtered = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [`${prefix}/`] }] }));
  const firstPage = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [`${prefix}/`] }], MaxResults: 2 }));
  const secondPage = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [`${prefix}/`] }], MaxResults: 2, NextToken: firstPage.NextToken }));

  expect(filtered.SecretList?.map((s) => s.ARN)).toEqual([...arns].reverse());
  expect(Object.values(filtered.SecretList![0].SecretVersionsToStages!)).toEqual([['AWSCURRENT']]);
  expect([...firstPage.SecretList!, ...secondPage.SecretList!].map((s) => s.Name)).toEqual([`${prefix}/c`, `${prefix}/b`, `${prefix}/a`]);
  expect(secondPage.NextToken).toBeUndefined();
});

test('createSecret refuses a name taken or invalid', () => {
  const name = uniqueName('taken');
  engine.createSecret({ name, value: 'x' });

  expect(() => engine.createSecret({ name, value: 'y' })).toThrow(expect.objectContaining({ name: 'ResourceExistsException' }));
  expect(() => engine.createSecret({ name: 'has space', value: 'y' })).toThrow(expect.objectContaining({ name: 'InvalidParameterException' }));
});

describe('generated values (GenerateSecretString)', () => {
  test('SecretStringTemplate + GenerateStringKey: the template with a password under the key', async () => {
    const name = uniqueName('generated');
    engine.createSecret({
      name,
      value: undefined,
      generate: { template: { SecretStringTemplate: '{"username":"admin"}', GenerateStringKey: 'password', PasswordLength: 30, ExcludeCharacters: '"@/\\' } },
    });

    const out = await client.send(new GetSecretValueCommand({ SecretId: name }));
    const value = JSON.parse(out.SecretString!) as { username: string; password: string };

    expect(value.username).toBe('admin');
    expect(value.password).toHaveLength(30);
    expect(value.password).not.toMatch(/["@/\\]/);
  });

  test('a password alone: 32 characters of every type by default', () => {
    const value = generateSecretString({});
    expect(value).toHaveLength(32);
    expect(value).toMatch(/[a-z]/);
    expect(value).toMatch(/[A-Z]/);
    expect(value).toMatch(/[0-9]/);
    expect(value).toMatch(/[^A-Za-z0-9]/);
  });

  test('every option combination: the length, no excluded character, each included type present', () => {
    const options = fc.record({
      PasswordLength: fc.integer({ min: 5, max: 64 }),
      ExcludeCharacters: fc.string({ maxLength: 10 }),
      ExcludeLowercase: fc.boolean(),
      ExcludeUppercase: fc.boolean(),
      ExcludeNumbers: fc.boolean(),
      ExcludePunctuation: fc.boolean(),
      IncludeSpace: fc.boolean(),
    }).filter((o) => !(o.ExcludeLowercase && o.ExcludeUppercase && o.ExcludeNumbers && o.ExcludePunctuation && !o.IncludeSpace));
    fc.assert(fc.property(options, (o) => {
      const sets = [
        o.ExcludeLowercase ? '' : 'abcdefghijklmnopqrstuvwxyz', o.ExcludeUppercase ? '' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        o.ExcludeNumbers ? '' : '0123456789', o.ExcludePunctuation ? '' : '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~', o.IncludeSpace ? ' ' : '',
      ];
      if (sets.every((set) => [...set].every((c) => o.ExcludeCharacters.includes(c)))) {
        // The excluded characters leave nothing to draw from (say, only a space, and the space excluded).
        expect(() => randomPassword(o)).toThrow(/exclude every character/);
        return;
      }
      const password = randomPassword(o);
      expect(password).toHaveLength(o.PasswordLength);
      for (const c of o.ExcludeCharacters) expect(password).not.toContain(c);
      const types: Array<[boolean, RegExp, string]> = [
        [!o.ExcludeLowercase, /[a-z]/, 'abcdefghijklmnopqrstuvwxyz'],
        [!o.ExcludeUppercase, /[A-Z]/, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
        [!o.ExcludeNumbers, /[0-9]/, '0123456789'],
        [o.IncludeSpace, / /, ' '],
      ];
      for (const [included, pattern, set] of types) {
        const available = [...set].some((c) => !o.ExcludeCharacters.includes(c));
        if (included && available) expect(password).toMatch(pattern);
        if (!included) expect(password).not.toMatch(pattern);
      }
      if (o.ExcludePunctuation) expect(password).toMatch(/^[A-Za-z0-9 ]*$/);
    }), { numRuns: 200 });
  });

  test('GetRandomPassword over the API; a template without its key is refused', async () => {
    const out = await client.send(new GetRandomPasswordCommand({ PasswordLength: 12, ExcludePunctuation: true }));
    expect(out.RandomPassword).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(() => generateSecretString({ SecretStringTemplate: '{}' })).toThrow(/both SecretStringTemplate and GenerateStringKey/);
  });
});

describe('lambda/shared/secrets.ts reads a secret from the engine', () => {
  test('with its own client (AWS_ENDPOINT_URL_SECRETS_MANAGER): cached until invalidate(), then the rotated value', async () => {
    const name = uniqueName('api-credential');
    const { arn } = engine.createSecret({ name, value: 'token-1' });
    const secret = cachedSecretString(arn);

    expect(await secret.get()).toBe('token-1');
    engine.putSecretValue(name, 'token-2');
    expect(await secret.get()).toBe('token-1');
    secret.invalidate();
    expect(await secret.get()).toBe('token-2');
  });

  test('a binary secret is a SecretFormatError; a missing one is not cached', async () => {
    const name = uniqueName('shared-binary');
    engine.createSecret({ name, value: undefined });
    const secret = cachedSecretString(name, () => client);

    await expect(secret.get()).rejects.toThrow(expect.objectContaining({ name: 'ResourceNotFoundException' }));
    await client.send(new PutSecretValueCommand({ SecretId: name, SecretBinary: new Uint8Array([1]) }));
    await expect(secret.get()).rejects.toThrow(SecretFormatError);
  });
});

describe('local values of secrets', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (content: string) => {
    const path = join(dir, `values-${++counter}.json`);
    writeFileSync(path, content);
    return path;
  };

  test('keys: UPPER_SNAKE of a name or a logical id', () => {
    expect(localSecretKey('prod/db-credentials')).toBe('PROD_DB_CREDENTIALS');
    expect(localSecretKey('ApiCredential')).toBe('API_CREDENTIAL');
    expect(localSecretKey('PeriodicJobApiCredentialA1B2C3D4')).toBe('PERIODIC_JOB_API_CREDENTIAL_A1B2C3D4');
    expect(localSecretKey('API_CREDENTIAL')).toBe('API_CREDENTIAL');
  });

  test('from a JSON file and LOCAL_SECRET_* variables: a variable wins over the file; the name\'s key over the logical id\'s', () => {
    const path = file(JSON.stringify({
      'prod/db-credentials': { username: 'app', password: 'from-file' },
      'ApiCredential': 'file-token',
      'JobSecret': 'by-logical-id',
    }));

    const values = secretValuesFrom({
      file: path,
      env: { LOCAL_SECRET_API_CREDENTIAL: 'env-token', LOCAL_SECRET_ONLY_ENV: 'e', PATH: '/usr/bin', LOCAL_SECRET_: 'ignored' },
    });

    expect(Object.fromEntries(values)).toEqual({
      PROD_DB_CREDENTIALS: '{"username":"app","password":"from-file"}',
      API_CREDENTIAL: 'env-token',
      JOB_SECRET: 'by-logical-id',
      ONLY_ENV: 'e',
    });
    expect(localSecretValue(values, { name: 'prod/db-credentials', logicalId: 'DbSecret' })).toBe('{"username":"app","password":"from-file"}');
    expect(localSecretValue(values, { name: 'SagaExample-JobSecret-x1', logicalId: 'JobSecret' })).toBe('by-logical-id');
    expect(localSecretValue(values, { name: 'api-credential', logicalId: 'JobSecret' })).toBe('env-token');
    expect(localSecretValue(values, { name: 'unknown' })).toBeUndefined();
  });

  test('without sources: no values', () => {
    expect(secretValuesFrom({}).size).toBe(0);
  });

  test.each([
    ['a missing file', () => join(dir, 'missing.json'), /Cannot read the secret values file .*missing\.json/],
    ['a file that is not JSON', () => file('{ nope'), /Cannot read the secret values file/],
    ['a file that is not an object', () => file('["a"]'), /must hold a JSON object/],
    ['a value that is neither a string nor an object', () => file('{"Port": 5432}'), /the value of "Port" must be a string or an object/],
  ])('%s fails with a clear message', (_case, path, message) => {
    expect(() => secretValuesFrom({ file: path() })).toThrow(message);
  });
});
