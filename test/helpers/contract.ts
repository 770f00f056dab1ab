/**
 * The construct side of the construct/handler contract, read the way a deployment sees it: from
 * the synthesized template (which reference handler each function runs, by its code asset, and
 * its environment) and from the documented `@default` of the public props. Nothing here reaches
 * into lib/ internals, so the contract tests keep working while lib/ is reorganised.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ts from 'typescript';
import { ApiAuthorization, PagingStyle } from '../../lib';
import { ASSETS_DIR, ROOT } from '../../scripts/bundle';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';

/** Variables Lambda itself puts in every function's environment (the construct cannot set them). */
export const LAMBDA_RUNTIME_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: REGION,
  AWS_DEFAULT_REGION: REGION,
};

/**
 * Variables the construct sets that are read outside the handler's config loader: the logs'
 * service name (`createLogger` in lambda/shared/logger.ts, and Powertools itself) and Node's own
 * options (`--enable-source-maps`, for the maps beside the bundles). Any other variable must be
 * read by the loader.
 */
export const READ_OUTSIDE_THE_LOADER: ReadonlySet<string> = new Set(['POWERTOOLS_SERVICE_NAME', 'NODE_OPTIONS']);

export type Env = Record<string, string>;

/** A reference handler's cold-start configuration loader, as the entry point calls it. */
export type ConfigLoader = (env: NodeJS.ProcessEnv) => unknown;

/** A Lambda function of a synthesized stack, with the reference handler it runs (if any). */
export interface DeployedFunction {
  readonly logicalId: string;
  /** The reference handler asset (`rest-api/api`), or undefined for other code. */
  readonly asset?: string;
  /** The environment, with every deploy-time reference replaced by a stand-in (see `standIn`). */
  readonly environment: Env;
}

const assetKeys = new Map<string, string>();

/** The S3 key a function running this reference asset gets: content-addressed, so equal keys mean equal code. */
function referenceAssetKey(asset: string): string {
  let key = assetKeys.get(asset);
  if (key === undefined) {
    const probe = new Stack(new App(), 'AssetProbe');
    key = lambda.Code.fromAsset(join(ASSETS_DIR, asset)).bind(probe).s3Location!.objectKey;
    assetKeys.set(asset, key);
  }
  return key;
}

const templates = new WeakMap<Stack, CfnTemplate>();

/** The stack's template, synthesized once. */
function templateOf(stack: Stack): CfnTemplate {
  let template = templates.get(stack);
  if (!template) {
    template = Template.fromStack(stack).toJSON() as CfnTemplate;
    templates.set(stack, template);
  }
  return template;
}

/** Every function of `stack`, with its reference asset among `assets`. */
export function deployedFunctions(stack: Stack, assets: readonly string[]): DeployedFunction[] {
  const template = templateOf(stack);
  const byKey = new Map(assets.map((asset) => [referenceAssetKey(asset), asset]));
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([logicalId, r]) => {
      const code = r.Properties?.Code as { S3Key?: unknown } | undefined;
      const asset = typeof code?.S3Key === 'string' ? byKey.get(code.S3Key) : undefined;
      const variables = ((r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables) ?? {};
      const environment = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, standIn(template, v)]));
      return { logicalId, ...(asset !== undefined ? { asset } : {}), environment };
    });
}

/** The one function of `stack` that runs `asset`. */
export function deployedFunction(stack: Stack, asset: string): DeployedFunction {
  const found = deployedFunctions(stack, [asset]).filter((f) => f.asset === asset);
  if (found.length !== 1) throw new Error(`expected one function running ${asset}, found ${found.length}`);
  return found[0];
}

/** A metric an alarm watches, with its dimensions' deploy-time values as stand-ins. */
export interface AlarmMetric {
  readonly alarm: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Env;
}

/** Every metric every alarm of `stack` watches, those inside metric math included. */
export function alarmMetrics(stack: Stack): AlarmMetric[] {
  const template = templateOf(stack);
  // Dimensions no handler reads (an API stage, a queue name) may have no stand-in: keep the reference.
  const value = (v: unknown): string => {
    try {
      return standIn(template, v);
    } catch {
      return JSON.stringify(v);
    }
  };
  const dimensions = (list: unknown): Env => Object.fromEntries(((list ?? []) as Array<{ Name: string; Value: unknown }>)
    .map((d) => [d.Name, value(d.Value)]));
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
    .flatMap(([alarm, r]) => {
      const p = r.Properties ?? {};
      if (typeof p.MetricName === 'string') {
        return [{ alarm, namespace: p.Namespace as string, metricName: p.MetricName, dimensions: dimensions(p.Dimensions) }];
      }
      return ((p.Metrics ?? []) as Array<{ MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown } } }>)
        .filter((m) => m.MetricStat !== undefined)
        .map(({ MetricStat }) => ({
          alarm,
          namespace: MetricStat!.Metric.Namespace,
          metricName: MetricStat!.Metric.MetricName,
          dimensions: dimensions(MetricStat!.Metric.Dimensions),
        }));
    });
}

/**
 * The literal part of a function's environment, without synthesizing the stack: cheap enough to
 * build a construct per row of a table. Values only known at deploy time are left out.
 */
export function literalEnvironment(fn: lambda.IFunction): Env {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const resolved = Stack.of(fn).resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined;
  return Object.fromEntries(Object.entries(resolved?.variables ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** A fresh, environment-agnostic stack, as users' apps and the examples have. */
export function newStack(): Stack {
  return new Stack(new App(), 'Test');
}

/**
 * Runs `load` on `env` (plus what Lambda sets) and records which variables it read: the handler
 * side of "every variable the construct sets is read". Returns the loader's config or its error.
 */
export function loadRecordingReads(load: ConfigLoader, env: Env): { config?: unknown; error?: Error; read: Set<string> } {
  const read = new Set<string>();
  const target: Env = { ...LAMBDA_RUNTIME_ENV, ...env };
  const recording = new Proxy(target, {
    get(t, name) {
      if (typeof name === 'string') read.add(name);
      return Reflect.get(t, name) as unknown;
    },
  });
  try {
    return { config: load(recording as NodeJS.ProcessEnv), read };
  } catch (err) {
    return { error: err as Error, read };
  }
}

// ---- deploy-time values

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Test',
};

/**
 * A value of the shape CloudFormation gives `value` at deploy time: a table's generated name, a
 * queue's URL, a topic's ARN (`.fifo` for a FIFO topic), a proxy's endpoint. A reference of a kind
 * not known here fails, so a new kind of environment value is noticed rather than guessed.
 */
export function standIn(template: CfnTemplate, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const v = value as Record<string, unknown>;
  if ('Ref' in v) return refValue(template, v.Ref as string);
  if ('Fn::GetAtt' in v) {
    const [logicalId, attribute] = v['Fn::GetAtt'] as [string, string];
    return attributeValue(template, logicalId, attribute);
  }
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => standIn(template, p)).join(separator);
  }
  if ('Fn::Select' in v) {
    const [index, list] = v['Fn::Select'] as [number, unknown];
    return standInList(template, list)[index];
  }
  throw new Error(`no deploy-time stand-in for ${JSON.stringify(value)}`);
}

function standInList(template: CfnTemplate, value: unknown): string[] {
  const v = value as Record<string, unknown>;
  if (Array.isArray(value)) return value.map((item) => standIn(template, item));
  if ('Fn::Split' in v) {
    const [separator, source] = v['Fn::Split'] as [string, unknown];
    return standIn(template, source).split(separator);
  }
  throw new Error(`no deploy-time stand-in for the list ${JSON.stringify(value)}`);
}

function resourceOf(template: CfnTemplate, logicalId: string): CfnResource {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`no resource ${logicalId} in the template`);
  return resource;
}

/** A name as CloudFormation generates it: stack name, logical id (shortened), a suffix unique to the resource. */
function generatedName(logicalId: string, suffix = ''): string {
  const unique = createHash('sha256').update(logicalId).digest('hex').slice(0, 12).toUpperCase();
  return `Test-${logicalId.slice(0, 40)}-${unique}${suffix}`;
}

function nameOf(template: CfnTemplate, logicalId: string, nameProperty: string, fifoProperty?: string): string {
  const properties = resourceOf(template, logicalId).Properties ?? {};
  const given = properties[nameProperty];
  if (given !== undefined) return standIn(template, given);
  return generatedName(logicalId, fifoProperty && properties[fifoProperty] === true ? '.fifo' : '');
}

function arn(service: string, resource: string): string {
  return `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
}

function refValue(template: CfnTemplate, name: string): string {
  if (name in PSEUDO_PARAMETERS) return PSEUDO_PARAMETERS[name];
  const resource = resourceOf(template, name);
  switch (resource.Type) {
    case 'AWS::DynamoDB::GlobalTable':
    case 'AWS::DynamoDB::Table':
      return nameOf(template, name, 'TableName');
    case 'AWS::SQS::Queue':
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${nameOf(template, name, 'QueueName', 'FifoQueue')}`;
    case 'AWS::SNS::Topic':
      return arn('sns', nameOf(template, name, 'TopicName', 'FifoTopic'));
    case 'AWS::SecretsManager::Secret':
      return arn('secretsmanager', `secret:${nameOf(template, name, 'Name')}-AbCdEf`);
    case 'AWS::SecretsManager::SecretTargetAttachment':
      return arn('secretsmanager', `secret:${generatedName(name)}-AbCdEf`);
    case 'AWS::Lambda::Function':
      return nameOf(template, name, 'FunctionName');
    case 'AWS::Lambda::Version':
      return `${arn('lambda', `function:${standIn(template, resource.Properties?.FunctionName)}`)}:1`;
    case 'AWS::RDS::DBProxy':
      return nameOf(template, name, 'DBProxyName');
    case 'AWS::Events::EventBus':
      return nameOf(template, name, 'Name');
    case 'AWS::StepFunctions::StateMachine':
      return arn('states', `stateMachine:${nameOf(template, name, 'StateMachineName')}`);
    default:
      throw new Error(`no deploy-time stand-in for Ref of ${resource.Type} (${name})`);
  }
}

function attributeValue(template: CfnTemplate, logicalId: string, attribute: string): string {
  const resource = resourceOf(template, logicalId);
  switch (`${resource.Type}.${attribute}`) {
    case 'AWS::SQS::Queue.Arn':
      return arn('sqs', nameOf(template, logicalId, 'QueueName', 'FifoQueue'));
    case 'AWS::SQS::Queue.QueueUrl':
      return refValue(template, logicalId);
    case 'AWS::SQS::Queue.QueueName':
      return nameOf(template, logicalId, 'QueueName', 'FifoQueue');
    case 'AWS::SNS::Topic.TopicArn':
      return refValue(template, logicalId);
    case 'AWS::DynamoDB::GlobalTable.Arn':
    case 'AWS::DynamoDB::Table.Arn':
      return arn('dynamodb', `table/${refValue(template, logicalId)}`);
    case 'AWS::Lambda::Function.Arn':
      return arn('lambda', `function:${refValue(template, logicalId)}`);
    case 'AWS::Lambda::Version.Version':
      return '1';
    case 'AWS::Events::EventBus.Arn':
      return arn('events', `event-bus/${refValue(template, logicalId)}`);
    case 'AWS::RDS::DBProxy.Endpoint':
      return `${refValue(template, logicalId).toLowerCase()}.proxy-c1a2b3c4d5e6.${REGION}.rds.amazonaws.com`;
    default:
      throw new Error(`no deploy-time stand-in for ${resource.Type} attribute ${attribute} (${logicalId})`);
  }
}

// ---- documented defaults

let propertyDocs: Map<string, Map<string, string | undefined>> | undefined;

/**
 * The `@default` text of every property of the props and options types `lib/index.ts` exports
 * (inherited ones included), keyed by type name then property name. Parsed from the sources
 * without resolving aws-cdk-lib, which keeps it under a second.
 */
function documentedDefaults(): Map<string, Map<string, string | undefined>> {
  if (propertyDocs) return propertyDocs;
  const libDir = join(ROOT, 'lib');
  const sources = (readdirSync(libDir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(libDir, f));
  const program = ts.createProgram(sources, { noResolve: true, noLib: true, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const index = program.getSourceFile(join(libDir, 'index.ts'));
  const moduleSymbol = index && checker.getSymbolAtLocation(index);
  if (!moduleSymbol) throw new Error('lib/index.ts not found');
  propertyDocs = new Map();
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = hasFlag(exported.flags, ts.SymbolFlags.Alias) ? checker.getAliasedSymbol(exported) : exported;
    if (!hasFlag(symbol.flags, ts.SymbolFlags.Interface)) continue;
    const properties = new Map<string, string | undefined>();
    for (const property of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
      const tag = property.getJsDocTags(checker).find((t) => t.name === 'default');
      properties.set(property.name, tag ? ts.displayPartsToString(tag.text).trim() : undefined);
    }
    propertyDocs.set(exported.name, properties);
  }
  return propertyDocs;
}

/** The properties of an exported props or options type, inherited ones included. */
export function documentedProperties(type: string): string[] {
  const properties = documentedDefaults().get(type);
  if (!properties) throw new Error(`lib/index.ts exports no interface ${type}`);
  return [...properties.keys()];
}

function hasFlag(flags: ts.SymbolFlags, flag: ts.SymbolFlags): boolean {
  // eslint-disable-next-line no-bitwise
  return (flags & flag) !== 0;
}

/** What `@default` says of `type.property`: a value, or `undefined` when it describes an absence ("- none"). */
export function documentedDefault(type: string, property: string): unknown {
  const properties = documentedDefaults().get(type);
  if (!properties) throw new Error(`lib/index.ts exports no interface ${type}`);
  if (!properties.has(property)) throw new Error(`${type} has no property ${property}`);
  const text = properties.get(property);
  if (text === undefined) throw new Error(`${type}.${property} documents no @default`);
  return parseDefault(text, `${type}.${property}`);
}

const FACTORIES: Record<string, (n: number) => unknown> = {
  'Size.bytes': Size.bytes,
  'Size.kibibytes': Size.kibibytes,
  'Size.mebibytes': Size.mebibytes,
  'Duration.millis': Duration.millis,
  'Duration.seconds': Duration.seconds,
  'Duration.minutes': Duration.minutes,
  'Duration.hours': Duration.hours,
};

/** `25`, `'items'`, `true`, `{}`, `Size.kibibytes(64)`, `Duration.seconds(5)`, `PagingStyle.NONE`, or "- ..." (an absence). */
function parseDefault(text: string, what: string): unknown {
  if (text.startsWith('-')) return undefined;
  const value = text.split(/\s+-\s+/)[0].trim();
  const factory = /^(\w+\.\w+)\((\d+(?:\.\d+)?)\)$/.exec(value);
  if (factory && FACTORIES[factory[1]]) return FACTORIES[factory[1]](Number(factory[2]));
  const member = /^PagingStyle\.(\w+)$/.exec(value);
  if (member && member[1] in PagingStyle) return PagingStyle[member[1] as keyof typeof PagingStyle];
  if (/^'[^']*'$/.test(value)) return value.slice(1, -1);
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new Error(`the @default of ${what} is not a value this test can read: ${JSON.stringify(text)}`);
  }
}

/** A Cognito authorization with a user pool of its own (the owner-claim patterns need claims). */
export function cognitoAuthorization(stack: Stack): ApiAuthorization {
  // `custom:tenant` is a claim the caller cannot write: declared immutable, and no app client writes it.
  return ApiAuthorization.cognito({
    userPools: [new cognito.UserPool(stack, 'Users', { customAttributes: { tenant: new cognito.StringAttribute({ mutable: false }) } })],
  });
}

/** A function of the test's own, for a standalone CanaryDeployment. */
export function targetFunction(stack: Stack): lambda.Function {
  return new lambda.Function(stack, 'Target', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 })'),
  });
}
