/**
 * A stack's template seen as local resources: every resource gets the physical name, `Ref` value
 * and attributes CloudFormation would give it (explicit names kept, others generated from the
 * stack name and logical id), engines rebind the values only they know (a queue's URL on the
 * local SQS endpoint), and `resolve` evaluates intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Join`,
 * `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::If` and conditions, `Fn::FindInMap`, `Fn::GetAZs`,
 * `Fn::Base64`, pseudo parameters) against them.
 */
import { createHash } from 'node:crypto';
import type { AssemblyStack, CfnResource, CfnTemplate } from './assembly';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './engines/aws-protocol';
import { busNameOf } from './engines/event-bus';

export interface ResourceIdentity {
  /** What `Ref` returns. */
  readonly ref: string;
  /** What `Fn::GetAtt` returns, by attribute name. */
  readonly attributes: Record<string, unknown>;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** The property that holds a resource's explicit physical name, by resource type. */
const NAME_PROPERTIES: Record<string, string> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Kinesis::Stream': 'Name',
  'AWS::Events::EventBus': 'Name',
  'AWS::Events::Rule': 'Name',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::Scheduler::ScheduleGroup': 'Name',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::RDS::DBProxy': 'DBProxyName',
  'AWS::RDS::DBCluster': 'DBClusterIdentifier',
  'AWS::ApiGateway::RestApi': 'Name',
};

/** Longest name a generated physical name may have, by type (the service's own limit). */
const NAME_LIMITS: Record<string, number> = {
  'AWS::Lambda::Function': 64,
  'AWS::SQS::Queue': 80,
  'AWS::SNS::Topic': 256,
  'AWS::Events::Rule': 64,
  'AWS::StepFunctions::StateMachine': 80,
  'AWS::S3::Bucket': 63,
  'AWS::IAM::Role': 64,
};

/** A stable short id, as services make up ids like an API's `a1b2c3d4e5`. */
function shortId(seed: string, length = 10): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

export interface LocalTemplateOptions {
  readonly region?: string;
  readonly account?: string;
}

export class LocalTemplate {
  public readonly region: string;
  public readonly account: string;
  public readonly stackName: string;
  public readonly template: CfnTemplate;
  private readonly bound = new Map<string, { ref?: string; attributes?: Record<string, unknown> }>();
  private readonly conditionValues = new Map<string, boolean>();

  constructor(public readonly stack: AssemblyStack, options: LocalTemplateOptions = {}) {
    this.region = options.region ?? LOCAL_REGION;
    this.account = options.account ?? LOCAL_ACCOUNT;
    this.stackName = stack.stackName;
    this.template = stack.template;
  }

  /** The resources that exist (their condition, if any, holds), optionally of one type, in template order. */
  public resources(type?: string): Array<[string, CfnResource]> {
    return Object.entries(this.template.Resources ?? {})
      .filter(([, r]) => (type === undefined || r.Type === type) && (r.Condition === undefined || this.condition(r.Condition)));
  }

  public resource(logicalId: string): CfnResource {
    const found = this.template.Resources[logicalId];
    if (found === undefined) throw new TemplateError(`the template has no resource ${logicalId}`);
    return found;
  }

  /** A resource's properties with every intrinsic resolved. */
  public properties(logicalId: string): Record<string, unknown> {
    return (this.resolve(this.resource(logicalId).Properties ?? {}) ?? {}) as Record<string, unknown>;
  }

  /** The physical name CloudFormation would use: the explicit name, or one made from the stack name and logical id. */
  public physicalName(logicalId: string): string {
    const resource = this.resource(logicalId);
    const nameProperty = NAME_PROPERTIES[resource.Type];
    const explicit = nameProperty !== undefined ? resource.Properties?.[nameProperty] : undefined;
    if (explicit !== undefined) return String(this.resolve(explicit));
    const fifo = (resource.Type === 'AWS::SQS::Queue' && resource.Properties?.FifoQueue === true)
      || (resource.Type === 'AWS::SNS::Topic' && resource.Properties?.FifoTopic === true);
    const limit = (NAME_LIMITS[resource.Type] ?? 128) - (fifo ? 5 : 0);
    let name = `${this.stackName}-${logicalId}`;
    if (name.length > limit) name = `${name.slice(0, limit - 11)}-${shortId(name)}`;
    if (resource.Type === 'AWS::S3::Bucket') name = name.toLowerCase();
    return fifo ? `${name}.fifo` : name;
  }

  /** Overrides what `Ref` and `Fn::GetAtt` give for a resource (attributes merge over the defaults). */
  public bind(logicalId: string, identity: { ref?: string; attributes?: Record<string, unknown> }): void {
    const previous = this.bound.get(logicalId) ?? {};
    this.bound.set(logicalId, {
      ref: identity.ref ?? previous.ref,
      attributes: { ...previous.attributes, ...identity.attributes },
    });
  }

  public identity(logicalId: string): ResourceIdentity {
    const base = this.defaultIdentity(logicalId);
    const bound = this.bound.get(logicalId);
    return { ref: bound?.ref ?? base.ref, attributes: { ...base.attributes, ...bound?.attributes } };
  }

  public ref(logicalId: string): string {
    return this.identity(logicalId).ref;
  }

  public getAtt(logicalId: string, attribute: string): unknown {
    const value = this.identity(logicalId).attributes[attribute];
    if (value === undefined) {
      // An attribute nobody modelled still resolves: a stable made-up value, visible as such.
      return `local-${logicalId}-${attribute}`;
    }
    return value;
  }

  /** The resource an ARN (or a Ref value, e.g. a name or URL) belongs to, if it is one of this template's. */
  public logicalIdOf(value: string): string | undefined {
    for (const [logicalId] of this.resources()) {
      const identity = this.identity(logicalId);
      if (identity.ref === value || identity.attributes.Arn === value) return logicalId;
    }
    return undefined;
  }

  public arn(service: string, resource: string, options: { region?: string; account?: string } = {}): string {
    return `arn:aws:${service}:${options.region ?? this.region}:${options.account ?? this.account}:${resource}`;
  }

  private defaultIdentity(logicalId: string): ResourceIdentity {
    const resource = this.resource(logicalId);
    const name = (): string => this.physicalName(logicalId);
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::Lambda::Function': {
        const arn = this.arn('lambda', `function:${name()}`);
        return { ref: name(), attributes: { Arn: arn } };
      }
      case 'AWS::Lambda::Version': {
        const functionArn = this.functionArnOf(props.FunctionName);
        return { ref: `${functionArn}:1`, attributes: { Version: '1', FunctionArn: functionArn } };
      }
      case 'AWS::Lambda::Alias': {
        const arn = `${this.functionArnOf(props.FunctionName)}:${String(this.resolve(props.Name))}`;
        return { ref: arn, attributes: { AliasArn: arn } };
      }
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable': {
        const arn = this.arn('dynamodb', `table/${name()}`);
        return { ref: name(), attributes: { Arn: arn, StreamArn: `${arn}/stream/2026-01-01T00:00:00.000`, TableId: shortId(arn, 32) } };
      }
      case 'AWS::SQS::Queue': {
        const arn = this.arn('sqs', name());
        const url = `https://sqs.${this.region}.amazonaws.com/${this.account}/${name()}`;
        return { ref: url, attributes: { Arn: arn, QueueName: name(), QueueUrl: url } };
      }
      case 'AWS::SNS::Topic': {
        const arn = this.arn('sns', name());
        return { ref: arn, attributes: { TopicArn: arn, TopicName: name() } };
      }
      case 'AWS::Kinesis::Stream':
        return { ref: name(), attributes: { Arn: this.arn('kinesis', `stream/${name()}`) } };
      case 'AWS::Events::EventBus':
        return { ref: name(), attributes: { Arn: this.arn('events', `event-bus/${name()}`), Name: name() } };
      case 'AWS::Events::Rule': {
        const busName = busNameOf(props.EventBusName !== undefined ? String(this.resolve(props.EventBusName)) : undefined);
        const path = busName === 'default' ? name() : `${busName}/${name()}`;
        return { ref: busName === 'default' ? name() : `${busName}|${name()}`, attributes: { Arn: this.arn('events', `rule/${path}`) } };
      }
      case 'AWS::StepFunctions::StateMachine': {
        const arn = this.arn('states', `stateMachine:${name()}`);
        return { ref: arn, attributes: { Arn: arn, Name: name() } };
      }
      case 'AWS::SecretsManager::Secret': {
        const arn = this.arn('secretsmanager', `secret:${name()}-${shortId(name(), 6)}`);
        return { ref: arn, attributes: { Id: arn } };
      }
      case 'AWS::Scheduler::Schedule': {
        const group = props.GroupName !== undefined ? String(this.resolve(props.GroupName)) : 'default';
        return { ref: name(), attributes: { Arn: this.arn('scheduler', `schedule/${group}/${name()}`) } };
      }
      case 'AWS::Scheduler::ScheduleGroup':
        return { ref: name(), attributes: { Arn: this.arn('scheduler', `schedule-group/${name()}`) } };
      case 'AWS::S3::Bucket':
        return {
          ref: name(),
          attributes: {
            Arn: `arn:aws:s3:::${name()}`,
            DomainName: `${name()}.s3.amazonaws.com`,
            RegionalDomainName: `${name()}.s3.${this.region}.amazonaws.com`,
            WebsiteURL: `http://${name()}.s3-website-${this.region}.amazonaws.com`,
          },
        };
      case 'AWS::Logs::LogGroup':
        return { ref: name(), attributes: { Arn: this.arn('logs', `log-group:${name()}:*`) } };
      case 'AWS::IAM::Role':
        return { ref: name(), attributes: { Arn: `arn:aws:iam::${this.account}:role/${name()}`, RoleId: `AROA${shortId(logicalId, 16).toUpperCase()}` } };
      case 'AWS::KMS::Key': {
        const id = `${shortId(logicalId, 8)}-0000-4000-8000-${shortId(logicalId + 'k', 12)}`;
        return { ref: id, attributes: { Arn: this.arn('kms', `key/${id}`), KeyId: id } };
      }
      case 'AWS::ApiGateway::RestApi':
        return { ref: shortId(logicalId), attributes: { RootResourceId: shortId(`${logicalId}/`) } };
      case 'AWS::EFS::FileSystem': {
        const id = `fs-${shortId(logicalId, 17)}`;
        return { ref: id, attributes: { FileSystemId: id, Arn: this.arn('elasticfilesystem', `file-system/${id}`) } };
      }
      case 'AWS::EFS::AccessPoint': {
        const id = `fsap-${shortId(logicalId, 17)}`;
        return { ref: id, attributes: { AccessPointId: id, Arn: this.arn('elasticfilesystem', `access-point/${id}`) } };
      }
      default: {
        const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'local';
        return { ref: `${logicalId.slice(0, 40)}-${shortId(logicalId, 8)}`, attributes: { Arn: this.arn(service, logicalId) } };
      }
    }
  }

  /** A Lambda function ARN from a FunctionName property (a name, an ARN, or an intrinsic). */
  private functionArnOf(value: unknown): string {
    const resolved = String(this.resolve(value));
    return resolved.startsWith('arn:') ? resolved : this.arn('lambda', `function:${resolved}`);
  }

  public condition(name: string): boolean {
    const known = this.conditionValues.get(name);
    if (known !== undefined) return known;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new TemplateError(`the template has no condition ${name}`);
    const value = this.evaluateCondition(definition);
    this.conditionValues.set(name, value);
    return value;
  }

  private evaluateCondition(expression: unknown): boolean {
    const [fn, args] = Object.entries(expression as Record<string, unknown>)[0] ?? [];
    const list = args as unknown[];
    switch (fn) {
      case 'Fn::Equals': return JSON.stringify(this.resolve(list[0])) === JSON.stringify(this.resolve(list[1]));
      case 'Fn::Not': return !this.evaluateCondition(list[0]);
      case 'Fn::And': return list.every((c) => this.evaluateCondition(c));
      case 'Fn::Or': return list.some((c) => this.evaluateCondition(c));
      case 'Condition': return this.condition(String(args));
      default: throw new TemplateError(`unsupported condition function ${String(fn)}`);
    }
  }

  private pseudo(name: string): string | undefined {
    switch (name) {
      case 'AWS::Region': return this.region;
      case 'AWS::AccountId': return this.account;
      case 'AWS::Partition': return 'aws';
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return this.stackName;
      case 'AWS::StackId': return this.arn('cloudformation', `stack/${this.stackName}/${shortId(this.stackName, 8)}-0000-4000-8000-000000000000`);
      default: return undefined;
    }
  }

  private refValue(name: string): unknown {
    const pseudo = this.pseudo(name);
    if (pseudo !== undefined) return pseudo;
    const parameter = this.template.Parameters?.[name];
    if (parameter !== undefined) {
      if (parameter.Default === undefined) throw new TemplateError(`parameter ${name} has no default, and the local runner takes no parameter values`);
      return parameter.Default;
    }
    return this.ref(name);
  }

  /** The value with every intrinsic function evaluated; `AWS::NoValue` removes the key or element. */
  public resolve(value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref') return arg === 'AWS::NoValue' ? NO_VALUE : this.refValue(String(arg));
      if (key.startsWith('Fn::') || key === 'Condition') return this.intrinsic(key, arg);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      const resolved = this.resolve(v);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private intrinsic(fn: string, arg: unknown): unknown {
    const list = arg as unknown[];
    switch (fn) {
      case 'Fn::GetAtt': {
        // The attribute name may itself be a `Ref` (the logical id never is).
        const [logicalId, attribute] = Array.isArray(arg) ? [String(arg[0]), arg[1]] : String(arg).split(/\.(.+)/);
        return this.getAtt(logicalId!, String(this.resolve(attribute)));
      }
      case 'Fn::Join': {
        const parts = this.resolve(list[1]) as unknown[];
        return parts.map(String).join(String(list[0]));
      }
      case 'Fn::Sub': return this.sub(arg);
      case 'Fn::Select': {
        const items = this.resolve(list[1]) as unknown[];
        return items[Number(this.resolve(list[0]))];
      }
      case 'Fn::Split': return String(this.resolve(list[1])).split(String(list[0]));
      case 'Fn::If': return this.resolve(this.condition(String(list[0])) ? list[1] : list[2]);
      case 'Fn::Equals':
      case 'Fn::Not':
      case 'Fn::And':
      case 'Fn::Or':
      case 'Condition':
        return this.evaluateCondition({ [fn]: arg });
      case 'Fn::FindInMap': {
        const [map, top, second] = list.map((v) => String(this.resolve(v)));
        const found = this.template.Mappings?.[map!]?.[top!]?.[second!];
        if (found === undefined) throw new TemplateError(`Fn::FindInMap: ${map}.${top}.${second} is not in the template's mappings`);
        return found;
      }
      case 'Fn::GetAZs': {
        // The Region named, or (an empty string) the stack's.
        const region = String(this.resolve(arg) ?? '') || this.region;
        return ['a', 'b', 'c'].map((zone) => `${region}${zone}`);
      }
      case 'Fn::Base64': return Buffer.from(String(this.resolve(arg))).toString('base64');
      case 'Fn::ImportValue':
        throw new TemplateError(`Fn::ImportValue ${JSON.stringify(arg)}: stacks that import another stack's outputs are not run locally`);
      default:
        throw new TemplateError(`the local runner does not evaluate ${fn}`);
    }
  }

  private sub(arg: unknown): string {
    const [text, variables] = Array.isArray(arg) ? [String(arg[0]), (arg[1] ?? {}) as Record<string, unknown>] : [String(arg), {}];
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) => {
      if (literal === '!') return `\${${name}}`;
      if (name in variables) return String(this.resolve(variables[name]));
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return String(this.getAtt(name.slice(0, dot), name.slice(dot + 1)));
      return String(this.refValue(name));
    });
  }
}

/** Marks a value removed by `{ "Ref": "AWS::NoValue" }`. */
const NO_VALUE = Symbol('AWS::NoValue');
