import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { AlarmTopic, ApiAuthorization, RelationalMicroservice, RelationalMicroserviceProps } from '../../lib';
import { allowedPermissions } from '../helpers/iam';
import { nagFindings } from '../helpers/nag';

function build(props?: RelationalMicroserviceProps, extra?: (stack: Stack) => RelationalMicroserviceProps) {
  const stack = new Stack(new App(), 'Test');
  const service = new RelationalMicroservice(stack, 'Items', { ...props, ...extra?.(stack) });
  return { stack, service, template: Template.fromStack(stack) };
}

const sgRef = (name: string) => ({ 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^Items${name}SecurityGroup`)), 'GroupId'] });

/** The acknowledged finding ids and their reasons on `scope` itself, as `Validations.acknowledge` records them (ids without their `Annotation::` kind). */
function acknowledgements(scope: IConstruct): Record<string, string> {
  const recorded = scope.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
  return Object.fromEntries(recorded.flatMap((m) => Object.entries(m.data as Record<string, string>)).map(([id, reason]) => [id.replace(/^Annotation::/, ''), reason]));
}

const logicalIdOf = (template: Template, type: string, pattern: RegExp): string => {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  expect(ids).toHaveLength(1);
  return ids[0];
};

function apiFunction(template: Template): any {
  return Object.values(template.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment?.Variables?.RESOURCE_NAME);
}

describe('RelationalMicroservice defaults', () => {
  const { stack, service, template } = build();

  test('creates an isolated VPC: no NAT gateway, no internet gateway, flow logs', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
    expect(service.privateServiceVpc).toBeDefined();
  });

  test('places the functions in the Application subnets and the database and proxy in the Data subnets', () => {
    expect(JSON.stringify(apiFunction(template).Properties.VpcConfig.SubnetIds)).toMatch(/ApplicationSubnet1.*ApplicationSubnet2/);
    const subnetGroup = Object.values(template.findResources('AWS::RDS::DBSubnetGroup'))[0];
    expect(JSON.stringify(subnetGroup.Properties.SubnetIds)).toMatch(/DataSubnet1.*DataSubnet2/);
    const proxy = Object.values(template.findResources('AWS::RDS::DBProxy'))[0];
    expect(JSON.stringify(proxy.Properties.VpcSubnetIds)).toMatch(/DataSubnet1.*DataSubnet2/);
  });

  test('creates Aurora Serverless v2 PostgreSQL: encrypted, IAM auth, deletion protection, 7-day backups, 0.5..4 ACUs, logs with retention', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: '17.5',
      StorageEncrypted: true,
      EnableIAMDatabaseAuthentication: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 7,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
      DatabaseName: 'app',
      EnableCloudwatchLogsExports: ['postgresql'],
    });
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Snapshot', DependsOn: Match.arrayWith([Match.stringLikeRegexp('ItemsDatabaseLogs')]) });
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
    // The identifier (and so the retained log group's name) is new in every deployment of the stack.
    const uuidHead = { 'Fn::Select': [0, { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] }] };
    const [cluster] = Object.values(template.findResources('AWS::RDS::DBCluster'));
    expect(cluster.Properties.DBClusterIdentifier).toEqual({ 'Fn::Join': ['', [expect.stringMatching(/^test-items-[a-f0-9]{8}-$/), uuidHead]] });
    const identifierPrefix = cluster.Properties.DBClusterIdentifier['Fn::Join'][1][0] as string;
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: { 'Fn::Join': ['', [`/aws/rds/cluster/${identifierPrefix}`, uuidHead, '/postgresql']] }, RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
    });
  });

  test('rotates the admin and API user secrets every 30 days from inside the VPC', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      HostedRotationLambda: Match.objectLike({ RotationType: 'PostgreSQLSingleUser' }),
    });
  });

  test('the proxy requires TLS and IAM auth for both users, with the pool settings', () => {
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      IdleClientTimeout: 1800,
      DBProxyName: Match.stringLikeRegexp('^test-items-[a-f0-9]{8}$'),
      Auth: [
        { AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED', SecretArn: Match.anyValue() },
        { AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED', SecretArn: { Ref: Match.stringLikeRegexp('ItemsApiUserSecret') } },
      ],
    });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      ConnectionPoolConfigurationInfo: { MaxConnectionsPercent: 90, ConnectionBorrowTimeout: 30 },
    });
  });

  test('chains security groups function -> proxy -> database on 5432 only', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const egress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties);
    expect(ingress).toContainEqual(expect.objectContaining({ GroupId: sgRef('Proxy'), SourceSecurityGroupId: sgRef('Function'), FromPort: 5432, ToPort: 5432 }));
    expect(ingress).toContainEqual(expect.objectContaining({ GroupId: sgRef('Proxy'), SourceSecurityGroupId: sgRef('Migrations'), FromPort: 5432 }));
    // a literal port, not the cluster's Endpoint.Port attribute (a token that cdk-nag cannot read)
    expect(ingress).toContainEqual(expect.objectContaining({ GroupId: sgRef('Database'), SourceSecurityGroupId: sgRef('Proxy'), FromPort: 5432, ToPort: 5432 }));
    // the API function: one egress rule, 5432 to the proxy
    const functionEgress = egress.filter((e) => JSON.stringify(e.GroupId).includes('ItemsFunctionSecurityGroup'));
    expect(functionEgress).toEqual([expect.objectContaining({ DestinationSecurityGroupId: sgRef('Proxy'), FromPort: 5432, ToPort: 5432 })]);
    // the proxy reaches nothing but the database, and only the proxy and the rotation functions reach the database
    for (const e of egress.filter((x) => JSON.stringify(x.GroupId).includes('ItemsProxySecurityGroup'))) {
      expect(e.DestinationSecurityGroupId).toEqual(sgRef('Database'));
    }
    const intoDatabase = ingress.filter((i) => JSON.stringify(i.GroupId).includes('ItemsDatabaseSecurityGroup'));
    for (const i of intoDatabase) expect(JSON.stringify(i.SourceSecurityGroupId)).toMatch(/ItemsProxySecurityGroup|SecretRotationSecurityGroup/);
    // no CIDR rule anywhere
    for (const r of [...ingress, ...egress]) expect(r.CidrIp).toBeUndefined();
    // every rule into the database names 5432 itself
    for (const i of intoDatabase) expect([i.FromPort, i.ToPort]).toEqual([5432, 5432]);
    template.hasResourceProperties('AWS::RDS::DBCluster', { Port: 5432 });
  });

  test('the API function connects as app_user with an IAM token: rds-db:connect on the proxy, no password in its environment', () => {
    const fn = apiFunction(template);
    expect(fn.Properties.Environment.Variables).toEqual(expect.objectContaining({
      DB_HOST: { 'Fn::GetAtt': [expect.stringMatching(/^ItemsProxy/), 'Endpoint'] },
      DB_PORT: '5432',
      DB_NAME: 'app',
      DB_USER: 'app_user',
      DB_IAM_AUTH: 'true',
      DB_TLS: 'verify-full',
      RESOURCE_NAME: 'items',
    }));
    expect(JSON.stringify(fn.Properties.Environment.Variables)).not.toMatch(/PASSWORD|SECRET/i);
    const granted = allowedPermissions(template, /^ItemsHandlerRole/);
    expect(JSON.stringify(granted.filter((p) => p.action === 'rds-db:connect'))).toMatch(/:dbuser:.*\/app_user"/);
    expect(granted.map((p) => p.action).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
  });

  test('migrations run as a custom resource after the proxy and the cluster, before the API function, again when the SQL changes', () => {
    const migrations = template.findResources('Custom::SchemaMigrations');
    const [logicalId, resource] = Object.entries(migrations)[0];
    expect(resource.Properties.MigrationsFingerprint).toMatch(/^[a-f0-9]{64}$/);
    expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ItemsProxy[A-F0-9]/), expect.stringMatching(/^ItemsDatabaseWriter/)]));
    const [, apiFn] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]) => f.Properties.Environment?.Variables?.RESOURCE_NAME)!;
    expect(apiFn.DependsOn).toContain(logicalId);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DB_USER: 'postgres', MIGRATIONS_DIR: '/var/task/migrations', APP_USER_SECRET_ARN: { Ref: Match.stringLikeRegexp('ItemsApiUserSecret') } }) },
    });
  });

  test('alarms on the API, the function, proxy connections and borrow latency, database CPU and capacity, failed secret rotations', () => {
    expect(service.alarms.map((a) => a.node.id).sort()).toEqual([
      'DatabaseCapacityAlarm', 'DatabaseCpuAlarm', 'HandlerErrorsAlarm', 'HandlerThrottlesAlarm', 'LatencyP99Alarm',
      'ProxyBorrowLatencyAlarm', 'ProxyClientConnectionsAlarm', 'SecretRotationFailedAlarm', 'ServerErrorRateAlarm',
    ]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/RDS',
      MetricName: 'DatabaseConnectionsBorrowLatency',
      Threshold: 100_000,
      Dimensions: [{ Name: 'ProxyName', Value: { Ref: Match.stringLikeRegexp('^ItemsProxy') } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ACUUtilization', Threshold: 90 });
  });

  test('the first rotation of each secret waits for the migrations, which create the API user it logs in as', () => {
    const migrations = logicalIdOf(template, 'Custom::SchemaMigrations', /^ItemsMigrations/);
    const schedules = template.findResources('AWS::SecretsManager::RotationSchedule');
    expect(Object.keys(schedules)).toHaveLength(2);
    expect(Object.keys(schedules)).toEqual(expect.arrayContaining([expect.stringMatching(/AdminSecretRotation/), expect.stringMatching(/ApiUserSecretRotation/)]));
    for (const schedule of Object.values(schedules)) expect(schedule.DependsOn).toContain(migrations);
  });

  test('a failed rotation of either secret raises an alarm: an EventBridge rule on Secrets Manager\'s RotationFailed events, alarmed on its TriggeredRules', () => {
    const rule = logicalIdOf(template, 'AWS::Events::Rule', /^ItemsSecretRotationFailed/);
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: {
        'source': ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        'detail': {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed'],
          additionalEventData: { SecretId: [{ Ref: Match.stringLikeRegexp('^ItemsDatabaseSecretAttachment') }, { Ref: Match.stringLikeRegexp('^ItemsApiUserSecret') }] },
        },
      },
    });
    // The alarm is the notification: no target sends the raw event to anyone.
    expect(template.findResources('AWS::Events::Rule')[rule].Properties.Targets).toBeUndefined();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Events',
      MetricName: 'TriggeredRules',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: rule } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('the proxy\'s role trusts RDS only for proxies of this account and region (no confused deputy), and reads only the two secrets', () => {
    const proxy = Object.values(template.findResources('AWS::RDS::DBProxy'))[0];
    const roleId = proxy.Properties.RoleArn['Fn::GetAtt'][0] as string;
    const role = template.findResources('AWS::IAM::Role')[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'rds.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':db-proxy:*']] } },
      },
    }]);
    const granted = allowedPermissions(template, new RegExp(`^${roleId}$`));
    // The two secrets, and the pattern key they are encrypted with (to decrypt them only).
    expect(granted.map((p) => p.action).sort()).toEqual([
      'kms:Decrypt', 'secretsmanager:DescribeSecret', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue',
    ]);
    const resources = granted.map((p) => JSON.stringify(p.resource));
    expect(resources.filter((r) => /ItemsApiUserSecret/.test(r))).toHaveLength(2);
    expect(resources.filter((r) => /ItemsDatabaseSecretAttachment/.test(r))).toHaveLength(2);
    expect(resources.filter((r) => /ItemsEncryptionKey/.test(r))).toHaveLength(1);
    expect(resources).toHaveLength(5);
  });

  test('enhanced monitoring every 60 s on the writer instance, through CDK\'s monitoring role', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      MonitoringInterval: 60,
      MonitoringRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ItemsDatabaseMonitoringRole'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'monitoring.rds.amazonaws.com' } })] },
    });
  });

  test('no backup plan selection unless databaseOptions.backupPlan is given', () => {
    template.resourceCountIs('AWS::Backup::BackupSelection', 0);
  });

  test('the acknowledgements of the custom-resource functions say who invokes them and how', () => {
    const migrations = acknowledgements(service.migrationsFunction);
    const reworded = 'CDK\'s provider framework invokes this function synchronously and reports its error to CloudFormation, which fails the deployment.';
    expect(migrations['Serverless-LambdaDLQ']).toBe(reworded);
    expect(migrations['Serverless-LambdaAsyncFailureDestination']).toBe(reworded);
    const framework = acknowledgements(service.node.findChild('MigrationsProvider').node.findChild('framework-onEvent'));
    // CloudFormation invokes custom-resource functions asynchronously; the framework reports every failure itself.
    expect(framework['Serverless-LambdaDLQ']).toMatch(/^CloudFormation invokes this custom-resource function asynchronously\./);
    expect(framework['Serverless-LambdaDLQ']).toMatch(/response URL/);
    for (const reason of [...Object.values(migrations), ...Object.values(framework)]) expect(reason).not.toMatch(/CloudFormation[^.]*invokes[^.]*\bsynchronously/);
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('RelationalMicroservice options', () => {
  test('capacities, a reader, database name, proxy settings and the API user reach the template', () => {
    const { template } = build({
      databaseOptions: { minCapacity: 0, maxCapacity: 16, reader: true, databaseName: 'orders', backupRetention: Duration.days(14) },
      proxyOptions: { idleClientTimeout: Duration.minutes(5), maxConnectionsPercent: 50, borrowTimeout: Duration.seconds(5) },
      apiDatabaseUser: 'orders_api',
      resourceName: 'orders',
    });
    template.hasResourceProperties('AWS::RDS::DBCluster', { ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 16 }, DatabaseName: 'orders', BackupRetentionPeriod: 14 });
    template.resourceCountIs('AWS::RDS::DBInstance', 2);
    template.hasResourceProperties('AWS::RDS::DBProxy', { IdleClientTimeout: 300 });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { ConnectionPoolConfigurationInfo: { MaxConnectionsPercent: 50, ConnectionBorrowTimeout: 5 } });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ DB_USER: 'orders_api', DB_NAME: 'orders', RESOURCE_NAME: 'orders' }) } });
  });

  test('an existing VPC, cluster and secret: the proxy fronts that cluster, nothing is created for it', () => {
    const { template, service } = build({}, (stack) => {
      const vpc = new ec2.Vpc(stack, 'Own', { natGateways: 0, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
      const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'Cluster', {
        clusterIdentifier: 'orders',
        port: 5432,
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'ClusterSg', 'sg-12345678')],
        engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_17_5 }),
      });
      const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-AbCdEf');
      return { existingVpc: vpc, existingCluster: cluster, existingAdminSecret: secret };
    });
    template.resourceCountIs('AWS::RDS::DBCluster', 0);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    // nothing here rotates, so nothing watches rotations
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(service.alarms.map((a) => a.node.id)).not.toContain('SecretRotationFailedAlarm');
    expect(service.cluster).toBeUndefined();
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBClusterIdentifiers: ['orders'] });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-12345678', SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ItemsProxySecurityGroup'), 'GroupId'] }, FromPort: 5432,
    });
  });

  test('databaseOptions.monitoringInterval: a reader is monitored like the writer; 0 turns enhanced monitoring off', () => {
    const { template: withReader } = build({ databaseOptions: { reader: true, monitoringInterval: Duration.seconds(15) } });
    const instances = Object.values(withReader.findResources('AWS::RDS::DBInstance'));
    expect(instances.map((i) => i.Properties.MonitoringInterval)).toEqual([15, 15]);
    const { stack, template: off } = build({ databaseOptions: { monitoringInterval: Duration.seconds(0) } });
    expect(Object.values(off.findResources('AWS::RDS::DBInstance'))[0].Properties.MonitoringRoleArn).toBeUndefined();
    expect(JSON.stringify(off.findResources('AWS::IAM::Role'))).not.toMatch(/monitoring\.rds\.amazonaws\.com/);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('databaseOptions.backupPlan adds a selection of the cluster to your plan, with no new finding', () => {
    const { stack, template } = build({}, (s) => {
      const plan = backup.BackupPlan.daily35DayRetention(s, 'Plan');
      return { databaseOptions: { backupPlan: plan } };
    });
    template.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupPlanId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Plan'), 'BackupPlanId'] },
      BackupSelection: Match.objectLike({
        Resources: [{ 'Fn::Join': ['', Match.arrayWith([':cluster:', { Ref: Match.stringLikeRegexp('^ItemsDatabase[A-F0-9]{8}$') }])] }],
      }),
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('with an alarm topic, a failed rotation notifies it (and its recovery too)', () => {
    const { template } = build({}, (s) => ({ alarmTopic: new AlarmTopic(s, 'Alarms').topic }));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TriggeredRules',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmsTopic') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^AlarmsTopic') }],
    });
  });

  test('itemOwnerClaim reaches the API handler as ITEM_OWNER_CLAIM', () => {
    const { template } = build({}, (s) => ({
      itemOwnerClaim: 'sub',
      apiProps: { authorization: ApiAuthorization.cognito({ userPools: [new cognito.UserPool(s, 'Pool')] }) },
    }));
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ ITEM_OWNER_CLAIM: 'sub', RESOURCE_NAME: 'items' }) } });
  });

  test('your own migrations ship as a layer mounted at /opt', () => {
    const { template } = build({ migrationsDirectory: __dirname });
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ MIGRATIONS_DIR: '/opt' }) }, Layers: [{ Ref: Match.stringLikeRegexp('MigrationsLayer') }] });
  });

  test.each<[string, (stack: Stack) => RelationalMicroserviceProps, RegExp]>([
    // The types reject existingFunction (see 'the types leave existingFunction out'); callers without types get this error.
    ['existingFunction from a caller without types', (s) => ({ existingFunction: lambda.Function.fromFunctionName(s, 'F', 'f') }) as unknown as RelationalMicroserviceProps, /existingFunction cannot be used/],
    ['existingCluster without existingAdminSecret', (s) => ({ existingVpc: new ec2.Vpc(s, 'V'), existingCluster: rds.DatabaseCluster.fromDatabaseClusterAttributes(s, 'C', { clusterIdentifier: 'c' }) }), /go together/],
    ['existingCluster with databaseOptions', (s) => ({
      existingVpc: new ec2.Vpc(s, 'V'),
      existingCluster: rds.DatabaseCluster.fromDatabaseClusterAttributes(s, 'C', { clusterIdentifier: 'c' }),
      existingAdminSecret: secretsmanager.Secret.fromSecretNameV2(s, 'S', 's'),
      databaseOptions: {},
    }), /mutually exclusive/],
    ['min capacity above max', () => ({ databaseOptions: { minCapacity: 8, maxCapacity: 4 } }), /multiples of 0.5 ACU/],
    ['a capacity of 0.3', () => ({ databaseOptions: { minCapacity: 0.3 } }), /multiples of 0.5 ACU/],
    ['the admin user for the API', () => ({ apiDatabaseUser: 'postgres' }), /apiDatabaseUser must be a lowercase PostgreSQL identifier other than 'postgres'/],
    ['a database name with a quote', () => ({ databaseOptions: { databaseName: 'a"b' } }), /databaseName must be a lowercase PostgreSQL identifier/],
    ['a 40-day backup retention', () => ({ databaseOptions: { backupRetention: Duration.days(40) } }), /backupRetention must be 1..35 days/],
    ['a 45-second monitoring interval', () => ({ databaseOptions: { monitoringInterval: Duration.seconds(45) } }), /databaseOptions.monitoringInterval must be one of 0, 1, 5, 10, 15, 30 or 60 seconds, got 45/],
    ['a 2-minute monitoring interval', () => ({ databaseOptions: { monitoringInterval: Duration.minutes(2) } }), /databaseOptions.monitoringInterval must be one of .* got 120/],
    ['maxConnectionsPercent 0', () => ({ proxyOptions: { maxConnectionsPercent: 0 } }), /maxConnectionsPercent must be an integer in 1..100/],
    ['functionProps.vpc', (s) => ({ functionProps: { vpc: new ec2.Vpc(s, 'V') } }), /functionProps.vpc is set by the pattern/],
    ['a bad resource name', () => ({ resourceName: 'Items' }), /resourceName must be lowercase/],
    ['itemOwnerClaim with IAM authorization (no claims)', () => ({ itemOwnerClaim: 'sub' }), /itemOwnerClaim needs an authorizer that supplies claims.*got 'iam'/],
  ])('rejects %s at synth time', (_name, props, message) => {
    const stack = new Stack(new App(), 'Test');
    expect(() => new RelationalMicroservice(stack, 'Items', props(stack))).toThrow(message);
  });

  test('deployment: the API invokes the alias of the handler', () => {
    const { template, service } = build({ deployment: {} });
    expect(service.deployment).toBeDefined();
    for (const method of Object.values(template.findResources('AWS::ApiGateway::Method'))) {
      expect(JSON.stringify(method.Properties.Integration.Uri)).toMatch(/ItemsDeploymentAlias/);
    }
  });
});

test('the types leave existingFunction out: the function is created with settings an existing one cannot take', () => {
  // @ts-expect-error existingFunction is not a prop of RelationalMicroserviceProps
  const props: RelationalMicroserviceProps = { existingFunction: undefined };
  expect(props).toEqual({ existingFunction: undefined });
});
