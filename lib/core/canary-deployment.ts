import { CfnElement, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmFactory } from './alarms';
import { referenceHandlerCode } from './assets';
import { createAlarmDashboard } from './dashboard';
import { assertIntegerInRange, InvalidPropsError } from './errors';
import { createLibraryFunction } from './function';
import { ManagedPolicyRole, servicePrincipalFor } from './managed-policy-role';
import { acknowledgeNagFindings, ruleAcknowledgements } from './nag';

/** The smoke test the reference pre-traffic hook runs against the new version before any traffic shifts. */
export interface PreTrafficHookOptions {
  /** Use this hook function instead of the reference one; it must report to CodeDeploy itself. @default - the reference hook */
  readonly function?: lambda.IFunction;
  /** The event the new version is invoked with, e.g. an API Gateway proxy event for `GET /items`. @default {} */
  readonly smokeTestPayload?: { [key: string]: any };
  /** The `statusCode` field the response must carry (API Gateway proxy responses). @default - not checked */
  readonly expectedStatusCode?: number;
  /** Text the response `body` (or the whole JSON response) must contain. @default - not checked */
  readonly expectedBodyContains?: string;
  /** Top-level fields the JSON response must equal. @default - not checked */
  readonly expectedFields?: { [key: string]: any };
}

/** The check the reference post-traffic hook runs on the new version's metrics after the shift. */
export interface PostTrafficHookOptions {
  /** Use this hook function instead of the reference one; it must report to CodeDeploy itself. @default - the reference hook */
  readonly function?: lambda.IFunction;
  /** How far back to read the new version's metrics (cover the whole shift). @default Duration.minutes(10) */
  readonly window?: Duration;
  /** Errors of the new version in the window that still pass. @default 0 */
  readonly maxErrors?: number;
  /** Error rate (percent of invocations) above which the deployment fails. @default - not checked */
  readonly maxErrorRatePercent?: number;
  /** Fail when the new version got no invocations in the window. @default false */
  readonly requireInvocations?: boolean;
}

/** Provisioned concurrency on the alias, scaled on its utilization. */
export interface AliasProvisionedConcurrencyOptions {
  readonly minCapacity: number;
  /** @default minCapacity (no scaling) */
  readonly maxCapacity?: number;
  /** Target of `ProvisionedConcurrencyUtilization` (0.1..0.9). @default 0.7 */
  readonly targetUtilization?: number;
}

/** How a function is deployed through CodeDeploy; every pattern accepts these as its `deployment` prop. */
export interface CanaryDeploymentOptions {
  /** @default 'live' */
  readonly aliasName?: string;
  /** How traffic shifts to the new version. @default LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES */
  readonly deploymentConfig?: codedeploy.ILambdaDeploymentConfig;
  /**
   * More alarms that roll a deployment back. A pattern adds its own rollback alarms (e.g. its
   * API's 5XX rate) to these. CodeDeploy takes at most 10 alarms, 3 of which are created here.
   * @default - only the alarms created here (and the pattern's)
   */
  readonly rollbackAlarms?: cloudwatch.IAlarm[];
  /** Errors of the new version per minute that roll back. @default 1 */
  readonly errorsThreshold?: number;
  /** p99 duration of the new version (two minutes in a row) that rolls back. @default - 80% of the function timeout (of 3 s when it has none) */
  readonly durationP99Threshold?: Duration;
  /** @default - no pre-traffic hook */
  readonly preTrafficHook?: PreTrafficHookOptions;
  /** @default - no post-traffic hook */
  readonly postTrafficHook?: PostTrafficHookOptions;
  /** @default - none: the alias is served on demand */
  readonly provisionedConcurrency?: AliasProvisionedConcurrencyOptions;
}

export interface CanaryDeploymentProps extends CanaryDeploymentOptions {
  /** The function to deploy; its triggers must invoke `alias`, not the function. */
  readonly function: lambda.Function;
  /** Receives the actions of the alarms created here. A pattern passes its own `alarmTopic`. @default - alarms have no actions */
  readonly alarmTopic?: sns.ITopic;
  /** Create a CloudWatch dashboard of the alarms created here. @default false */
  readonly dashboard?: boolean;
}

const NAME = 'CanaryDeployment';
const ALIAS_NAME_PATTERN = /^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/;
const ROLLBACK_PERIOD = Duration.minutes(1);
const DEFAULT_TIMEOUT = Duration.seconds(3);
/** CodeDeploy's limit of alarms per deployment group. */
const MAX_ROLLBACK_ALARMS = 10;

/**
 * Deploys a function through an alias (default `live`) on its current version with CodeDeploy:
 * canary 10% for 5 minutes by default, rolled back automatically when the deployment fails or
 * an alarm on the new version (errors, throttles, p99 duration; dimensions alias + executed
 * version) or one of yours fires. Optional pre- and post-traffic hooks and provisioned concurrency.
 */
export class CanaryDeployment extends Construct {
  public readonly alias: lambda.Alias;
  public readonly version: lambda.IVersion;
  public readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** The alarms created here; with `rollbackAlarms` they roll a deployment back. */
  public readonly alarms: cloudwatch.IAlarm[];
  /** Every alarm that rolls a deployment back: `alarms`, `rollbackAlarms` and those added later. */
  public readonly rollbackAlarms: cloudwatch.IAlarm[];
  public readonly preTrafficHook?: lambda.IFunction;
  public readonly postTrafficHook?: lambda.IFunction;
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: CanaryDeploymentProps) {
    super(scope, id);
    validate(props);
    const fn = props.function;
    const aliasName = props.aliasName ?? 'live';
    this.version = fn.currentVersion;
    this.alias = new lambda.Alias(this, 'Alias', {
      aliasName,
      version: this.version,
      description: `${fn.node.path} through CodeDeploy`,
      provisionedConcurrentExecutions: props.provisionedConcurrency?.minCapacity,
    });
    if (props.provisionedConcurrency) {
      const pc = props.provisionedConcurrency;
      this.alias.addAutoScaling({ minCapacity: pc.minCapacity, maxCapacity: pc.maxCapacity ?? pc.minCapacity })
        .scaleOnUtilization({ utilizationTarget: pc.targetUtilization ?? 0.7 });
    }

    const alarms = new AlarmFactory(this, props.alarmTopic);
    const newVersionMetric = (metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName,
      dimensionsMap: {
        FunctionName: fn.functionName,
        Resource: `${fn.functionName}:${aliasName}`,
        ExecutedVersion: this.version.version,
      },
      period: ROLLBACK_PERIOD,
      statistic,
    });
    const errors = props.errorsThreshold ?? 1;
    alarms.add('NewVersionErrorsAlarm', {
      metric: newVersionMetric('Errors', cloudwatch.Stats.SUM),
      threshold: errors,
      description: `The version of ${fn.node.path} behind alias ${aliasName} failed ${errors} or more times in a minute: CodeDeploy rolls a running deployment back.`,
    });
    alarms.add('NewVersionThrottlesAlarm', {
      metric: newVersionMetric('Throttles', cloudwatch.Stats.SUM),
      threshold: 1,
      description: `The version of ${fn.node.path} behind alias ${aliasName} was throttled in the last minute: CodeDeploy rolls a running deployment back.`,
    });
    const durationThreshold = props.durationP99Threshold ?? Duration.millis((fn.timeout ?? DEFAULT_TIMEOUT).toMilliseconds() * 0.8);
    alarms.add('NewVersionDurationP99Alarm', {
      metric: newVersionMetric('Duration', cloudwatch.Stats.p(99)),
      threshold: durationThreshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      description: `p99 duration of the version of ${fn.node.path} behind alias ${aliasName} above ${durationThreshold.toMilliseconds()} ms for 2 minutes: CodeDeploy rolls a running deployment back.`,
    });
    this.alarms = alarms.alarms;
    if (props.dashboard) this.dashboard = createAlarmDashboard(this, 'Dashboard', this.alarms);

    this.preTrafficHook = props.preTrafficHook && (props.preTrafficHook.function ?? this.createPreTrafficHook(props.preTrafficHook));
    this.postTrafficHook = props.postTrafficHook && (props.postTrafficHook.function ?? this.createPostTrafficHook(props.postTrafficHook, aliasName));

    this.rollbackAlarms = [...this.alarms, ...(props.rollbackAlarms ?? [])];
    const stack = Stack.of(this);
    const application = new codedeploy.LambdaApplication(this, 'Application');
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      alias: this.alias,
      deploymentConfig: props.deploymentConfig ?? codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [...this.rollbackAlarms],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      preHook: this.preTrafficHook,
      postHook: this.postTrafficHook,
      application,
      // CDK attaches AWSCodeDeployRoleForLambdaLimited to it; the hook grants go to its own managed
      // policy. CodeDeploy may assume it only for this application's deployment groups (no confused
      // deputy); the group's own name is generated, so the group is a wildcard.
      role: new ManagedPolicyRole(this, 'DeploymentRole', {
        assumedBy: servicePrincipalFor('codedeploy.amazonaws.com', stack.account,
          `arn:${stack.partition}:codedeploy:${stack.region}:${stack.account}:deploymentgroup:${application.applicationName}/*`),
        description: `Lets CodeDeploy shift traffic of ${this.node.path}`,
      }),
    });
    // Alarms can still be added after construction, so the limit is checked at synthesis.
    this.node.addValidation({
      validate: () => this.rollbackAlarms.length > MAX_ROLLBACK_ALARMS
        ? [`${NAME}: ${this.rollbackAlarms.length} rollback alarms, CodeDeploy takes at most ${MAX_ROLLBACK_ALARMS} per deployment group (3 are the new version's own)`]
        : [],
    });
    acknowledgeNagFindings(this.deploymentGroup.role, [
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
        reason: 'The AWS-maintained policy CodeDeploy needs to shift a Lambda alias (GetAlias/UpdateAlias), read the rollback alarms and invoke the hooks; CDK grants the hooks of this group explicitly.',
      },
      ...[this.preTrafficHook, this.postTrafficHook].flatMap((hook) => {
        const cfn = hook?.node.defaultChild;
        return cfn instanceof CfnElement && Stack.of(cfn) === Stack.of(this) ? [{
          id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(cfn)}.Arn>:*]`,
          reason: 'lambda:InvokeFunction on one lifecycle hook function and its versions (`:*`), as CDK grants hooks to the deployment group role.',
        }] : [];
      }),
    ]);
  }

  /** Another alarm that rolls a running deployment back (e.g. the 5XX rate of the API in front). */
  public addRollbackAlarm(alarm: cloudwatch.IAlarm): void {
    if (this.rollbackAlarms.includes(alarm)) return;
    this.rollbackAlarms.push(alarm);
    this.deploymentGroup.addAlarm(alarm);
  }

  private createPreTrafficHook(options: PreTrafficHookOptions): lambda.IFunction {
    const expect: Record<string, unknown> = {};
    if (options.expectedStatusCode !== undefined) expect.statusCode = options.expectedStatusCode;
    if (options.expectedBodyContains !== undefined) expect.bodyContains = options.expectedBodyContains;
    if (options.expectedFields !== undefined) expect.fields = options.expectedFields;
    const hook = this.createHook('PreTrafficHook', 'canary/pre-traffic', 'smoke-tests the new version before traffic shifts', {
      TARGET_VERSION_ARN: this.version.functionArn,
      SMOKE_TEST_PAYLOAD: JSON.stringify(options.smokeTestPayload ?? {}),
      SMOKE_TEST_EXPECT: JSON.stringify(expect),
    });
    this.version.grantInvoke(hook);
    return hook;
  }

  private createPostTrafficHook(options: PostTrafficHookOptions, aliasName: string): lambda.IFunction {
    const env: Record<string, string> = {
      FUNCTION_NAME: this.version.lambda.functionName,
      ALIAS_NAME: aliasName,
      TARGET_VERSION: this.version.version,
      WINDOW_MINUTES: String((options.window ?? Duration.minutes(10)).toMinutes()),
      MAX_ERRORS: String(options.maxErrors ?? 0),
      REQUIRE_INVOCATIONS: String(options.requireInvocations ?? false),
    };
    if (options.maxErrorRatePercent !== undefined) env.MAX_ERROR_RATE_PERCENT = String(options.maxErrorRatePercent);
    // GetMetricData takes no resource-level permissions.
    return this.createHook('PostTrafficHook', 'canary/post-traffic', 'checks the new version\'s errors after traffic shifted', env, ['cloudwatch:GetMetricData']);
  }

  private createHook(
    id: string, asset: string, purpose: string, environment: Record<string, string>, unscopedActions: string[] = [],
  ): lambda.IFunction {
    const { function: hook } = createLibraryFunction(this, id, {
      code: referenceHandlerCode(asset),
      serviceName: `${id.charAt(0).toLowerCase()}${id.slice(1)}`,
      description: `${this.node.path}: ${purpose}`,
      environment,
      runsOnlyWhen: 'when CodeDeploy runs this lifecycle hook, once per deployment',
      // The hook must report before CodeDeploy's one-hour hook timeout; its own checks are short.
      functionProps: { timeout: Duration.minutes(5) },
    });
    if (unscopedActions.length > 0) {
      hook.addToRolePolicy(new iam.PolicyStatement({ actions: unscopedActions, resources: ['*'] }));
      acknowledgeNagFindings(hook.role!, [{
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `X-Ray PutTraceSegments/PutTelemetryRecords and ${unscopedActions.join(', ')} support no resource-level permissions; every other statement names its resource.`,
      }]);
    }
    acknowledgeNagFindings(hook, [
      ...ruleAcknowledgements('LambdaDLQ', 'CodeDeploy takes a hook\'s verdict only from PutLifecycleEventHookExecutionStatus, which the reference hooks call on every path that has the ids, a throwing or overrunning check included; a hook that never reports fails the deployment at CodeDeploy\'s hook timeout, so a dead-letter copy of the event would decide nothing.'),
      { id: 'Serverless-LambdaAsyncFailureDestination', reason: 'CodeDeploy takes a hook\'s verdict only from PutLifecycleEventHookExecutionStatus, which the hook calls on every path; a failure destination would receive an event that no one can act on before the hook timeout fails the deployment.' },
    ]);
    return hook;
  }
}

function validate(props: CanaryDeploymentProps): void {
  if (props.aliasName !== undefined && !ALIAS_NAME_PATTERN.test(props.aliasName)) {
    throw new InvalidPropsError(NAME, `aliasName must be 1-128 letters, digits, '-' or '_' and not only digits, got '${props.aliasName}'`);
  }
  assertIntegerInRange(NAME, 'errorsThreshold', props.errorsThreshold, 1, 1_000_000);
  const pc = props.provisionedConcurrency;
  if (pc) {
    assertIntegerInRange(NAME, 'provisionedConcurrency.minCapacity', pc.minCapacity, 1, 100_000);
    assertIntegerInRange(NAME, 'provisionedConcurrency.maxCapacity', pc.maxCapacity, pc.minCapacity, 100_000);
    const target = pc.targetUtilization;
    if (target !== undefined && !(target >= 0.1 && target <= 0.9)) {
      throw new InvalidPropsError(NAME, `provisionedConcurrency.targetUtilization must be in 0.1..0.9, got ${target}`);
    }
  }
  const post = props.postTrafficHook;
  if (post) {
    const tuned = post.window || post.maxErrors !== undefined || post.maxErrorRatePercent !== undefined || post.requireInvocations !== undefined;
    if (post.function && tuned) {
      throw new InvalidPropsError(NAME, 'postTrafficHook.function replaces the reference hook: its window/maxErrors/maxErrorRatePercent/requireInvocations settings would be ignored');
    }
    const minutes = post.window?.toMinutes();
    if (minutes !== undefined && !Token.isUnresolved(minutes) && (minutes < 1 || minutes > 180)) {
      throw new InvalidPropsError(NAME, `postTrafficHook.window must be 1..180 minutes, got ${minutes}`);
    }
    assertIntegerInRange(NAME, 'postTrafficHook.maxErrors', post.maxErrors, 0, 1_000_000);
    const rate = post.maxErrorRatePercent;
    if (rate !== undefined && !(rate >= 0 && rate <= 100)) {
      throw new InvalidPropsError(NAME, `postTrafficHook.maxErrorRatePercent must be in 0..100, got ${rate}`);
    }
  }
  const pre = props.preTrafficHook;
  const smokeTestSet = pre
    && (pre.smokeTestPayload || pre.expectedStatusCode !== undefined || pre.expectedBodyContains !== undefined || pre.expectedFields);
  if (pre?.function && smokeTestSet) {
    throw new InvalidPropsError(NAME, 'preTrafficHook.function replaces the reference hook: its smoke test settings would be ignored');
  }
  if (pre?.expectedBodyContains === '') {
    throw new InvalidPropsError(NAME, 'preTrafficHook.expectedBodyContains must not be empty (every body contains it); leave it out to not check the body');
  }
  if (pre?.expectedStatusCode !== undefined) assertIntegerInRange(NAME, 'preTrafficHook.expectedStatusCode', pre.expectedStatusCode, 100, 599);
  const hookEnvBytes = JSON.stringify(pre?.smokeTestPayload ?? {}).length + JSON.stringify(pre?.expectedFields ?? {}).length;
  if (hookEnvBytes > 3500) {
    throw new InvalidPropsError(NAME, `preTrafficHook smoke test payload and expected fields take ${hookEnvBytes} bytes; Lambda allows 4 KB of environment in total`);
  }
}
