/**
 * Applies the price table to what a template holds: the idle monthly cost (resources billed
 * whether or not anything happens) and the cost of a million units on the main path.
 */
import { ACCOUNT_ASSUMPTIONS, MainPath } from './assumptions';
import { priceOf, PriceTable } from './prices';
import {
  alarmMetrics, CfnTemplate, countOf, eventSourceMappings, findFunction, interfaceEndpointAzs, kinesisStreams, kmsKeyUsers,
  provisionedConcurrency, proxies, resourcesOf, restApiStages, scheduledRunsPerMonth, serverlessClusters, stateMachines,
  tables, userPoolTiers, webAcls,
} from './template';

/** One line of a figure: a quantity of one priced dimension. */
export interface CostLine {
  /** What is billed, and where the quantity comes from. */
  readonly what: string;
  readonly quantity: number;
  /** Key in the price table. */
  readonly price: string;
  readonly usd: number;
}

export interface StackCost {
  readonly key: string;
  readonly stackName: string;
  readonly idle: readonly CostLine[];
  readonly idleUsd: number;
  readonly mainPath?: MainPath;
  /** A million units on the main path (undefined when the stack has no main-path assumptions). */
  readonly perMillion?: readonly CostLine[];
  readonly perMillionUsd?: number;
}

const GB = 1024 ** 3;

export function line(prices: PriceTable, what: string, quantity: number, price: string): CostLine {
  const p = priceOf(prices, price);
  return { what, quantity, price, usd: (quantity * p.usd) / p.per };
}

export function total(lines: readonly CostLine[]): number {
  return lines.reduce((sum, l) => sum + l.usd, 0);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Resources billed by the month or hour, counted from the template. */
export function idleCost(template: CfnTemplate, prices: PriceTable): CostLine[] {
  const hours = prices.hoursPerMonth;
  const lines: CostLine[] = [];
  const add = (what: string, quantity: number, price: string) => {
    if (quantity > 0) lines.push(line(prices, what, quantity, price));
  };

  for (const cluster of serverlessClusters(template)) {
    add(`Aurora Serverless v2: ${plural(cluster.instances, 'instance')} at the minimum ${cluster.minCapacity} ACU, ${hours} h`,
      cluster.minCapacity * cluster.instances * hours, 'aurora.serverlessV2.acuHours');
  }
  for (const proxy of proxies(template)) {
    const minimum = priceOf(prices, 'rdsProxy.serverless.acuHours').minimum ?? 0;
    const acus = Math.max(minimum, proxy.frontedMinAcus);
    add(`RDS Proxy: ${acus} ACUs billed (fronts ${proxy.frontedMinAcus} ACU, billed on at least ${minimum}), ${hours} h`, acus * hours, 'rdsProxy.serverless.acuHours');
  }
  const endpointAzs = interfaceEndpointAzs(template);
  add(`interface VPC endpoints: ${plural(endpointAzs, 'endpoint-AZ')} (Interface endpoints x subnets), ${hours} h`, endpointAzs * hours, 'vpc.interfaceEndpoint.azHours');
  const nat = countOf(template, 'AWS::EC2::NatGateway');
  add(`NAT gateways: ${nat}, ${hours} h`, nat * hours, 'vpc.natGateway.hours');
  for (const stream of kinesisStreams(template)) {
    if (stream.onDemand) add(`Kinesis stream (on-demand), ${hours} h`, hours, 'kinesis.ondemand.streamHours');
    else add(`Kinesis stream: ${plural(stream.shards, 'shard')} (provisioned), ${hours} h`, stream.shards * hours, 'kinesis.provisioned.shardHours');
  }
  for (const pc of provisionedConcurrency(template)) {
    add(`provisioned concurrency: ${pc.executions} x ${pc.memoryMb} MB (${pc.architecture}), ${hours} h`,
      pc.executions * (pc.memoryMb / 1024) * hours * 3600, 'lambda.arm64.provisionedGbSecond');
  }
  for (const acl of webAcls(template)) {
    add('WAF web ACL', 1, 'waf.webAclMonths');
    add(`WAF rules: ${acl.rules} (managed rule groups count once)`, acl.rules, 'waf.ruleMonths');
  }
  add(`customer-managed KMS keys: ${countOf(template, 'AWS::KMS::Key')}`, countOf(template, 'AWS::KMS::Key'), 'kms.keyMonths');
  const secrets = countOf(template, 'AWS::SecretsManager::Secret');
  add(`Secrets Manager secrets: ${secrets}`, secrets, 'secretsManager.secretMonths');
  const alarmCount = countOf(template, 'AWS::CloudWatch::Alarm');
  const metrics = alarmMetrics(template);
  add(`CloudWatch alarms: ${alarmCount}, reading ${plural(metrics.standard, 'metric')} at standard resolution`, metrics.standard, 'cloudwatch.alarm.standardMetric');
  add(`CloudWatch alarms: high-resolution metrics: ${metrics.highResolution}`, metrics.highResolution, 'cloudwatch.alarm.highResolutionMetric');
  const dashboards = countOf(template, 'AWS::CloudWatch::Dashboard');
  add(`CloudWatch dashboards: ${dashboards} (the account's 3 free ones assumed used)`, dashboards, 'cloudwatch.dashboard.months');

  const sqsMappings = eventSourceMappings(template).filter((m) => m.sourceType === 'AWS::SQS::Queue').length;
  const pollsPerMonth = (hours * 3600) / ACCOUNT_ASSUMPTIONS.sqsLongPollSeconds;
  add(`SQS long polls of ${plural(sqsMappings, 'Lambda event source')} on empty queues (${ACCOUNT_ASSUMPTIONS.sqsIdlePollers} pollers each, ` +
    `${ACCOUNT_ASSUMPTIONS.sqsLongPollSeconds} s waits)`, sqsMappings * ACCOUNT_ASSUMPTIONS.sqsIdlePollers * pollsPerMonth, 'sqs.standard.requests');
  return lines;
}

function gb(bytes: number): number {
  return bytes / GB;
}

/** A million units on the main path: template settings where the template has them, the stated assumptions for the rest. */
export function mainPathCost(template: CfnTemplate, path: MainPath, prices: PriceTable): CostLine[] {
  const n = ACCOUNT_ASSUMPTIONS.unitsPerFigure;
  const lines: CostLine[] = [];
  const add = (what: string, quantity: number, price: string) => {
    if (quantity > 0) lines.push(line(prices, what, quantity, price));
  };
  let logBytes = 0;
  const logSources = ['function logs'];
  let traced = false;

  for (const step of path.functions) {
    const fn = findFunction(template, step.match);
    const invocations = n * step.invocations;
    const gbSeconds = invocations * (step.durationMs / 1000) * (fn.memoryMb / 1024);
    add(`Lambda ${step.match}: requests`, invocations, 'lambda.requests');
    add(`Lambda ${step.match}: ${step.durationMs} ms at ${fn.memoryMb} MB (${fn.architecture}, from the template)`, gbSeconds,
      fn.architecture === 'arm64' ? 'lambda.arm64.gbSecond' : 'lambda.x86.gbSecond');
    logBytes += invocations * step.logBytes;
    traced ||= fn.traced;
  }

  const stages = restApiStages(template);
  const restRequests = n * (path.restApiRequests ?? 0);
  add('API Gateway REST requests', restRequests, 'apigateway.rest.requests');
  if (restRequests > 0) {
    if (stages.some((s) => s.accessLogs)) logBytes += restRequests * (path.accessLogBytes ?? 0);
    traced ||= stages.some((s) => s.traced);
    if (countOf(template, 'AWS::WAFv2::WebACLAssociation') > 0) add('WAF: requests inspected (a web ACL is associated)', restRequests, 'waf.requests');
  }

  if (path.cloudFront) {
    add('CloudFront HTTPS requests', n * path.cloudFront.requests, 'cloudfront.https.requests');
    add(`CloudFront transfer out (${path.cloudFront.bytesOut} bytes an answer)`, gb(n * path.cloudFront.bytesOut), 'cloudfront.dataOutGb');
  }
  if (path.unitsPerMonthlyActiveUser !== undefined) {
    for (const tier of userPoolTiers(template)) {
      add(`Cognito monthly active users (${tier} plan, from the template; ${path.unitsPerMonthlyActiveUser} ${path.unit}s each)`,
        n / path.unitsPerMonthlyActiveUser, `cognito.mau.${tier.toLowerCase()}`);
    }
  }

  if (path.dynamodb) {
    const ddb = path.dynamodb;
    const tableSettings = tables(template);
    const provisioned = tableSettings.filter((t) => !t.onDemand);
    if (provisioned.length > 0) throw new Error(`provisioned-capacity tables are not modelled: ${provisioned.map((t) => t.id).join(', ')}`);
    const replicas = Math.max(1, ...tableSettings.map((t) => t.replicas));
    const writeUnits = Math.ceil(ddb.itemBytes / 1024) * ddb.writes * n * replicas;
    const readUnits = Math.ceil(ddb.itemBytes / 4096) * ddb.reads * n;
    add(`DynamoDB on-demand writes (${ddb.writes} of ${ddb.itemBytes} bytes per ${path.unit}${replicas > 1 ? `, ${replicas} replicas` : ''})`, writeUnits,
      'dynamodb.ondemand.writeRequestUnits');
    add(`DynamoDB on-demand strongly consistent reads (${ddb.reads} per ${path.unit})`, readUnits, 'dynamodb.ondemand.readRequestUnits');
    const stored = gb(n * ddb.newItems * ddb.itemBytes);
    add('DynamoDB storage of the items added, one month', stored, 'dynamodb.storage.gbMonth');
    if (tableSettings.some((t) => t.pointInTimeRecovery)) add('DynamoDB point-in-time recovery of the items added, one month (PITR on in the template)', stored, 'dynamodb.pitr.gbMonth');
  }

  if (path.kinesisRecords) {
    const streams = kinesisStreams(template);
    const recordKb = Math.ceil(path.payloadBytes / 1024);
    const ingested = gb(n * path.kinesisRecords * recordKb * 1024);
    const readers = eventSourceMappings(template).filter((m) => m.sourceType === 'AWS::Kinesis::Stream').length;
    if (streams.some((s) => s.onDemand)) {
      add(`Kinesis data in (${recordKb} KB a record)`, ingested, 'kinesis.ondemand.dataInGb');
      add(`Kinesis data out (${plural(readers, 'event source mapping')} reading the stream)`, ingested * readers, 'kinesis.ondemand.dataOutGb');
    }
  }
  add('SNS publishes', n * (path.snsPublishes ?? 0), 'sns.publishes');
  add('SQS requests', n * (path.sqsRequests ?? 0), 'sqs.standard.requests');
  add('EventBridge Scheduler invocations', n * (path.schedulerInvocations ?? 0), 'scheduler.invocations');
  if (path.eventBridgeEvents) {
    const chunks = Math.ceil(path.payloadBytes / (64 * 1024));
    add('EventBridge PutEvents entries', n * path.eventBridgeEvents * chunks, 'eventbridge.putEvents');
    const archives = countOf(template, 'AWS::Events::Archive');
    if (archives > 0) {
      const archived = gb(n * path.eventBridgeEvents * path.payloadBytes) * archives;
      add('EventBridge archive: events archived (an archive is in the template)', archived, 'eventbridge.archive.processedGb');
      add('EventBridge archive: storage of the events archived, one month', archived, 'eventbridge.archive.storageGbMonth');
    }
  }
  if (path.stepFunctions) {
    const sfn = path.stepFunctions;
    for (const machine of stateMachines(template)) {
      if (machine.type === 'EXPRESS') {
        add('Step Functions Express requests (EXPRESS in the template)', n * sfn.executions, 'stepfunctions.express.requests');
        add('Step Functions Express duration (64 MB)', n * sfn.executions * ((sfn.expressDurationMs ?? 1000) / 1000) * (64 / 1024), 'stepfunctions.express.gbSecond');
      } else {
        add(`Step Functions state transitions (${sfn.transitions} an execution, STANDARD in the template)`, n * sfn.executions * sfn.transitions,
          'stepfunctions.standard.transitions');
      }
      // Level ALL logs every state's entry and exit; ERROR only failures, which the happy path has none of.
      if (machine.logLevel === 'ALL') {
        logBytes += n * sfn.executions * sfn.transitions * sfn.logBytesPerTransition;
        logSources.push('execution logs (level ALL in the template)');
      }
    }
  }
  add('Aurora I/O requests', n * (path.auroraIos ?? 0), 'aurora.io.requests');
  if (path.efs) {
    add('EFS Elastic Throughput reads', gb(n * path.efs.readBytes), 'efs.elastic.readGb');
    add('EFS Elastic Throughput writes', gb(n * path.efs.writeBytes), 'efs.elastic.writeGb');
    add('EFS Standard storage of the files written, one month', gb(n * path.efs.storedBytes), 'efs.standard.gbMonth');
  }
  add('Secrets Manager API calls', n * (path.secretsManagerCalls ?? 0), 'secretsManager.apiCalls');
  if (restRequests > 0 && stages.some((s) => s.accessLogs)) logSources.push('API access logs');
  if (path.otherLogBytes) {
    logBytes += n * path.otherLogBytes.bytes;
    logSources.push(path.otherLogBytes.what);
  }
  add(`CloudWatch Logs ingestion (${logSources.join(', ')})`, gb(logBytes), 'cloudwatch.logs.ingestedGb');
  const keyUsers = kmsKeyUsers(template).length;
  add(`KMS requests: data keys of ${plural(keyUsers, 'resource')} encrypting with the template's keys, ` +
    `at most one each per ${ACCOUNT_ASSUMPTIONS.kmsDataKeyReuseSeconds} s over a month of traffic`,
  keyUsers * ((prices.hoursPerMonth * 3600) / ACCOUNT_ASSUMPTIONS.kmsDataKeyReuseSeconds), 'kms.requests');
  if (traced) {
    add(`X-Ray traces (tracing on in the template; ${ACCOUNT_ASSUMPTIONS.xraySampledFraction * 100} % sampled)`, n * ACCOUNT_ASSUMPTIONS.xraySampledFraction, 'xray.tracesRecorded');
  }
  return lines;
}

/** Idle and per-million figures of one example stack's template. */
export function stackCost(key: string, stackName: string, template: CfnTemplate, prices: PriceTable, mainPath: MainPath | undefined): StackCost {
  const idle = idleCost(template, prices);
  const perMillion = mainPath ? mainPathCost(template, mainPath, prices) : undefined;
  if (mainPath?.scheduled && perMillion) {
    // A scheduled pattern works without traffic: each scheduled run is part of the idle cost.
    for (const schedule of scheduledRunsPerMonth(template, prices.hoursPerMonth)) {
      if (schedule.runs === undefined) continue;
      const fraction = schedule.runs / ACCOUNT_ASSUMPTIONS.unitsPerFigure;
      idle.push({
        what: `scheduled ${mainPath.unit}s (${schedule.expression} in the template), each costing the per-million figure / 1,000,000`,
        quantity: schedule.runs,
        // not a key of the price table: the quantity is priced by the main path's own lines
        price: `${mainPath.unit}s`,
        usd: total(perMillion) * fraction,
      });
    }
  }
  return {
    key,
    stackName,
    idle,
    idleUsd: total(idle),
    mainPath,
    perMillion,
    perMillionUsd: perMillion ? total(perMillion) : undefined,
  };
}

/** Resource types priced by use only, reported so that a reader sees they were considered. */
export function payPerUseResources(template: CfnTemplate): string[] {
  const types = ['AWS::DynamoDB::GlobalTable', 'AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::ApiGateway::RestApi', 'AWS::SQS::Queue',
    'AWS::SNS::Topic', 'AWS::Events::EventBus', 'AWS::Events::Archive', 'AWS::EFS::FileSystem', 'AWS::Cognito::UserPool', 'AWS::CloudFront::Distribution',
    'AWS::S3::Bucket', 'AWS::Logs::LogGroup', 'AWS::StepFunctions::StateMachine', 'AWS::EC2::FlowLog'];
  return types.map((type) => [type, resourcesOf(template, type).length] as const)
    .filter(([, count]) => count > 0)
    .map(([type, count]) => `${count} ${type.split('::').slice(1).join(' ')}`);
}
