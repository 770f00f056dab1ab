import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { encryptedLogGroup } from './encryption';
import { LAMBDA_DEFAULTS, LOG_RETENTION_DEFAULT } from './lambda-defaults';
import { ManagedPolicyRole } from './managed-policy-role';
import { mergeProps } from './merge';
import { acknowledgeNagFindings, acknowledgeRule } from './nag';

export interface LibraryFunctionOptions {
  /** The code; a reference handler asset from `handlerAsset()` or the user's own. */
  readonly code: lambda.Code;
  /** @default 'index.handler' */
  readonly handler?: string;
  /** Environment the construct requires (table names, ...); wins over `functionProps.environment`. */
  readonly environment?: Record<string, string>;
  /** Powertools service name. */
  readonly serviceName: string;
  readonly description?: string;
  /** User overrides, merged over the defaults. */
  readonly functionProps?: lambda.FunctionOptions;
  /** @default three months */
  readonly logRetention?: logs.RetentionDays;
  /**
   * For a function the user cannot tune (no `functionProps` of theirs): when it runs, which is why
   * it needs neither reserved concurrency nor a VPC. @default - the user tunes it through `functionProps`
   */
  readonly runsOnlyWhen?: string;
}

/** A function built by the factory with what was created for it. */
export interface LibraryFunction {
  readonly function: lambda.Function;
  readonly logGroup: logs.ILogGroup;
  readonly role: iam.IRole;
}

/**
 * The one function factory of the library: Node.js 24 on arm64, X-Ray active tracing,
 * JSON logs into its own log group with finite retention, and a role that can write to that
 * log group only (no AWS managed policy), so every grant added later is visible and scoped. The
 * role's grants go to a customer-managed policy of its own (`ManagedPolicyRole`), not inline.
 */
export function createLibraryFunction(scope: Construct, id: string, options: LibraryFunctionOptions): LibraryFunction {
  const user = options.functionProps ?? {};
  const ownLogGroup = user.logGroup === undefined
    ? encryptedLogGroup(scope, `${id}LogGroup`, {
      retention: options.logRetention ?? LOG_RETENTION_DEFAULT,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    : undefined;
  const role = user.role ?? new ManagedPolicyRole(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of ${scope.node.path}/${id}`,
  });
  ownLogGroup?.grantWrite(role);

  const fn = new lambda.Function(scope, id, mergeProps<lambda.FunctionProps>(
    { ...LAMBDA_DEFAULTS, description: options.description },
    user,
    {
      code: options.code,
      handler: options.handler ?? 'index.handler',
      logGroup: user.logGroup ?? ownLogGroup,
      role,
      environment: {
        POWERTOOLS_SERVICE_NAME: options.serviceName,
        // Stack traces in the logs point at the sources through the maps shipped beside the
        // bundles. It costs about 20 ms of cold start; `functionProps.environment` may turn it off.
        NODE_OPTIONS: '--enable-source-maps',
        ...user.environment,
        ...options.environment,
      },
    },
  ));

  if (user.role === undefined && user.vpc !== undefined) grantNetworkInterfaces(role);
  if (user.role === undefined && (user.tracing ?? LAMBDA_DEFAULTS.tracing) !== lambda.Tracing.DISABLED) {
    const fileSystemNote = user.filesystem
      ? ' The EFS ClientMount/ClientWrite statements CDK adds are on * but conditioned on elasticfilesystem:AccessPointArn of this access point.'
      : ' Every other statement of this role names its resource.';
    acknowledgeNagFindings(role, [{
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.${vpcNote(user)}${fileSystemNote}`,
    }]);
  }
  acknowledgeOptionalControls(fn, user, options.runsOnlyWhen);
  return { function: fn, logGroup: fn.logGroup, role };
}

/**
 * The stricter packs (NIST 800-53, HIPAA) want reserved concurrency and a VPC on every function.
 * Both cost something a library default must not impose (see the reasons), so they are options;
 * the findings are acknowledged only where the option is not taken.
 */
function acknowledgeOptionalControls(fn: lambda.Function, user: lambda.FunctionOptions, runsOnlyWhen: string | undefined): void {
  if (user.reservedConcurrentExecutions === undefined) {
    acknowledgeRule(fn, 'LambdaConcurrency', runsOnlyWhen !== undefined
      ? `It runs only ${runsOnlyWhen}; a reservation would take capacity from the account's pool (and fails to deploy where fewer than 10 executions would stay unreserved) without bounding anything.`
      : 'Reserved concurrency is a share of the account\'s Regional pool: a default would throttle this function below its load or starve the account\'s other functions, and any reservation fails to deploy where fewer than 10 executions would stay unreserved (new accounts). Its load is bounded where it enters (API throttling, the event source mapping, the schedule). Set functionProps.reservedConcurrentExecutions to cap it.');
  }
  if (user.vpc === undefined) {
    acknowledgeRule(fn, 'LambdaInsideVPC', runsOnlyWhen !== undefined
      ? `It runs only ${runsOnlyWhen} and calls AWS service APIs only, over TLS with SigV4-signed requests; in a VPC it would need an interface endpoint per service (an hourly cost per endpoint and AZ) or a NAT gateway.`
      : 'It calls AWS service APIs (and a periodic job its source API) over TLS with signed or authenticated requests only; in a VPC it needs an interface endpoint per service (an hourly cost per endpoint and AZ) or a NAT gateway. Set functionProps.vpc, with those endpoints, to run it in one.');
  }
}

/**
 * What Lambda needs to attach a function to a VPC, in place of the AWS managed
 * AWSLambdaVPCAccessExecutionRole (which also grants log writes to every log group of the
 * account): the network interface actions on this account's and Region's EC2 resources, as the
 * Lambda guide scopes them, and the two Describe actions, which take no resource.
 */
function grantNetworkInterfaces(role: iam.IRole): void {
  const stack = Stack.of(role);
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
    resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:*/*`],
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
    resources: ['*'],
  }));
  acknowledgeNagFindings(role, [{
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:*/*]',
    reason: 'Lambda creates, deletes and re-addresses the function\'s network interfaces in this account and Region; their ids are not known before Lambda creates them (the scope the Lambda guide gives for these actions).',
  }]);
}

function vpcNote(user: lambda.FunctionOptions): string {
  return user.vpc !== undefined ? ' EC2 DescribeNetworkInterfaces and DescribeSubnets, which Lambda needs for a function in a VPC, take no resource either.' : '';
}
