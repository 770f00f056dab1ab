import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_DEFAULTS, LOG_RETENTION_DEFAULT } from './lambda-defaults';
import { mergeProps } from './merge';
import { acknowledgeNagFindings } from './nag';

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
 * log group only (no AWS managed policy), so every grant added later is visible and scoped.
 */
export function createLibraryFunction(scope: Construct, id: string, options: LibraryFunctionOptions): LibraryFunction {
  const user = options.functionProps ?? {};
  const ownLogGroup = user.logGroup === undefined
    ? new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: options.logRetention ?? LOG_RETENTION_DEFAULT,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    : undefined;
  const role = user.role ?? new iam.Role(scope, `${id}Role`, {
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

  if (user.role === undefined && user.vpc !== undefined) {
    // A function in a VPC needs its role to create and delete its network interfaces; CDK adds
    // this policy only to roles it creates itself.
    role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    acknowledgeNagFindings(role, [{
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason: 'The AWS-maintained policy Lambda needs to manage the network interfaces of a function in a VPC (ec2:CreateNetworkInterface and friends, which take no resource-level permissions at create time).',
    }]);
  }
  if (user.role === undefined && (user.tracing ?? LAMBDA_DEFAULTS.tracing) !== lambda.Tracing.DISABLED) {
    const fileSystemNote = user.filesystem
      ? ' The EFS ClientMount/ClientWrite statements CDK adds are on * but conditioned on elasticfilesystem:AccessPointArn of this access point.'
      : ' Every other statement of this role names its resource.';
    acknowledgeNagFindings(role, [{
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.${fileSystemNote}`,
    }]);
  }
  return { function: fn, logGroup: fn.logGroup, role };
}
