/**
 * What a synthesized CloudFormation template says about cost: the billable resources and the
 * settings that price them (memory, architecture, tracing, capacity, subnets, ...). Pure functions
 * of the template JSON; nothing here knows an example stack.
 */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
}

export interface Found {
  readonly id: string;
  readonly props: Record<string, unknown>;
}

/** Every resource of `type`, in template order. */
export function resourcesOf(template: CfnTemplate, type: string): Found[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => ({ id, props: resource.Properties ?? {} }));
}

export function countOf(template: CfnTemplate, type: string): number {
  return resourcesOf(template, type).length;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {};
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The logical id a `{Ref}` or `{Fn::GetAtt}` points at, if it is one. */
export function referencedId(value: unknown): string | undefined {
  const v = record(value);
  if (typeof v.Ref === 'string') return v.Ref;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Lambda

export interface FunctionConfig {
  readonly id: string;
  readonly memoryMb: number;
  readonly architecture: 'arm64' | 'x86_64';
  readonly traced: boolean;
}

export function functionConfig(found: Found): FunctionConfig {
  const architectures = array(found.props.Architectures);
  return {
    id: found.id,
    // CloudFormation defaults: 128 MB, x86_64.
    memoryMb: typeof found.props.MemorySize === 'number' ? found.props.MemorySize : 128,
    architecture: architectures[0] === 'arm64' ? 'arm64' : 'x86_64',
    traced: record(found.props.TracingConfig).Mode === 'Active',
  };
}

/**
 * The one `AWS::Lambda::Function` whose logical id contains `fragment` (the construct path of a
 * function, e.g. `ItemsHandler`): zero or several matches are an error that names the candidates.
 */
export function findFunction(template: CfnTemplate, fragment: string): FunctionConfig {
  const functions = resourcesOf(template, 'AWS::Lambda::Function');
  const matches = functions.filter((fn) => fn.id.includes(fragment));
  if (matches.length !== 1) {
    throw new Error(`expected one Lambda function whose logical id contains "${fragment}", found ${matches.length}: ` +
      `${(matches.length ? matches : functions).map((fn) => fn.id).join(', ')}`);
  }
  return functionConfig(matches[0]);
}

/** Alias provisioned concurrency: executions kept warm, with the memory of the aliased function. */
export function provisionedConcurrency(template: CfnTemplate): { id: string; executions: number; memoryMb: number; architecture: string }[] {
  const functions = new Map(resourcesOf(template, 'AWS::Lambda::Function').map((fn) => [fn.id, functionConfig(fn)]));
  const versions = new Map(resourcesOf(template, 'AWS::Lambda::Version').map((v) => [v.id, referencedId(v.props.FunctionName)]));
  return resourcesOf(template, 'AWS::Lambda::Alias').flatMap((alias) => {
    const executions = record(alias.props.ProvisionedConcurrencyConfig).ProvisionedConcurrentExecutions;
    if (typeof executions !== 'number' || executions <= 0) return [];
    const fnId = referencedId(alias.props.FunctionName);
    const versionFn = versions.get(referencedId(alias.props.FunctionVersion) ?? '');
    const fn = functions.get(fnId ?? '') ?? functions.get(versionFn ?? '');
    return [{ id: alias.id, executions, memoryMb: fn?.memoryMb ?? 128, architecture: fn?.architecture ?? 'x86_64' }];
  });
}

// ---------------------------------------------------------------------------------------------
// CloudWatch

export interface AlarmMetrics {
  /** Alarm metrics billed at standard resolution (period >= 60 s). */
  readonly standard: number;
  /** Alarm metrics billed at high resolution (period < 60 s). */
  readonly highResolution: number;
}

/**
 * Alarm metrics as CloudWatch bills them: one per single-metric alarm, one per metric a
 * metric-math alarm reads, three for an anomaly-detection band; high resolution below 60 s.
 */
export function alarmMetrics(template: CfnTemplate): AlarmMetrics {
  let standard = 0;
  let highResolution = 0;
  for (const alarm of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
    const queries = array(alarm.props.Metrics).map(record);
    if (queries.length === 0) {
      const period = typeof alarm.props.Period === 'number' ? alarm.props.Period : 60;
      if (period < 60) highResolution++; else standard++;
      continue;
    }
    const anomalyBands = queries.filter((q) => typeof q.Expression === 'string' && q.Expression.startsWith('ANOMALY_DETECTION_BAND')).length;
    for (const q of queries) {
      const stat = record(q.MetricStat);
      if (Object.keys(stat).length === 0) continue;
      const weight = anomalyBands > 0 ? 3 : 1;
      if (typeof stat.Period === 'number' && stat.Period < 60) highResolution += weight; else standard += weight;
    }
  }
  return { standard, highResolution };
}

// ---------------------------------------------------------------------------------------------
// Networking

/** Interface endpoints billed per AZ-hour: one per subnet of each `Interface` endpoint. */
export function interfaceEndpointAzs(template: CfnTemplate): number {
  return resourcesOf(template, 'AWS::EC2::VPCEndpoint')
    .filter((endpoint) => endpoint.props.VpcEndpointType === 'Interface')
    .reduce((sum, endpoint) => sum + Math.max(1, array(endpoint.props.SubnetIds).length), 0);
}

// ---------------------------------------------------------------------------------------------
// Aurora Serverless v2 and RDS Proxy

export interface ServerlessCluster {
  readonly id: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** `db.serverless` instances of the cluster: each runs at least `minCapacity`. */
  readonly instances: number;
}

export function serverlessClusters(template: CfnTemplate): ServerlessCluster[] {
  const instances = resourcesOf(template, 'AWS::RDS::DBInstance');
  return resourcesOf(template, 'AWS::RDS::DBCluster').flatMap((cluster) => {
    const scaling = record(cluster.props.ServerlessV2ScalingConfiguration);
    if (typeof scaling.MinCapacity !== 'number') return [];
    return [{
      id: cluster.id,
      minCapacity: scaling.MinCapacity,
      maxCapacity: typeof scaling.MaxCapacity === 'number' ? scaling.MaxCapacity : scaling.MinCapacity,
      instances: instances.filter((i) => referencedId(i.props.DBClusterIdentifier) === cluster.id && i.props.DBInstanceClass === 'db.serverless').length,
    }];
  });
}

/** Each RDS Proxy with the minimum ACUs of the Aurora Serverless v2 clusters it fronts. */
export function proxies(template: CfnTemplate): { id: string; frontedMinAcus: number; serverless: boolean }[] {
  const clusters = new Map(serverlessClusters(template).map((c) => [c.id, c]));
  const targetGroups = resourcesOf(template, 'AWS::RDS::DBProxyTargetGroup');
  return resourcesOf(template, 'AWS::RDS::DBProxy').map((proxy) => {
    const targets = targetGroups
      .filter((group) => referencedId(group.props.DBProxyName) === proxy.id)
      .flatMap((group) => array(group.props.DBClusterIdentifiers).map(referencedId));
    const fronted = targets.map((id) => clusters.get(id ?? '')).filter((c): c is ServerlessCluster => c !== undefined);
    return {
      id: proxy.id,
      frontedMinAcus: fronted.reduce((sum, c) => sum + c.minCapacity * c.instances, 0),
      serverless: fronted.length > 0,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Streams, queues, tables

export function kinesisStreams(template: CfnTemplate): { id: string; onDemand: boolean; shards: number }[] {
  return resourcesOf(template, 'AWS::Kinesis::Stream').map((stream) => {
    const mode = record(stream.props.StreamModeDetails).StreamMode;
    return {
      id: stream.id,
      onDemand: mode === 'ON_DEMAND',
      shards: typeof stream.props.ShardCount === 'number' ? stream.props.ShardCount : 1,
    };
  });
}

/** Event source mappings, with the logical id and type of the resource they read. */
export function eventSourceMappings(template: CfnTemplate): { id: string; sourceId?: string; sourceType?: string; batchSize?: number }[] {
  const resources = template.Resources ?? {};
  return resourcesOf(template, 'AWS::Lambda::EventSourceMapping').map((mapping) => {
    const sourceId = referencedId(mapping.props.EventSourceArn);
    return {
      id: mapping.id,
      sourceId,
      sourceType: sourceId !== undefined ? resources[sourceId]?.Type : undefined,
      batchSize: typeof mapping.props.BatchSize === 'number' ? mapping.props.BatchSize : undefined,
    };
  });
}

export interface TableSettings {
  readonly id: string;
  readonly onDemand: boolean;
  readonly pointInTimeRecovery: boolean;
  readonly replicas: number;
}

export function tables(template: CfnTemplate): TableSettings[] {
  const globalTables = resourcesOf(template, 'AWS::DynamoDB::GlobalTable').map((table) => {
    const replicas = array(table.props.Replicas).map(record);
    return {
      id: table.id,
      onDemand: table.props.BillingMode === 'PAY_PER_REQUEST',
      pointInTimeRecovery: replicas.some((r) => record(r.PointInTimeRecoverySpecification).PointInTimeRecoveryEnabled === true),
      replicas: Math.max(1, replicas.length),
    };
  });
  const plainTables = resourcesOf(template, 'AWS::DynamoDB::Table').map((table) => ({
    id: table.id,
    onDemand: table.props.BillingMode === 'PAY_PER_REQUEST',
    pointInTimeRecovery: record(table.props.PointInTimeRecoverySpecification).PointInTimeRecoveryEnabled === true,
    replicas: 1,
  }));
  return [...globalTables, ...plainTables];
}

// ---------------------------------------------------------------------------------------------
// Other settings

/** Runs a month of each `rate(...)` schedule (a `cron(...)` or `at(...)` schedule is reported, not counted). */
export function scheduledRunsPerMonth(template: CfnTemplate, hoursPerMonth: number): { id: string; expression: string; runs?: number }[] {
  const minutes: Record<string, number> = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 };
  return resourcesOf(template, 'AWS::Scheduler::Schedule').map((schedule) => {
    const expression = String(schedule.props.ScheduleExpression ?? '');
    const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
    const runs = match ? (hoursPerMonth * 60) / (Number(match[1]) * minutes[match[2]]) : undefined;
    return { id: schedule.id, expression, runs };
  });
}

/** The Cognito feature plan of each user pool (CloudFormation's default for a new pool is ESSENTIALS). */
export function userPoolTiers(template: CfnTemplate): string[] {
  return resourcesOf(template, 'AWS::Cognito::UserPool').map((pool) => String(pool.props.UserPoolTier ?? 'ESSENTIALS'));
}

/** Rules of each web ACL (a managed rule group counts as one rule). */
export function webAcls(template: CfnTemplate): { id: string; rules: number }[] {
  return resourcesOf(template, 'AWS::WAFv2::WebACL').map((acl) => ({ id: acl.id, rules: array(acl.props.Rules).length }));
}

/** Whether an API Gateway stage traces requests with X-Ray, or writes access logs. */
export function restApiStages(template: CfnTemplate): { id: string; traced: boolean; accessLogs: boolean }[] {
  return resourcesOf(template, 'AWS::ApiGateway::Stage').map((stage) => ({
    id: stage.id,
    traced: stage.props.TracingEnabled === true,
    accessLogs: Object.keys(record(stage.props.AccessLogSetting)).length > 0,
  }));
}

/** Each state machine's type and log level (CloudFormation's defaults: STANDARD, no logging). */
export function stateMachines(template: CfnTemplate): { id: string; type: string; logLevel: string }[] {
  return resourcesOf(template, 'AWS::StepFunctions::StateMachine').map((sm) => ({
    id: sm.id,
    type: String(sm.props.StateMachineType ?? 'STANDARD'),
    logLevel: String(record(sm.props.LoggingConfiguration).Level ?? 'OFF'),
  }));
}

/** Every logical id a value refers to with `Ref` or `Fn::GetAtt`, at any depth. */
function referencedIds(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, into);
  } else if (typeof value === 'object' && value !== null) {
    const id = referencedId(value);
    if (id !== undefined) into.add(id);
    for (const item of Object.values(value)) referencedIds(item, into);
  }
  return into;
}

/**
 * Resources that encrypt with a customer-managed key of the template (log groups, topics, queues,
 * secrets, buses, state machines, ...): each asks KMS for data keys while it is in use. IAM
 * policies, resource policies, rotation schedules, key aliases and the keys themselves only name
 * a key, and are not counted.
 */
export function kmsKeyUsers(template: CfnTemplate): { id: string; type: string }[] {
  const keys = new Set(resourcesOf(template, 'AWS::KMS::Key').map((key) => key.id));
  const namingOnly = new Set(['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Role', 'AWS::KMS::Key', 'AWS::KMS::Alias',
    'AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy', 'AWS::SecretsManager::ResourcePolicy', 'AWS::SecretsManager::RotationSchedule']);
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => !namingOnly.has(resource.Type) && !resource.Type.startsWith('Custom::'))
    .filter(([, resource]) => [...referencedIds(resource.Properties ?? {})].some((id) => keys.has(id)))
    .map(([id, resource]) => ({ id, type: resource.Type }));
}
