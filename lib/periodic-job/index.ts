import { CfnElement, Duration, RemovalPolicy, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AlarmFactory } from '../core/alarms';
import { CanaryDeployment } from '../core/canary-deployment';
import { PatternEncryptionProps, encryptionKeyOf, usePatternKey } from '../core/encryption';
import { assertIntegerInRange, InvalidPropsError } from '../core/errors';
import { ManagedPolicyRole, servicePrincipalFor } from '../core/managed-policy-role';
import { ALARM_PERIOD, DynamoDbMetrics, LambdaMetrics, SqsMetrics } from '../core/metrics';
import { acknowledgeNagFindings, ruleAcknowledgements } from '../core/nag';
import { completeOperations, PatternOperationsProps, patternDeployment } from '../core/operations';
import {
  grantPatternTable, patternHandler, PatternHandlerProps, patternTable, PatternTableProps, usesReferenceHandler, validatePatternProps,
} from '../core/pattern-props';
import { createTerminalQueue } from '../core/queue';

/** How the reference handler walks the pages of the source API. */
export enum PagingStyle {
  /** One request. */
  NONE = 'none',
  /** `?page=1,2,...` until a page has no items. */
  PAGE = 'page',
  /** The next cursor comes from a JSON field of the body and goes into a query parameter. */
  CURSOR = 'cursor',
  /** RFC 8288 `Link: <...>; rel="next"` header. */
  LINK = 'link',
}

/** The JSON HTTP API the reference handler polls. */
export interface PeriodicJobSourceApi {
  /** `https:` URL of the first page (`http:` only to a loopback host, or with `allowInsecureHttp`). */
  readonly url: string;
  /** @default PagingStyle.NONE */
  readonly pagingStyle?: PagingStyle;
  /** Query parameter of the page number (PAGE). @default 'page' */
  readonly pageParam?: string;
  /** Query parameter of the cursor (CURSOR). @default 'cursor' */
  readonly cursorParam?: string;
  /** Body field holding the next cursor (CURSOR). @default 'next' */
  readonly cursorField?: string;
  /** Dot path of the items array in the body; '' when the body is the array. @default 'items' */
  readonly itemsPath?: string;
  /** Field of each item holding its id. @default 'id' */
  readonly idField?: string;
  /** Most pages one run reads. @default 100 */
  readonly maxPages?: number;
  /** Timeout of each request. @default Duration.seconds(5) */
  readonly requestTimeout?: Duration;
  /** Attempts per request (network errors, 429 and 5xx are retried with backoff and jitter). @default 4 */
  readonly maxAttempts?: number;
  /** Header that carries the credential from the secret, as `Bearer <token>`. @default 'Authorization' */
  readonly authHeader?: string;
  /**
   * Allow a plain `http:` `url` to a host other than a loopback one. The credential then crosses
   * the network in clear text, so every `http:` URL fails at synth without this.
   * @default false
   */
  readonly allowInsecureHttp?: boolean;
}

export interface PeriodicJobProps extends PatternHandlerProps, PatternTableProps, PatternOperationsProps, PatternEncryptionProps {
  /** Name of the job in run records and the `JobName` metric dimension. @default - the construct id */
  readonly jobName?: string;
  /** When the job runs. `ScheduleExpression.rate`, `.cron` (with a time zone) or `.expression`. @default rate(1 hour) */
  readonly schedule?: scheduler.ScheduleExpression;
  /** Time between runs, for the missed-run alarm; required for a cron schedule. @default - the rate of a rate schedule */
  readonly expectedInterval?: Duration;
  /** Let Scheduler start a run anywhere in this window (spreads load). @default - exactly on schedule */
  readonly flexibleTimeWindow?: Duration;
  /** @default true */
  readonly enabled?: boolean;
  /** Scheduler's retries of a failed delivery to Lambda (0..185). @default 3 */
  readonly scheduleRetryAttempts?: number;
  /** How long Scheduler keeps trying one delivery (1 min..24 h). @default Duration.hours(1) */
  readonly scheduleMaxEventAge?: Duration;

  /** The API to poll; required with the reference handler. @default - none */
  readonly sourceApi?: PeriodicJobSourceApi;
  /**
   * The secret holding the source API's credential (a token, or JSON `{"token": "..."}`).
   * @default - a new secret holding the placeholder `{"notSet": true, ...}`: until you set the
   * token, runs are skipped (nothing is sent to the API) and the credential-not-set alarm fires
   */
  readonly existingApiCredential?: secretsmanager.ISecret;


  /** Lambda's retries of a failed run (0..2). @default 2 */
  readonly retryAttempts?: number;
  /** How long Lambda keeps a run event for retries (1 min..6 h). @default Duration.hours(1) */
  readonly maxEventAge?: Duration;

  /** Alarm when no run succeeded for two intervals. @default true */
  readonly missedRunAlarm?: boolean;
}

const NAME = 'PeriodicJob';
const SUCCESS_METRIC = 'PeriodicJobSuccess';
const CREDENTIAL_NOT_SET_METRIC = 'PeriodicJobCredentialNotSet';
/**
 * The created secret's value until someone sets the token: the handler recognises `notSet` and
 * skips the run, so nothing nobody chose is ever sent to the API as a credential.
 */
const CREDENTIAL_PLACEHOLDER = JSON.stringify({ notSet: true, howTo: 'Set this secret to the API token, or to {"token": "<token>"}' });
const JOB_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const RATE_PATTERN = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON_PATTERN = /^cron\((\S+ ){5}\S+\)$/;
const MAX_MISSED_RUN_INTERVAL = Duration.days(1);
// The handler reads its settings with the same rules (lambda/periodic-job/lib/config.ts); the
// contract tests run both sides over the same values.
const QUERY_PARAM_PATTERN = /^[\x21-\x22\x24-\x25\x27-\x3c\x3e-\x7e]{1,64}$/;
const DOT_PATH_PATTERN = /^[\x21-\x2d\x2f-\x7e]{1,64}(?:\.[\x21-\x2d\x2f-\x7e]{1,64}){0,9}$/;
const HEADER_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
/** An `itemsPath` that says the response body is the items array. */
const WHOLE_BODY = ['', '.'];
/** Exactly what the reference handler calls: stored hashes are read in batches, changed records put conditionally. */
const REFERENCE_HANDLER_TABLE_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:PutItem'];
const REFERENCE_HANDLER_OPERATIONS = [dynamodb.Operation.BATCH_GET_ITEM, dynamodb.Operation.PUT_ITEM];

/**
 * EventBridge Scheduler -> Lambda -> external HTTP API -> DynamoDB. Runs of the reference handler
 * never overlap (a lease item in the table, so the job deploys in an account whose concurrency
 * quota leaves nothing to reserve), every failed delivery or run lands in a queue a person sees,
 * and an alarm fires when no run succeeded for two intervals.
 */
export class PeriodicJob extends Construct {
  /** Where the reference handler emits its metrics (EMF, dimension `JobName`); the missed-run alarm reads `PeriodicJobSuccess` there. */
  public static readonly METRICS_NAMESPACE = 'ServerlessReferenceArchitectures';

  public readonly jobName: string;
  public readonly schedule: scheduler.Schedule;
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  /** Deliveries Scheduler could not make. */
  public readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** Runs that failed after Lambda's retries. */
  public readonly failedRunsQueue: sqs.IQueue;
  /** The source API's credential, read by the handler. */
  public readonly apiCredential: secretsmanager.ISecret;
  public readonly table: dynamodb.ITable;
  public readonly handler: lambda.IFunction;
  public readonly logGroup?: logs.ILogGroup;
  /** The customer-managed key of the pattern's log groups and secrets. */
  public readonly encryptionKey: kms.IKey;
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The CodeDeploy deployment of the handler when `deployment` is set. */
  public readonly deployment?: CanaryDeployment;

  constructor(scope: Construct, id: string, props: PeriodicJobProps = {}) {
    super(scope, id);
    this.encryptionKey = usePatternKey(this, props.encryptionKey);
    this.jobName = props.jobName ?? id;
    const scheduleExpression = props.schedule ?? scheduler.ScheduleExpression.rate(Duration.hours(1));
    const interval = validate(props, this.jobName, scheduleExpression);

    // Run records carry `expiresAt` (90 days by default); job records never expire.
    this.table = patternTable(this, NAME, props, { timeToLiveAttribute: 'expiresAt' });
    if (props.existingApiCredential) {
      this.apiCredential = props.existingApiCredential;
    } else {
      const secret = new secretsmanager.Secret(this, 'ApiCredential', {
        description: `API credential of the periodic job ${this.jobName}: set its value to the token (or JSON {"token": "..."})`,
        secretStringValue: SecretValue.unsafePlainText(CREDENTIAL_PLACEHOLDER),
        encryptionKey: encryptionKeyOf(this),
      });
      const noRotation = 'The credential is issued by the external API provider; it is rotated when the provider rotates it, which a Lambda rotation function cannot do.';
      acknowledgeNagFindings(secret, [{ id: 'AwsSolutions-SMG4', reason: noRotation }, ...ruleAcknowledgements('SecretsManagerRotationEnabled', noRotation)]);
      this.apiCredential = secret;
    }

    const environment = {
      TABLE_NAME: this.table.tableName,
      JOB_NAME: this.jobName,
      SECRET_ARN: this.apiCredential.secretArn,
      POWERTOOLS_METRICS_NAMESPACE: PeriodicJob.METRICS_NAMESPACE,
      ...sourceApiEnvironment(props.sourceApi),
    };
    this.failedRunsQueue = createTerminalQueue(this, 'FailedRunsQueue', 'runs that failed after Lambda\'s retries');
    ({ handler: this.handler, logGroup: this.logGroup } = patternHandler(this, props, {
      referenceAsset: 'periodic-job/poller',
      serviceName: this.jobName,
      description: `${this.node.path}: periodic job ${this.jobName}`,
      environment,
      // No reserved concurrency: Lambda refuses any reservation that leaves an account fewer than
      // 10 unreserved executions, which is all a new account may have. The handler's lease keeps
      // runs apart instead; `functionProps: { reservedConcurrentExecutions: 1 }` adds a reservation.
      functionDefaults: { timeout: Duration.minutes(2) },
      nagAcknowledgements: ruleAcknowledgements('LambdaDLQ',
        'Failed asynchronous runs go to an on-failure destination (the failed-runs queue), which carries the error and the event, unlike a DLQ.'),
    }));
    const { deployment, invokeTarget } = patternDeployment(this, NAME, this.handler, props.alarmTopic, props.deployment);
    this.deployment = deployment;
    // Asynchronous invoke settings apply per qualifier: they belong on what the schedule invokes.
    invokeTarget.configureAsyncInvoke({
      retryAttempts: props.retryAttempts ?? 2,
      maxEventAge: props.maxEventAge ?? Duration.hours(1),
      onFailure: new destinations.SqsDestination(this.failedRunsQueue),
    });
    grantPatternTable(this.table, this.handler, props, REFERENCE_HANDLER_TABLE_ACTIONS);
    this.apiCredential.grantRead(this.handler);

    // Deleted with the stack (CDK keeps it by default): it holds nothing but this job's schedule,
    // and a kept group's name would make deploying the stack again fail with "already exists".
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', { removalPolicy: RemovalPolicy.DESTROY });
    this.scheduleDeadLetterQueue = createTerminalQueue(this, 'ScheduleDeadLetterQueue', 'schedule deliveries Scheduler could not make');
    const schedulerRole = new ManagedPolicyRole(this, 'SchedulerRole', {
      assumedBy: servicePrincipalFor('scheduler.amazonaws.com', Stack.of(this).account),
      description: `Lets EventBridge Scheduler start runs of ${this.jobName}`,
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: scheduleExpression,
      scheduleGroup: this.scheduleGroup,
      description: `Runs the periodic job ${this.jobName}`,
      enabled: props.enabled ?? true,
      timeWindow: props.flexibleTimeWindow ? scheduler.TimeWindow.flexible(props.flexibleTimeWindow) : scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(invokeTarget, {
        role: schedulerRole,
        retryAttempts: props.scheduleRetryAttempts ?? 3,
        maxEventAge: props.scheduleMaxEventAge ?? Duration.hours(1),
        deadLetterQueue: this.scheduleDeadLetterQueue,
        input: scheduler.ScheduleTargetInput.fromObject({ jobName: this.jobName, scheduledTime: scheduler.ContextAttribute.scheduledTime }),
      }),
    });
    const cfnFunction = this.handler.node.defaultChild;
    if (cfnFunction instanceof CfnElement && Stack.of(cfnFunction) === Stack.of(this)) {
      acknowledgeNagFindings(schedulerRole, [{
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(cfnFunction)}.Arn>:*]`,
        reason: 'lambda:InvokeFunction on this one function and its versions and aliases (`:*`), so the schedule keeps working when it targets an alias (canary deployments).',
      }]);
    }

    const alarms = new AlarmFactory(this, props.alarmTopic);
    alarms.add('HandlerErrorsAlarm', {
      metric: LambdaMetrics.errorCount(this.handler),
      threshold: 1,
      description: `A run of ${this.jobName} failed in the last 5 minutes; Lambda retries it, and its run record in the table says why.`,
    });
    alarms.add('FailedRunsAlarm', {
      metric: SqsMetrics.visibleMessageCount(this.failedRunsQueue),
      threshold: 1,
      description: `Runs of ${this.jobName} failed after every retry; they wait in the failed-runs queue with the error.`,
    });
    alarms.add('ScheduleDeliveryFailuresAlarm', {
      metric: new cloudwatch.MathExpression({
        expression: 'errors + dropped + dlq',
        usingMetrics: {
          errors: this.scheduleGroup.metricTargetErrors({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
          dropped: this.scheduleGroup.metricDropped({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
          dlq: this.scheduleGroup.metricSentToDLQ({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
        },
        period: ALARM_PERIOD,
        label: 'failed or dropped deliveries',
      }),
      threshold: 1,
      description: `Scheduler failed to deliver or dropped runs of ${this.jobName} in the last 5 minutes (permissions, throttling or a deleted target).`,
    });
    alarms.add('ScheduleDeadLetterAlarm', {
      metric: SqsMetrics.visibleMessageCount(this.scheduleDeadLetterQueue),
      threshold: 1,
      description: `Scheduler gave up delivering runs of ${this.jobName}; they wait in the schedule dead-letter queue.`,
    });
    alarms.add('TableThrottlesAlarm', {
      metric: DynamoDbMetrics.throttledRequestCount(this.table, REFERENCE_HANDLER_OPERATIONS),
      threshold: 1,
      description: `DynamoDB throttled requests of ${this.jobName} in the last 5 minutes.`,
    });
    alarms.add('CredentialNotSetAlarm', {
      metric: new cloudwatch.Metric({
        namespace: PeriodicJob.METRICS_NAMESPACE,
        metricName: CREDENTIAL_NOT_SET_METRIC,
        dimensionsMap: { JobName: this.jobName },
        // One datapoint per run: the alarm stays on until the token is set, instead of flapping.
        period: interval !== undefined && isAlarmPeriod(interval) ? interval : ALARM_PERIOD,
        statistic: cloudwatch.Stats.SUM,
      }),
      threshold: 1,
      description: `Runs of ${this.jobName} are skipped: its API credential secret still holds the placeholder. Set the secret to the token.`,
    });
    if ((props.missedRunAlarm ?? true) && interval) {
      alarms.add('MissedRunAlarm', {
        metric: new cloudwatch.Metric({
          namespace: PeriodicJob.METRICS_NAMESPACE,
          metricName: SUCCESS_METRIC,
          dimensionsMap: { JobName: this.jobName },
          period: interval,
          statistic: cloudwatch.Stats.SUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        description: `No run of ${this.jobName} succeeded for two intervals (${interval.toHumanString()} each): the schedule is off, deliveries fail or every run fails.`,
      });
    }
    // Runs are minutes to hours apart, so no rate alarm of the job can judge a canary in time:
    // the new version's own errors, throttles and duration roll it back.
    ({ alarms: this.alarms, dashboard: this.dashboard } = completeOperations(this, props, alarms.alarms, [{ deployment, rollbackAlarms: [] }]));
  }
}

function sourceApiEnvironment(api: PeriodicJobSourceApi | undefined): Record<string, string> {
  if (!api) return {};
  const env: Record<string, string | undefined> = {
    SOURCE_URL: api.url,
    PAGING_STYLE: api.pagingStyle,
    PAGE_PARAM: api.pageParam,
    CURSOR_PARAM: api.cursorParam,
    CURSOR_FIELD: api.cursorField,
    ITEMS_PATH: api.itemsPath,
    ID_FIELD: api.idField,
    MAX_PAGES: api.maxPages?.toString(),
    REQUEST_TIMEOUT_MS: api.requestTimeout?.toMilliseconds().toString(),
    MAX_ATTEMPTS: api.maxAttempts?.toString(),
    AUTH_HEADER: api.authHeader,
    ALLOW_INSECURE_HTTP: api.allowInsecureHttp ? 'true' : undefined,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Validates the props; returns the interval between runs (undefined when unknown and not needed). */
function validate(props: PeriodicJobProps, jobName: string, schedule: scheduler.ScheduleExpression): Duration | undefined {
  validatePatternProps(NAME, props);
  if (!Token.isUnresolved(jobName) && !JOB_NAME_PATTERN.test(jobName)) {
    throw new InvalidPropsError(NAME, `jobName must be 1..64 letters, digits, '-' or '_' (it is a metric dimension), got '${jobName}'`);
  }
  if (usesReferenceHandler(props) && props.sourceApi === undefined) {
    throw new InvalidPropsError(NAME, 'the reference handler needs sourceApi (at least { url }); pass code or existingFunction to run your own job instead');
  }
  const api = props.sourceApi;
  if (api) {
    if (!Token.isUnresolved(api.url) && !isSourceUrl(api.url)) {
      throw new InvalidPropsError(NAME, `sourceApi.url must be an http(s) URL without user info or fragment (the credential goes in the secret), got '${api.url}'`);
    }
    if (!Token.isUnresolved(api.url) && !api.allowInsecureHttp && sendsInClearText(api.url)) {
      throw new InvalidPropsError(NAME, `sourceApi.url must be https: (the API credential would cross the network in clear text); set sourceApi.allowInsecureHttp to send it anyway, got '${api.url}'`);
    }
    const checks: Array<[string, string | undefined, RegExp, string]> = [
      ['pageParam', api.pageParam, QUERY_PARAM_PATTERN, 'a query parameter name (1..64 printable characters without space, #, & or =)'],
      ['cursorParam', api.cursorParam, QUERY_PARAM_PATTERN, 'a query parameter name (1..64 printable characters without space, #, & or =)'],
      ['cursorField', api.cursorField, DOT_PATH_PATTERN, 'a dot path of 1..10 field names'],
      ['idField', api.idField, DOT_PATH_PATTERN, 'a dot path of 1..10 field names'],
      ['authHeader', api.authHeader, HEADER_NAME_PATTERN, 'an HTTP header name'],
    ];
    if (api.itemsPath !== undefined && !WHOLE_BODY.includes(api.itemsPath)) checks.push(['itemsPath', api.itemsPath, DOT_PATH_PATTERN, 'a dot path of 1..10 field names, or \'\' for a body that is the array']);
    for (const [name, value, pattern, what] of checks) {
      if (value !== undefined && !Token.isUnresolved(value) && !pattern.test(value)) {
        throw new InvalidPropsError(NAME, `sourceApi.${name} must be ${what}, got '${value}'`);
      }
    }
    if (api.pagingStyle === PagingStyle.CURSOR && api.itemsPath !== undefined && WHOLE_BODY.includes(api.itemsPath)) {
      throw new InvalidPropsError(NAME, 'sourceApi.itemsPath must name a field with CURSOR paging: the cursor is read from the response body object');
    }
    assertIntegerInRange(NAME, 'sourceApi.maxPages', api.maxPages, 1, 10_000);
    assertIntegerInRange(NAME, 'sourceApi.maxAttempts', api.maxAttempts, 1, 10);
    const timeout = api.requestTimeout?.toMilliseconds();
    if (timeout !== undefined && !Token.isUnresolved(timeout) && (timeout < 100 || timeout > 60_000)) {
      throw new InvalidPropsError(NAME, `sourceApi.requestTimeout must be 100 ms..60 s, got ${timeout} ms`);
    }
  }
  assertIntegerInRange(NAME, 'scheduleRetryAttempts', props.scheduleRetryAttempts, 0, 185);
  assertIntegerInRange(NAME, 'retryAttempts', props.retryAttempts, 0, 2);
  assertSecondsInRange('scheduleMaxEventAge', props.scheduleMaxEventAge, 60, 86_400);
  assertSecondsInRange('maxEventAge', props.maxEventAge, 60, 21_600);
  assertSecondsInRange('flexibleTimeWindow', props.flexibleTimeWindow, 60, 86_400);

  const expression = schedule.expressionString;
  if (Token.isUnresolved(expression)) return props.expectedInterval;
  let interval: Duration | undefined;
  const rate = RATE_PATTERN.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    if (value < 1) throw new InvalidPropsError(NAME, `schedule ${expression} must have a rate of at least 1, got ${value}`);
    const unit = rate[2].replace(/s$/, '');
    interval = unit === 'minute' ? Duration.minutes(value) : unit === 'hour' ? Duration.hours(value) : Duration.days(value);
  } else if (!CRON_PATTERN.test(expression)) {
    throw new InvalidPropsError(NAME, `schedule must be rate(<n> <minute(s)|hour(s)|day(s)>) or cron(<6 fields>) for a periodic job, got '${expression}'`);
  }
  interval = props.expectedInterval ?? interval;
  if (props.missedRunAlarm ?? true) {
    if (interval === undefined) {
      throw new InvalidPropsError(NAME, `the missed-run alarm needs expectedInterval with a cron schedule ('${expression}'); pass it, or set missedRunAlarm: false`);
    }
    if (!isAlarmPeriod(interval)) {
      throw new InvalidPropsError(NAME, `the missed-run alarm needs an interval of whole minutes from 1 minute to 1 day (a CloudWatch alarm period), got ${interval.toSeconds()} seconds; set missedRunAlarm: false for rarer jobs`);
    }
  }
  return interval;
}

function isSourceUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '' && url.hash === '';
  } catch {
    return false;
  }
}

/** Whole minutes from 1 minute to 1 day: a CloudWatch alarm period. */
function isAlarmPeriod(interval: Duration): boolean {
  const seconds = interval.toSeconds();
  return !Token.isUnresolved(seconds) && seconds >= 60 && seconds <= MAX_MISSED_RUN_INTERVAL.toSeconds() && seconds % 60 === 0;
}

/** An `http:` URL to a host whose traffic leaves the machine (the handler's rule too). */
function sendsInClearText(value: string): boolean {
  const url = new URL(value);
  return url.protocol === 'http:' && !(url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(url.hostname));
}

function assertSecondsInRange(name: string, value: Duration | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value.toSeconds())) return;
  const seconds = value.toSeconds();
  if (seconds < min || seconds > max) {
    throw new InvalidPropsError(NAME, `${name} must be ${min}..${max} seconds, got ${seconds}`);
  }
}
