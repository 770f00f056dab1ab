import { CfnTemplate } from './assembly';

/*
 * Upper bounds, in characters, of what CloudFormation substitutes for an intrinsic at deploy time.
 * A value measured with these bounds is never smaller than the deployed value, so a size check on
 * it can only err on the safe side. Where a bound is not in the tables, UNKNOWN_TOKEN_BOUND is used:
 * if that default makes a template fail, add the exact kind to the table rather than loosen a limit.
 */

/** Any token that the tables below do not know: generous, so that nothing is under-counted. */
export const UNKNOWN_TOKEN_BOUND = 2048;

/** Pseudo parameters. */
const PARTITION = 16; // longest partition id today: 'aws-us-gov' (10); aws, aws-cn, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc
const REGION = 25; // longest Region code today: 'us-isof-south-1' (15)
const ACCOUNT = 12; // an account id is always 12 digits
const URL_SUFFIX = 32; // longest today: 'amazonaws.com.cn' (16)
const STACK_NAME = 128; // CloudFormation: a stack name is at most 128 characters
const UUID = 36;

/** `arn:<partition>:<service>:<region>:<account>:<resource>`, with `resource` characters after the last colon. */
function arn(service: string, resource: number, scope: { readonly region?: boolean; readonly account?: boolean } = {}): number {
  return 'arn:'.length + PARTITION + 1 + service.length + 1 + (scope.region === false ? 0 : REGION) + 1 + (scope.account === false ? 0 : ACCOUNT) + 1 + resource;
}

/** Name and id limits, each from the service's quotas or naming rules (AWS docs: "<service> quotas"). */
const NAME = {
  dynamoDbTable: 255, // DynamoDB: table names 3..255 characters
  sqsQueue: 80, // SQS: queue names up to 80 characters (.fifo included)
  snsTopic: 256, // SNS: topic names up to 256 characters
  lambdaFunction: 64, // Lambda: function names up to 64 characters
  lambdaQualifier: 128, // Lambda API: a version or alias qualifier is 1..128 characters
  lambdaLayer: 140, // Lambda API: a layer name is 1..140 characters
  secret: 512, // Secrets Manager: secret names up to 512 characters; the ARN adds '-' and 6 random characters
  rdsProxy: 63, // RDS: a proxy name is 1..63 characters
  rdsIdentifier: 63, // RDS: cluster and instance identifiers are 1..63 characters
  rdsGeneratedId: 32, // RDS: the random part of an endpoint ('proxy-abcdefghijkl' is 12) or a resource id ('prx-' + 17)
  kinesisStream: 128, // Kinesis: stream names up to 128 characters
  logGroup: 512, // CloudWatch Logs: log group names up to 512 characters
  s3Bucket: 63, // S3: bucket names 3..63 characters
  codeDeploy: 100, // CodeDeploy: application and deployment group names up to 100 characters
  iamRole: 64, // IAM: role names up to 64 characters
  iamPath: 512, // IAM: a path is up to 512 characters
  resourceId: 32, // EC2/EFS ids: a prefix ('sg-', 'vpc-', 'fs-', 'fsap-', 'subnet-') and up to 17 hex digits
  kmsKeyId: 36, // KMS: a key id is a UUID, or 'mrk-' and 32 hex digits
  timestamp: 23, // a DynamoDB stream label: '2024-01-01T00:00:00.000'
  cognitoUserPoolId: 55, // Cognito: a user pool id is '<region>_' and up to 9+ characters (API: at most 55)
  cognitoClientId: 128, // Cognito: an app client id (API: at most 128)
  apiGatewayId: 10, // API Gateway: a REST API or resource id is 10 characters
} as const;

const QUEUE_URL = 'https://sqs.'.length + REGION + 1 + URL_SUFFIX + 1 + ACCOUNT + 1 + NAME.sqsQueue;
const FUNCTION_ARN = arn('lambda', 'function:'.length + NAME.lambdaFunction);
const SECRET_ARN = arn('secretsmanager', 'secret:'.length + NAME.secret + 7);

/**
 * What `Ref` and `Fn::GetAtt` resolve to, at most, by resource type: `<Type>|Ref` and
 * `<Type>.<Attribute>`. Each bound is built from the limits above and the documented format of the
 * value (the resource's "Return values" section in the CloudFormation resource reference).
 */
export const INTRINSIC_UPPER_BOUNDS: Readonly<Record<string, number>> = {
  // DynamoDB: Ref is the table name; Arn 'arn:...:table/<name>'; StreamArn '<Arn>/stream/<label>'
  'AWS::DynamoDB::Table|Ref': NAME.dynamoDbTable,
  'AWS::DynamoDB::Table.Arn': arn('dynamodb', 'table/'.length + NAME.dynamoDbTable),
  'AWS::DynamoDB::Table.StreamArn': arn('dynamodb', 'table/'.length + NAME.dynamoDbTable + '/stream/'.length + NAME.timestamp),
  'AWS::DynamoDB::GlobalTable|Ref': NAME.dynamoDbTable,
  'AWS::DynamoDB::GlobalTable.Arn': arn('dynamodb', 'table/'.length + NAME.dynamoDbTable),
  'AWS::DynamoDB::GlobalTable.StreamArn': arn('dynamodb', 'table/'.length + NAME.dynamoDbTable + '/stream/'.length + NAME.timestamp),
  // SQS: Ref is the queue URL 'https://sqs.<region>.<suffix>/<account>/<name>'
  'AWS::SQS::Queue|Ref': QUEUE_URL,
  'AWS::SQS::Queue.QueueUrl': QUEUE_URL,
  'AWS::SQS::Queue.QueueName': NAME.sqsQueue,
  'AWS::SQS::Queue.Arn': arn('sqs', NAME.sqsQueue),
  // SNS: Ref is the topic ARN
  'AWS::SNS::Topic|Ref': arn('sns', NAME.snsTopic),
  'AWS::SNS::Topic.TopicArn': arn('sns', NAME.snsTopic),
  'AWS::SNS::Topic.TopicName': NAME.snsTopic,
  // Lambda: a function's Ref is its name; a version's Ref is the qualified ARN '<function ARN>:<version>'
  'AWS::Lambda::Function|Ref': NAME.lambdaFunction,
  'AWS::Lambda::Function.Arn': FUNCTION_ARN,
  'AWS::Lambda::Version|Ref': FUNCTION_ARN + 1 + NAME.lambdaQualifier,
  'AWS::Lambda::Version.Version': NAME.lambdaQualifier,
  'AWS::Lambda::Alias|Ref': FUNCTION_ARN + 1 + NAME.lambdaQualifier,
  'AWS::Lambda::LayerVersion|Ref': arn('lambda', 'layer:'.length + NAME.lambdaLayer + 1 + NAME.lambdaQualifier),
  // Secrets Manager: Ref is the secret ARN 'arn:...:secret:<name>-<6 random>'; so is a target attachment's
  'AWS::SecretsManager::Secret|Ref': SECRET_ARN,
  'AWS::SecretsManager::SecretTargetAttachment|Ref': SECRET_ARN,
  // RDS: the proxy endpoint is '<name>.proxy-<id>.<region>.rds.<suffix>'; its ARN 'arn:...:db-proxy:prx-<id>'
  'AWS::RDS::DBProxy|Ref': NAME.rdsProxy,
  'AWS::RDS::DBProxy.Endpoint': NAME.rdsProxy + '.proxy-'.length + NAME.rdsGeneratedId + 1 + REGION + '.rds.'.length + URL_SUFFIX,
  'AWS::RDS::DBProxy.DBProxyArn': arn('rds', 'db-proxy:'.length + NAME.rdsGeneratedId),
  'AWS::RDS::DBCluster|Ref': NAME.rdsIdentifier,
  'AWS::RDS::DBCluster.Endpoint.Address': NAME.rdsIdentifier + '.cluster-'.length + NAME.rdsGeneratedId + 1 + REGION + '.rds.'.length + URL_SUFFIX,
  'AWS::RDS::DBCluster.Endpoint.Port': 5,
  'AWS::RDS::DBCluster.DBClusterArn': arn('rds', 'cluster:'.length + NAME.rdsIdentifier),
  // KMS: Ref is the key id; Arn 'arn:...:key/<id>'
  'AWS::KMS::Key|Ref': NAME.kmsKeyId,
  'AWS::KMS::Key.KeyId': NAME.kmsKeyId,
  'AWS::KMS::Key.Arn': arn('kms', 'key/'.length + NAME.kmsKeyId),
  // Kinesis: Ref is the stream name; Arn 'arn:...:stream/<name>'
  'AWS::Kinesis::Stream|Ref': NAME.kinesisStream,
  'AWS::Kinesis::Stream.Arn': arn('kinesis', 'stream/'.length + NAME.kinesisStream),
  // CloudWatch Logs: Ref is the log group name; Arn 'arn:...:log-group:<name>:*'
  'AWS::Logs::LogGroup|Ref': NAME.logGroup,
  'AWS::Logs::LogGroup.Arn': arn('logs', 'log-group:'.length + NAME.logGroup + ':*'.length),
  // S3: Ref is the bucket name; Arn 'arn:<partition>:s3:::<name>' (no region, no account)
  'AWS::S3::Bucket|Ref': NAME.s3Bucket,
  'AWS::S3::Bucket.Arn': arn('s3', NAME.s3Bucket, { region: false, account: false }),
  'AWS::S3::Bucket.DomainName': NAME.s3Bucket + '.s3.'.length + URL_SUFFIX,
  'AWS::S3::Bucket.RegionalDomainName': NAME.s3Bucket + '.s3.'.length + REGION + 1 + URL_SUFFIX,
  // CodeDeploy: Ref is the application or deployment group name
  'AWS::CodeDeploy::Application|Ref': NAME.codeDeploy,
  'AWS::CodeDeploy::DeploymentGroup|Ref': NAME.codeDeploy,
  // IAM: Ref is the role name; Arn 'arn:<partition>:iam::<account>:role<path><name>'
  'AWS::IAM::Role|Ref': NAME.iamRole,
  'AWS::IAM::Role.Arn': arn('iam', 'role'.length + NAME.iamPath + NAME.iamRole, { region: false }),
  // EC2 and EFS ids
  'AWS::EC2::VPC|Ref': NAME.resourceId,
  'AWS::EC2::VPC.DefaultSecurityGroup': NAME.resourceId,
  'AWS::EC2::Subnet|Ref': NAME.resourceId,
  'AWS::EC2::SecurityGroup|Ref': NAME.resourceId,
  'AWS::EC2::SecurityGroup.GroupId': NAME.resourceId,
  'AWS::EFS::FileSystem|Ref': NAME.resourceId,
  'AWS::EFS::AccessPoint|Ref': NAME.resourceId,
  'AWS::EFS::AccessPoint.Arn': arn('elasticfilesystem', 'access-point/'.length + NAME.resourceId),
  // Cognito and API Gateway ids
  'AWS::Cognito::UserPool|Ref': NAME.cognitoUserPoolId,
  'AWS::Cognito::UserPool.Arn': arn('cognito-idp', 'userpool/'.length + NAME.cognitoUserPoolId),
  'AWS::Cognito::UserPool.ProviderURL': 'https://cognito-idp.'.length + REGION + 1 + URL_SUFFIX + 1 + NAME.cognitoUserPoolId,
  'AWS::Cognito::UserPoolClient|Ref': NAME.cognitoClientId,
  'AWS::ApiGateway::RestApi|Ref': NAME.apiGatewayId,
  'AWS::ApiGateway::RestApi.RootResourceId': NAME.apiGatewayId,
};

/** Pseudo parameters, by name. */
const PSEUDO_UPPER_BOUNDS: Readonly<Record<string, number>> = {
  'AWS::Partition': PARTITION,
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': URL_SUFFIX,
  'AWS::StackName': STACK_NAME,
  'AWS::StackId': arn('cloudformation', 'stack/'.length + STACK_NAME + 1 + UUID),
  'AWS::NoValue': 0,
};

/** A kind of token that the tables do not know and that was counted as UNKNOWN_TOKEN_BOUND. */
export interface UnknownToken {
  readonly kind: string;
}

/**
 * Resolves intrinsics of one template to filler strings as long as their upper bound, so that the
 * length of a resolved string, or of `JSON.stringify` of a resolved document, is an upper bound
 * of the deployed one. Records every token that fell back to UNKNOWN_TOKEN_BOUND.
 */
export class UpperBoundResolver {
  public readonly unknownTokens: UnknownToken[] = [];

  constructor(private readonly template: CfnTemplate) {}

  /** The value with every intrinsic replaced by its upper bound (documents keep their shape). */
  public document(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((item) => this.document(item));
    }
    if (isIntrinsic(value)) {
      const [fn, args] = Object.entries(value)[0];
      if (fn === 'Fn::If' && Array.isArray(args)) {
        // The longer branch, whatever the condition.
        return longest([this.document(args[1]), this.document(args[2])]);
      }
      return this.string(value);
    }
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.document(item)]));
    }
    return value;
  }

  /** A string at least as long as what the value resolves to. */
  public string(value: unknown): string {
    if (typeof value === 'string') {
      return value;
    }
    if (typeof value === 'number' || typeof value === 'boolean') {
      return String(value);
    }
    if (!isIntrinsic(value)) {
      return JSON.stringify(value); // a literal object where a string is expected: its JSON text
    }
    const [fn, args] = Object.entries(value)[0];
    switch (fn) {
      case 'Ref':
        return this.ref(String(args));
      case 'Fn::GetAtt': {
        const [logicalId, ...attribute] = Array.isArray(args) ? args.map(String) : String(args).split('.');
        const kind = `${this.typeOf(logicalId)}.${attribute.join('.')}`;
        return this.bound(kind, INTRINSIC_UPPER_BOUNDS[kind]);
      }
      case 'Fn::Join': {
        const [delimiter, list] = args as [string, unknown];
        return Array.isArray(list) ? list.map((item) => this.string(item)).join(delimiter) : this.bound(`Fn::Join over ${JSON.stringify(list)}`);
      }
      case 'Fn::Sub':
        return this.sub(args);
      case 'Fn::Select': {
        const [index, list] = args as [unknown, unknown];
        if (Array.isArray(list)) {
          const at = literalIndex(index);
          return at !== undefined ? this.string(list[at]) : longest(list.map((item) => this.string(item)));
        }
        if (isIntrinsic(list) && 'Fn::Split' in list) {
          // Any part of a split string is at most as long as the string.
          return this.string((list['Fn::Split'] as [string, unknown])[1]);
        }
        return this.bound(`Fn::Select over ${JSON.stringify(list)}`);
      }
      case 'Fn::If': {
        const [, whenTrue, whenFalse] = args as [string, unknown, unknown];
        return longest([this.string(whenTrue), this.string(whenFalse)]);
      }
      case 'Fn::Base64':
        return filler(Math.ceil(this.string(args).length / 3) * 4);
      case 'Fn::FindInMap':
        return this.findInMap(args as unknown[]);
      default:
        // Fn::ImportValue, Fn::GetAZs, Fn::Cidr, Fn::ToJsonString, ...: not known at synth time.
        return this.bound(fn);
    }
  }

  private ref(name: string): string {
    if (name.startsWith('AWS::')) {
      return this.bound(name, PSEUDO_UPPER_BOUNDS[name]);
    }
    if (this.template.Parameters?.[name] !== undefined) {
      return this.bound(`parameter ${name}`);
    }
    const kind = `${this.typeOf(name)}|Ref`;
    return this.bound(kind, INTRINSIC_UPPER_BOUNDS[kind]);
  }

  private sub(args: unknown): string {
    return substitute(args, {
      variable: (value) => this.string(value),
      attribute: (logicalId, attribute) => this.string({ 'Fn::GetAtt': [logicalId, attribute] }),
      ref: (name) => this.ref(name),
    });
  }

  private findInMap(args: unknown[]): string {
    const [mapName, first, second] = args;
    const mapping = typeof mapName === 'string' ? this.template.Mappings?.[mapName] : undefined;
    if (mapping === undefined) {
      return this.bound(`Fn::FindInMap ${JSON.stringify(mapName)}`);
    }
    if (typeof first === 'string' && typeof second === 'string' && mapping[first]?.[second] !== undefined) {
      return this.string(mapping[first][second]);
    }
    return longest(Object.values(mapping).flatMap((row) => Object.values(row)).map((item) => this.string(item)));
  }

  private typeOf(logicalId: string): string {
    return this.template.Resources[logicalId]?.Type ?? `unknown resource ${logicalId}`;
  }

  private bound(kind: string, known?: number): string {
    if (known !== undefined) {
      return filler(known);
    }
    this.unknownTokens.push({ kind });
    return filler(UNKNOWN_TOKEN_BOUND);
  }
}

function isIntrinsic(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return false;
  }
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'));
}

/** A literal list index (a number, or a string of digits), else undefined. */
/** How `substitute` resolves each kind of `${...}` of an `Fn::Sub`. */
export interface SubstitutionResolvers {
  /** A variable of the `Fn::Sub` variable map. */
  readonly variable: (value: unknown) => string;
  /** `${LogicalId.Attribute}`. */
  readonly attribute: (logicalId: string, attribute: string) => string;
  /** `${LogicalId}` or `${AWS::Pseudo}`. */
  readonly ref: (name: string) => string;
}

/** The text of an `Fn::Sub` (string or `[string, variables]`), each `${...}` resolved; `${!x}` is the literal `${x}`. */
export function substitute(args: unknown, resolvers: SubstitutionResolvers): string {
  const [text, variables] = Array.isArray(args) ? args as [string, Record<string, unknown>?] : [String(args), undefined];
  return text.replace(/\$\{(!?)([^}]*)\}/g, (_match, literal: string, name: string) => {
    if (literal === '!') return `\${${name}}`;
    if (variables?.[name] !== undefined) return resolvers.variable(variables[name]);
    if (name.includes('.') && !name.startsWith('AWS::')) {
      const [logicalId, ...attribute] = name.split('.');
      return resolvers.attribute(logicalId, attribute.join('.'));
    }
    return resolvers.ref(name);
  });
}

export function literalIndex(index: unknown): number | undefined {
  if (typeof index === 'number') {
    return index;
  }
  return typeof index === 'string' && /^\d+$/.test(index) ? Number(index) : undefined;
}

function filler(length: number): string {
  return 'x'.repeat(length);
}

/** The value with the longest text (JSON for documents); '' for none. */
function longest<T>(values: T[]): T | string {
  const size = (value: T | string): number => (typeof value === 'string' ? value.length : JSON.stringify(value)?.length ?? 0);
  return values.reduce<T | string>((best, value) => (size(value) > size(best) ? value : best), '');
}

/** Characters of a policy document as IAM counts them: its JSON without whitespace. */
export function policyCharacters(resolver: UpperBoundResolver, document: unknown): number {
  return JSON.stringify(resolver.document(document)).length;
}
