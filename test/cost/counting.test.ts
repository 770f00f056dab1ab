/**
 * The counting and pricing of scripts/cost on small stacks whose billable resources are known:
 * each expected figure is the price table's own price times the count the stack was built with.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { MainPath } from '../../scripts/cost/assumptions';
import { idleCost, mainPathCost, stackCost, total } from '../../scripts/cost/estimate';
import { loadPrices, priceOf } from '../../scripts/cost/prices';
import { costAnchor, withSection } from '../../scripts/cost/render';
import { alarmMetrics, CfnTemplate, findFunction, interfaceEndpointAzs, kmsKeyUsers, scheduledRunsPerMonth } from '../../scripts/cost/template';

const prices = loadPrices();
const HOURS = prices.hoursPerMonth;
/** The price table's price of one `key` unit. */
const unitPrice = (key: string) => priceOf(prices, key).usd / priceOf(prices, key).per;

function templateOf(build: (stack: Stack) => void): CfnTemplate {
  const stack = new Stack(new App(), 'Cost');
  build(stack);
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

const metric = (name: string, period = Duration.minutes(5)) => new cloudwatch.Metric({ namespace: 'Test', metricName: name, period });

function alarm(stack: Stack, id: string, m: cloudwatch.IMetric): void {
  new cloudwatch.Alarm(stack, id, { metric: m, threshold: 1, evaluationPeriods: 1 });
}

function fn(stack: Stack, id: string, props: Partial<lambda.FunctionProps> = {}): lambda.Function {
  return new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=()=>1'), ...props });
}

describe('idle cost', () => {
  test('a stack with 2 alarms and a key costs exactly 2 alarm metrics and a key-month', () => {
    const template = templateOf((stack) => {
      new kms.Key(stack, 'Key');
      alarm(stack, 'A', metric('a'));
      alarm(stack, 'B', metric('b'));
    });
    const expected = 2 * unitPrice('cloudwatch.alarm.standardMetric') + unitPrice('kms.keyMonths');
    expect(total(idleCost(template, prices))).toBeCloseTo(expected, 10);
    expect(idleCost(template, prices).map((l) => [l.price, l.quantity])).toEqual([['kms.keyMonths', 1], ['cloudwatch.alarm.standardMetric', 2]]);
  });

  test('an empty stack and pay-per-use resources cost nothing idle', () => {
    const template = templateOf((stack) => {
      fn(stack, 'Fn');
      new sqs.Queue(stack, 'Queue');
    });
    expect(idleCost(template, prices)).toEqual([]);
  });

  test('a metric-math alarm counts each metric it reads; a 10 s alarm is high resolution', () => {
    const template = templateOf((stack) => {
      alarm(stack, 'Math', new cloudwatch.MathExpression({ expression: 'a + b + c', usingMetrics: { a: metric('a'), b: metric('b'), c: metric('c') } }));
      alarm(stack, 'Fast', metric('fast', Duration.seconds(10)));
    });
    expect(alarmMetrics(template)).toEqual({ standard: 3, highResolution: 1 });
    expect(total(idleCost(template, prices))).toBeCloseTo(3 * unitPrice('cloudwatch.alarm.standardMetric') + unitPrice('cloudwatch.alarm.highResolutionMetric'), 10);
  });

  test('dashboards, secrets and NAT gateways are counted from the template', () => {
    const template = templateOf((stack) => {
      new cloudwatch.Dashboard(stack, 'D1');
      new cloudwatch.Dashboard(stack, 'D2');
      new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 2, restrictDefaultSecurityGroup: false });
    });
    const lines = idleCost(template, prices);
    expect(lines.find((l) => l.price === 'cloudwatch.dashboard.months')?.quantity).toBe(2);
    expect(lines.find((l) => l.price === 'vpc.natGateway.hours')?.quantity).toBe(2 * HOURS);
  });

  test('an interface endpoint is billed per subnet it sits in; a gateway endpoint is free', () => {
    const template = templateOf((stack) => {
      // an environment-agnostic stack gets 2 AZs
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, restrictDefaultSecurityGroup: false, subnetConfiguration: [{ name: 'app', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
      vpc.addInterfaceEndpoint('Secrets', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER });
      vpc.addGatewayEndpoint('Dynamo', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
    });
    expect(interfaceEndpointAzs(template)).toBe(2);
    expect(total(idleCost(template, prices))).toBeCloseTo(2 * HOURS * unitPrice('vpc.interfaceEndpoint.azHours'), 10);
  });

  test('Aurora Serverless v2 runs its minimum ACUs on every instance, and a proxy bills at least its minimum', () => {
    const template = templateOf((stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, restrictDefaultSecurityGroup: false, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
      const cluster = new rds.DatabaseCluster(stack, 'Db', {
        engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        serverlessV2MinCapacity: 1.5,
        serverlessV2MaxCapacity: 4,
        writer: rds.ClusterInstance.serverlessV2('Writer'),
        readers: [rds.ClusterInstance.serverlessV2('Reader', { scaleWithWriter: true })],
      });
      cluster.addProxy('Proxy', { secrets: [cluster.secret!], vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } });
    });
    const lines = idleCost(template, prices);
    expect(lines.find((l) => l.price === 'aurora.serverlessV2.acuHours')?.quantity).toBe(1.5 * 2 * HOURS);
    const minimum = priceOf(prices, 'rdsProxy.serverless.acuHours').minimum!;
    expect(lines.find((l) => l.price === 'rdsProxy.serverless.acuHours')?.quantity).toBe(Math.max(minimum, 3) * HOURS);
    expect(lines.find((l) => l.price === 'secretsManager.secretMonths')?.quantity).toBe(1);
  });

  test('an on-demand stream bills stream-hours, a provisioned one shard-hours', () => {
    const template = templateOf((stack) => {
      new kinesis.Stream(stack, 'OnDemand', { streamMode: kinesis.StreamMode.ON_DEMAND });
      new kinesis.Stream(stack, 'Provisioned', { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: 3 });
    });
    const lines = idleCost(template, prices);
    expect(lines.find((l) => l.price === 'kinesis.ondemand.streamHours')?.quantity).toBe(HOURS);
    expect(lines.find((l) => l.price === 'kinesis.provisioned.shardHours')?.quantity).toBe(3 * HOURS);
  });

  test('a Lambda SQS event source polls an empty queue', () => {
    const template = templateOf((stack) => {
      const queue = new sqs.Queue(stack, 'Queue');
      fn(stack, 'Consumer').addEventSourceMapping('Source', { eventSourceArn: queue.queueArn });
    });
    expect(idleCost(template, prices).map((l) => l.price)).toEqual(['sqs.standard.requests']);
  });
});

describe('main path', () => {
  const path: MainPath = {
    unit: 'request',
    description: 'test',
    payloadBytes: 1_024,
    restApiRequests: 1,
    functions: [{ match: 'Handler', invocations: 1, durationMs: 100, logBytes: 0 }],
  };

  test('Lambda GB-seconds use the memory and architecture of the template', () => {
    const template = templateOf((stack) => {
      fn(stack, 'Handler', { memorySize: 2048, architecture: lambda.Architecture.ARM_64 });
    });
    const lines = mainPathCost(template, path, prices);
    const duration = lines.find((l) => l.price === 'lambda.arm64.gbSecond')!;
    expect(duration.quantity).toBeCloseTo(1_000_000 * 0.1 * 2, 6);
    expect(lines.find((l) => l.price === 'lambda.requests')?.quantity).toBe(1_000_000);
    expect(lines.find((l) => l.price === 'apigateway.rest.requests')?.usd).toBeCloseTo(1_000_000 * unitPrice('apigateway.rest.requests'), 6);
    // no tracing in this template: no X-Ray line
    expect(lines.some((l) => l.price === 'xray.tracesRecorded')).toBe(false);
  });

  test('an x86 function is priced as x86, and traced functions add sampled traces', () => {
    const template = templateOf((stack) => {
      fn(stack, 'Handler', { tracing: lambda.Tracing.ACTIVE });
    });
    const prices_ = mainPathCost(template, path, prices).map((l) => l.price);
    expect(prices_).toContain('lambda.x86.gbSecond');
    expect(prices_).toContain('xray.tracesRecorded');
  });

  test('KMS requests come from the resources that encrypt with a key of the template, not from the policies that name it', () => {
    const template = templateOf((stack) => {
      const key = new kms.Key(stack, 'Key');
      new logs.LogGroup(stack, 'Logs', { encryptionKey: key });
      new sqs.Queue(stack, 'Queue', { encryptionMasterKey: key });
      key.grantDecrypt(fn(stack, 'Handler'));
    });
    expect(kmsKeyUsers(template).map((u) => u.type).sort()).toEqual(['AWS::Logs::LogGroup', 'AWS::SQS::Queue']);
    const requests = mainPathCost(template, path, prices).find((l) => l.price === 'kms.requests')!;
    expect(requests.quantity).toBe(2 * (HOURS * 3600) / 300);
  });

  test('fails when the function of a step is not in the template, naming the candidates', () => {
    const template = templateOf((stack) => {
      fn(stack, 'Other');
    });
    expect(() => findFunction(template, 'Handler')).toThrow(/expected one Lambda function whose logical id contains "Handler", found 0: Other/);
  });

  test('a scheduled pattern adds its scheduled runs to idle', () => {
    const template = templateOf((stack) => {
      const f = fn(stack, 'Handler');
      new scheduler.CfnSchedule(stack, 'Schedule', {
        scheduleExpression: 'rate(1 hour)',
        flexibleTimeWindow: { mode: 'OFF' },
        target: { arn: f.functionArn, roleArn: 'arn:aws:iam::123456789012:role/r' },
      });
    });
    expect(scheduledRunsPerMonth(template, HOURS)).toEqual([{ id: 'Schedule', expression: 'rate(1 hour)', runs: HOURS }]);
    const cost = stackCost('job', 'Job', template, prices, { ...path, scheduled: true });
    const scheduled = cost.idle.find((l) => l.price === 'requests')!;
    expect(scheduled.usd).toBeCloseTo((cost.perMillionUsd! * HOURS) / 1_000_000, 10);
  });
});

describe('README sections', () => {
  const section = (key: string, text: string) => `<!-- cost:begin ${key} (x) -->\n${text}\n<!-- cost:end ${key} -->`;

  test('replaces an existing section and nothing else', () => {
    const readme = `# A\n\n## Cost\n\n${section('a', 'old')}\n\nprose\n`;
    expect(withSection(readme, 'a', section('a', 'new'))).toBe(`# A\n\n## Cost\n\n${section('a', 'new')}\n\nprose\n`);
  });

  test('puts a second stack after the first, and a README without a Cost section gets one', () => {
    const readme = `# A\n\n## Cost\n\n${section('a', 'one')}\n\nprose\n`;
    expect(withSection(readme, 'b', section('b', 'two'))).toBe(`# A\n\n## Cost\n\n${section('a', 'one')}\n\n${section('b', 'two')}\n\nprose\n`);
    expect(withSection('# New\n\n## API\n', 'n', section('n', 'x'))).toBe(`# New\n\n## API\n\n## Cost\n\n${section('n', 'x')}\n`);
  });

  test('the top table links to the Cost heading a README has', () => {
    expect(costAnchor('# A\n\n## Cost\n')).toBe('cost');
    expect(costAnchor('# A\n\n## Cost per 1,000 sagas\n')).toBe('cost-per-1000-sagas');
  });
});
