import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { SagaLogLevel, SagaWorkflow, SagaWorkflowProps } from '../../lib';
import { SAGA_STATES } from '../../lib/saga/definition';
import { nagFindings } from '../helpers/nag';

interface Built { stack: Stack; saga: SagaWorkflow; template: Template }

function build(props?: SagaWorkflowProps, extra?: (stack: Stack) => SagaWorkflowProps): Built {
  const stack = new Stack(new App(), 'Test');
  const saga = new SagaWorkflow(stack, 'Saga', { ...props, ...extra?.(stack) });
  return { stack, saga, template: Template.fromStack(stack) };
}

function definitionOf(template: Template): { TimeoutSeconds: number; States: Record<string, Record<string, unknown>> } {
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as { Properties: { DefinitionString: unknown } };
  const join = machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  // Tokens become placeholders: the structure, not the ARNs, is what these tests look at.
  const text = join['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text);
}

describe('SagaWorkflow defaults', () => {
  const { saga, template } = build();
  const definition = definitionOf(template);

  test('the state machine has a name, so that its role uses the key for this state machine only', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: Match.stringLikeRegexp('^Test-Saga-[0-9A-F]{8}$') });
    const roleKeyUse = JSON.stringify(Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter((p) => JSON.stringify(p).includes('StateMachineRole')));
    expect(roleKeyUse).toMatch(/kms:EncryptionContext:aws:states:stateMachineArn.{0,300}:stateMachine:Test-Saga-[0-9A-F]{8}"/);
  });

  test('the starter and the callback completer may use the key for this state machine\'s executions', () => {
    for (const role of ['SagaStartHandlerRole', 'SagaCallbackHandlerRole']) {
      const policies = JSON.stringify(Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(role)));
      expect([role, policies]).toEqual([role, expect.stringMatching(/"kms:Decrypt","kms:GenerateDataKey"\].*aws:states:stateMachineArn/)]);
    }
  });

  test('execution logs go to a /aws/vendedlogs/ log group (no growth of the account\'s Logs resource policy)', () => {
    const logGroup = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) => id.startsWith('SagaExecutionLogs'))![1];
    expect(JSON.stringify(logGroup.Properties.LogGroupName)).toContain('/aws/vendedlogs/states/Test-Saga-');
  });

  test('a STANDARD state machine with X-Ray, ALL logging without execution data, the pattern key and a 2-day timeout', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      EncryptionConfiguration: Match.objectLike({
        Type: 'CUSTOMER_MANAGED_KMS_KEY',
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('SagaEncryptionKey'), 'Arn'] },
        KmsDataKeyReusePeriodSeconds: 300,
      }),
    });
    expect(definition.TimeoutSeconds).toBe(2 * 24 * 3600);
    expect(saga.stateMachineType).toBe(sfn.StateMachineType.STANDARD);
  });

  test('every state of the saga, forward steps catching into the compensations in reverse order', () => {
    const s = definition.States;
    expect(Object.keys(s).sort()).toEqual(Object.values(SAGA_STATES).sort());
    const catchTarget = (state: string) => (s[state].Catch as Array<{ ErrorEquals: string[]; Next: string; ResultPath: string }>)[0];
    // A failed step runs its own compensation too: its last attempt may have applied with the answer lost.
    expect(catchTarget(SAGA_STATES.reserve)).toEqual({ ErrorEquals: ['States.ALL'], Next: SAGA_STATES.release, ResultPath: '$.error' });
    expect(catchTarget(SAGA_STATES.charge).Next).toBe(SAGA_STATES.refund);
    expect(catchTarget(SAGA_STATES.awaitConfirmation).Next).toBe(SAGA_STATES.refund);
    expect(catchTarget(SAGA_STATES.confirm).Next).toBe(SAGA_STATES.refund);
    expect(s[SAGA_STATES.refund].Next).toBe(SAGA_STATES.release);
    expect(s[SAGA_STATES.release].Next).toBe(SAGA_STATES.cancelled);
    expect(s[SAGA_STATES.refund].Catch).toBeUndefined();
    expect(s[SAGA_STATES.release].Catch).toBeUndefined();
  });

  test('retries with exponential backoff, full jitter, a cap and a maximum per error type', () => {
    const S = SAGA_STATES;
    for (const state of [S.reserve, S.charge, S.confirm, S.awaitConfirmation, S.refund, S.release]) {
      const retries = definition.States[state].Retry as Array<Record<string, unknown>>;
      expect(retries.length).toBeGreaterThan(0);
      for (const r of retries) {
        const backoff = { BackoffRate: 2, JitterStrategy: 'FULL', MaxDelaySeconds: 30, MaxAttempts: expect.any(Number) };
        expect(r).toEqual(expect.objectContaining(backoff));
      }
    }
    type Retrier = { ErrorEquals: string[]; MaxAttempts: number };
    const maxOf = (state: string, error: string) =>
      (definition.States[state].Retry as Retrier[]).find((r) => r.ErrorEquals.includes(error))?.MaxAttempts;
    expect(maxOf(SAGA_STATES.charge, 'TransientStepError')).toBe(3);
    expect(maxOf(SAGA_STATES.charge, 'Lambda.TooManyRequestsException')).toBe(4);
    expect(maxOf(SAGA_STATES.refund, 'TransientStepError')).toBe(8);
  });

  test('Confirm is a direct DynamoDB integration, AwaitConfirmation an SQS task token with heartbeat', () => {
    expect(definition.States[SAGA_STATES.confirm]).toEqual(expect.objectContaining({
      Resource: 'arn:TOKEN:states:::dynamodb:updateItem',
      Parameters: expect.objectContaining({ UpdateExpression: 'REMOVE reservations.#r', ExpressionAttributeNames: { '#r.$': '$$.Execution.Id' } }),
    }));
    expect(definition.States[SAGA_STATES.awaitConfirmation]).toEqual(expect.objectContaining({
      Resource: 'arn:TOKEN:states:::sqs:sendMessage.waitForTaskToken',
      HeartbeatSeconds: 900,
      TimeoutSeconds: 86_400,
      Parameters: expect.objectContaining({ MessageBody: expect.objectContaining({ 'taskToken.$': '$$.Task.Token' }) }),
    }));
  });

  test('a callback queue and its DLQ encrypted with the pattern key, TLS only', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('SagaEncryptionKey'), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    expect(saga.callbackQueue).toBeDefined();
    expect(saga.callbackDeadLetterQueue).toBeDefined();
  });

  test('the execution log group is encrypted with the pattern key', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('SagaEncryptionKey'), 'Arn'] },
    });
  });

  test('POST /sagas and POST /callbacks with IAM authorization', () => {
    template.resourceCountIs('AWS::ApiGateway::Method', 2);
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationType: 'AWS_IAM' });
  });

  test('alarms on failed, timed-out and throttled executions, the callback queue age and its DLQ', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionThrottled']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/States', MetricName: metric, Threshold: 1 });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
    expect(saga.alarms.length).toBe(Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length);
  });

  test('the start handler may start executions and describe them; the callback handler may answer tasks', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'states:StartExecution' })]) },
      Roles: [{ Ref: Match.stringLikeRegexp('SagaStartHandlerRole') }],
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'states:DescribeExecution' })]) },
      Roles: [{ Ref: Match.stringLikeRegexp('SagaStartHandlerRole') }],
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'] })]) },
      Roles: [{ Ref: Match.stringLikeRegexp('SagaCallbackHandlerRole') }],
    });
  });
});

test('has no unacknowledged cdk-nag findings with the defaults', () => {
  const { stack } = build();
  expect(nagFindings(stack)).toEqual([]);
});

describe('SagaWorkflow options', () => {
  test('EXPRESS: no callback step, a 5-minute timeout, no callback queue or route', () => {
    const { saga, template, stack } = build({ stateMachineType: sfn.StateMachineType.EXPRESS });
    const definition = definitionOf(template);
    expect(definition.TimeoutSeconds).toBe(300);
    expect(definition.States[SAGA_STATES.awaitConfirmation]).toBeUndefined();
    expect(definition.States[SAGA_STATES.charge].Next).toBe(SAGA_STATES.confirm);
    template.resourceCountIs('AWS::SQS::Queue', 0);
    template.resourceCountIs('AWS::ApiGateway::Method', 1);
    template.resourceCountIs('AWS::Lambda::Function', 3);
    expect(saga.callbackHandler).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ WORKFLOW_TYPE: 'EXPRESS', START_MODE: 'async' }) } });
    expect(saga.callbackQueue).toBeUndefined();
    expect(nagFindings(stack)).toEqual([]);
  });

  test('synchronousStart on EXPRESS: StartSyncExecution', () => {
    const { template } = build({ stateMachineType: sfn.StateMachineType.EXPRESS, synchronousStart: true });
    // The starter waits inside API Gateway's 29 s: 25 s for the saga, the rest to record its outcome.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 29,
      Environment: { Variables: Match.objectLike({ START_MODE: 'sync', SYNC_START_TIMEOUT_MS: '25000' }) },
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'states:StartSyncExecution' })]) },
    });
  });

  test('logLevel ERROR with execution data, custom timeouts', () => {
    const { template, stack } = build({
      logLevel: SagaLogLevel.ERROR,
      includeExecutionData: true,
      callbackHeartbeatTimeout: Duration.seconds(30),
      callbackTimeout: Duration.hours(1),
      executionTimeout: Duration.hours(2),
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { LoggingConfiguration: Match.objectLike({ Level: 'ERROR', IncludeExecutionData: true }) });
    const definition = definitionOf(template);
    expect(definition.TimeoutSeconds).toBe(7200);
    expect(definition.States[SAGA_STATES.awaitConfirmation]).toEqual(expect.objectContaining({ HeartbeatSeconds: 30, TimeoutSeconds: 3600 }));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 30 });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('existing table and callback queue are used, not created', () => {
    const { saga, template } = build({}, (stack) => ({
      existingTable: new dynamodb.TableV2(stack, 'Mine', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } }),
      existingCallbackQueue: new sqs.Queue(stack, 'MyQueue'),
    }));
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    expect(saga.callbackDeadLetterQueue).toBeUndefined();
  });

  test('alarmTopic receives every alarm; dashboard shows them', () => {
    const { template, saga } = build({}, (stack) => ({ alarmTopic: new sns.Topic(stack, 'Topic'), dashboard: true }));
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect((alarm as { Properties: { AlarmActions: unknown[] } }).Properties.AlarmActions).toHaveLength(1);
    }
    expect(saga.dashboard).toBeDefined();
  });

  test('deployment: each function behind a CodeDeploy alias, which the state machine and the API invoke', () => {
    const { template, saga } = build({ deployment: {} });
    const machine = JSON.stringify(Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]);
    expect(machine).toMatch(/SagaInventoryStepDeploymentAlias|InventoryStepDeployment[A-Za-z0-9]*Alias/);
    template.resourceCountIs('AWS::Lambda::Alias', 4);
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 4);
    // The API's 5XX rate rolls back the API handlers' deployments too.
    expect(saga.deployments.every((d) => d.alarms.length > 0)).toBe(true);
    expect(saga.deployments).toHaveLength(4);
  });

  test('your own step code: used instead of the reference steps, with read/write on the table', () => {
    const code = lambda.Code.fromInline('exports.handler = async () => ({})');
    const { template, stack } = build({ inventoryCode: code, paymentCode: code });
    const inline = template.findResources('AWS::Lambda::Function', { Properties: { Code: { ZipFile: Match.anyValue() } } });
    expect(Object.keys(inline)).toHaveLength(2);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem']) })]) },
      Roles: [{ Ref: Match.stringLikeRegexp('SagaInventoryStepRole') }],
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('grants: redrive, consume callbacks, invoke the API', () => {
    const stack = new Stack(new App(), 'Test');
    const saga = new SagaWorkflow(stack, 'Saga');
    const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    saga.grantRedrive(role);
    saga.grantConsumeCallbacks(role);
    saga.grantInvokeApi(role);
    const policy = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const actions = JSON.stringify(policy);
    expect(actions).toContain('states:RedriveExecution');
    expect(actions).toContain('sqs:ReceiveMessage');
    expect(actions).toContain('execute-api:Invoke');
  });
});

test.each<[string, SagaWorkflowProps, RegExp]>([
  ['awaitConfirmation is set on EXPRESS', { stateMachineType: sfn.StateMachineType.EXPRESS, awaitConfirmation: true }, /Express workflows do not run .waitForTaskToken/],
  ['synchronousStart is set on STANDARD', { synchronousStart: true }, /StartSyncExecution runs Express workflows only/],
  ['an EXPRESS executionTimeout exceeds 5 minutes', { stateMachineType: sfn.StateMachineType.EXPRESS, executionTimeout: Duration.minutes(6) }, /at most 300 seconds, got 360/],
  ['executionTimeout is under a minute', { executionTimeout: Duration.seconds(30) }, /at least 60 seconds, got 30/],
  ['the heartbeat is not shorter than the callback timeout', { callbackHeartbeatTimeout: Duration.hours(2), callbackTimeout: Duration.hours(1) }, /shorter than callbackTimeout \(3600 s\), got 7200 s/],
  ['callbackTimeout is not shorter than executionTimeout', { callbackTimeout: Duration.hours(3), executionTimeout: Duration.hours(2) }, /must be shorter than executionTimeout/],
  ['callback props are given without the callback step', { awaitConfirmation: false, callbackTimeout: Duration.hours(1) }, /callbackTimeout applies to the callback step only/],
  ['paymentLimit is not a positive integer', { paymentLimit: 0 }, /paymentLimit must be an integer in 1..100000000, got 0/],
  ['compensationMaxAttempts is out of range', { compensationMaxAttempts: 100 }, /compensationMaxAttempts must be an integer in 1..99, got 100/],
  ['logLevel is not ALL or ERROR', { logLevel: 'FATAL' as SagaLogLevel }, /logLevel must be ALL or ERROR, got FATAL/],
  ['tableProps is given with existingTable', { tableProps: { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } }, existingTable: {} as dynamodb.ITable },
    /existingTable and tableProps are mutually exclusive/],
  ['the functions\' timeout reaches the steps\' task timeout', { functionProps: { timeout: Duration.seconds(25) } }, /functionProps.timeout must be under 25 seconds/],
  ['callbackQueueProps is given with existingCallbackQueue', { existingCallbackQueue: {} as sqs.IQueue, callbackQueueProps: {} }, /existingCallbackQueue and callbackQueueProps are mutually exclusive/],
])('fails when %s', (_name, props, message) => {
  expect(() => build(props)).toThrow(message);
});

test('fails when grantRedrive is called on EXPRESS', () => {
  const { saga, stack } = build({ stateMachineType: sfn.StateMachineType.EXPRESS });
  expect(() => saga.grantRedrive(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() }))).toThrow(/STANDARD state machines only/);
});
