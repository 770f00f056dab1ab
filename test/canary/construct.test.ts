import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  CanaryDeployment, CanaryDeploymentProps, FanOut, FanOutConsumerCode, PeriodicJob, RestfulMicroservice, StreamProcessor,
} from '../../lib';
import { allowedPermissions, actionsOn } from '../helpers/iam';
import { nagFindings } from '../helpers/nag';

function targetFunction(stack: Stack, timeout = Duration.seconds(10), id = 'Target'): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 })'),
    timeout,
  });
}

function build(props: Omit<CanaryDeploymentProps, 'function'> = {}, timeout?: Duration) {
  const stack = new Stack(new App(), 'Test');
  const fn = targetFunction(stack, timeout);
  const deployment = new CanaryDeployment(stack, 'Deployment', { ...props, function: fn });
  return { stack, fn, deployment, template: Template.fromStack(stack) };
}

const VERSION_REF = { 'Fn::GetAtt': [Match.stringLikeRegexp('TargetCurrentVersion'), 'Version'] };

describe('CanaryDeployment defaults', () => {
  const { deployment, template } = build();

  test('creates the alias live on the current version', () => {
    template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionName: { Ref: Match.stringLikeRegexp('^Target') },
      FunctionVersion: VERSION_REF,
    });
    template.resourceCountIs('AWS::Lambda::Version', 1);
    expect(deployment.alias.aliasName).toBe('live');
  });

  test('shifts traffic by canary 10% for 5 minutes and rolls back on failure, stop and alarm', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'] },
      AlarmConfiguration: { Enabled: true, Alarms: Match.arrayWith([{ Name: { Ref: Match.stringLikeRegexp('NewVersionErrorsAlarm') } }]) },
    });
    template.hasResource('AWS::Lambda::Alias', {
      UpdatePolicy: { CodeDeployLambdaAliasUpdate: Match.objectLike({ DeploymentGroupName: { Ref: Match.stringLikeRegexp('DeploymentGroup') } }) },
    });
  });

  test('rollback alarms watch the new version behind the alias, per minute: errors, throttles, p99 duration at 80% of the timeout', () => {
    const dimensions = [
      { Name: 'ExecutedVersion', Value: VERSION_REF },
      { Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^Target') } },
      { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: Match.stringLikeRegexp('^Target') }, ':live']] } },
    ];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: dimensions,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Period: 60, Dimensions: dimensions });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Period: 60,
      Threshold: 8000,
      EvaluationPeriods: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: dimensions,
    });
    expect(deployment.alarms).toHaveLength(3);
  });

  test('CodeDeploy may assume the deployment role only for this application\'s deployment groups in this account (no confused deputy)', () => {
    const [applicationId] = Object.keys(template.findResources('AWS::CodeDeploy::Application'));
    const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0];
    const roleId = group.Properties.ServiceRoleArn['Fn::GetAtt'][0] as string;
    expect(template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'codedeploy.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: {
          'aws:SourceArn': {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':codedeploy:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':deploymentgroup:', { Ref: applicationId }, '/*']],
          },
        },
      },
    }]);
  });

  test('creates no hooks and no provisioned concurrency unless asked', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    expect(deployment.preTrafficHook).toBeUndefined();
  });
});

describe('CanaryDeployment options', () => {
  test.each<[string, codedeploy.ILambdaDeploymentConfig, string]>([
    ['linear', codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE, 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute'],
    ['all at once', codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE, 'CodeDeployDefault.LambdaAllAtOnce'],
  ])('deployment config %s', (_name, deploymentConfig, expected) => {
    build({ deploymentConfig }).template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: expected });
  });

  test('a custom deployment config', () => {
    const stack = new Stack(new App(), 'Test');
    const deploymentConfig = new codedeploy.LambdaDeploymentConfig(stack, 'Config', {
      trafficRouting: new codedeploy.TimeBasedCanaryTrafficRouting({ interval: Duration.minutes(15), percentage: 5 }),
    });
    new CanaryDeployment(stack, 'Deployment', { function: targetFunction(stack), deploymentConfig });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      TrafficRoutingConfig: { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryInterval: 15, CanaryPercentage: 5 } },
    });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: { Ref: Match.stringLikeRegexp('Config') } });
  });

  test('your alarms and later ones roll back too; alias name and thresholds are props', () => {
    const stack = new Stack(new App(), 'Test');
    const fn = targetFunction(stack);
    const own = new cloudwatch.Alarm(stack, 'Own', { metric: fn.metricInvocations(), threshold: 1, evaluationPeriods: 1 });
    const later = new cloudwatch.Alarm(stack, 'Later', { metric: fn.metricErrors(), threshold: 1, evaluationPeriods: 1 });
    const deployment = new CanaryDeployment(stack, 'Deployment', {
      function: fn, aliasName: 'prod', rollbackAlarms: [own], errorsThreshold: 3, durationP99Threshold: Duration.millis(250),
    });
    deployment.addRollbackAlarm(later);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'prod' });
    const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0];
    const names = JSON.stringify(group.Properties.AlarmConfiguration.Alarms);
    expect(names).toMatch(/"Own/);
    expect(names).toMatch(/"Later/);
    expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Threshold: 3, Dimensions: Match.arrayWith([{ Name: 'Resource', Value: { 'Fn::Join': ['', [Match.anyValue(), ':prod']] } }]) });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', Threshold: 250 });
  });

  describe('hooks', () => {
    const { stack, deployment, template } = build({
      preTrafficHook: { smokeTestPayload: { httpMethod: 'GET' }, expectedStatusCode: 200, expectedBodyContains: 'ok', expectedFields: { a: 1 } },
      postTrafficHook: { window: Duration.minutes(15), maxErrors: 2, maxErrorRatePercent: 5, requireInvocations: true },
    });
    const groupArn = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':codedeploy:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' },
        ':deploymentgroup:', { Ref: Match.stringLikeRegexp('DeploymentApplication') }, '/', { Ref: Match.stringLikeRegexp('DeploymentDeploymentGroup') }]],
    };

    test('are wired to the alias update as before- and after-traffic hooks', () => {
      template.hasResource('AWS::Lambda::Alias', {
        UpdatePolicy: {
          CodeDeployLambdaAliasUpdate: Match.objectLike({
            BeforeAllowTrafficHook: { Ref: Match.stringLikeRegexp('PreTrafficHook') },
            AfterAllowTrafficHook: { Ref: Match.stringLikeRegexp('PostTrafficHook') },
          }),
        },
      });
      expect(deployment.preTrafficHook).toBeDefined();
      expect(deployment.postTrafficHook).toBeDefined();
    });

    test('the pre-traffic hook invokes exactly the new version and reports to this deployment group only', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            TARGET_VERSION_ARN: { Ref: Match.stringLikeRegexp('TargetCurrentVersion') },
            SMOKE_TEST_PAYLOAD: '{"httpMethod":"GET"}',
            SMOKE_TEST_EXPECT: '{"statusCode":200,"bodyContains":"ok","fields":{"a":1}}',
          }),
        },
      });
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        Roles: [{ Ref: Match.stringLikeRegexp('PreTrafficHookRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('TargetCurrentVersion') } },
            { Action: 'codedeploy:PutLifecycleEventHookExecutionStatus', Effect: 'Allow', Resource: groupArn },
          ]),
        },
      });
    });

    test('the post-traffic hook reads the new version metrics over the window and reports to this group only', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            FUNCTION_NAME: { Ref: Match.stringLikeRegexp('^Target') },
            ALIAS_NAME: 'live',
            TARGET_VERSION: VERSION_REF,
            WINDOW_MINUTES: '15',
            MAX_ERRORS: '2',
            MAX_ERROR_RATE_PERCENT: '5',
            REQUIRE_INVOCATIONS: 'true',
          }),
        },
      });
      expect(allowedPermissions(template, /PostTrafficHookRole/)).toEqual(expect.arrayContaining([
        ...actionsOn('*', 'cloudwatch:GetMetricData'),
        ...actionsOn(stack.resolve(deployment.deploymentGroup.deploymentGroupArn), 'codedeploy:PutLifecycleEventHookExecutionStatus'),
      ]));
    });

    test('has no unacknowledged cdk-nag findings (the target function is the test\'s own)', () => {
      expect(nagFindings(deployment)).toEqual([]);
      expect(stack.node.tryFindChild('Deployment')).toBe(deployment);
    });
  });

  test('your own hook function is wired and granted instead of the reference one', () => {
    const stack = new Stack(new App(), 'Test');
    const hook = new lambda.Function(stack, 'OwnHook', {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });
    new CanaryDeployment(stack, 'Deployment', { function: targetFunction(stack), preTrafficHook: { function: hook } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResource('AWS::Lambda::Alias', {
      UpdatePolicy: { CodeDeployLambdaAliasUpdate: Match.objectLike({ BeforeAllowTrafficHook: { Ref: Match.stringLikeRegexp('OwnHook') } }) },
    });
  });

  test('provisioned concurrency on the alias with target tracking on utilization', () => {
    const { template } = build({ provisionedConcurrency: { minCapacity: 2, maxCapacity: 10, targetUtilization: 0.6 } });
    template.hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2, MaxCapacity: 10, ScalableDimension: 'lambda:function:ProvisionedConcurrency', ServiceNamespace: 'lambda',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' }, TargetValue: 0.6 },
    });
  });

  test.each<[string, Omit<CanaryDeploymentProps, 'function'>, RegExp]>([
    ['a numeric alias name', { aliasName: '12' }, /aliasName must be/],
    ['errorsThreshold 0', { errorsThreshold: 0 }, /errorsThreshold must be an integer in 1/],
    ['maxCapacity below minCapacity', { provisionedConcurrency: { minCapacity: 5, maxCapacity: 2 } }, /maxCapacity must be an integer in 5/],
    ['target utilization 1', { provisionedConcurrency: { minCapacity: 1, targetUtilization: 1 } }, /targetUtilization must be in 0.1..0.9/],
    ['a post window over 3 hours', { postTrafficHook: { window: Duration.hours(4) } }, /window must be 1..180 minutes/],
    ['an error rate over 100', { postTrafficHook: { maxErrorRatePercent: 101 } }, /maxErrorRatePercent must be in 0..100/],
    ['a status code 700', { preTrafficHook: { expectedStatusCode: 700 } }, /expectedStatusCode must be an integer in 100..599/],
    ['an empty expected body text', { preTrafficHook: { expectedBodyContains: '' } }, /expectedBodyContains must not be empty/],
    ['a huge smoke test payload', { preTrafficHook: { smokeTestPayload: { big: 'x'.repeat(4000) } } }, /Lambda allows 4 KB/],
  ])('rejects %s', (_name, props, message) => {
    const stack = new Stack(new App(), 'Test');
    expect(() => new CanaryDeployment(stack, 'Deployment', { ...props, function: targetFunction(stack) })).toThrow(message);
  });

  test('rejects settings of the reference hooks next to your own hook function', () => {
    const stack = new Stack(new App(), 'Test');
    const hook = lambda.Function.fromFunctionName(stack, 'Hook', 'hook');
    expect(() => new CanaryDeployment(stack, 'A', { function: targetFunction(stack), preTrafficHook: { function: hook, expectedStatusCode: 200 } }))
      .toThrow(/replaces the reference hook/);
    expect(() => new CanaryDeployment(stack, 'B', { function: targetFunction(stack, undefined, 'Other'), postTrafficHook: { function: hook, maxErrors: 1 } }))
      .toThrow(/replaces the reference hook/);
  });

  test('the p99 threshold defaults to 80% of 3 s for a function without a timeout', () => {
    const stack = new Stack(new App(), 'Test');
    const fn = new lambda.Function(stack, 'Target', {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });
    new CanaryDeployment(stack, 'Deployment', { function: fn });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', Threshold: 2400 });
  });
});

describe('patterns opt in with deployment: their triggers invoke the alias', () => {
  const aliasRef = (prefix: string) => ({ Ref: Match.stringLikeRegexp(`${prefix}DeploymentAlias`) });

  test('RestfulMicroservice: the integration invokes the alias, and only the alias may be invoked by API Gateway', () => {
    const stack = new Stack(new App(), 'Test');
    const service = new RestfulMicroservice(stack, 'Items', { deployment: {} });
    const template = Template.fromStack(stack);
    expect(service.deployment).toBeDefined();
    for (const method of Object.values(template.findResources('AWS::ApiGateway::Method'))) {
      expect(JSON.stringify(method.Properties.Integration.Uri)).toMatch(/ItemsDeploymentAlias/);
    }
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission'));
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) expect(permission.Properties.FunctionName.Ref).toMatch(/^ItemsDeploymentAlias/);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('RestfulMicroservice: through the stage variable lambdaAlias, and a stage canary to the new version', () => {
    const stack = new Stack(new App(), 'Test');
    new RestfulMicroservice(stack, 'Items', { deployment: {}, invokeAliasThroughStageVariable: true, stageCanaryPercent: 5 });
    const template = Template.fromStack(stack);
    for (const method of Object.values(template.findResources('AWS::ApiGateway::Method'))) {
      expect(JSON.stringify(method.Properties.Integration.Uri)).toContain(':${stageVariables.lambdaAlias}/invocations');
    }
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      Variables: { lambdaAlias: 'live' },
      CanarySetting: {
        DeploymentId: { Ref: Match.stringLikeRegexp('ItemsApiDeployment') },
        PercentTraffic: 5,
        StageVariableOverrides: { lambdaAlias: { 'Fn::GetAtt': [Match.stringLikeRegexp('ItemsHandlerCurrentVersion'), 'Version'] } },
        UseStageCache: false,
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('ItemsHandler'), 'Arn'] }, ':live']] },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('ItemsHandler'), 'Arn'] }, ':', { 'Fn::GetAtt': [Match.stringLikeRegexp('ItemsHandlerCurrentVersion'), 'Version'] }]] },
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test.each<[string, object, RegExp]>([
    ['stage variable without deployment', { invokeAliasThroughStageVariable: true }, /needs deployment/],
    ['stage canary without stage variable', { deployment: {}, stageCanaryPercent: 10 }, /needs invokeAliasThroughStageVariable/],
    ['stage canary of 100%', { deployment: {}, invokeAliasThroughStageVariable: true, stageCanaryPercent: 100 }, /percentTraffic must be in \(0, 100\)/],
    ['deployment of an imported function', { deployment: {}, existingFunction: 'imported' }, /deployment needs a function created in this app/],
  ])('RestfulMicroservice rejects %s', (_name, props, message) => {
    const stack = new Stack(new App(), 'Test');
    const resolved = { ...props } as Record<string, unknown>;
    if (resolved.existingFunction === 'imported') {
      resolved.existingFunction = lambda.Function.fromFunctionAttributes(stack, 'F', {
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
        sameEnvironment: true,
        role: iam.Role.fromRoleName(stack, 'R', 'f-role'),
      });
    }
    expect(() => new RestfulMicroservice(stack, 'Items', resolved)).toThrow(message);
  });

  test('StreamProcessor: the event source mapping invokes the alias', () => {
    const stack = new Stack(new App(), 'Test');
    new StreamProcessor(stack, 'Stream', { deployment: {} });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { 'Fn::Join': ['', [{ 'Fn::Select': [6, { 'Fn::Split': [':', aliasRef('Stream')] }] }, ':live']] },
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('PeriodicJob: the schedule invokes the alias, whose async settings send failed runs to the queue', () => {
    const stack = new Stack(new App(), 'Test');
    new PeriodicJob(stack, 'Job', { sourceApi: { url: 'https://api.example.com/items' }, deployment: {} });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { Target: Match.objectLike({ Arn: aliasRef('Job') }) });
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      Qualifier: { 'Fn::Select': [7, { 'Fn::Split': [':', aliasRef('Job')] }] },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('JobFailedRunsQueue'), 'Arn'] } } },
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('FanOut: each consumer with a deployment is invoked through its own alias', () => {
    const stack = new Stack(new App(), 'Test');
    const fanOut = new FanOut(stack, 'Orders', {
      subscribers: [
        { name: 'audit', consumer: { code: FanOutConsumerCode.audit(), deployment: { aliasName: 'audit-live' } } },
        { name: 'projection', consumer: { code: FanOutConsumerCode.projection() } },
      ],
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { 'Fn::Join': ['', [Match.anyValue(), ':audit-live']] },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('OrdersProjectionConsumer') },
    });
    expect(fanOut.subscriptions.find((s) => s.name === 'audit')?.deployment?.alias.aliasName).toBe('audit-live');
    expect(nagFindings(stack)).toEqual([]);
  });
});
