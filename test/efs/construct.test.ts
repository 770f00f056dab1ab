import { App, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { FileStorageService, FileStorageServiceProps } from '../../lib';
import { actionsOn, allowedPermissions } from '../helpers/iam';
import { nagFindings } from '../helpers/nag';

interface Built { stack: Stack; service: FileStorageService; template: Template }

function build(props?: FileStorageServiceProps, extra?: (stack: Stack) => FileStorageServiceProps): Built {
  const stack = new Stack(new App(), 'Test');
  const service = new FileStorageService(stack, 'Files', { ...props, ...extra?.(stack) });
  return { stack, service, template: Template.fromStack(stack) };
}

function resourcesOf(template: Template, type: string): Record<string, any> {
  return template.findResources(type);
}

describe('FileStorageService defaults', () => {
  const { stack, service, template } = build();

  test('creates a VPC of isolated subnets in two AZs, without NAT gateways or an internet gateway, with flow logs', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    for (const subnet of Object.values(resourcesOf(template, 'AWS::EC2::Subnet'))) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    expect(service.privateServiceVpc).toBeDefined();
  });

  test('creates an encrypted, elastic, backed-up, retained file system with lifecycle to IA and back', () => {
    template.hasResource('AWS::EFS::FileSystem', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        Encrypted: true,
        ThroughputMode: 'elastic',
        PerformanceMode: 'generalPurpose',
        BackupPolicy: { Status: 'ENABLED' },
        LifecyclePolicies: [{ TransitionToIA: 'AFTER_30_DAYS' }, { TransitionToPrimaryStorageClass: 'AFTER_1_ACCESS' }],
      }),
    });
  });

  test('places one mount target per AZ in the function subnets', () => {
    const fn = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).find((f) => f.Properties.FileSystemConfigs);
    const mountTargets = Object.values(resourcesOf(template, 'AWS::EFS::MountTarget'));
    expect(mountTargets).toHaveLength(2);
    expect(mountTargets.map((m) => m.Properties.SubnetId)).toEqual(fn.Properties.VpcConfig.SubnetIds);
    expect(JSON.stringify(fn.Properties.VpcConfig.SubnetIds)).toMatch(/ApplicationSubnet/);
  });

  test('opens NFS (2049) on the file system only from the function security group, and the function has no other egress', () => {
    const ingress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress'));
    expect(ingress).toHaveLength(1);
    expect(ingress[0].Properties).toEqual(expect.objectContaining({
      IpProtocol: 'tcp',
      FromPort: 2049,
      ToPort: 2049,
      SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/FilesFunctionSecurityGroup/), 'GroupId'] },
      GroupId: { 'Fn::GetAtt': [expect.stringMatching(/FilesFileSystemSecurityGroup/), 'GroupId'] },
    }));
    const egress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupEgress'));
    expect(egress).toHaveLength(1);
    expect(egress[0].Properties).toEqual(expect.objectContaining({
      IpProtocol: 'tcp',
      FromPort: 2049,
      ToPort: 2049,
      GroupId: { 'Fn::GetAtt': [expect.stringMatching(/FilesFunctionSecurityGroup/), 'GroupId'] },
    }));
    const groups = resourcesOf(template, 'AWS::EC2::SecurityGroup');
    for (const group of Object.values(groups)) {
      for (const rule of group.Properties.SecurityGroupIngress ?? []) expect(rule.CidrIp).toBeUndefined();
      for (const rule of group.Properties.SecurityGroupEgress ?? []) expect(rule.CidrIp).toBe('255.255.255.255/32');
    }
  });

  test('creates an access point with a non-root POSIX user and a root directory owned by it', () => {
    template.hasResourceProperties('AWS::EFS::AccessPoint', {
      PosixUser: { Uid: '1001', Gid: '1001' },
      RootDirectory: { Path: '/files', CreationInfo: { OwnerUid: '1001', OwnerGid: '1001', Permissions: '750' } },
    });
  });

  test('the file system policy denies non-TLS access and admits only the function role, through an access point, without root access', () => {
    const fileSystem = Object.values(resourcesOf(template, 'AWS::EFS::FileSystem'))[0];
    const statements = fileSystem.Properties.FileSystemPolicy.Statement;
    expect(statements).toHaveLength(2);
    expect(statements[0]).toEqual({
      Sid: 'DenyWithoutTls',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: '*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(statements[1]).toEqual(expect.objectContaining({
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::GetAtt': [expect.stringMatching(/FilesHandlerRole/), 'Arn'] } },
      Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      Condition: expect.objectContaining({
        Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' },
        ArnLike: { 'elasticfilesystem:AccessPointArn': expect.anything() },
      }),
    }));
    expect(JSON.stringify(statements)).not.toMatch(/ClientRootAccess/);
  });

  test('mounts the access point at /mnt/data in a function with VPC access and tells the handler where', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      FileSystemConfigs: [{ Arn: Match.anyValue(), LocalMountPath: '/mnt/data' }],
      VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('FilesFunctionSecurityGroup'), 'GroupId'] }], SubnetIds: Match.anyValue() },
      Environment: { Variables: { MOUNT_PATH: '/mnt/data', MAX_FILE_BYTES: String(4 * 1024 * 1024), REQUIRE_IF_MATCH: 'true', POWERTOOLS_SERVICE_NAME: 'files' } },
    });
    expect(service.mountPath).toBe('/mnt/data');
  });

  test('the function\'s role manages its network interfaces in this account and Region only, without the AWS managed VPC policy (which writes to every log group)', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(JSON.stringify(roles)).not.toMatch(/AWSLambdaVPCAccessExecutionRole/);
    const eniScope = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':*/*']] };
    expect(allowedPermissions(template, /^FilesHandlerRole/)).toEqual(expect.arrayContaining([
      ...actionsOn(eniScope, 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'),
      ...actionsOn('*', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'),
    ]));
    expect(allowedPermissions(template, /^FilesHandlerRole/).filter((p) => String(p.action).startsWith('logs:') && p.resource === '*')).toEqual([]);
  });

  test('fronts the function with the API building block, binary media types on, routes /files and /files/{path+}', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: ['*/*'] });
    const paths = Object.values(resourcesOf(template, 'AWS::ApiGateway::Resource')).map((r) => r.Properties.PathPart);
    expect(paths.sort()).toEqual(['files', '{path+}']);
    template.resourceCountIs('AWS::ApiGateway::Method', 2);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY', AuthorizationType: 'AWS_IAM', RequestParameters: { 'method.request.path.path': true },
    });
  });

  test('alarms on handler errors and throttles, API 5XX and latency, NFS connections, throughput and I/O limit', () => {
    expect(service.alarms.map((a) => a.node.id).sort()).toEqual([
      'ClientConnectionsAlarm', 'HandlerErrorsAlarm', 'HandlerThrottlesAlarm', 'LatencyP99Alarm',
      'PercentIOLimitAlarm', 'ServerErrorRateAlarm', 'ThroughputUtilizationAlarm',
    ]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/EFS',
      MetricName: 'ClientConnections',
      Threshold: 500,
      Dimensions: [{ Name: 'FileSystemId', Value: { Ref: Match.stringLikeRegexp('FilesFileSystem') } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 80,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: '100 * (metered / 300) / MAX([permitted, 1])' })]),
    });
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('FileStorageService options', () => {
  test('fileSystemOptions.backupPlan selects the file system into your AWS Backup plan, with no finding of any pack', () => {
    const { template, stack } = build({}, (s) => ({ fileSystemOptions: { backupPlan: backup.BackupPlan.daily35DayRetention(s, 'Plan') } }));
    const [fileSystemId] = Object.keys(template.findResources('AWS::EFS::FileSystem'));
    template.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: Match.objectLike({
        Resources: [{ 'Fn::Join': ['', Match.arrayWith([{ Ref: fileSystemId }])] }],
      }),
    });
    const strict = [new NIST80053R5Checks(), new HIPAASecurityChecks()]
      .flatMap((pack) => pack.validateScope(stack).violations.map((v) => v.ruleName));
    expect([...nagFindings(stack), ...strict.filter((rule) => /EFSInBackupPlan/.test(rule))]).toEqual([]);
  });

  test('existing VPC and file system: no VPC created, access point on that file system, NFS rule added to it', () => {
    const { template, service } = build({}, (stack) => {
      const vpc = new ec2.Vpc(stack, 'Own', { natGateways: 1 });
      const fileSystem = new efs.FileSystem(stack, 'OwnFs', { vpc, removalPolicy: RemovalPolicy.DESTROY });
      return { existingVpc: vpc, existingFileSystem: fileSystem };
    });
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EFS::FileSystem', 1);
    expect(service.privateServiceVpc).toBeUndefined();
    template.hasResourceProperties('AWS::EFS::AccessPoint', { FileSystemId: { Ref: Match.stringLikeRegexp('OwnFs') } });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 2049, GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('OwnFsEfsSecurityGroup'), 'GroupId'] },
    });
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => f.Properties.FileSystemConfigs);
    expect(JSON.stringify(fn!.Properties.VpcConfig.SubnetIds)).toMatch(/OwnPrivateSubnet/);
  });

  test('POSIX user, root directory, mode, mount path, limits and thresholds reach the template', () => {
    const { template, service } = build({
      posixUser: { uid: '2000', gid: '3000' },
      rootDirectoryPath: '/tenants/a',
      rootDirectoryPermissions: '700',
      mountPath: '/mnt/models',
      maxFileSize: Size.mebibytes(1),
      requireIfMatch: false,
      defaultPageSize: 10,
      maxPageSize: 50,
      clientConnectionsThreshold: 50,
      fileSystemOptions: { throughputMode: efs.ThroughputMode.BURSTING, performanceMode: efs.PerformanceMode.MAX_IO },
      burstCreditBalanceThreshold: Size.gibibytes(10),
    });
    template.hasResourceProperties('AWS::EFS::AccessPoint', {
      PosixUser: { Uid: '2000', Gid: '3000' },
      RootDirectory: { Path: '/tenants/a', CreationInfo: { OwnerUid: '2000', OwnerGid: '3000', Permissions: '700' } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FileSystemConfigs: [{ Arn: Match.anyValue(), LocalMountPath: '/mnt/models' }],
      Environment: { Variables: Match.objectLike({ MOUNT_PATH: '/mnt/models', MAX_FILE_BYTES: '1048576', REQUIRE_IF_MATCH: 'false', DEFAULT_PAGE_SIZE: '10', MAX_PAGE_SIZE: '50' }) },
    });
    template.hasResourceProperties('AWS::EFS::FileSystem', { ThroughputMode: 'bursting', PerformanceMode: 'maxIO' });
    const ids = service.alarms.map((a) => a.node.id);
    expect(ids).toContain('BurstCreditBalanceAlarm');
    expect(ids).not.toContain('PercentIOLimitAlarm');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'BurstCreditBalance', Threshold: 10 * 1024 ** 3, ComparisonOperator: 'LessThanThreshold' });
  });

  test('your own code runs with the same mount and environment', () => {
    const { template } = build({ code: lambda.Code.fromInline('exports.main = async () => ({ statusCode: 200 })'), handler: 'index.main' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.main',
      FileSystemConfigs: [{ Arn: Match.anyValue(), LocalMountPath: '/mnt/data' }],
      Environment: { Variables: Match.objectLike({ MOUNT_PATH: '/mnt/data' }) },
    });
  });

  test.each<[string, (stack: Stack) => FileStorageServiceProps, RegExp]>([
    // The types reject existingFunction (see 'the types leave existingFunction out'); callers without types get this error.
    ['existingFunction from a caller without types', (s) => ({ existingFunction: lambda.Function.fromFunctionName(s, 'F', 'f') }) as unknown as FileStorageServiceProps, /existingFunction cannot be used/],
    ['existingFileSystem with fileSystemOptions', (s) => {
      const vpc = new ec2.Vpc(s, 'V');
      return { existingVpc: vpc, existingFileSystem: new efs.FileSystem(s, 'Fs', { vpc }), fileSystemOptions: {} };
    }, /mutually exclusive/],
    ['existingFileSystem without existingVpc', (s) => ({ existingFileSystem: new efs.FileSystem(s, 'Fs', { vpc: new ec2.Vpc(s, 'V') }) }), /needs existingVpc/],
    ['existingVpc with vpcOptions', (s) => ({ existingVpc: new ec2.Vpc(s, 'V'), vpcOptions: {} }), /mutually exclusive/],
    ['vpcSubnets without existingVpc', () => ({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }), /vpcSubnets selects subnets of existingVpc/],
    ['functionProps.vpc', (s) => ({ functionProps: { vpc: new ec2.Vpc(s, 'V') } }), /functionProps.vpc is set by the pattern/],
    ['mountPath outside /mnt', () => ({ mountPath: '/data' }), /mountPath must be \/mnt\/<name>/],
    ['mountPath is /mnt/..', () => ({ mountPath: '/mnt/..' }), /mountPath must be \/mnt\/<name> .*got '\/mnt\/..' \(not . or ..\)/],
    ['rootDirectoryPath /', () => ({ rootDirectoryPath: '/' }), /rootDirectoryPath must be/],
    ['rootDirectoryPath with ..', () => ({ rootDirectoryPath: '/a/../b' }), /without \. or \.\. segments/],
    ['root uid', () => ({ posixUser: { uid: '0', gid: '1000' } }), /posixUser.uid must be a numeric id other than 0/],
    ['non-numeric gid', () => ({ posixUser: { uid: '1000', gid: 'staff' } }), /posixUser.gid/],
    ['mode', () => ({ rootDirectoryPermissions: '999' }), /octal mode/],
    ['maxFileSize above 4 MiB', () => ({ maxFileSize: Size.mebibytes(5) }), /maxFileSize must be 1 byte..4 MiB/],
    ['defaultPageSize above maxPageSize', () => ({ maxPageSize: 10, defaultPageSize: 11 }), /defaultPageSize must be an integer in 1..10/],
    ['utilization threshold', () => ({ throughputUtilizationThresholdPercent: 0 }), /throughputUtilizationThresholdPercent/],
    ['burst credits without bursting', () => ({ burstCreditBalanceThreshold: Size.gibibytes(1) }), /only to fileSystemOptions.throughputMode BURSTING/],
    ['natGateways out of range', () => ({ vpcOptions: { natGateways: 7 } }), /natGateways must be an integer in 0..6/],
  ])('rejects %s at synth time', (_name, props, message) => {
    const stack = new Stack(new App(), 'Test');
    expect(() => new FileStorageService(stack, 'Files', props(stack))).toThrow(message);
  });

  test('NAT gateways put the function in private subnets with egress, and nag stays clean', () => {
    const { stack, template } = build({ vpcOptions: { natGateways: 1 } });
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false, Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]) });
    expect(nagFindings(stack)).toEqual([]);
  });
});

test('the types leave existingFunction out: the function is created with settings an existing one cannot take', () => {
  // @ts-expect-error existingFunction is not a prop of FileStorageServiceProps
  const props: FileStorageServiceProps = { existingFunction: undefined };
  expect(props).toEqual({ existingFunction: undefined });
});
