import { RemovalPolicy, Size, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AlarmFactory } from '../core/alarms';
import { addApiHandlerAlarms, createPatternApi, SYNCHRONOUS_INVOKE_ACKNOWLEDGEMENTS } from '../core/api-service';
import { selectIntoBackupPlan } from '../core/backup';
import { CanaryDeployment } from '../core/canary-deployment';
import { PatternEncryptionProps, usePatternKey } from '../core/encryption';
import { assertExclusive, assertIntegerInRange, InvalidPropsError } from '../core/errors';
import { mergeProps } from '../core/merge';
import { ALARM_PERIOD } from '../core/metrics';
import { acknowledgeRule } from '../core/nag';
import { completeOperations, PatternOperationsProps, patternDeployment } from '../core/operations';
import { PatternCodeProps, PatternHandlerProps, patternHandler, validatePatternProps } from '../core/pattern-props';
import { collectionApiEnvironment, CollectionApiProps, validateCollectionApiProps } from '../core/resource-api';
import { SecureRestApi, SecureRestApiProps } from '../core/secure-rest-api';
import { patternNetwork, PatternVpcProps, PrivateServiceVpc } from '../core/vpc';

/** Settings of the created file system; everything else follows the library defaults. */
export interface FileStorageFileSystemOptions {
  /** @default efs.ThroughputMode.ELASTIC */
  readonly throughputMode?: efs.ThroughputMode;
  /** Only with `ThroughputMode.PROVISIONED`. @default - none */
  readonly provisionedThroughputPerSecond?: Size;
  /** @default efs.PerformanceMode.GENERAL_PURPOSE */
  readonly performanceMode?: efs.PerformanceMode;
  /** @default efs.LifecyclePolicy.AFTER_30_DAYS */
  readonly lifecyclePolicy?: efs.LifecyclePolicy;
  /** @default efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS */
  readonly outOfInfrequentAccessPolicy?: efs.OutOfInfrequentAccessPolicy;
  /** @default - no transition to Archive */
  readonly transitionToArchivePolicy?: efs.LifecyclePolicy;
  /** @default - the AWS managed key for EFS */
  readonly kmsKey?: kms.IKey;
  /** Put the file system in AWS Backup's default EFS plan (daily, kept 35 days). @default true */
  readonly enableAutomaticBackups?: boolean;
  /**
   * An AWS Backup plan of yours to select the file system into (for example with your own
   * schedule, retention or vault), besides or instead of the automatic backups.
   * @default - none: the automatic backups only
   */
  readonly backupPlan?: backup.IBackupPlan;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Props of `FileStorageService`. The function is created here (a Lambda file system mount and
 * VPC placement are set at creation), so it takes your `code`, not an existing function.
 */
export interface FileStorageServiceProps extends PatternCodeProps, PatternVpcProps, CollectionApiProps, PatternOperationsProps,
  PatternEncryptionProps {
  /**
   * Serve this file system (it must have mount targets in the function's subnets and a security
   * group). Its file system policy stays yours: see the README for the statements to add.
   * @default - a new file system
   */
  readonly existingFileSystem?: efs.IFileSystem;
  /** Settings of the created file system. @default - elastic throughput, IA after 30 days, backups, RETAIN */
  readonly fileSystemOptions?: FileStorageFileSystemOptions;
  /** POSIX identity every file operation of the function runs as. @default uid 1001, gid 1001 */
  readonly posixUser?: efs.PosixUser;
  /** Directory of the file system the access point exposes as its root; created with the POSIX owner. @default '/files' */
  readonly rootDirectoryPath?: string;
  /** Octal mode of that directory when it is created. @default '750' */
  readonly rootDirectoryPermissions?: string;
  /** Where the function sees the access point (Lambda requires `/mnt/...`). @default '/mnt/data' */
  readonly mountPath?: string;

  /** Largest file the API accepts (413 above); at most 4 MiB, Lambda's 6 MB payload after base64. @default Size.mebibytes(4) */
  readonly maxFileSize?: Size;

  /** Props of the API building block (binary media types are always `*\/*`). @default - REGIONAL, IAM auth, 100 rps */
  readonly apiProps?: SecureRestApiProps;
  /** Alarm when NFS client connections reach this many (each warm function instance holds one). @default 500 */
  readonly clientConnectionsThreshold?: number;
  /** Alarm when throughput utilization stays above this percent for 15 minutes. @default 80 */
  readonly throughputUtilizationThresholdPercent?: number;
  /** With BURSTING throughput: alarm when the burst credit balance falls below this. @default Size.gibibytes(100) */
  readonly burstCreditBalanceThreshold?: Size;
}

/** Environment variables the handler (reference or yours) receives; documented in README.md. */
const FileStorageEnvironment = {
  MOUNT_PATH: 'MOUNT_PATH',
  MAX_FILE_BYTES: 'MAX_FILE_BYTES',
} as const;

const NAME = 'FileStorageService';
const MAX_FILE_BYTES_LIMIT = 4 * 1024 * 1024;
const MOUNT_PATH_PATTERN = /^\/mnt\/[A-Za-z0-9._-]+$/;
const ROOT_DIRECTORY_PATTERN = /^(\/[A-Za-z0-9._-]+)+$/;
const POSIX_ID_PATTERN = /^\d{1,10}$/;
const MODE_PATTERN = /^[0-7]{3,4}$/;
const NFS_PORT = 2049;

/**
 * A file API on shared persistent storage: API Gateway REST API -> Lambda in a VPC -> EFS access
 * point. The function mounts the file system through an access point that pins its POSIX
 * identity and root directory; NFS is open only from the function's security group; the file
 * system policy requires TLS and admits only this function's role, without root access.
 */
export class FileStorageService extends Construct {
  public readonly restApi: SecureRestApi;
  public readonly api: apigw.RestApi;
  public readonly handler: lambda.IFunction;
  /** The handler's log group; undefined for your own log group in `functionProps`. */
  public readonly logGroup?: logs.ILogGroup;
  public readonly vpc: ec2.IVpc;
  /** The created network building block; undefined with `existingVpc`. */
  public readonly privateServiceVpc?: PrivateServiceVpc;
  public readonly fileSystem: efs.IFileSystem;
  public readonly accessPoint: efs.AccessPoint;
  /** The function's security group: egress to NFS on the file system only. */
  public readonly functionSecurityGroup: ec2.ISecurityGroup;
  public readonly mountPath: string;
  /** The customer-managed key of the pattern's log groups and secrets. */
  public readonly encryptionKey: kms.IKey;
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The CodeDeploy deployment of the handler when `deployment` is set. */
  public readonly deployment?: CanaryDeployment;

  constructor(scope: Construct, id: string, props: FileStorageServiceProps = {}) {
    super(scope, id);
    this.encryptionKey = usePatternKey(this, props.encryptionKey);
    validate(props);
    this.mountPath = props.mountPath ?? '/mnt/data';

    const network = patternNetwork(this, NAME, props);
    this.vpc = network.vpc;
    this.privateServiceVpc = network.privateServiceVpc;

    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: `${this.node.path} function: NFS to its file system only`,
      allowAllOutbound: false,
    });
    const created = props.existingFileSystem ? undefined : this.createFileSystem(props, network.functionSubnets);
    this.fileSystem = props.existingFileSystem ?? created!;
    // Lambda's mount also opens this rule, but the pattern states it: NFS from the function only.
    this.fileSystem.connections.allowFrom(this.functionSecurityGroup, ec2.Port.tcp(NFS_PORT), 'NFS from the file API function');

    const posixUser = props.posixUser ?? { uid: '1001', gid: '1001' };
    this.accessPoint = new efs.AccessPoint(this, 'AccessPoint', {
      fileSystem: this.fileSystem,
      path: props.rootDirectoryPath ?? '/files',
      posixUser,
      createAcl: { ownerUid: posixUser.uid, ownerGid: posixUser.gid, permissions: props.rootDirectoryPermissions ?? '750' },
    });

    ({ handler: this.handler, logGroup: this.logGroup } = patternHandler(this, props, {
      referenceAsset: 'efs/files',
      serviceName: 'files',
      description: `${this.node.path}: file API on EFS`,
      environment: this.handlerEnvironment(props),
      functionRequired: {
        vpc: this.vpc,
        vpcSubnets: network.functionSubnets,
        securityGroups: [this.functionSecurityGroup],
        filesystem: lambda.FileSystem.fromEfsAccessPoint(this.accessPoint, this.mountPath),
      },
      nagAcknowledgements: SYNCHRONOUS_INVOKE_ACKNOWLEDGEMENTS,
    }));
    if (created) this.restrictFileSystemPolicy(created);

    this.restApi = createPatternApi(this, NAME, props, {
      restApiProps: mergeProps<apigw.RestApiProps>({}, props.apiProps?.restApiProps, { binaryMediaTypes: ['*/*'] }),
    });
    this.api = this.restApi.api;
    const { deployment, invokeTarget } = patternDeployment(this, NAME, this.handler, props.alarmTopic, props.deployment);
    this.deployment = deployment;
    this.restApi.addLambdaRoute('/files', invokeTarget);
    this.restApi.addLambdaRoute('/files/{path+}', invokeTarget);

    const alarms = new AlarmFactory(this, props.alarmTopic);
    addApiHandlerAlarms(alarms, this.handler, this.node.path);
    this.addFileSystemAlarms(alarms, props);
    ({ alarms: this.alarms, dashboard: this.dashboard } = completeOperations(this, props, [...this.restApi.alarms, ...alarms.alarms], [
      { deployment, rollbackAlarms: this.restApi.rollbackAlarms },
    ]));
  }

  /** The invoke URL of the file collection, e.g. `https://.../prod/files`. */
  public get url(): string {
    return `${this.restApi.url}files`;
  }

  /** Lets `grantee` call the API (`execute-api:Invoke` on its stage), for the default IAM authorization. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.restApi.grantInvoke(grantee);
  }

  private createFileSystem(props: FileStorageServiceProps, subnets: ec2.SubnetSelection): efs.FileSystem {
    const options = props.fileSystemOptions ?? {};
    const securityGroup = new ec2.SecurityGroup(this, 'FileSystemSecurityGroup', {
      vpc: this.vpc,
      description: `${this.node.path} file system: NFS from the function only`,
      allowAllOutbound: false,
    });
    const fileSystem = new efs.FileSystem(this, 'FileSystem', {
      vpc: this.vpc,
      vpcSubnets: subnets,
      securityGroup,
      encrypted: true,
      kmsKey: options.kmsKey,
      throughputMode: options.throughputMode ?? efs.ThroughputMode.ELASTIC,
      provisionedThroughputPerSecond: options.provisionedThroughputPerSecond,
      performanceMode: options.performanceMode ?? efs.PerformanceMode.GENERAL_PURPOSE,
      lifecyclePolicy: options.lifecyclePolicy ?? efs.LifecyclePolicy.AFTER_30_DAYS,
      outOfInfrequentAccessPolicy: options.outOfInfrequentAccessPolicy ?? efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
      transitionToArchivePolicy: options.transitionToArchivePolicy,
      enableAutomaticBackups: options.enableAutomaticBackups ?? true,
      removalPolicy: options.removalPolicy ?? RemovalPolicy.RETAIN,
      // The policy below names who may mount; CDK's default statement would let any IAM
      // principal of the account write and act as root through a mount target.
      allowAnonymousAccess: true,
      fileSystemPolicy: new iam.PolicyDocument(),
    });
    if (options.backupPlan) {
      selectIntoBackupPlan(this, 'FileSystemBackupSelection', options.backupPlan, [backup.BackupResource.fromEfsFileSystem(fileSystem)]);
    } else if (options.enableAutomaticBackups ?? true) {
      acknowledgeRule(fileSystem, 'EFSInBackupPlan',
        'Automatic backups put this file system in AWS Backup\'s default EFS plan (aws/efs/automatic-backup-plan: daily, kept 35 days), which AWS manages outside this template; fileSystemOptions.backupPlan selects it into a plan of yours.');
    }
    return fileSystem;
  }

  private restrictFileSystemPolicy(fileSystem: efs.FileSystem): void {
    fileSystem.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyWithoutTls',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      conditions: { Bool: { 'aws:SecureTransport': 'false' } },
    }));
    const role = this.handler.role;
    if (!role) return;
    // The access point cannot be named here: it references the file system, and this policy is
    // a property of the file system (a cycle). Any access point of this account is required
    // instead; the one the function mounts pins uid/gid and the root directory.
    fileSystem.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'FunctionMountsThroughAccessPoint',
      effect: iam.Effect.ALLOW,
      principals: [new iam.ArnPrincipal(role.roleArn)],
      actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      conditions: {
        Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' },
        ArnLike: { 'elasticfilesystem:AccessPointArn': `arn:${fileSystem.stack.partition}:elasticfilesystem:${fileSystem.stack.region}:${fileSystem.stack.account}:access-point/*` },
      },
    }));
  }

  private handlerEnvironment(props: FileStorageServiceProps): Record<string, string> {
    const env: Record<string, string> = {
      [FileStorageEnvironment.MOUNT_PATH]: this.mountPath,
      [FileStorageEnvironment.MAX_FILE_BYTES]: String((props.maxFileSize ?? Size.mebibytes(4)).toBytes()),
      ...collectionApiEnvironment(props),
    };
    return env;
  }

  private addFileSystemAlarms(alarms: AlarmFactory, props: FileStorageServiceProps): void {
    const efsMetric = (metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: 'AWS/EFS',
      metricName,
      dimensionsMap: { FileSystemId: this.fileSystem.fileSystemId },
      period: ALARM_PERIOD,
      statistic,
    });
    const connections = props.clientConnectionsThreshold ?? 500;
    alarms.add('ClientConnectionsAlarm', {
      metric: efsMetric('ClientConnections', cloudwatch.Stats.SUM),
      threshold: connections,
      description: `${this.node.path}: ${connections} or more NFS client connections in 5 minutes; each warm function instance holds one. Check the function's concurrency.`,
    });
    const utilization = props.throughputUtilizationThresholdPercent ?? 80;
    alarms.add('ThroughputUtilizationAlarm', {
      metric: new cloudwatch.MathExpression({
        // MeteredIOBytes is a sum over the period; PermittedThroughput is bytes per second.
        expression: `100 * (metered / ${ALARM_PERIOD.toSeconds()}) / MAX([permitted, 1])`,
        usingMetrics: {
          metered: efsMetric('MeteredIOBytes', cloudwatch.Stats.SUM),
          permitted: efsMetric('PermittedThroughput', cloudwatch.Stats.AVERAGE),
        },
        period: ALARM_PERIOD,
        label: 'Throughput utilization (%)',
      }),
      threshold: utilization,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      description: `${this.node.path}: the file system used more than ${utilization}% of its permitted throughput for 15 minutes; requests will slow down. Consider elastic or provisioned throughput.`,
    });
    if ((props.fileSystemOptions?.performanceMode ?? efs.PerformanceMode.GENERAL_PURPOSE) === efs.PerformanceMode.GENERAL_PURPOSE) {
      alarms.add('PercentIOLimitAlarm', {
        metric: efsMetric('PercentIOLimit', cloudwatch.Stats.MAXIMUM),
        threshold: 95,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        description: `${this.node.path}: the file system is near the I/O limit of General Purpose mode for 15 minutes.`,
      });
    }
    if (props.fileSystemOptions?.throughputMode === efs.ThroughputMode.BURSTING) {
      const credits = props.burstCreditBalanceThreshold ?? Size.gibibytes(100);
      alarms.add('BurstCreditBalanceAlarm', {
        metric: efsMetric('BurstCreditBalance', cloudwatch.Stats.MINIMUM),
        threshold: credits.toBytes(),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        description: `${this.node.path}: burst credits below ${credits.toGibibytes()} GiB; throughput falls to the baseline when they run out.`,
      });
    }
  }
}

function validate(props: FileStorageServiceProps): void {
  validatePatternProps(NAME, props);
  // The types leave existingFunction out; this stops callers without types.
  if ((props as PatternHandlerProps).existingFunction !== undefined) {
    throw new InvalidPropsError(NAME, 'existingFunction cannot be used: a Lambda file system mount and VPC placement are set when a function is created. Pass your code with code/handler (and functionProps) instead');
  }
  assertExclusive(NAME, props, 'existingFileSystem', 'fileSystemOptions');
  if (props.existingFileSystem && !props.existingVpc) {
    throw new InvalidPropsError(NAME, 'existingFileSystem needs existingVpc: the VPC that holds its mount targets');
  }
  for (const key of ['vpc', 'vpcSubnets', 'securityGroups', 'filesystem', 'allowPublicSubnet'] as const) {
    if (props.functionProps?.[key] !== undefined) {
      throw new InvalidPropsError(NAME, `functionProps.${key} is set by the pattern (network and mount); use existingVpc/vpcSubnets/mountPath instead`);
    }
  }
  if (props.mountPath !== undefined && (!MOUNT_PATH_PATTERN.test(props.mountPath) || ['/mnt/.', '/mnt/..'].includes(props.mountPath))) {
    throw new InvalidPropsError(NAME, `mountPath must be /mnt/<name> (Lambda mounts file systems under /mnt), got '${props.mountPath}' (not . or ..)`);
  }
  if (props.rootDirectoryPath !== undefined && (!ROOT_DIRECTORY_PATTERN.test(props.rootDirectoryPath) || props.rootDirectoryPath.split('/').some((s) => s === '.' || s === '..'))) {
    throw new InvalidPropsError(NAME, `rootDirectoryPath must be an absolute path below / without . or .. segments (the root of the file system is never exposed), got '${props.rootDirectoryPath}'`);
  }
  if (props.rootDirectoryPermissions !== undefined && !MODE_PATTERN.test(props.rootDirectoryPermissions)) {
    throw new InvalidPropsError(NAME, `rootDirectoryPermissions must be an octal mode such as '750', got '${props.rootDirectoryPermissions}'`);
  }
  if (props.posixUser) {
    for (const [key, value] of [['uid', props.posixUser.uid], ['gid', props.posixUser.gid]] as const) {
      if (!Token.isUnresolved(value) && (!POSIX_ID_PATTERN.test(value) || value === '0')) {
        throw new InvalidPropsError(NAME, `posixUser.${key} must be a numeric id other than 0 (root), got '${value}'`);
      }
    }
  }
  if (props.maxFileSize !== undefined) {
    const bytes = props.maxFileSize.toBytes();
    if (!Token.isUnresolved(bytes) && (bytes < 1 || bytes > MAX_FILE_BYTES_LIMIT)) {
      throw new InvalidPropsError(NAME, `maxFileSize must be 1 byte..4 MiB (Lambda's 6 MB payload limit after base64), got ${bytes} bytes`);
    }
  }
  validateCollectionApiProps(NAME, props);
  assertIntegerInRange(NAME, 'clientConnectionsThreshold', props.clientConnectionsThreshold, 1, 1_000_000);
  const utilization = props.throughputUtilizationThresholdPercent;
  if (utilization !== undefined && !(utilization > 0 && utilization <= 100)) {
    throw new InvalidPropsError(NAME, `throughputUtilizationThresholdPercent must be in (0, 100], got ${utilization}`);
  }
  if (props.burstCreditBalanceThreshold !== undefined && props.fileSystemOptions?.throughputMode !== efs.ThroughputMode.BURSTING) {
    throw new InvalidPropsError(NAME, 'burstCreditBalanceThreshold applies only to fileSystemOptions.throughputMode BURSTING (elastic and provisioned throughput have no burst credits)');
  }
}
