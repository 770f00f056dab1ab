import { ArnFormat, CfnElement, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { buildSagaDefinition } from './definition';
import { AlarmFactory } from '../core/alarms';
import { createPatternApi, synchronousInvokeAcknowledgements } from '../core/api-service';
import { referenceHandlerCode } from '../core/assets';
import { CanaryDeployment } from '../core/canary-deployment';
import { stackUuid } from '../core/deployment-names';
import { encryptedLogGroup, PatternEncryptionProps, usePatternKey } from '../core/encryption';
import { assertExclusive, assertIntegerInRange, InvalidPropsError } from '../core/errors';
import { createLibraryFunction } from '../core/function';
import { LOG_RETENTION_DEFAULT } from '../core/lambda-defaults';
import { ManagedPolicyRole, servicePrincipalFor } from '../core/managed-policy-role';
import { mergeProps } from '../core/merge';
import { ALARM_PERIOD, LambdaMetrics, SqsMetrics } from '../core/metrics';
import { acknowledgeNagFindings, NagAcknowledgement } from '../core/nag';
import { completeOperations, DeploymentRollback, PatternOperationsProps, patternDeployment } from '../core/operations';
import { patternTable, PatternTableProps } from '../core/pattern-props';
import { createTerminalQueue } from '../core/queue';
import { SecureRestApi, SecureRestApiProps } from '../core/secure-rest-api';
import { QUEUE_DEFAULTS } from '../core/sqs-defaults';

/** How much of each execution the state machine logs. */
export enum SagaLogLevel {
  /** Every state transition (needed to follow one saga through the logs; the cdk-nag default). */
  ALL = 'ALL',
  /** Only failures. */
  ERROR = 'ERROR',
}

export interface SagaWorkflowProps extends PatternTableProps, PatternOperationsProps, PatternEncryptionProps {
  /**
   * STANDARD: exactly-once steps, up to a year, execution names unique for 90 days, redrive, the
   * callback step. EXPRESS: at-least-once (async) or at-most-once (sync), at most 5 minutes, no
   * callback step (Express runs no `.waitForTaskToken` task), no redrive.
   * @default sfn.StateMachineType.STANDARD
   */
  readonly stateMachineType?: sfn.StateMachineType;
  /** The whole execution's timeout (TimeoutSeconds). @default - Duration.days(2) on STANDARD, Duration.minutes(5) on EXPRESS */
  readonly executionTimeout?: Duration;
  /**
   * Wait for an external confirmation between Charge and Confirm: the task token goes out through
   * the callback queue and comes back through `POST /callbacks`. STANDARD only.
   * @default - true on STANDARD, false on EXPRESS
   */
  readonly awaitConfirmation?: boolean;
  /** The external system must answer or send a heartbeat within this time, or the saga compensates. @default Duration.minutes(15) */
  readonly callbackHeartbeatTimeout?: Duration;
  /** The longest wait for the confirmation, heartbeats included. @default Duration.hours(24) */
  readonly callbackTimeout?: Duration;
  /** Use this queue for the task tokens instead of creating one. @default - a new queue encrypted with the pattern's key, with a DLQ */
  readonly existingCallbackQueue?: sqs.IQueue;
  /** Overrides of the created callback queue. @default - none */
  readonly callbackQueueProps?: sqs.QueueProps;
  /** `POST /sagas` waits for the saga and answers with its output (StartSyncExecution). EXPRESS only. @default false - 202 with the execution id */
  readonly synchronousStart?: boolean;
  /** @default SagaLogLevel.ALL */
  readonly logLevel?: SagaLogLevel;
  /** Log each state's input and output (order data) with the events. @default false */
  readonly includeExecutionData?: boolean;
  /** Retention of the execution log group. @default three months */
  readonly logRetention?: logs.RetentionDays;
  /** Props of the API building block (authorization, throttling, WAF, ...). @default - REGIONAL, IAM auth, 100 rps */
  readonly apiProps?: SecureRestApiProps;
  /**
   * Your own inventory step instead of the reference one (handler `index.handler`): it gets
   * `{action: "reserve" | "release", executionId, order}`, TABLE_NAME, and read/write on the table;
   * it must be idempotent per execution and throw `TransientStepError` to be retried.
   * @default - the reference inventory step
   */
  readonly inventoryCode?: lambda.Code;
  /**
   * Your own payment step (e.g. your provider's client; pass `executionId` as its idempotency key):
   * `{action: "charge" | "refund", executionId, order}`, TABLE_NAME and PAYMENT_LIMIT, read/write on the table.
   * @default - the reference payment step
   */
  readonly paymentCode?: lambda.Code;
  /** Overrides of the four functions' props (memory, timeout, VPC, reserved concurrency, ...). @default - library defaults */
  readonly functionProps?: lambda.FunctionOptions;
  /** The reference payment step declines charges above this amount (minor units). @default 1000000 */
  readonly paymentLimit?: number;
  /** Attempts of a compensation on transient errors before the execution fails (for a redrive). @default 8 */
  readonly compensationMaxAttempts?: number;
}

const NAME = 'SagaWorkflow';
const STEP_TIMEOUT = Duration.seconds(30);
/** API Gateway's longest wait for an integration: the synchronous starter's timeout. */
const API_INTEGRATION_TIMEOUT = Duration.seconds(29);
/** How long the synchronous starter waits for the saga, leaving time to record its outcome. */
const SYNC_START_WAIT = Duration.seconds(25);
const EXPRESS_MAX = Duration.minutes(5);

/**
 * A saga on Step Functions: `POST /sagas` (Idempotency-Key) starts reserve -> charge ->
 * wait for an external confirmation (task token via SQS, heartbeat) -> confirm (direct DynamoDB),
 * each step retried with backoff and jitter and compensated in reverse order on failure.
 */
export class SagaWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly stateMachineType: sfn.StateMachineType;
  public readonly table: dynamodb.ITable;
  /** The API building block: `POST /sagas` and `POST /callbacks`. */
  public readonly restApi: SecureRestApi;
  public readonly api: apigw.RestApi;
  /** Task tokens for the external system; undefined without `awaitConfirmation`. */
  public readonly callbackQueue?: sqs.IQueue;
  /** Callback messages the external system failed to handle; undefined with an existing queue or without `awaitConfirmation`. */
  public readonly callbackDeadLetterQueue?: sqs.IQueue;
  public readonly inventoryHandler: lambda.IFunction;
  public readonly paymentHandler: lambda.IFunction;
  public readonly startHandler: lambda.IFunction;
  /** Behind `POST /callbacks`; undefined without `awaitConfirmation`. */
  public readonly callbackHandler?: lambda.IFunction;
  public readonly logGroup: logs.ILogGroup;
  /** The customer-managed key of the state machine, its log groups and its queues. */
  public readonly encryptionKey: kms.IKey;
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The CodeDeploy deployments of the functions when `deployment` is set. */
  public readonly deployments: CanaryDeployment[] = [];
  private readonly stateMachineArnFromName: string;

  constructor(scope: Construct, id: string, props: SagaWorkflowProps = {}) {
    super(scope, id);
    this.encryptionKey = usePatternKey(this, props.encryptionKey);
    this.stateMachineType = props.stateMachineType ?? sfn.StateMachineType.STANDARD;
    const express = this.stateMachineType === sfn.StateMachineType.EXPRESS;
    const awaitConfirmation = props.awaitConfirmation ?? !express;
    const heartbeat = props.callbackHeartbeatTimeout ?? Duration.minutes(15);
    const callbackTimeout = props.callbackTimeout ?? Duration.hours(24);
    const executionTimeout = props.executionTimeout ?? (express ? EXPRESS_MAX : Duration.days(2));
    validate(props, { express, awaitConfirmation, heartbeat, callbackTimeout, executionTimeout });

    this.table = patternTable(this, NAME, props, { timeToLiveAttribute: 'expiresAt' });
    const rollbacks: DeploymentRollback[] = [];
    const fn = (
      fid: string, asset: string, serviceName: string, description: string, environment: Record<string, string>, code?: lambda.Code,
      required?: lambda.FunctionOptions,
    ) => {
      const created = createLibraryFunction(this, fid, {
        code: code ?? referenceHandlerCode(asset),
        serviceName,
        description: `${this.node.path}: ${description}`,
        environment,
        functionProps: mergeProps<lambda.FunctionOptions>({}, props.functionProps, required),
      });
      acknowledgeNagFindings(created.function, synchronousInvokeAcknowledgements(fid.endsWith('Step') ? 'Step Functions' : 'API Gateway'));
      const applied = patternDeployment(this, NAME, created.function, props.alarmTopic, props.deployment, `${fid}Deployment`);
      if (applied.deployment) {
        this.deployments.push(applied.deployment);
        rollbacks.push({ deployment: applied.deployment, rollbackAlarms: [] });
      }
      return { fn: created.function, target: applied.invokeTarget };
    };

    const inventory = fn('InventoryStep', 'saga/inventory', 'saga-inventory', 'saga step: reserve and release stock',
      { TABLE_NAME: this.table.tableName }, props.inventoryCode);
    if (props.inventoryCode) {
      this.table.grantReadWriteData(inventory.fn);
    } else {
      this.table.grant(inventory.fn, 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    }
    const payment = fn('PaymentStep', 'saga/payment', 'saga-payment', 'saga step: charge and refund', {
      TABLE_NAME: this.table.tableName, PAYMENT_LIMIT: String(props.paymentLimit ?? 1_000_000),
    }, props.paymentCode);
    if (props.paymentCode) {
      this.table.grantReadWriteData(payment.fn);
    } else {
      this.table.grant(payment.fn, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    }
    this.inventoryHandler = inventory.fn;
    this.paymentHandler = payment.fn;

    if (awaitConfirmation) {
      if (props.existingCallbackQueue) {
        this.callbackQueue = props.existingCallbackQueue;
      } else {
        const dlq = createTerminalQueue(this, 'CallbackDeadLetterQueue', 'callback messages the external system failed to handle 5 times', {
          encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: this.encryptionKey,
        });
        this.callbackDeadLetterQueue = dlq;
        this.callbackQueue = new sqs.Queue(this, 'CallbackQueue', mergeProps<sqs.QueueProps>(
          { ...QUEUE_DEFAULTS, retentionPeriod: Duration.days(4), visibilityTimeout: Duration.minutes(5) },
          props.callbackQueueProps,
          { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: this.encryptionKey, deadLetterQueue: { queue: dlq, maxReceiveCount: 5 } },
        ));
      }
    }

    const role = new ManagedPolicyRole(this, 'StateMachineRole', {
      assumedBy: servicePrincipalFor('states.amazonaws.com', Stack.of(this).account),
      description: `Execution role of ${this.node.path}/StateMachine`,
    });
    this.logGroup = encryptedLogGroup(this, 'ExecutionLogs', {
      // Step Functions adds each execution log group to the account's CloudWatch Logs resource
      // policy (5,120 characters) unless its name starts with /aws/vendedlogs/. The stack's UUID
      // keeps the retained group's name new in each deployment.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}-${stackUuid(this)}`,
      retention: props.logRetention ?? LOG_RETENTION_DEFAULT,
    });
    const definition = buildSagaDefinition(this, {
      inventory: inventory.target,
      payment: payment.target,
      table: this.table,
      callback: this.callbackQueue ? { queue: this.callbackQueue, heartbeatTimeout: heartbeat, timeout: callbackTimeout } : undefined,
      stepTimeout: STEP_TIMEOUT,
      compensationMaxAttempts: props.compensationMaxAttempts ?? 8,
    });
    const logLevel = props.logLevel ?? SagaLogLevel.ALL;
    const stateMachineName = Names.uniqueResourceName(this, { maxLength: 80, separator: '-' });
    // The ARN from the name, as the encryption context carries it: policies that name it need no
    // reference to the state machine (and stay short: IAM counts the ARN, not the reference).
    this.stateMachineArnFromName = Stack.of(this).formatArn({
      service: 'states', resource: 'stateMachine', resourceName: stateMachineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      // A name known at synth: CDK scopes the role's use of the key to the state machine's ARN
      // (kms:EncryptionContext:aws:states:stateMachineArn), which it builds from this name.
      stateMachineName,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: this.stateMachineType,
      timeout: executionTimeout,
      role,
      tracingEnabled: true,
      logs: {
        destination: this.logGroup,
        level: logLevel === SagaLogLevel.ALL ? sfn.LogLevel.ALL : sfn.LogLevel.ERROR,
        includeExecutionData: props.includeExecutionData ?? false,
      },
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(this.encryptionKey, Duration.minutes(5)),
      comment: 'Saga: reserve -> charge -> confirm, with compensations in reverse order',
    });
    acknowledgeNagFindings(role, stateMachineRoleFindings([inventory.target, payment.target], this.callbackQueue !== undefined));
    if (logLevel !== SagaLogLevel.ALL) {
      acknowledgeNagFindings(this.stateMachine, [{ id: 'AwsSolutions-SF1', reason: 'logLevel ERROR was chosen: only failed states are logged (fewer log bytes); set logLevel ALL to follow every transition.' }]);
    }

    const start = fn('StartHandler', 'saga/start', 'saga-start', 'POST /sagas: starts a saga (Idempotency-Key)', {
      TABLE_NAME: this.table.tableName,
      STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
      WORKFLOW_TYPE: this.stateMachineType,
      START_MODE: props.synchronousStart ? 'sync' : 'async',
      // A synchronous start waits for the saga inside API Gateway's 29 s: 25 s for the saga, the
      // rest to record its outcome. A longer saga runs on; its caller gets 503 OutcomeUnknown.
      ...(props.synchronousStart ? { SYNC_START_TIMEOUT_MS: String(SYNC_START_WAIT.toMilliseconds()) } : {}),
    }, undefined, props.synchronousStart ? { timeout: API_INTEGRATION_TIMEOUT } : undefined);
    if (props.synchronousStart) {
      this.stateMachine.grantStartSyncExecution(start.fn);
    } else {
      this.stateMachine.grantStartExecution(start.fn);
    }
    if (express) {
      this.table.grant(start.fn, 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    } else {
      start.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [this.executionArnPattern()] }));
      acknowledgeNagFindings(start.fn.role!, [{
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${logicalIdOf(this.stateMachine)}.Name>:*]`,
        reason: 'DescribeExecution of this state machine\'s executions only, to answer a retried start; their names derive from Idempotency-Keys, unknown at deploy time.',
      }]);
    }
    const callback = this.callbackQueue
      ? fn('CallbackHandler', 'saga/callback', 'saga-callback', 'POST /callbacks: completes the waiting task (task token)', {})
      : undefined;
    if (callback) this.stateMachine.grantTaskResponse(callback.fn);
    // Starting an execution, reading its data and answering its task encrypt and decrypt with the
    // state machine's key, on behalf of the caller.
    this.grantStateMachineKey(start.fn);
    if (callback) this.grantStateMachineKey(callback.fn);
    this.startHandler = start.fn;
    this.callbackHandler = callback?.fn;

    this.restApi = createPatternApi(this, NAME, props);
    this.api = this.restApi.api;
    this.restApi.addLambdaRoute('/sagas', start.target, 'POST');
    if (callback) this.restApi.addLambdaRoute('/callbacks', callback.target, 'POST');

    const alarms = new AlarmFactory(this, props.alarmTopic);
    this.addAlarms(alarms, heartbeat, { Start: start.fn, ...(callback ? { Callback: callback.fn } : {}) });
    for (const r of rollbacks) (r.rollbackAlarms as cloudwatch.IAlarm[]).push(...this.restApi.rollbackAlarms);
    ({ alarms: this.alarms, dashboard: this.dashboard } = completeOperations(this, props, [...this.restApi.alarms, ...alarms.alarms], rollbacks));
  }

  /** Lets `grantee` call both routes (`execute-api:Invoke` on the stage), for the default IAM authorization. */
  public grantInvokeApi(grantee: iam.IGrantable): iam.Grant {
    return this.restApi.grantInvoke(grantee);
  }

  /** Lets the external system read and delete callback messages (and decrypt them). */
  public grantConsumeCallbacks(grantee: iam.IGrantable): iam.Grant {
    if (!this.callbackQueue) throw new InvalidPropsError(NAME, 'grantConsumeCallbacks needs awaitConfirmation: there is no callback queue');
    return this.callbackQueue.grantConsumeMessages(grantee);
  }

  /** Lets an operator redrive failed executions (Standard): `states:RedriveExecution` on this state machine's executions. */
  public grantRedrive(grantee: iam.IGrantable): iam.Grant {
    if (this.stateMachineType !== sfn.StateMachineType.STANDARD) throw new InvalidPropsError(NAME, 'redrive is for STANDARD state machines only');
    this.grantStateMachineKey(grantee);
    return iam.Grant.addToPrincipal({ grantee, actions: ['states:RedriveExecution'], resourceArns: [this.executionArnPattern()] });
  }

  /** The data keys of this state machine's executions, for callers of its API (start, describe, task responses, redrive). */
  private grantStateMachineKey(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': this.stateMachineArnFromName } },
    }));
  }

  /** Executions that failed: a compensation gave up (the ones to redrive). */
  public metricExecutionsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM, ...props });
  }

  private executionArnPattern(): string {
    const stack = Stack.of(this);
    return stack.formatArn({
      service: 'states',
      resource: this.stateMachineType === sfn.StateMachineType.EXPRESS ? 'express' : 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  private addAlarms(alarms: AlarmFactory, heartbeat: Duration, apiHandlers: Record<string, lambda.IFunction>): void {
    const sm = this.stateMachine;
    const stat = { period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM };
    alarms.add('ExecutionsFailedAlarm', {
      metric: sm.metricFailed(stat),
      threshold: 1,
      description: `A saga of ${this.node.path} failed: a compensation gave up after its retries (or the definition failed). Find it in the console or the execution log group, fix the cause, then redrive it (aws stepfunctions redrive-execution).`,
    });
    alarms.add('ExecutionsTimedOutAlarm', {
      metric: sm.metricTimedOut(stat),
      threshold: 1,
      description: `A saga of ${this.node.path} hit its execution timeout: its compensations did not run. Redrive it or compensate by hand.`,
    });
    alarms.add('ExecutionThrottledAlarm', {
      metric: sm.metricThrottled(stat),
      threshold: 1,
      description: `Step Functions throttled state transitions or starts of ${this.node.path}: raise the account quota or lower the start rate.`,
    });
    if (this.callbackQueue) {
      alarms.add('CallbackQueueOldestMessageAlarm', {
        metric: SqsMetrics.oldestMessageAgeInSeconds(this.callbackQueue),
        threshold: heartbeat.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `The external system has not taken a callback message of ${this.node.path} within the heartbeat timeout (${heartbeat.toHumanString()}): its sagas are being cancelled.`,
      });
    }
    if (this.callbackDeadLetterQueue) {
      alarms.add('CallbackDeadLetterQueueAlarm', {
        metric: SqsMetrics.visibleMessageCount(this.callbackDeadLetterQueue),
        threshold: 1,
        description: `Callback messages of ${this.node.path} failed 5 receives and wait in the DLQ; their sagas time out and compensate.`,
      });
    }
    for (const [name, handler] of Object.entries(apiHandlers)) {
      alarms.add(`${name}HandlerErrorsAlarm`, {
        metric: LambdaMetrics.errorCount(handler),
        threshold: 1,
        description: `The ${name.toLowerCase()} handler of ${this.node.path} crashed or timed out (not a 4XX/5XX answer). Check its log group.`,
      });
    }
  }
}

/** The logical id cdk-nag prints for a resource's token (`<Id.Arn>`). */
function logicalIdOf(construct: Construct): string {
  const underlying = construct instanceof lambda.Alias || construct instanceof lambda.Version ? construct.lambda : construct;
  return Stack.of(construct).getLogicalId(underlying.node.defaultChild as CfnElement);
}

function stateMachineRoleFindings(steps: lambda.IFunction[], callbackQueue: boolean): NagAcknowledgement[] {
  const findings: NagAcknowledgement[] = [{
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* and the CloudWatch Logs delivery actions (CreateLogDelivery, ...) support no resource-level permissions; every other statement names its resource.',
  }];
  for (const step of steps) {
    if (!(step instanceof lambda.Function)) continue;
    findings.push({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(step)}.Arn>:*]`,
      reason: 'lambda:InvokeFunction on the versions and aliases of this one step function (CDK\'s LambdaInvoke grant), so that a deployment alias can be invoked.',
    });
  }
  if (callbackQueue) {
    findings.push({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'CDK\'s SqsSendMessage grant on the callback queue\'s key only: SQS needs GenerateDataKey to encrypt each task-token message with it.',
    });
  }
  return findings;
}

interface Resolved {
  readonly express: boolean;
  readonly awaitConfirmation: boolean;
  readonly heartbeat: Duration;
  readonly callbackTimeout: Duration;
  readonly executionTimeout: Duration;
}

function seconds(d: Duration): number | undefined {
  const s = d.toSeconds();
  return Token.isUnresolved(s) ? undefined : s;
}

function validate(props: SagaWorkflowProps, r: Resolved): void {
  assertExclusive(NAME, props, 'existingTable', 'tableProps');
  assertExclusive(NAME, props, 'existingCallbackQueue', 'callbackQueueProps');
  assertIntegerInRange(NAME, 'paymentLimit', props.paymentLimit, 1, 100_000_000);
  const functionTimeout = props.functionProps?.timeout?.toSeconds();
  if (functionTimeout !== undefined && !Token.isUnresolved(functionTimeout) && functionTimeout >= STEP_TIMEOUT.toSeconds() - 5) {
    // A step that times out in Step Functions must be over in Lambda too, or its late write would
    // land after the compensation that undid it.
    throw new InvalidPropsError(NAME, `functionProps.timeout must be under ${STEP_TIMEOUT.toSeconds() - 5} seconds (the steps' task timeout is ${STEP_TIMEOUT.toSeconds()} s), got ${functionTimeout} seconds`);
  }
  assertIntegerInRange(NAME, 'compensationMaxAttempts', props.compensationMaxAttempts, 1, 99);
  if (r.express && r.awaitConfirmation) {
    throw new InvalidPropsError(NAME, 'awaitConfirmation needs a STANDARD state machine: Express workflows do not run .waitForTaskToken tasks; set awaitConfirmation false or use STANDARD');
  }
  if (props.synchronousStart && !r.express) {
    throw new InvalidPropsError(NAME, 'synchronousStart needs stateMachineType EXPRESS: StartSyncExecution runs Express workflows only');
  }
  if (!r.awaitConfirmation) {
    for (const key of ['existingCallbackQueue', 'callbackQueueProps', 'callbackHeartbeatTimeout', 'callbackTimeout'] as const) {
      if (props[key] !== undefined) throw new InvalidPropsError(NAME, `${key} applies to the callback step only, which is off (awaitConfirmation false)`);
    }
  }
  const exec = seconds(r.executionTimeout);
  if (exec !== undefined && r.express && exec > EXPRESS_MAX.toSeconds()) {
    throw new InvalidPropsError(NAME, `executionTimeout of an EXPRESS state machine must be at most 300 seconds, got ${exec}`);
  }
  if (exec !== undefined && exec < 60) throw new InvalidPropsError(NAME, `executionTimeout must be at least 60 seconds, got ${exec}`);
  const hb = seconds(r.heartbeat);
  const cb = seconds(r.callbackTimeout);
  if (r.awaitConfirmation && hb !== undefined && cb !== undefined) {
    if (hb < 1 || hb >= cb) throw new InvalidPropsError(NAME, `callbackHeartbeatTimeout must be at least 1 second and shorter than callbackTimeout (${cb} s), got ${hb} s`);
    if (exec !== undefined && cb >= exec) {
      throw new InvalidPropsError(NAME, `callbackTimeout (${cb} s) must be shorter than executionTimeout (${exec} s), or a late confirmation would leave no time for the compensations`);
    }
  }
  if (props.logLevel !== undefined && !Object.values(SagaLogLevel).includes(props.logLevel)) {
    throw new InvalidPropsError(NAME, `logLevel must be ALL or ERROR, got ${String(props.logLevel)}`);
  }
}
