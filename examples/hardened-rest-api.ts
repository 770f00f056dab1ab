import { ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { AlarmTopic, PrivateServiceVpc, RestfulMicroservice } from '../lib';

/** Requests one client IP may send in 5 minutes before the web ACL blocks it. */
const RATE_LIMIT_PER_5_MINUTES = 2_000;

/**
 * The RESTful microservice with every optional control of the pattern on, so that all five
 * cdk-nag packs pass without the library acknowledging them (issue #18):
 *
 * - a REGIONAL WAFv2 web ACL on the stage (`apiProps.webAclArn`): the AWS managed rule groups
 *   AWSManagedRulesCommonRuleSet and AWSManagedRulesKnownBadInputsRuleSet and a rate-based rule
 *   per client IP; about 5 USD a month for the web ACL, 1 USD a month per rule (3 here) and
 *   0.60 USD per million requests, plus its logs (every request, the Authorization header
 *   redacted) in an encrypted log group at CloudWatch Logs' vended-log price (from 0.50 USD per GB);
 * - the handler in a `PrivateServiceVpc` (2 AZs, isolated subnets, no NAT gateway, flow logs),
 *   with its own security group and a DynamoDB gateway endpoint (free), its only route out: the
 *   handler calls DynamoDB only (X-Ray traces are sent by the Lambda service, outside the VPC), so
 *   no interface endpoint (about 7 USD a month each per AZ) is needed;
 * - reserved concurrency of 20 (`functionProps.reservedConcurrentExecutions`): Lambda keeps at
 *   least 10 executions of the account's Regional pool unreserved, so the account needs a
 *   concurrency quota of at least 30 (new accounts may start lower: ask for an increase first);
 * - a customer-managed, rotating KMS key of this stack (`encryptionKey`, about 1 USD a month) for
 *   the pattern's log groups. The VPC's flow log group is encrypted with the library's shared key
 *   of the stack (`PrivateServiceVpc` takes no key: another 1 USD a month);
 * - alarms sent to an encrypted topic, and a dashboard.
 *
 * What stays acknowledged, with the library's reasons: the stage cache
 * (APIGWCacheEnabledAndEncrypted: the pattern refuses `cacheTtl`, since a stage cache keys on
 * the path, not the caller, and serves stale reads after writes) and the client certificate
 * (APIGWSSLEnabled: the integration is a Lambda proxy invoked through IAM, there is no HTTP
 * backend to present it to), and the findings that do not depend on a prop (LambdaDLQ for a
 * synchronously invoked function, X-Ray's `Resource::*`, ...).
 */
export class HardenedRestApiExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');

    const encryptionKey = new kms.Key(this, 'EncryptionKey', {
      description: `Encrypts the log groups of ${this.node.path}/Items`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });

    const network = new PrivateServiceVpc(this, 'Network');
    // Free, and the handler's only route: the isolated subnets reach DynamoDB through it.
    network.vpc.addGatewayEndpoint('DynamoDbEndpoint', {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [network.applicationSubnets],
    });
    const handlerSecurityGroup = new ec2.SecurityGroup(this, 'HandlerSecurityGroup', {
      vpc: network.vpc,
      description: 'The handler of Items: no inbound traffic; HTTPS out, which the isolated subnets route only to the DynamoDB gateway endpoint',
      allowAllOutbound: false,
    });
    handlerSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to DynamoDB through its gateway endpoint');

    const webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'Protects the Items API stage: AWS managed common and known-bad-input rules, and a rate limit per client IP',
      visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${this.stackName}-WebAcl` },
      rules: [
        managedRuleGroup('AWSManagedRulesCommonRuleSet', 0),
        managedRuleGroup('AWSManagedRulesKnownBadInputsRuleSet', 1),
        {
          name: 'RateLimitPerIp',
          priority: 2,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: RATE_LIMIT_PER_5_MINUTES, aggregateKeyType: 'IP' } },
          visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: 'RateLimitPerIp' },
        },
      ],
    });

    // WAF writes its logs only to a log group whose name starts with aws-waf-logs-. The log group
    // is kept when the stack is deleted, so its name carries the stack's UUID (new in every
    // deployment): deploying the stack again never meets the kept one. The SigV4 Authorization
    // header is left out of the logs.
    const webAclLogGroupName = `aws-waf-logs-${this.stackName}-${Fn.select(2, Fn.split('/', this.stackId))}`;
    const webAclLogs = new logs.LogGroup(this, 'WebAclLogs', {
      logGroupName: webAclLogGroupName,
      encryptionKey,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const webAclLogging = new wafv2.CfnLoggingConfiguration(this, 'WebAclLogging', {
      resourceArn: webAcl.attrArn,
      // The log group's ARN without the ':*' that logGroupArn ends with.
      logDestinationConfigs: [this.formatArn({
        service: 'logs', resource: 'log-group', resourceName: webAclLogGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
    });
    webAclLogging.node.addDependency(webAclLogs);

    const service = new RestfulMicroservice(this, 'Items', {
      encryptionKey,
      functionProps: {
        vpc: network.vpc,
        vpcSubnets: network.applicationSubnets,
        securityGroups: [handlerSecurityGroup],
        reservedConcurrentExecutions: 20,
      },
      apiProps: { webAclArn: webAcl.attrArn },
      alarmTopic: alarms.topic,
      dashboard: true,
    });
    new CfnOutput(this, 'ItemsUrl', { value: service.url, description: 'Collection URL (IAM/SigV4-signed requests)' });
    new CfnOutput(this, 'WebAclArn', { value: webAcl.attrArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
  }
}

/** An AWS managed rule group with its own actions, its metrics under its own name. */
function managedRuleGroup(name: string, priority: number): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
    visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: name },
  };
}
