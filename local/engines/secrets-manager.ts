/**
 * A local Secrets Manager engine (for the local runner and tests): a `node:http` server on
 * 127.0.0.1 that speaks the Secrets Manager JSON protocol (awsJson1_1,
 * `X-Amz-Target: secretsmanager.<Operation>`) to the real `@aws-sdk/client-secrets-manager`.
 *
 * - `createSecret({ name, value, generate })` (in process): the ARN carries a random 6-character
 *   suffix, as in AWS (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf`). The value
 *   is the one given, else one generated from a CloudFormation `GenerateSecretString` (see
 *   `generateSecretString`), else none: GetSecretValue then answers ResourceNotFoundException, as
 *   for a secret whose value was never set.
 * - GetSecretValue (SecretId: name, full ARN or partial ARN, the ARN without its suffix;
 *   `VersionStage` AWSCURRENT by default, AWSPREVIOUS, or any label; `VersionId`), DescribeSecret,
 *   ListSecrets (newest first; filters `name`, `description`, `all`, by prefix; paged),
 *   PutSecretValue (a new version becomes AWSCURRENT and the old one AWSPREVIOUS; idempotent by
 *   ClientRequestToken: the same token with another value is ResourceExistsException),
 *   GetRandomPassword. Errors by the SDK's exception names: `ResourceNotFoundException`,
 *   `InvalidParameterException`, `InvalidRequestException`, `ResourceExistsException`.
 * - `secretValuesFrom({ file, env })`: the local values of secrets, read from a JSON file and from
 *   `LOCAL_SECRET_<NAME>` environment variables (precedence below).
 *
 * Not modelled: CreateSecret and DeleteSecret over HTTP, rotation (RotateSecret; a test rotates by
 * PutSecretValue), resource policies, replication, KMS keys (recorded, never used), tags.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { LOCAL_ACCOUNT, LOCAL_REGION, readBody, sendJson, sendJsonError } from './aws-protocol';
import { closeServer, listenOnLoopback } from './loopback';

export { LOCAL_ACCOUNT, LOCAL_REGION };

const TARGET_PREFIX = 'secretsmanager.';
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const ARN_PREFIX = `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:`;
const SUFFIX_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Secrets Manager's limit on a secret value. */
const MAX_VALUE_BYTES = 65_536;

/** The `GenerateSecretString` of an `AWS::SecretsManager::Secret` (CloudFormation). */
export interface GenerateSecretString {
  readonly SecretStringTemplate?: string;
  readonly GenerateStringKey?: string;
  /** @default 32 */
  readonly PasswordLength?: number;
  readonly ExcludeCharacters?: string;
  readonly ExcludeLowercase?: boolean;
  readonly ExcludeUppercase?: boolean;
  readonly ExcludeNumbers?: boolean;
  readonly ExcludePunctuation?: boolean;
  readonly IncludeSpace?: boolean;
  /** @default true */
  readonly RequireEachIncludedType?: boolean;
}

/** A Secrets Manager error: `name` is the SDK's exception name. */
export class SecretsManagerError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const NUMBERS = '0123456789';
/** The punctuation GetRandomPassword draws from. */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** A random password as GetRandomPassword makes it (the same options, the same defaults). */
export function randomPassword(options: Omit<GenerateSecretString, 'SecretStringTemplate' | 'GenerateStringKey'> = {}): string {
  const length = options.PasswordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096) {
    throw new SecretsManagerError('InvalidParameterException', `PasswordLength must be an integer in 1..4096, got ${length}`);
  }
  const excluded = new Set(options.ExcludeCharacters ?? '');
  const types = [
    options.ExcludeLowercase ? '' : LOWERCASE,
    options.ExcludeUppercase ? '' : UPPERCASE,
    options.ExcludeNumbers ? '' : NUMBERS,
    options.ExcludePunctuation ? '' : PUNCTUATION,
    options.IncludeSpace ? ' ' : '',
  ].map((set) => [...set].filter((c) => !excluded.has(c)).join('')).filter((set) => set !== '');
  if (types.length === 0) throw new SecretsManagerError('InvalidParameterException', 'The options exclude every character');
  const all = types.join('');
  const pick = (set: string) => set[randomInt(set.length)];
  const chars = Array.from({ length }, () => pick(all));
  if (options.RequireEachIncludedType ?? true) {
    if (length < types.length) throw new SecretsManagerError('InvalidParameterException', `PasswordLength ${length} is too short to include each type of character`);
    // One character of each type at distinct random places.
    const places = [...chars.keys()];
    for (const set of types) chars[places.splice(randomInt(places.length), 1)[0]] = pick(set);
  }
  return chars.join('');
}

/** The value CloudFormation generates for a `GenerateSecretString`: a password, or the template with the password under its key. */
export function generateSecretString(template: GenerateSecretString): string {
  const { SecretStringTemplate, GenerateStringKey, ...options } = template;
  const password = randomPassword(options);
  if (SecretStringTemplate === undefined && GenerateStringKey === undefined) return password;
  if (SecretStringTemplate === undefined || GenerateStringKey === undefined) {
    throw new SecretsManagerError('InvalidParameterException', 'GenerateSecretString needs both SecretStringTemplate and GenerateStringKey, or neither');
  }
  let base: unknown;
  try {
    base = JSON.parse(SecretStringTemplate);
  } catch {
    throw new SecretsManagerError('InvalidParameterException', 'SecretStringTemplate is not JSON');
  }
  if (base === null || typeof base !== 'object' || Array.isArray(base)) {
    throw new SecretsManagerError('InvalidParameterException', 'SecretStringTemplate must be a JSON object');
  }
  return JSON.stringify({ ...base, [GenerateStringKey]: password });
}

// ---------------------------------------------------------------------------------------------
// Local values

/** The prefix of the environment variables that hold secret values. */
export const LOCAL_SECRET_ENV_PREFIX = 'LOCAL_SECRET_';

/**
 * The key of a secret name or logical id, as `secretValuesFrom` keys its map: UPPER_SNAKE, a word
 * break before an upper-case letter that follows a lower-case one, every other run of
 * characters outside A-Z and 0-9 as one `_` (`prod/db-credentials` -> `PROD_DB_CREDENTIALS`,
 * `ApiCredential` -> `API_CREDENTIAL`).
 */
export function localSecretKey(nameOrLogicalId: string): string {
  return nameOrLogicalId
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export interface SecretValueSources {
  /** A JSON file: `{ "<secret name or logical id>": "value" | { ... } }` (an object is the secret's JSON text). */
  readonly file?: string;
  /** Variables `LOCAL_SECRET_<NAME>` (see `localSecretKey`), e.g. `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The local values of secrets, keyed by `localSecretKey`. Precedence: for one key, an environment
 * variable wins over the file; a secret takes the value of its name's key, else of its logical
 * id's key (`localSecretValue`). Throws when the file cannot be read, is not a JSON object, or
 * holds a value that is neither a string nor an object, naming the file and the key.
 */
export function secretValuesFrom(source: SecretValueSources): Map<string, string> {
  const values = new Map<string, string>();
  if (source.file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(source.file, 'utf8'));
    } catch (err) {
      throw new Error(`Cannot read the secret values file ${source.file}: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(`The secret values file ${source.file} must hold a JSON object: { "<secret name or logical id>": "value" | { ... } }`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'string') values.set(localSecretKey(key), value);
      else if (value !== null && typeof value === 'object') values.set(localSecretKey(key), JSON.stringify(value));
      else throw new Error(`The secret values file ${source.file}: the value of "${key}" must be a string or an object`);
    }
  }
  for (const [variable, value] of Object.entries(source.env ?? {})) {
    if (!variable.startsWith(LOCAL_SECRET_ENV_PREFIX) || value === undefined) continue;
    const key = localSecretKey(variable.slice(LOCAL_SECRET_ENV_PREFIX.length));
    if (key !== '') values.set(key, value);
  }
  return values;
}

/** The local value of a secret: its name's key first, then its logical id's. */
export function localSecretValue(values: ReadonlyMap<string, string>, secret: { name: string; logicalId?: string }): string | undefined {
  return values.get(localSecretKey(secret.name)) ?? (secret.logicalId !== undefined ? values.get(localSecretKey(secret.logicalId)) : undefined);
}

// ---------------------------------------------------------------------------------------------
// The engine

export interface SecretInput {
  readonly name: string;
  /** The SecretString; `undefined` with `generate`, or for a secret without a value yet. */
  readonly value: string | undefined;
  readonly generate?: { readonly template: GenerateSecretString };
  readonly description?: string;
  readonly kmsKeyId?: string;
}

interface SecretVersion {
  readonly id: string;
  readonly string?: string;
  /** Base64. */
  readonly binary?: string;
  readonly createdDate: Date;
  /** The ClientRequestToken that created it. */
  readonly token?: string;
}

export interface LocalSecret {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly kmsKeyId?: string;
  readonly createdDate: Date;
  readonly lastChangedDate: Date;
  readonly lastAccessedDate?: Date;
  /** The current value (AWSCURRENT), if any. */
  readonly value?: string;
  readonly versions: ReadonlyMap<string, { readonly value?: string; readonly stages: readonly string[] }>;
}

export interface LocalSecretsManager {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Every secret, by ARN. */
  readonly secrets: ReadonlyMap<string, LocalSecret>;
  /** Throws ResourceExistsException for a name taken, InvalidParameterException for a bad name or template. */
  createSecret(input: SecretInput): { arn: string };
  /** PutSecretValue in process: the new value becomes AWSCURRENT. */
  putSecretValue(secretId: string, value: string): { arn: string; versionId: string };
  stop(): Promise<void>;
}

interface SecretRecord {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly kmsKeyId?: string;
  readonly createdDate: Date;
  lastChangedDate: Date;
  lastAccessedDate?: Date;
  readonly versions: Map<string, SecretVersion>;
  /** Stage label -> version id. */
  readonly stages: Map<string, string>;
}

type Body = Record<string, unknown>;

const epochSeconds = (date: Date | undefined) => (date === undefined ? undefined : date.getTime() / 1_000);

function requiredString(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new SecretsManagerError('InvalidParameterException', `You must provide a value for the ${field} parameter.`);
  return value;
}

function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SecretsManagerError('InvalidParameterException', `${field} must be a string`);
  return value;
}

function checkValue(value: string | undefined): void {
  if (value !== undefined && Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) {
    throw new SecretsManagerError('InvalidParameterException', `The secret value is larger than ${MAX_VALUE_BYTES} bytes`);
  }
}

export async function startLocalSecretsManager(): Promise<LocalSecretsManager> {
  const secrets = new Map<string, SecretRecord>();

  const notFound = () => new SecretsManagerError('ResourceNotFoundException', 'Secrets Manager can\'t find the specified secret.');

  /** By name, full ARN, or partial ARN (the ARN without its 6-character suffix). */
  const find = (secretId: string): SecretRecord => {
    for (const record of secrets.values()) {
      if (secretId === record.name || secretId === record.arn || secretId === record.arn.slice(0, -7)) return record;
    }
    throw notFound();
  };

  const stagesOf = (record: SecretRecord, versionId: string) => [...record.stages].filter(([, id]) => id === versionId).map(([stage]) => stage);

  /** Adds a version; `stages` move to it (AWSCURRENT's previous holder becomes AWSPREVIOUS). */
  const addVersion = (record: SecretRecord, version: SecretVersion, stages: string[]): void => {
    record.versions.set(version.id, version);
    for (const stage of stages) {
      const previous = record.stages.get(stage);
      record.stages.set(stage, version.id);
      if (stage === 'AWSCURRENT' && previous !== undefined && previous !== version.id) record.stages.set('AWSPREVIOUS', previous);
    }
    record.lastChangedDate = new Date();
  };

  const createSecret = (input: SecretInput): { arn: string } => {
    if (!NAME.test(input.name)) {
      throw new SecretsManagerError('InvalidParameterException', `Invalid name: ${input.name} (1..512 of A-Z a-z 0-9 / _ + = . @ -)`);
    }
    if ([...secrets.values()].some((s) => s.name === input.name)) {
      throw new SecretsManagerError('ResourceExistsException', `The operation failed because the secret ${input.name} already exists.`);
    }
    const value = input.value ?? (input.generate ? generateSecretString(input.generate.template) : undefined);
    checkValue(value);
    const suffix = Array.from({ length: 6 }, () => SUFFIX_CHARACTERS[randomInt(SUFFIX_CHARACTERS.length)]).join('');
    const arn = `${ARN_PREFIX}${input.name}-${suffix}`;
    const now = new Date();
    const record: SecretRecord = {
      arn,
      name: input.name,
      description: input.description,
      kmsKeyId: input.kmsKeyId,
      createdDate: now,
      lastChangedDate: now,
      versions: new Map(),
      stages: new Map(),
    };
    if (value !== undefined) addVersion(record, { id: randomUUID(), string: value, createdDate: now }, ['AWSCURRENT']);
    secrets.set(arn, record);
    return { arn };
  };

  const putSecretValue = (body: Body) => {
    const record = find(requiredString(body, 'SecretId'));
    const string = optionalString(body, 'SecretString');
    const binary = optionalString(body, 'SecretBinary');
    if ((string === undefined) === (binary === undefined)) {
      throw new SecretsManagerError('InvalidParameterException', 'You must provide either SecretString or SecretBinary, not both.');
    }
    checkValue(string ?? binary);
    const token = optionalString(body, 'ClientRequestToken');
    const given = body.VersionStages;
    if (given !== undefined && (!Array.isArray(given) || given.some((s) => typeof s !== 'string' || s === ''))) {
      throw new SecretsManagerError('InvalidParameterException', 'VersionStages must be a list of labels');
    }
    const stages = (given as string[] | undefined) ?? ['AWSCURRENT'];
    const existing = token === undefined ? undefined : record.versions.get(token);
    if (existing) {
      // A retry of the same request answers as it; the same token with another value is refused.
      if (existing.string !== string || existing.binary !== binary) {
        throw new SecretsManagerError('ResourceExistsException', `You can't modify an existing version, you can only create a new version (${token}).`);
      }
    } else {
      addVersion(record, { id: token ?? randomUUID(), string, binary, createdDate: new Date(), token }, stages);
    }
    const versionId = existing?.id ?? token ?? [...record.versions.keys()].pop()!;
    return { ARN: record.arn, Name: record.name, VersionId: versionId, VersionStages: stagesOf(record, versionId) };
  };

  const describe = (record: SecretRecord): Body => ({
    ARN: record.arn,
    Name: record.name,
    ...(record.description !== undefined ? { Description: record.description } : {}),
    ...(record.kmsKeyId !== undefined ? { KmsKeyId: record.kmsKeyId } : {}),
    RotationEnabled: false,
    CreatedDate: epochSeconds(record.createdDate),
    LastChangedDate: epochSeconds(record.lastChangedDate),
    ...(record.lastAccessedDate !== undefined ? { LastAccessedDate: epochSeconds(record.lastAccessedDate) } : {}),
    // Versions without a label are deprecated: DescribeSecret leaves them out.
    VersionIdsToStages: Object.fromEntries([...record.versions.keys()]
      .map((id) => [id, stagesOf(record, id)] as const)
      .filter(([, stages]) => stages.length > 0)),
    Tags: [],
  });

  const operations: Record<string, (body: Body) => Body> = {
    GetSecretValue: (body) => {
      const record = find(requiredString(body, 'SecretId'));
      const versionId = optionalString(body, 'VersionId');
      const stage = optionalString(body, 'VersionStage');
      const id = versionId ?? record.stages.get(stage ?? 'AWSCURRENT');
      const version = id === undefined ? undefined : record.versions.get(id);
      if (!version || (stage !== undefined && record.stages.get(stage) !== version.id)) {
        throw new SecretsManagerError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${
          versionId !== undefined ? `VersionId: ${versionId}` : `staging label: ${stage ?? 'AWSCURRENT'}`}`);
      }
      record.lastAccessedDate = new Date();
      return {
        ARN: record.arn,
        Name: record.name,
        VersionId: version.id,
        ...(version.string !== undefined ? { SecretString: version.string } : { SecretBinary: version.binary }),
        VersionStages: stagesOf(record, version.id),
        CreatedDate: epochSeconds(version.createdDate),
      };
    },
    DescribeSecret: (body) => describe(find(requiredString(body, 'SecretId'))),
    ListSecrets: (body) => {
      const filters = (Array.isArray(body.Filters) ? body.Filters : []) as Array<{ Key?: string; Values?: string[] }>;
      for (const filter of filters) {
        if (!['name', 'description', 'all'].includes(filter.Key ?? '')) {
          throw new SecretsManagerError('InvalidParameterException', `The filter key ${filter.Key} is not supported here (name, description, all are)`);
        }
      }
      const fieldsOf = (record: SecretRecord, key: string | undefined) => (key === 'name' ? [record.name]
        : key === 'description' ? [record.description ?? ''] : [record.name, record.description ?? '']);
      const matches = (record: SecretRecord) => filters.every((filter) => (filter.Values ?? []).some((value) => (
        fieldsOf(record, filter.Key).some((field) => field.startsWith(value)))));
      const all = [...secrets.values()].filter(matches).reverse();
      const max = typeof body.MaxResults === 'number' && body.MaxResults > 0 ? Math.min(body.MaxResults, 100) : 100;
      const start = Number(optionalString(body, 'NextToken') ?? 0);
      if (!Number.isInteger(start) || start < 0) throw new SecretsManagerError('InvalidNextTokenException', 'The NextToken value is invalid.');
      const page = all.slice(start, start + max);
      return {
        SecretList: page.map((record) => {
          const { VersionIdsToStages, ...rest } = describe(record);
          return { ...rest, SecretVersionsToStages: VersionIdsToStages };
        }),
        ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
      };
    },
    PutSecretValue: putSecretValue,
    GetRandomPassword: (body) => ({ RandomPassword: randomPassword(body as GenerateSecretString) }),
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = (await readBody(req)).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? operations[target.slice(TARGET_PREFIX.length)] : undefined;
      if (!operation) return sendJsonError(res, 'UnknownOperationException', `${target} is not supported here`);
      let body: unknown;
      try {
        body = text === '' ? {} : JSON.parse(text);
      } catch {
        return sendJsonError(res, 'SerializationException', 'The body is not JSON');
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) return sendJsonError(res, 'SerializationException', 'The body is not a JSON object');
      try {
        sendJson(res, 200, operation(body as Body));
      } catch (err) {
        if (err instanceof SecretsManagerError) return sendJsonError(res, err.name, err.message);
        sendJsonError(res, 'InternalServiceError', (err as Error).message, 500);
      }
    })();
  });
  const endpoint = await listenOnLoopback(server);

  const view = (record: SecretRecord): LocalSecret => ({
    arn: record.arn,
    name: record.name,
    description: record.description,
    kmsKeyId: record.kmsKeyId,
    createdDate: record.createdDate,
    lastChangedDate: record.lastChangedDate,
    lastAccessedDate: record.lastAccessedDate,
    value: (() => {
      const id = record.stages.get('AWSCURRENT');
      return id === undefined ? undefined : record.versions.get(id)?.string;
    })(),
    versions: new Map([...record.versions.values()].map((v) => [v.id, { value: v.string, stages: stagesOf(record, v.id) }])),
  });

  return {
    endpoint,
    get secrets() {
      return new Map([...secrets].map(([arn, record]) => [arn, view(record)]));
    },
    createSecret,
    putSecretValue(secretId, value) {
      const out = putSecretValue({ SecretId: secretId, SecretString: value });
      return { arn: out.ARN, versionId: out.VersionId };
    },
    async stop() {
      await closeServer(server);
    },
  };
}
