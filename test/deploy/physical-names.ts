import { CfnResource, CfnTemplate, DeployedStack, describeResource } from './assembly';
import { literalIndex, substitute } from './upper-bounds';

/**
 * Who else may claim the same name:
 * - `region`: names unique per account and Region (most services);
 * - `account`: names unique per account in every Region (IAM; CloudFront and CloudWatch
 *   dashboards, which are global services);
 * - `global`: names shared with every other account (S3 bucket names; Cognito prefix domains,
 *   unique per Region across accounts; CloudFront alternate domain names).
 */
export type NameScope = 'region' | 'account' | 'global';

/** A property whose value becomes a resource's physical name. */
export interface PhysicalNameRule {
  readonly type: string;
  /** Property path; a rule for a nested name gives each level (`ResponseHeadersPolicyConfig`, `Name`). */
  readonly path: readonly string[];
  /** Resources whose names share one namespace share this label (DynamoDB tables and global tables). */
  readonly namespace: string;
  readonly scope: NameScope;
  /** The property that narrows the namespace (a schedule's group), and its default when absent. */
  readonly within?: { readonly path: readonly string[]; readonly default: string };
  /** The service compares names without case (IAM, RDS) or allows lower case only (S3, Cognito domains). */
  readonly caseInsensitive?: boolean;
  /** The property is a list of names (CloudFront aliases). */
  readonly list?: boolean;
}

function rule(
  type: string, path: string | readonly string[], namespace: string, scope: NameScope, options: Partial<PhysicalNameRule> = {},
): PhysicalNameRule {
  return { type, path: typeof path === 'string' ? [path] : path, namespace, scope, ...options };
}

/**
 * Every property of the resource types of CloudFormation that claims a physical name, for the
 * types that the examples use or are likely to use. A property absent from a template leaves the
 * name to CloudFormation, which makes it unique (stack name, logical id and a random suffix).
 */
export const PHYSICAL_NAME_RULES: readonly PhysicalNameRule[] = [
  rule('AWS::S3::Bucket', 'BucketName', 's3 bucket', 'global', { caseInsensitive: true }),
  rule('AWS::Cognito::UserPoolDomain', 'Domain', 'cognito domain', 'global', { caseInsensitive: true }),
  rule('AWS::CloudFront::Distribution', ['DistributionConfig', 'Aliases'], 'cloudfront alias', 'global', { caseInsensitive: true, list: true }),
  rule('AWS::IAM::Role', 'RoleName', 'iam role', 'account', { caseInsensitive: true }),
  rule('AWS::IAM::ManagedPolicy', 'ManagedPolicyName', 'iam managed policy', 'account', { caseInsensitive: true }),
  rule('AWS::IAM::User', 'UserName', 'iam user', 'account', { caseInsensitive: true }),
  rule('AWS::IAM::Group', 'GroupName', 'iam group', 'account', { caseInsensitive: true }),
  rule('AWS::IAM::InstanceProfile', 'InstanceProfileName', 'iam instance profile', 'account', { caseInsensitive: true }),
  rule('AWS::CloudFront::Function', 'Name', 'cloudfront function', 'account'),
  rule('AWS::CloudFront::ResponseHeadersPolicy', ['ResponseHeadersPolicyConfig', 'Name'], 'cloudfront response headers policy', 'account'),
  rule('AWS::CloudFront::OriginAccessControl', ['OriginAccessControlConfig', 'Name'], 'cloudfront origin access control', 'account'),
  rule('AWS::CloudFront::CachePolicy', ['CachePolicyConfig', 'Name'], 'cloudfront cache policy', 'account'),
  rule('AWS::CloudFront::OriginRequestPolicy', ['OriginRequestPolicyConfig', 'Name'], 'cloudfront origin request policy', 'account'),
  rule('AWS::CloudFront::KeyValueStore', 'Name', 'cloudfront key value store', 'account'),
  rule('AWS::CloudWatch::Dashboard', 'DashboardName', 'cloudwatch dashboard', 'account'),
  rule('AWS::DynamoDB::Table', 'TableName', 'dynamodb table', 'region'),
  rule('AWS::DynamoDB::GlobalTable', 'TableName', 'dynamodb table', 'region'),
  rule('AWS::Lambda::Function', 'FunctionName', 'lambda function', 'region'),
  rule('AWS::SQS::Queue', 'QueueName', 'sqs queue', 'region'),
  rule('AWS::SNS::Topic', 'TopicName', 'sns topic', 'region'),
  rule('AWS::Logs::LogGroup', 'LogGroupName', 'log group', 'region'),
  rule('AWS::Kinesis::Stream', 'Name', 'kinesis stream', 'region'),
  rule('AWS::Kinesis::StreamConsumer', 'ConsumerName', 'kinesis consumer', 'region', { within: { path: ['StreamARN'], default: '' } }),
  rule('AWS::SecretsManager::Secret', 'Name', 'secret', 'region'),
  rule('AWS::SSM::Parameter', 'Name', 'ssm parameter', 'region'),
  rule('AWS::KMS::Alias', 'AliasName', 'kms alias', 'region'),
  rule('AWS::CloudWatch::Alarm', 'AlarmName', 'cloudwatch alarm', 'region'),
  rule('AWS::CloudWatch::CompositeAlarm', 'AlarmName', 'cloudwatch alarm', 'region'),
  rule('AWS::RDS::DBCluster', 'DBClusterIdentifier', 'rds cluster', 'region', { caseInsensitive: true }),
  rule('AWS::RDS::DBInstance', 'DBInstanceIdentifier', 'rds instance', 'region', { caseInsensitive: true }),
  rule('AWS::RDS::DBProxy', 'DBProxyName', 'rds proxy', 'region', { caseInsensitive: true }),
  rule('AWS::RDS::DBSubnetGroup', 'DBSubnetGroupName', 'rds subnet group', 'region', { caseInsensitive: true }),
  rule('AWS::RDS::DBClusterParameterGroup', 'DBClusterParameterGroupName', 'rds cluster parameter group', 'region', { caseInsensitive: true }),
  rule('AWS::RDS::DBParameterGroup', 'DBParameterGroupName', 'rds parameter group', 'region', { caseInsensitive: true }),
  rule('AWS::Scheduler::ScheduleGroup', 'Name', 'schedule group', 'region'),
  rule('AWS::Scheduler::Schedule', 'Name', 'schedule', 'region', { within: { path: ['GroupName'], default: 'default' } }),
  rule('AWS::Events::EventBus', 'Name', 'event bus', 'region'),
  rule('AWS::Events::Rule', 'Name', 'event rule', 'region', { within: { path: ['EventBusName'], default: 'default' } }),
  rule('AWS::Events::Archive', 'ArchiveName', 'event archive', 'region'),
  rule('AWS::EventSchemas::Registry', 'RegistryName', 'schema registry', 'region'),
  rule('AWS::EventSchemas::Schema', 'SchemaName', 'schema', 'region', { within: { path: ['RegistryName'], default: '' } }),
  rule('AWS::Logs::ResourcePolicy', 'PolicyName', 'logs resource policy', 'region'),
  rule('AWS::StepFunctions::StateMachine', 'StateMachineName', 'state machine', 'region'),
  rule('AWS::CodeDeploy::Application', 'ApplicationName', 'codedeploy application', 'region'),
  rule('AWS::CodeDeploy::DeploymentGroup', 'DeploymentGroupName', 'codedeploy deployment group', 'region', { within: { path: ['ApplicationName'], default: '' } }),
  rule('AWS::CodeDeploy::DeploymentConfig', 'DeploymentConfigName', 'codedeploy deployment config', 'region'),
  rule('AWS::EC2::SecurityGroup', 'GroupName', 'security group', 'region', { within: { path: ['VpcId'], default: 'default VPC' } }),
  rule('AWS::ECR::Repository', 'RepositoryName', 'ecr repository', 'region'),
  rule('AWS::WAFv2::WebACL', 'Name', 'waf web acl', 'region', { within: { path: ['Scope'], default: '' } }),
];

/**
 * Name-like properties of the examples' resources that claim no name of their own: each a
 * reference to another resource, or a name unique only within its parent, or one the service does
 * not require to be unique.
 */
export const NOT_PHYSICAL_NAMES: Readonly<Record<string, string>> = {
  'AWS::WAFv2::WebACL.VisibilityConfig.MetricName': 'the name of the web ACL\'s CloudWatch metrics, not of a resource: two web ACLs may share it',
  'AWS::ApiGateway::RestApi.Name': 'REST API names need not be unique: API Gateway identifies an API by its generated id',
  'AWS::ApiGateway::Authorizer.Name': 'unique within its REST API only',
  'AWS::ApiGateway::Stage.StageName': 'unique within its REST API only',
  'AWS::Cognito::UserPool.UserPoolName': 'user pool names need not be unique: Cognito identifies a pool by its generated id',
  'AWS::Cognito::UserPoolClient.ClientName': 'app client names need not be unique',
  'AWS::Cognito::UserPoolResourceServer.Identifier': 'unique within its user pool only',
  'AWS::Cognito::UserPoolResourceServer.Name': 'unique within its user pool only',
  'AWS::IAM::Policy.PolicyName': 'an inline policy name is unique within the role it is embedded in only',
  'AWS::Lambda::Alias.Name': 'unique within its function only',
  'AWS::Lambda::LayerVersion.LayerName': 'a second stack with the same layer name publishes another version of it; no clash',
  'AWS::RDS::DBCluster.DatabaseName': 'a database inside the cluster',
  'AWS::RDS::DBProxyTargetGroup.TargetGroupName': "always 'default', within its proxy",
  'AWS::CloudWatch::Alarm.MetricName': 'the metric watched',
  'AWS::EC2::VPCEndpoint.ServiceName': 'the AWS service reached',
  'AWS::CodeDeploy::DeploymentGroup.DeploymentConfigName': 'reference to a deployment configuration',
  'AWS::CodeDeploy::DeploymentGroup.ApplicationName': 'reference to the application (the namespace of the group name)',
  'AWS::Scheduler::Schedule.GroupName': 'reference to the schedule group (the namespace of the schedule name)',
  'AWS::EC2::FlowLog.LogGroupName': 'reference to the log group',
  'AWS::Lambda::EventInvokeConfig.FunctionName': 'reference to the function',
  'AWS::Lambda::EventSourceMapping.FunctionName': 'reference to the function',
  'AWS::Lambda::Permission.FunctionName': 'reference to the function',
  'AWS::Lambda::Version.FunctionName': 'reference to the function',
  'AWS::Lambda::Alias.FunctionName': 'reference to the function',
  'AWS::RDS::DBCluster.DBClusterParameterGroupName': 'reference to a parameter group',
  'AWS::RDS::DBCluster.DBSubnetGroupName': 'reference to the subnet group',
  'AWS::RDS::DBInstance.DBClusterIdentifier': 'reference to the cluster',
  'AWS::RDS::DBProxyTargetGroup.DBProxyName': 'reference to the proxy',
  'Custom::CDKBucketDeployment.DestinationBucketName': 'reference to the bucket',
  'AWS::Events::EventBus.KmsKeyIdentifier': 'reference to the key',
  'AWS::Events::Archive.KmsKeyIdentifier': 'reference to the key',
  'AWS::Events::Rule.EventBusName': 'reference to the event bus (the namespace of the rule name)',
  'AWS::EventSchemas::Schema.RegistryName': 'reference to the registry (the namespace of the schema name)',
};

/** Top-level properties, and properties of a `...Config` object, that look like a name. */
const NAME_LIKE = /(Name|Identifier|Domain|Aliases)$/;

/** Every name-like property of a resource, as `Type.Property` or `Type.Config.Property`. */
export function nameLikeProperties(resource: CfnResource): string[] {
  const found: string[] = [];
  for (const [key, value] of Object.entries(resource.Properties ?? {})) {
    if (NAME_LIKE.test(key)) {
      found.push(`${resource.Type}.${key}`);
    } else if (key.endsWith('Config') && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      found.push(...Object.keys(value).filter((inner) => NAME_LIKE.test(inner)).map((inner) => `${resource.Type}.${key}.${inner}`));
    }
  }
  return found;
}

/** Whether `Type.Property` is a rule of PHYSICAL_NAME_RULES or listed in NOT_PHYSICAL_NAMES. */
export function isClassified(property: string): boolean {
  return property in NOT_PHYSICAL_NAMES || PHYSICAL_NAME_RULES.some((r) => `${r.type}.${r.path.join('.')}` === property);
}

/** The values CloudFormation gives the pseudo parameters in one deployment of one stack. */
export interface Deployment {
  readonly stackName: string;
  readonly stackId: string;
  readonly region: string;
  readonly account: string;
  readonly partition: string;
  /** Tells apart the names that CloudFormation generates in two deployments (a random suffix). */
  readonly label: string;
}

/** A deployment of one stack in an account and Region, with a stack id of its own. */
export function deployment(stackName: string, uuid: string, label: string, account = '111111111111', region = 'eu-west-1'): Deployment {
  return { stackName, stackId: `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/${uuid}`, region, account, partition: 'aws', label };
}

/** A name that cannot be known at synth time (a parameter without default, an import, a condition). */
export class UnresolvableNameError extends Error {}

/** One physical name claimed by a resource, resolved for one deployment. */
export interface ClaimedName {
  readonly stack: DeployedStack;
  readonly logicalId: string;
  readonly rule: PhysicalNameRule;
  readonly name: string;
  /** The resolved value of the rule's `within` property. */
  readonly within: string;
}

/** Every physical name that the stack's resources claim, resolved for the deployment. */
export function claimedNames(stack: DeployedStack, where: Deployment): ClaimedName[] {
  const resolver = new NameResolver(stack.template, where);
  const claimed: ClaimedName[] = [];
  for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
    for (const r of PHYSICAL_NAME_RULES.filter((candidate) => candidate.type === resource.Type)) {
      const value = valueAt(resource.Properties, r.path);
      if (value === undefined) {
        continue;
      }
      const within = r.within ? valueAt(resource.Properties, r.within.path) : undefined;
      const withinName = within === undefined ? r.within?.default ?? '' : resolver.resolve(within);
      const names = r.list ? resolver.resolveList(value) : [resolver.resolve(value)];
      for (const name of names) {
        claimed.push({ stack, logicalId, rule: r, name: r.caseInsensitive ? name.toLowerCase() : name, within: withinName });
      }
    }
  }
  return claimed;
}

/** One line per name that more than one resource claims in its namespace. */
export function nameClashes(claims: readonly ClaimedName[]): string[] {
  const byName = new Map<string, ClaimedName[]>();
  for (const claim of claims) {
    const key = `${claim.rule.namespace} '${claim.name}'${claim.within === '' ? '' : ` within '${claim.within}'`}`;
    byName.set(key, [...(byName.get(key) ?? []), claim]);
  }
  return [...byName.entries()].filter(([, same]) => same.length > 1).map(([key, same]) =>
    `${key} is claimed by ${same.map((c) => describeResource(c.stack, c.logicalId)).join(' and by ')}`);
}

/**
 * One line per name of the rule that is the same in two deployments of one stack name (in one
 * Region of one account, with another stack id): a name in a namespace shared with other accounts
 * must not be.
 */
export function namesSameInEveryDeployment(
  stack: DeployedStack, r: PhysicalNameRule, first: Deployment, second: Deployment,
  consequence = 'it does not depend on AWS::StackId: another account that deploys this stack name cannot create it',
  include: (resource: CfnResource) => boolean = () => true,
): string[] {
  const ofRule = (c: ClaimedName): boolean => c.rule === r && include(stack.template.Resources[c.logicalId]);
  const inFirst = claimedNames(stack, first).filter(ofRule);
  const inSecond = claimedNames(stack, second).filter(ofRule);
  return inFirst.filter((c, index) => c.name === inSecond[index]?.name).map((c) =>
    `${describeResource(stack, c.logicalId)}: ${r.path.join('.')} '${c.name}' is the same in every deployment of stack ${stack.stackName} (${consequence})`);
}

function valueAt(properties: Record<string, unknown> | undefined, path: readonly string[]): unknown {
  let value: unknown = properties;
  for (const key of path) {
    if (value === null || typeof value !== 'object') {
      return undefined;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Resolves a name as CloudFormation would in one deployment. A reference to a resource becomes
 * that resource's own name if the template sets it, else a token unique to the resource and the
 * deployment (CloudFormation generates such names with a random suffix).
 */
class NameResolver {
  private readonly resolving = new Set<string>();

  constructor(private readonly template: CfnTemplate, private readonly where: Deployment) {}

  public resolve(value: unknown): string {
    if (typeof value === 'string') {
      return value;
    }
    if (typeof value === 'number') {
      return String(value);
    }
    const [fn, args] = intrinsic(value);
    switch (fn) {
      case 'Ref':
        return this.ref(String(args));
      case 'Fn::GetAtt': {
        const [logicalId, ...attribute] = Array.isArray(args) ? args.map(String) : String(args).split('.');
        return `${this.ref(logicalId)}.${attribute.join('.')}`;
      }
      case 'Fn::Join': {
        const [delimiter, list] = args as [string, unknown];
        return this.resolveList(list).join(delimiter);
      }
      case 'Fn::Select': {
        const [index, list] = args as [unknown, unknown];
        const at = literalIndex(index);
        const items = this.resolveList(list);
        if (at === undefined || at >= items.length) {
          throw new UnresolvableNameError(`Fn::Select index ${JSON.stringify(index)} of ${items.length} items`);
        }
        return items[at];
      }
      case 'Fn::Sub':
        return this.sub(args);
      default:
        throw new UnresolvableNameError(`${fn} cannot be resolved at synth time`);
    }
  }

  public resolveList(value: unknown): string[] {
    if (Array.isArray(value)) {
      return value.map((item) => this.resolve(item));
    }
    const [fn, args] = intrinsic(value);
    if (fn === 'Fn::Split') {
      const [delimiter, text] = args as [string, unknown];
      return this.resolve(text).split(delimiter);
    }
    if (fn === 'Fn::GetAZs') {
      return ['a', 'b', 'c'].map((zone) => `${this.where.region}${zone}`);
    }
    throw new UnresolvableNameError(`${fn} is not a list known at synth time`);
  }

  private ref(name: string): string {
    switch (name) {
      case 'AWS::StackName': return this.where.stackName;
      case 'AWS::StackId': return this.where.stackId;
      case 'AWS::Region': return this.where.region;
      case 'AWS::AccountId': return this.where.account;
      case 'AWS::Partition': return this.where.partition;
      case 'AWS::URLSuffix': return 'amazonaws.com';
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter !== undefined) {
      if (parameter.Default === undefined) {
        throw new UnresolvableNameError(`parameter ${name} has no default`);
      }
      return this.resolve(parameter.Default);
    }
    const resource = this.template.Resources[name];
    if (resource === undefined) {
      throw new UnresolvableNameError(`Ref to ${name}, which is neither a resource nor a parameter`);
    }
    const own = PHYSICAL_NAME_RULES.find((r) => r.type === resource.Type && !r.list && valueAt(resource.Properties, r.path) !== undefined);
    if (own === undefined || this.resolving.has(name)) {
      return `{generated ${this.where.label} ${this.where.stackName} ${name}}`;
    }
    this.resolving.add(name);
    try {
      return `{${resource.Type} ${this.resolve(valueAt(resource.Properties, own.path))}}`;
    } finally {
      this.resolving.delete(name);
    }
  }

  private sub(args: unknown): string {
    return substitute(args, {
      variable: (value) => this.resolve(value),
      attribute: (logicalId, attribute) => `${this.ref(logicalId)}.${attribute}`,
      ref: (name) => this.ref(name),
    });
  }
}

function intrinsic(value: unknown): [string, unknown] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1) {
    return Object.entries(value)[0];
  }
  throw new UnresolvableNameError(`${JSON.stringify(value)} is not a name`);
}
