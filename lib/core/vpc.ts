import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { encryptedLogGroup } from './encryption';
import { assertExclusive, assertIntegerInRange, InvalidPropsError } from './errors';
import { LOG_RETENTION_DEFAULT } from './lambda-defaults';
import { ManagedPolicyRole, servicePrincipalFor } from './managed-policy-role';

/** Subnet group names of a `PrivateServiceVpc`. */
export const APPLICATION_SUBNET_GROUP = 'Application';
export const DATA_SUBNET_GROUP = 'Data';

export interface PrivateServiceVpcProps {
  /** @default 2 */
  readonly maxAzs?: number;
  /**
   * NAT gateways for functions that must reach the internet. With 0 (the default) there are no
   * public subnets at all: the functions reach AWS services through VPC endpoints only.
   * @default 0
   */
  readonly natGateways?: number;
  /** @default ec2.IpAddresses.cidr('10.0.0.0/16') */
  readonly ipAddresses?: ec2.IIpAddresses;
  /** Interface endpoints the functions need (e.g. Secrets Manager), created once each. @default - none */
  readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];
  /** @default three months */
  readonly flowLogRetention?: logs.RetentionDays;
}

/**
 * The VPC of the patterns whose functions need a private network (RDS Proxy, EFS): two AZs, an
 * isolated `Application` subnet group for functions and mount targets and an isolated `Data`
 * group for databases, no internet path unless `natGateways` is set, flow logs of all traffic to
 * CloudWatch Logs, and only the VPC endpoints asked for (each reachable only from the security
 * groups allowed explicitly).
 */
export class PrivateServiceVpc extends Construct {
  public readonly vpc: ec2.Vpc;
  public readonly flowLogGroup: logs.ILogGroup;
  private readonly endpoints = new Map<string, ec2.InterfaceVpcEndpoint>();

  constructor(scope: Construct, id: string, props: PrivateServiceVpcProps = {}) {
    super(scope, id);
    const natGateways = props.natGateways ?? 0;
    assertIntegerInRange('PrivateServiceVpc', 'maxAzs', props.maxAzs, 2, 6);
    assertIntegerInRange('PrivateServiceVpc', 'natGateways', natGateways, 0, 6);

    const subnetConfiguration: ec2.SubnetConfiguration[] = [
      {
        name: APPLICATION_SUBNET_GROUP,
        subnetType: natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
        cidrMask: 22,
      },
      { name: DATA_SUBNET_GROUP, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ];
    if (natGateways > 0) subnetConfiguration.push({ name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 26, mapPublicIpOnLaunch: false });

    this.flowLogGroup = encryptedLogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? LOG_RETENTION_DEFAULT,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways,
      ipAddresses: props.ipAddresses ?? ec2.IpAddresses.cidr('10.0.0.0/16'),
      subnetConfiguration,
      restrictDefaultSecurityGroup: true,
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup, this.flowLogRole()),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
    for (const service of props.interfaceEndpoints ?? []) this.addInterfaceEndpoint(service);
  }

  /**
   * The role VPC Flow Logs writes with: assumable for this account's flow logs only (no confused
   * deputy), its permissions in a managed policy of its own, not inline.
   */
  private flowLogRole(): iam.IRole {
    const stack = Stack.of(this);
    return new ManagedPolicyRole(this, 'FlowLogRole', {
      assumedBy: servicePrincipalFor('vpc-flow-logs.amazonaws.com', stack.account,
        `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:vpc-flow-log/*`),
      description: `Lets VPC Flow Logs of ${this.node.path} write to its log group`,
    });
  }

  /** Subnets of the functions (and of EFS mount targets). */
  public get applicationSubnets(): ec2.SubnetSelection {
    return { subnetGroupName: APPLICATION_SUBNET_GROUP };
  }

  /** Subnets of the databases. */
  public get dataSubnets(): ec2.SubnetSelection {
    return { subnetGroupName: DATA_SUBNET_GROUP };
  }

  /** An interface endpoint in the application subnets, created on first use; allow callers with `endpoint.connections.allowDefaultPortFrom(sg)`. */
  public addInterfaceEndpoint(service: ec2.InterfaceVpcEndpointAwsService): ec2.InterfaceVpcEndpoint {
    const existing = this.endpoints.get(service.name);
    if (existing) return existing;
    const endpointId = service.shortName.split(/[^A-Za-z0-9]/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
    const endpoint = this.vpc.addInterfaceEndpoint(`${endpointId}Endpoint`, {
      service,
      subnets: this.applicationSubnets,
      privateDnsEnabled: true,
      // Closed by default: each function that calls the service is let in by its security group.
      open: false,
    });
    this.endpoints.set(service.name, endpoint);
    return endpoint;
  }
}

/** The network of a pattern whose functions run in a VPC. */
export interface PatternVpcProps {
  /**
   * Run in this VPC instead of creating one. Its subnets must reach what the function calls
   * (the database, the file system, and any AWS API the handler uses, through VPC endpoints or NAT).
   * @default - a new `PrivateServiceVpc`
   */
  readonly existingVpc?: ec2.IVpc;
  /** Settings of the created `PrivateServiceVpc`. @default - 2 AZs, isolated subnets, no NAT gateway, flow logs */
  readonly vpcOptions?: PrivateServiceVpcProps;
  /** Subnets of the function in `existingVpc`. @default - the private subnets of existingVpc (isolated when it has no private subnets with egress) */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/** A pattern's network: the VPC, where its functions go, and the created building block if any. */
export interface PatternNetwork {
  readonly vpc: ec2.IVpc;
  readonly functionSubnets: ec2.SubnetSelection;
  /** Undefined for an existing VPC. */
  readonly privateServiceVpc?: PrivateServiceVpc;
}

/** Creates the pattern's `PrivateServiceVpc` (id `Network`) or adopts `existingVpc`. */
export function patternNetwork(
  scope: Construct, construct: string, props: PatternVpcProps, interfaceEndpoints: ec2.InterfaceVpcEndpointAwsService[] = [],
): PatternNetwork {
  assertExclusive(construct, props, 'existingVpc', 'vpcOptions');
  if (props.existingVpc) {
    return { vpc: props.existingVpc, functionSubnets: props.vpcSubnets ?? defaultPrivateSubnets(props.existingVpc) };
  }
  if (props.vpcSubnets !== undefined) {
    throw new InvalidPropsError(construct, 'vpcSubnets selects subnets of existingVpc; the created VPC places the function in its Application subnets');
  }
  const privateServiceVpc = new PrivateServiceVpc(scope, 'Network', {
    ...props.vpcOptions,
    interfaceEndpoints: [...(props.vpcOptions?.interfaceEndpoints ?? []), ...interfaceEndpoints],
  });
  return { vpc: privateServiceVpc.vpc, functionSubnets: privateServiceVpc.applicationSubnets, privateServiceVpc };
}

function defaultPrivateSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return vpc.privateSubnets.length > 0 ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
}
