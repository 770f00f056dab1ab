import { join } from 'node:path';
import { ArnFormat, CfnElement, CustomResource, Duration, FileSystem, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AlarmFactory } from '../core/alarms';
import { ApiAuthorizationKind } from '../core/api-authorization';
import { addApiHandlerAlarms, createPatternApi, SYNCHRONOUS_INVOKE_ACKNOWLEDGEMENTS } from '../core/api-service';
import { referenceHandlerCode } from '../core/assets';
import { selectIntoBackupPlan } from '../core/backup';
import { CanaryDeployment } from '../core/canary-deployment';
import { stackUuidHead } from '../core/deployment-names';
import { encryptedLogGroup, PatternEncryptionProps, usePatternKey } from '../core/encryption';
import { assertExclusive, assertIntegerInRange, InvalidPropsError } from '../core/errors';
import { createLibraryFunction } from '../core/function';
import { LOG_RETENTION_DEFAULT } from '../core/lambda-defaults';
import { ManagedPolicyRole, servicePrincipalFor } from '../core/managed-policy-role';
import { ALARM_PERIOD } from '../core/metrics';
import { acknowledgeNagFindings, acknowledgeRule, ruleAcknowledgements } from '../core/nag';
import { completeOperations, PatternOperationsProps, patternDeployment } from '../core/operations';
import { PatternCodeProps, PatternHandlerProps, patternHandler, validatePatternProps } from '../core/pattern-props';
import { checkItemOwnerClaimAtSynth, resourceApiEnvironment, ResourceApiProps, validateResourceApiProps } from '../core/resource-api';
import { SecureRestApi, SecureRestApiProps } from '../core/secure-rest-api';
import { patternNetwork, PatternVpcProps, PrivateServiceVpc } from '../core/vpc';

/** The Aurora Serverless v2 PostgreSQL cluster the pattern creates. */
export interface RelationalDatabaseOptions {
  /** @default rds.AuroraPostgresEngineVersion.VER_17_5 */
  readonly engineVersion?: rds.AuroraPostgresEngineVersion;
  /** Smallest capacity in ACUs (0 pauses when idle, 0.5 is the smallest always-on). @default 0.5 */
  readonly minCapacity?: number;
  /** @default 4 */
  readonly maxCapacity?: number;
  /** A reader instance in another AZ that scales with the writer (faster failover). @default false */
  readonly reader?: boolean;
  /** @default 'app' */
  readonly databaseName?: string;
  /** @default Duration.days(7) */
  readonly backupRetention?: Duration;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** @default RemovalPolicy.SNAPSHOT */
  readonly removalPolicy?: RemovalPolicy;
  /** How often Secrets Manager rotates the generated passwords. @default Duration.days(30) */
  readonly rotationSchedule?: Duration;
  /**
   * Enhanced monitoring of each instance: how often RDS collects its OS metrics into the
   * `RDSOSMetrics` log group (0, 1, 5, 10, 15, 30 or 60 seconds; 0 turns it off).
   * @default Duration.seconds(60)
   */
  readonly monitoringInterval?: Duration;
  /**
   * An AWS Backup plan that backs up the cluster too (a selection of the cluster is added to it);
   * the cluster's own automated backups (`backupRetention`) stay on.
   * @default - none: the cluster's automated backups only
   */
  readonly backupPlan?: backup.IBackupPlan;
}

/** The RDS Proxy settings. */
export interface RelationalProxyOptions {
  /** Close client connections idle this long. @default Duration.minutes(30) */
  readonly idleClientTimeout?: Duration;
  /** Share of the database's max_connections the proxy may open. @default 90 */
  readonly maxConnectionsPercent?: number;
  /** Wait this long for a free database connection before failing the client. @default Duration.seconds(30) */
  readonly borrowTimeout?: Duration;
}

/**
 * Props of `RelationalMicroservice`. The function is created here (it is placed in the VPC and
 * granted proxy access at creation), so it takes your `code`, not an existing function.
 */
export interface RelationalMicroserviceProps extends PatternCodeProps, PatternVpcProps, ResourceApiProps, PatternOperationsProps,
  PatternEncryptionProps {
  /** Serve this Aurora PostgreSQL cluster (with `existingAdminSecret`, its admin credentials) instead of creating one. @default - a new cluster */
  readonly existingCluster?: rds.IDatabaseCluster;
  /** The admin secret (`username`, `password`) of `existingCluster`. @default - the generated secret of the created cluster */
  readonly existingAdminSecret?: secretsmanager.ISecret;
  /** Settings of the created cluster. @default - 0.5..4 ACUs, writer only, encrypted, IAM auth, deletion protection, 7-day backups */
  readonly databaseOptions?: RelationalDatabaseOptions;
  /** Settings of the proxy. @default - TLS required, IAM auth, 30 min idle timeout, 90% of max connections */
  readonly proxyOptions?: RelationalProxyOptions;
  /** Database user the API connects as, created by the migrations with DML rights only. @default 'app_user' */
  readonly apiDatabaseUser?: string;
  /** A local directory of `NNNN_name.sql` files applied instead of the reference schema (shipped as a layer). @default - the reference schema */
  readonly migrationsDirectory?: string;

  /** Props of the API building block: endpoint type, authorization, throttling, cache, usage plan, resource policy, CORS, WAF. @default - REGIONAL, IAM auth, 100 rps */
  readonly apiProps?: SecureRestApiProps;
  /** Alarm when the proxy's client connections reach this many. @default 500 */
  readonly clientConnectionsThreshold?: number;
  /** Alarm when borrowing a database connection takes longer on average. @default Duration.millis(100) */
  readonly borrowLatencyThreshold?: Duration;
}

const NAME = 'RelationalMicroservice';
const POSTGRES_PORT = 5432;
const ADMIN_USER = 'postgres';
const DB_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
/** The enhanced monitoring intervals RDS accepts, in seconds (0: off). */
const MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60];
const REFERENCE_MIGRATIONS = join(__dirname, '..', '..', 'assets', 'rds-proxy', 'migrate', 'migrations');
const USER_MIGRATIONS_MOUNT = '/opt';
const MIGRATIONS_INVOKED_SYNCHRONOUSLY = 'CDK\'s provider framework invokes this function synchronously and reports its error to CloudFormation, which fails the deployment.';

/**
 * The resource API on PostgreSQL: API Gateway REST API -> Lambda in a VPC -> RDS Proxy (TLS, IAM
 * auth) -> Aurora Serverless v2 PostgreSQL. Security groups chain function -> proxy -> database on
 * 5432 only; no password is in any function's environment; migrations run at deploy time.
 */
export class RelationalMicroservice extends Construct {
  public readonly restApi: SecureRestApi;
  public readonly api: apigw.RestApi;
  public readonly handler: lambda.IFunction;
  public readonly logGroup?: logs.ILogGroup;
  public readonly vpc: ec2.IVpc;
  public readonly privateServiceVpc?: PrivateServiceVpc;
  /** The created cluster; undefined with `existingCluster`. */
  public readonly cluster?: rds.DatabaseCluster;
  public readonly adminSecret: secretsmanager.ISecret;
  /** Credentials of the API's database user (read by the proxy and the migrations, never by the API). */
  public readonly apiUserSecret: secretsmanager.ISecret;
  public readonly proxy: rds.DatabaseProxy;
  public readonly functionSecurityGroup: ec2.ISecurityGroup;
  public readonly proxySecurityGroup: ec2.ISecurityGroup;
  public readonly migrationsFunction: lambda.IFunction;
  /** The custom resource that applies the migrations on every deployment that changes them. */
  public readonly migrations: CustomResource;
  public readonly resourceName: string;
  /** The customer-managed key of the pattern's log groups and secrets. */
  public readonly encryptionKey: kms.IKey;
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard?: cloudwatch.Dashboard;
  public readonly deployment?: CanaryDeployment;

  constructor(scope: Construct, id: string, props: RelationalMicroserviceProps = {}) {
    super(scope, id);
    this.encryptionKey = usePatternKey(this, props.encryptionKey);
    validate(props);
    this.resourceName = props.resourceName ?? 'items';
    const apiUser = props.apiDatabaseUser ?? 'app_user';

    const network = patternNetwork(this, NAME, props, [ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER]);
    this.vpc = network.vpc;
    this.privateServiceVpc = network.privateServiceVpc;
    const dataSubnets = network.privateServiceVpc?.dataSubnets ?? network.functionSubnets;

    const securityGroup = (sgId: string, description: string) =>
      new ec2.SecurityGroup(this, sgId, { vpc: this.vpc, description: `${this.node.path}: ${description}`, allowAllOutbound: false });
    this.functionSecurityGroup = securityGroup('FunctionSecurityGroup', 'API function, PostgreSQL to the proxy only');
    const migrationsSecurityGroup = securityGroup('MigrationsSecurityGroup', 'migrations function, PostgreSQL to the proxy and HTTPS to Secrets Manager');
    this.proxySecurityGroup = securityGroup('ProxySecurityGroup', 'RDS Proxy, PostgreSQL from the functions to the database');

    const databaseOptions = props.databaseOptions ?? {};
    let databaseConnections: ec2.Connections;
    let databaseSecurityGroup: ec2.SecurityGroup | undefined;
    if (props.existingCluster) {
      this.adminSecret = props.existingAdminSecret!;
      databaseConnections = props.existingCluster.connections;
    } else {
      databaseSecurityGroup = securityGroup('DatabaseSecurityGroup', 'Aurora PostgreSQL, from the proxy and the rotation functions');
      this.cluster = this.createCluster(databaseOptions, dataSubnets, databaseSecurityGroup);
      this.adminSecret = this.cluster.secret!;
      databaseConnections = this.cluster.connections;
    }
    this.apiUserSecret = new rds.DatabaseSecret(this, 'ApiUserSecret', { username: apiUser, encryptionKey: this.encryptionKey, excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\' });
    const rotations: secretsmanager.RotationSchedule[] = [];
    if (this.cluster) {
      const attached = (this.apiUserSecret as rds.DatabaseSecret).attach(this.cluster);
      rotations.push(
        this.addRotation(this.cluster.secret!, 'AdminSecretRotation', databaseOptions, network.functionSubnets, databaseConnections),
        this.addRotation(attached, 'ApiUserSecretRotation', databaseOptions, network.functionSubnets, databaseConnections),
      );
    }

    const proxyRole = this.createProxyRole();
    this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
      role: proxyRole,
      proxyTarget: rds.ProxyTarget.fromCluster(this.cluster ?? props.existingCluster!),
      secrets: [this.adminSecret, this.apiUserSecret],
      vpc: this.vpc,
      vpcSubnets: dataSubnets,
      securityGroups: [this.proxySecurityGroup],
      requireTLS: true,
      iamAuth: true,
      idleClientTimeout: props.proxyOptions?.idleClientTimeout ?? Duration.minutes(30),
      maxConnectionsPercent: props.proxyOptions?.maxConnectionsPercent ?? 90,
      borrowTimeout: props.proxyOptions?.borrowTimeout ?? Duration.seconds(30),
      debugLogging: false,
      // Proxy names are unique per account and region: derive one from the construct path.
      dbProxyName: Names.uniqueResourceName(this, { maxLength: 60, separator: '-' }).toLowerCase().replace(/^[^a-z]+/, ''),
    });
    // The proxy names only the role's ARN; this makes it wait for the role's policy too, so its
    // first login already may read the secrets.
    this.proxy.node.addDependency(proxyRole);
    // The proxy target opens the database port from the proxy's security group itself, as the
    // cluster's Endpoint.Port attribute (DatabaseCluster's default port, even with `port` set): a
    // token, which cdk-nag's port rules cannot read and report as a finding. The created cluster
    // listens on POSTGRES_PORT, so the rule says that literally. An existing cluster keeps its port.
    if (databaseSecurityGroup) pinTokenPorts(databaseSecurityGroup, POSTGRES_PORT);
    this.proxySecurityGroup.connections.allowFrom(this.functionSecurityGroup, ec2.Port.tcp(POSTGRES_PORT), 'PostgreSQL from the API function');
    this.proxySecurityGroup.connections.allowFrom(migrationsSecurityGroup, ec2.Port.tcp(POSTGRES_PORT), 'PostgreSQL from the migrations function');

    const databaseName = databaseOptions.databaseName ?? 'app';
    const connectionEnvironment = (user: string) => ({
      DB_HOST: this.proxy.endpoint,
      DB_PORT: String(POSTGRES_PORT),
      DB_NAME: databaseName,
      DB_USER: user,
      DB_IAM_AUTH: 'true',
      DB_TLS: 'verify-full',
    });
    const inVpc = (sg: ec2.ISecurityGroup): lambda.FunctionOptions => ({ vpc: this.vpc, vpcSubnets: network.functionSubnets, securityGroups: [sg] });

    const migrationsRun = this.createMigrations(props, connectionEnvironment(ADMIN_USER), inVpc(migrationsSecurityGroup), migrationsSecurityGroup);
    this.migrationsFunction = migrationsRun.function;
    this.migrations = migrationsRun.resource;
    // Creating a rotation schedule rotates at once, logging in as the secret's user: the API user
    // exists only once the migrations created it (an earlier rotation fails and leaves the secret
    // pending), and a new admin password while the migrations log in through the proxy could fail
    // the first deployment. So both schedules wait for the migrations.
    for (const rotation of rotations) rotation.node.addDependency(this.migrations);

    ({ handler: this.handler, logGroup: this.logGroup } = patternHandler(this, props, {
      referenceAsset: 'rds-proxy/api',
      serviceName: this.resourceName,
      description: `${this.node.path}: REST API for /${this.resourceName} on PostgreSQL`,
      environment: resourceApiEnvironment(NAME, props, connectionEnvironment(apiUser), props.apiProps?.cors?.allowOrigins),
      functionRequired: inVpc(this.functionSecurityGroup),
      nagAcknowledgements: SYNCHRONOUS_INVOKE_ACKNOWLEDGEMENTS,
    }));
    this.proxy.grantConnect(this.handler, apiUser);
    // New code reaches the API only after the schema it expects is in place.
    this.handler.node.addDependency(this.migrations);

    this.restApi = createPatternApi(this, NAME, props);
    this.api = this.restApi.api;
    checkItemOwnerClaimAtSynth(this, NAME, props.itemOwnerClaim, this.restApi);
    const { deployment, invokeTarget } = patternDeployment(this, NAME, this.handler, props.alarmTopic, props.deployment);
    this.deployment = deployment;
    this.restApi.addLambdaRoute(`/${this.resourceName}`, invokeTarget);
    this.restApi.addLambdaRoute(`/${this.resourceName}/{id}`, invokeTarget);

    const alarms = new AlarmFactory(this, props.alarmTopic);
    addApiHandlerAlarms(alarms, this.handler, this.node.path);
    this.addDatabaseAlarms(alarms, props);
    if (rotations.length > 0) this.addRotationFailureAlarm(alarms, [this.adminSecret, this.apiUserSecret]);
    ({ alarms: this.alarms, dashboard: this.dashboard } = completeOperations(this, props, [...this.restApi.alarms, ...alarms.alarms], [
      { deployment, rollbackAlarms: this.restApi.rollbackAlarms },
    ]));
  }

  /** The invoke URL of the collection, e.g. `https://.../prod/items`. */
  public get url(): string {
    return `${this.restApi.url}${this.resourceName}`;
  }

  /** Lets `grantee` call the API (`execute-api:Invoke` on its stage), for the default IAM authorization. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.restApi.grantInvoke(grantee);
  }

  /**
   * The role RDS Proxy assumes to read the database secrets. CDK's default role trusts
   * rds.amazonaws.com for any source; this one only for a proxy of this account and Region (the
   * proxy's own ARN carries an id RDS assigns at creation, and naming it here would be a cycle),
   * so RDS acting for another account cannot be made to use it (confused deputy).
   */
  private createProxyRole(): iam.IRole {
    const stack = Stack.of(this);
    return new ManagedPolicyRole(this, 'ProxyRole', {
      description: `${this.node.path}: RDS Proxy reads the database secrets`,
      assumedBy: servicePrincipalFor('rds.amazonaws.com', stack.account,
        stack.formatArn({ service: 'rds', resource: 'db-proxy', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
    });
  }

  private createCluster(options: RelationalDatabaseOptions, subnets: ec2.SubnetSelection, securityGroup: ec2.ISecurityGroup): rds.DatabaseCluster {
    // A known identifier lets the PostgreSQL log group exist, with its retention, before RDS writes
    // to it (otherwise RDS creates it without retention, or CDK needs its log-retention function).
    // The log group is retained, so the identifier carries the stack's UUID: the same stack deployed
    // again (after a deletion, or a first deploy that rolled back) must not claim the kept group's name.
    const clusterIdentifier = `${Names.uniqueResourceName(this, { maxLength: 50, separator: '-' }).toLowerCase().replace(/^[^a-z]+/, '')}-${stackUuidHead(this)}`;
    const postgresLogs = encryptedLogGroup(this, 'DatabaseLogs', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: LOG_RETENTION_DEFAULT,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const cluster = new rds.DatabaseCluster(this, 'Database', {
      clusterIdentifier,
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: options.engineVersion ?? rds.AuroraPostgresEngineVersion.VER_17_5 }),
      writer: rds.ClusterInstance.serverlessV2('Writer', { enablePerformanceInsights: true, autoMinorVersionUpgrade: true }),
      readers: options.reader ? [rds.ClusterInstance.serverlessV2('Reader', { scaleWithWriter: true, enablePerformanceInsights: true, autoMinorVersionUpgrade: true })] : [],
      serverlessV2MinCapacity: options.minCapacity ?? 0.5,
      serverlessV2MaxCapacity: options.maxCapacity ?? 4,
      vpc: this.vpc,
      vpcSubnets: subnets,
      securityGroups: [securityGroup],
      port: POSTGRES_PORT,
      // Instance level (each instance gets the interval), not enableClusterLevelEnhancedMonitoring.
      monitoringInterval: options.monitoringInterval ?? Duration.seconds(60),
      credentials: rds.Credentials.fromGeneratedSecret(ADMIN_USER, { encryptionKey: this.encryptionKey }),
      defaultDatabaseName: options.databaseName ?? 'app',
      storageEncrypted: true,
      iamAuthentication: true,
      deletionProtection: options.deletionProtection ?? true,
      backup: { retention: options.backupRetention ?? Duration.days(7) },
      removalPolicy: options.removalPolicy ?? RemovalPolicy.SNAPSHOT,
      cloudwatchLogsExports: ['postgresql'],
      copyTagsToSnapshot: true,
    });
    cluster.node.addDependency(postgresLogs);
    acknowledgeNagFindings(cluster, [{
      id: 'AwsSolutions-RDS11',
      reason: 'PostgreSQL listens on its standard port 5432; only the proxy security group may reach it, so a non-standard port adds no protection.',
    }]);
    // The check looks for the instance in a backup selection, which AWS Backup cannot do for Aurora.
    for (const instance of cluster.node.findAll().filter((c) => c instanceof rds.CfnDBInstance)) {
      acknowledgeRule(instance, 'RDSInBackupPlan', `AWS Backup and RDS back up Aurora at the cluster level, and an Aurora instance cannot be backed up on its own: the cluster keeps automated backups with point-in-time recovery for backupRetention days${options.backupPlan ? ' and is in databaseOptions.backupPlan' : '; databaseOptions.backupPlan adds it to an AWS Backup plan'}.`);
    }
    // CDK creates this role only for a non-zero monitoring interval.
    const monitoringRole = cluster.node.tryFindChild('MonitoringRole');
    if (monitoringRole) {
      acknowledgeNagFindings(monitoringRole, [{
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
        reason: 'The AWS-maintained policy that enhanced monitoring needs: it lets the RDS monitoring agent create and write the RDSOSMetrics log group (CloudWatch Logs actions on log groups named RDS* only), and AWS keeps it in step with what the agent writes. The role is assumed by monitoring.rds.amazonaws.com only; databaseOptions.monitoringInterval 0 removes it.',
      }]);
    }
    if (options.backupPlan) {
      selectIntoBackupPlan(this, 'DatabaseBackupSelection', options.backupPlan, [backup.BackupResource.fromRdsDatabaseCluster(cluster)]);
    }
    return cluster;
  }

  private addRotation(
    secret: secretsmanager.ISecret, rotationId: string, options: RelationalDatabaseOptions,
    subnets: ec2.SubnetSelection, databaseConnections: ec2.Connections,
  ): secretsmanager.RotationSchedule {
    const rotationSecurityGroup = new ec2.SecurityGroup(this, `${rotationId}SecurityGroup`, {
      vpc: this.vpc,
      description: `${this.node.path}: ${rotationId} function, PostgreSQL to the database and HTTPS to Secrets Manager`,
      allowAllOutbound: false,
    });
    databaseConnections.allowFrom(rotationSecurityGroup, ec2.Port.tcp(POSTGRES_PORT), `PostgreSQL from ${rotationId}`);
    this.allowToSecretsManager(rotationSecurityGroup);
    return secret.addRotationSchedule(rotationId, {
      automaticallyAfter: options.rotationSchedule ?? Duration.days(30),
      hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({
        vpc: this.vpc, vpcSubnets: subnets, securityGroups: [rotationSecurityGroup],
      }),
    });
  }

  /** HTTPS to the Secrets Manager endpoint of the created VPC (an existing VPC brings its own path). */
  private allowToSecretsManager(securityGroup: ec2.ISecurityGroup): void {
    this.privateServiceVpc?.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER).connections.allowDefaultPortFrom(securityGroup);
  }

  private createMigrations(
    props: RelationalMicroserviceProps, environment: Record<string, string>, network: lambda.FunctionOptions,
    securityGroup: ec2.ISecurityGroup,
  ): { function: lambda.IFunction; resource: CustomResource } {
    const userMigrations = props.migrationsDirectory;
    const layers = userMigrations ? [new lambda.LayerVersion(this, 'MigrationsLayer', {
      code: lambda.Code.fromAsset(userMigrations),
      description: `${this.node.path}: SQL migrations`,
    })] : undefined;
    const { function: fn } = createLibraryFunction(this, 'MigrationsFunction', {
      runsOnlyWhen: 'when CloudFormation creates or updates the migrations resource, once per deployment',
      code: referenceHandlerCode('rds-proxy/migrate'),
      serviceName: 'migrations',
      description: `${this.node.path}: applies the SQL migrations at deploy time`,
      environment: {
        ...environment,
        MIGRATIONS_DIR: userMigrations ? USER_MIGRATIONS_MOUNT : '/var/task/migrations',
        APP_USER_SECRET_ARN: this.apiUserSecret.secretArn,
      },
      functionProps: { ...network, layers, timeout: Duration.minutes(5) },
    });
    this.apiUserSecret.grantRead(fn);
    this.proxy.grantConnect(fn, ADMIN_USER);
    this.allowToSecretsManager(securityGroup);
    acknowledgeNagFindings(fn, [
      ...ruleAcknowledgements('LambdaDLQ', MIGRATIONS_INVOKED_SYNCHRONOUSLY),
      { id: 'Serverless-LambdaAsyncFailureDestination', reason: MIGRATIONS_INVOKED_SYNCHRONOUSLY },
    ]);

    const providerLogs = encryptedLogGroup(this, 'MigrationsProviderLogs', { retention: LOG_RETENTION_DEFAULT, removalPolicy: RemovalPolicy.RETAIN });
    const providerRole = new ManagedPolicyRole(this, 'MigrationsProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Lets CDK's provider framework of ${this.node.path} relay the migrations custom resource`,
    });
    providerLogs.grantWrite(providerRole);
    const provider = new cr.Provider(this, 'MigrationsProvider', { onEventHandler: fn, logGroup: providerLogs, frameworkOnEventRole: providerRole });
    acknowledgeNagFindings(providerRole, [{
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'The provider framework may invoke the migrations function and its versions, as CDK grants it.',
    }]);
    const framework = provider.node.tryFindChild('framework-onEvent');
    if (framework) {
      acknowledgeNagFindings(framework, [
        { id: 'Serverless-LambdaDefaultMemorySize', reason: 'CDK\'s provider framework function relays one event per deployment; its default memory is enough.' },
        ...ruleAcknowledgements('LambdaDLQ', 'CloudFormation invokes this custom-resource function asynchronously. CDK\'s provider framework reports every failure to CloudFormation\'s response URL, which fails the deployment; a copy of the event in a dead-letter queue would end nothing.'),
        { id: 'Serverless-LambdaTracing', reason: 'CDK\'s provider framework function; the migrations function it invokes is traced.' },
        ...ruleAcknowledgements('LambdaConcurrency',
          'CDK\'s provider framework function runs only when CloudFormation creates or updates the migrations resource; a reservation would take capacity from the account\'s pool without bounding anything.'),
        ...ruleAcknowledgements('LambdaInsideVPC',
          'CDK\'s provider framework function calls only Lambda (to invoke the migrations function, which is in the VPC) and CloudFormation\'s S3 response URL; from the isolated subnets it would need a Lambda endpoint and an S3 gateway endpoint.'),
      ]);
    }
    const resource = new CustomResource(this, 'Migrations', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SchemaMigrations',
      // A new fingerprint of the SQL files makes CloudFormation send Update: pending files are applied.
      properties: { MigrationsFingerprint: FileSystem.fingerprint(userMigrations ?? REFERENCE_MIGRATIONS) },
    });
    resource.node.addDependency(this.proxy);
    // The cluster and its instances, not the whole cluster construct: its secret's rotation
    // schedule is inside it and waits for the migrations itself.
    if (this.cluster) {
      resource.node.addDependency(...this.cluster.node.findAll().filter((c) => c instanceof rds.CfnDBCluster || c instanceof rds.CfnDBInstance));
    }
    return { function: fn, resource };
  }

  /**
   * Secrets Manager has no rotation metric: it reports a failed rotation as a CloudTrail service
   * event (`RotationFailed`), which reaches the account's default event bus with no trail needed.
   * A rule matches the two secrets' events and the alarm counts its matches (`TriggeredRules`, a
   * per-rule metric of the default bus), so the failure pages like every other alarm: on
   * `alarmTopic`, in `alarms` and on the dashboard. The rule has no target: the alarm is the one
   * notification (a topic target would page twice, and needs the topic's key to trust EventBridge).
   */
  private addRotationFailureAlarm(alarms: AlarmFactory, secrets: secretsmanager.ISecret[]): void {
    const rule = new events.Rule(this, 'SecretRotationFailed', {
      description: `${this.node.path}: Secrets Manager failed to rotate the admin or API user secret`,
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed'],
          additionalEventData: { SecretId: secrets.map((s) => s.secretArn) },
        },
      },
    });
    acknowledgeNagFindings(rule, [{
      id: 'Serverless-EventBusDLQ',
      reason: 'The rule has no target, so no delivery can fail: the alarm counts its matches (AWS/Events TriggeredRules) and is the notification.',
    }]);
    alarms.add('SecretRotationFailedAlarm', {
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Events', metricName: 'TriggeredRules', dimensionsMap: { RuleName: rule.ruleName }, period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM,
      }),
      threshold: 1,
      description: `${this.node.path}: Secrets Manager failed to rotate the admin or API user secret; the old password stays current. See the rotation function's logs (Secrets Manager console, the secret's rotation configuration) and rotate again.`,
    });
  }

  private addDatabaseAlarms(alarms: AlarmFactory, props: RelationalMicroserviceProps): void {
    const proxyMetric = (metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: 'AWS/RDS', metricName, dimensionsMap: { ProxyName: this.proxy.dbProxyName }, period: ALARM_PERIOD, statistic,
    });
    const connections = props.clientConnectionsThreshold ?? 500;
    alarms.add('ProxyClientConnectionsAlarm', {
      metric: proxyMetric('ClientConnections', cloudwatch.Stats.MAXIMUM),
      threshold: connections,
      description: `${this.node.path}: ${connections} or more client connections to RDS Proxy; each warm function instance holds one. Check the function's concurrency.`,
    });
    const borrow = props.borrowLatencyThreshold ?? Duration.millis(100);
    alarms.add('ProxyBorrowLatencyAlarm', {
      metric: proxyMetric('DatabaseConnectionsBorrowLatency', cloudwatch.Stats.AVERAGE),
      threshold: borrow.toMilliseconds() * 1000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      description: `${this.node.path}: borrowing a database connection from RDS Proxy took over ${borrow.toMilliseconds()} ms on average for 15 minutes: the pool is exhausted (raise maxConnectionsPercent or the ACUs).`,
    });
    if (!this.cluster) return;
    const clusterMetric = (metricName: string) => new cloudwatch.Metric({
      namespace: 'AWS/RDS', metricName, dimensionsMap: { DBClusterIdentifier: this.cluster!.clusterIdentifier }, period: ALARM_PERIOD, statistic: cloudwatch.Stats.AVERAGE,
    });
    alarms.add('DatabaseCpuAlarm', {
      metric: clusterMetric('CPUUtilization'),
      threshold: 80,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      description: `${this.node.path}: database CPU above 80% for 15 minutes.`,
    });
    alarms.add('DatabaseCapacityAlarm', {
      metric: clusterMetric('ACUUtilization'),
      threshold: 90,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      description: `${this.node.path}: Aurora Serverless v2 ran above 90% of its maximum capacity for 15 minutes; raise maxCapacity.`,
    });
  }
}

function validate(props: RelationalMicroserviceProps): void {
  validatePatternProps(NAME, props);
  validateResourceApiProps(NAME, props, props.apiProps?.authorization?.kind ?? ApiAuthorizationKind.IAM);
  // The types leave existingFunction out; this stops callers without types.
  if ((props as PatternHandlerProps).existingFunction !== undefined) {
    throw new InvalidPropsError(NAME, 'existingFunction cannot be used: the function is placed in the VPC and granted proxy access when it is created. Pass your code with code/handler instead');
  }
  assertExclusive(NAME, props, 'existingCluster', 'databaseOptions');
  if ((props.existingCluster === undefined) !== (props.existingAdminSecret === undefined)) {
    throw new InvalidPropsError(NAME, 'existingCluster and existingAdminSecret go together: the proxy needs the cluster and its admin credentials');
  }
  if (props.existingCluster && !props.existingVpc) {
    throw new InvalidPropsError(NAME, 'existingCluster needs existingVpc: the VPC of the cluster');
  }
  for (const key of ['vpc', 'vpcSubnets', 'securityGroups', 'allowPublicSubnet'] as const) {
    if (props.functionProps?.[key] !== undefined) {
      throw new InvalidPropsError(NAME, `functionProps.${key} is set by the pattern (network); use existingVpc/vpcSubnets instead`);
    }
  }
  if (props.apiDatabaseUser !== undefined && (!DB_IDENTIFIER.test(props.apiDatabaseUser) || props.apiDatabaseUser === ADMIN_USER)) {
    throw new InvalidPropsError(NAME, `apiDatabaseUser must be a lowercase PostgreSQL identifier other than '${ADMIN_USER}', got '${props.apiDatabaseUser}'`);
  }
  const db = props.databaseOptions ?? {};
  const min = db.minCapacity ?? 0.5;
  const max = db.maxCapacity ?? 4;
  if (!Token.isUnresolved(min) && !Token.isUnresolved(max)) {
    if (min < 0 || max > 256 || min > max || (min * 2) % 1 !== 0 || (max * 2) % 1 !== 0 || max < 1) {
      throw new InvalidPropsError(NAME, `databaseOptions capacities must be multiples of 0.5 ACU with 0 <= minCapacity <= maxCapacity <= 256 and maxCapacity >= 1, got ${min}..${max}`);
    }
  }
  if (db.databaseName !== undefined && !DB_IDENTIFIER.test(db.databaseName)) {
    throw new InvalidPropsError(NAME, `databaseOptions.databaseName must be a lowercase PostgreSQL identifier, got '${db.databaseName}'`);
  }
  const backupDays = db.backupRetention?.toDays();
  if (backupDays !== undefined && !Token.isUnresolved(backupDays) && (backupDays < 1 || backupDays > 35)) {
    throw new InvalidPropsError(NAME, `databaseOptions.backupRetention must be 1..35 days, got ${backupDays}`);
  }
  const monitoringSeconds = db.monitoringInterval?.toSeconds({ integral: false });
  if (monitoringSeconds !== undefined && !Token.isUnresolved(monitoringSeconds) && !MONITORING_INTERVALS.includes(monitoringSeconds)) {
    throw new InvalidPropsError(NAME, `databaseOptions.monitoringInterval must be one of 0, 1, 5, 10, 15, 30 or 60 seconds, got ${monitoringSeconds}`);
  }
  assertIntegerInRange(NAME, 'proxyOptions.maxConnectionsPercent', props.proxyOptions?.maxConnectionsPercent, 1, 100);
  assertIntegerInRange(NAME, 'clientConnectionsThreshold', props.clientConnectionsThreshold, 1, 1_000_000);
}

/**
 * Sets the port of every ingress rule of `securityGroup` whose port is a token (an attribute
 * resolved at deploy time) to `port`, the literal value that token resolves to.
 */
function pinTokenPorts(securityGroup: ec2.SecurityGroup, port: number): void {
  for (const child of securityGroup.node.children) {
    if (child instanceof ec2.CfnSecurityGroupIngress && (Token.isUnresolved(child.fromPort) || Token.isUnresolved(child.toPort))) {
      child.fromPort = port;
      child.toPort = port;
    }
  }
}
