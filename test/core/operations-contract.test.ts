import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';
import {
  CanaryDeployment, EventDrivenMicroservice, FanOut, FanOutConsumerCode, FileStorageService, PatternOperationsProps, PeriodicJob,
  RelationalMicroservice, RestfulMicroservice, SagaWorkflow, StreamProcessor, WebApplication,
} from '../../lib';
import { allowedPermissions, expectExactly, actionsOn } from '../helpers/iam';
import { siteFixture } from '../helpers/site-fixture';

/** What every pattern exposes of its operations, whatever else it holds. */
interface Operated extends IConstruct {
  readonly alarms: cloudwatch.IAlarm[];
  readonly dashboard?: cloudwatch.Dashboard;
}

interface ContractCase {
  readonly build: (stack: Stack, operations: PatternOperationsProps) => Operated;
  /** The pattern's deployments (one per deployed function). */
  readonly deployments: (pattern: any) => CanaryDeployment[];
  /** The pattern alarms each deployment must roll back on, chosen by what they measure. */
  readonly rollbackAlarms: (pattern: any) => cloudwatch.IAlarm[][];
  /** The resource types whose triggers must invoke the alias (one per deployment kind). */
  readonly trigger: string | string[];
}

const SITE = siteFixture();
const code = lambda.Code.fromInline('exports.handler = async () => ({})');

const CASES: Record<string, ContractCase> = {
  RestfulMicroservice: {
    build: (stack, ops) => new RestfulMicroservice(stack, 'Pattern', ops),
    deployments: (p: RestfulMicroservice) => [p.deployment!],
    rollbackAlarms: (p: RestfulMicroservice) => [p.restApi.rollbackAlarms],
    trigger: 'AWS::ApiGateway::Method',
  },
  StreamProcessor: {
    build: (stack, ops) => new StreamProcessor(stack, 'Pattern', ops),
    deployments: (p: StreamProcessor) => [p.deployment!],
    rollbackAlarms: (p: StreamProcessor) => [p.alarms.filter((a) => a.node.id === 'HandlerIteratorAgeAlarm')],
    trigger: 'AWS::Lambda::EventSourceMapping',
  },
  FanOut: {
    build: (stack, ops) => new FanOut(stack, 'Pattern', {
      ...ops,
      subscribers: [{ name: 'audit', consumer: { code: FanOutConsumerCode.audit() } }, { name: 'projection', consumer: { code: FanOutConsumerCode.projection() } }],
    }),
    deployments: (p: FanOut) => p.subscriptions.map((s) => s.deployment!),
    rollbackAlarms: (p: FanOut) => p.subscriptions.map((s) => p.alarms.filter((a) => a.node.id === `${s.name.charAt(0).toUpperCase()}${s.name.slice(1)}OldestMessageAlarm`)),
    trigger: 'AWS::Lambda::EventSourceMapping',
  },
  EventDrivenMicroservice: {
    build: (stack, ops) => new EventDrivenMicroservice(stack, 'Pattern', ops),
    // The publisher, then the projection consumer.
    deployments: (p: EventDrivenMicroservice) => [p.deployment!, p.subscriptions[0].deployment!],
    rollbackAlarms: (p: EventDrivenMicroservice) => [p.alarms.filter((a) => a.node.id === 'PublisherIteratorAgeAlarm'), []],
    trigger: ['AWS::Lambda::EventSourceMapping', 'AWS::Events::Rule'],
  },
  PeriodicJob: {
    build: (stack, ops) => new PeriodicJob(stack, 'Pattern', { ...ops, sourceApi: { url: 'https://api.example.com/v1/catalog' } }),
    deployments: (p: PeriodicJob) => [p.deployment!],
    rollbackAlarms: () => [[]],
    trigger: 'AWS::Scheduler::Schedule',
  },
  WebApplication: {
    build: (stack, ops) => new WebApplication(stack, 'Pattern', { ...ops, siteDirectory: SITE }),
    deployments: (p: WebApplication) => [p.deployment!],
    rollbackAlarms: (p: WebApplication) => [p.restApi.rollbackAlarms],
    trigger: 'AWS::ApiGateway::Method',
  },
  RelationalMicroservice: {
    build: (stack, ops) => new RelationalMicroservice(stack, 'Pattern', { ...ops, code }),
    deployments: (p: RelationalMicroservice) => [p.deployment!],
    rollbackAlarms: (p: RelationalMicroservice) => [p.restApi.rollbackAlarms],
    trigger: 'AWS::ApiGateway::Method',
  },
  SagaWorkflow: {
    build: (stack, ops) => new SagaWorkflow(stack, 'Pattern', ops),
    // Every function: the two steps, the starter and the callback completer.
    deployments: (p: SagaWorkflow) => p.deployments,
    rollbackAlarms: (p: SagaWorkflow) => p.deployments.map(() => p.restApi.rollbackAlarms),
    trigger: ['AWS::StepFunctions::StateMachine', 'AWS::ApiGateway::Method'],
  },
  FileStorageService: {
    build: (stack, ops) => new FileStorageService(stack, 'Pattern', { ...ops, code }),
    deployments: (p: FileStorageService) => [p.deployment!],
    rollbackAlarms: (p: FileStorageService) => [p.restApi.rollbackAlarms],
    trigger: 'AWS::ApiGateway::Method',
  },
};

function buildOperated(contract: ContractCase) {
  const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
  const alarmTopic = new sns.Topic(stack, 'AlarmTopic');
  const pattern = contract.build(stack, { alarmTopic, dashboard: true, deployment: {} });
  return { stack, alarmTopic, pattern, template: Template.fromStack(stack) };
}

describe.each(Object.entries(CASES))('%s follows the operations contract', (_name, contract) => {
  const { stack, alarmTopic, pattern, template } = buildOperated(contract);
  const deployments = contract.deployments(pattern);
  const topicRef = stack.resolve(alarmTopic.topicArn);

  test('deployment deploys every function of the pattern', () => {
    expect(deployments.length).toBeGreaterThan(0);
    for (const deployment of deployments) expect(deployment).toBeInstanceOf(CanaryDeployment);
  });

  test('the pattern\'s triggers invoke the alias, not the function', () => {
    const triggers = JSON.stringify([contract.trigger].flat().map((type) => template.findResources(type)));
    for (const deployment of deployments) {
      expect(triggers).toContain(stack.getLogicalId(deployment.alias.node.defaultChild as lambda.CfnAlias));
    }
  });

  test('alarms holds the pattern\'s alarms and its deployments\' alarms', () => {
    for (const deployment of deployments) expect(pattern.alarms).toEqual(expect.arrayContaining(deployment.alarms));
    expect(template.findResources('AWS::CloudWatch::Alarm')).toEqual(
      Object.fromEntries(pattern.alarms.map((a) => [stack.getLogicalId(a.node.defaultChild as cloudwatch.CfnAlarm), expect.anything()])),
    );
  });

  test('alarmTopic receives every alarm, the deployments\' included', () => {
    for (const [id, alarm] of Object.entries(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect([id, alarm.Properties.AlarmActions]).toEqual([id, [topicRef]]);
      expect([id, alarm.Properties.OKActions]).toEqual([id, [topicRef]]);
    }
  });

  test('each deployment rolls back on the new version\'s alarms and on the pattern alarms chosen for it', () => {
    contract.rollbackAlarms(pattern).forEach((patternRollbacks, index) => {
      const deployment = deployments[index];
      const group = template.toJSON().Resources[stack.getLogicalId(deployment.deploymentGroup.node.defaultChild as codedeploy.CfnDeploymentGroup)];
      const names = group.Properties.AlarmConfiguration.Alarms.map((a: { Name: unknown }) => a.Name);
      expect(names).toEqual([...deployment.alarms, ...patternRollbacks].map((a) => stack.resolve(a.alarmName)));
    });
  });

  test('dashboard shows every alarm', () => {
    expect(pattern.dashboard).toBeDefined();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(stack.resolve((pattern.dashboard!.node.defaultChild as cloudwatch.CfnDashboard).dashboardBody));
    for (const alarm of pattern.alarms) expect(body).toContain(stack.getLogicalId(alarm.node.defaultChild as cloudwatch.CfnAlarm));
  });
});

describe('without operations props', () => {
  test.each(Object.entries(CASES))('%s has alarms without actions, no dashboard and no deployment', (_name, contract) => {
    const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
    const pattern = contract.build(stack, {});
    const template = Template.fromStack(stack);
    expect(pattern.alarms.length).toBeGreaterThan(0);
    expect(pattern.dashboard).toBeUndefined();
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toBeUndefined();
  });
});

test('a deployment with more than CodeDeploy\'s 10 rollback alarms fails at synthesis', () => {
  const stack = new Stack(new App(), 'Test');
  const service = new RestfulMicroservice(stack, 'Pattern', { deployment: {} });
  const metric = new cloudwatch.Metric({ namespace: 'Test', metricName: 'Errors' });
  for (let i = 0; i < 7; i++) service.deployment!.addRollbackAlarm(new cloudwatch.Alarm(stack, `Extra${i}`, { metric, threshold: 1, evaluationPeriods: 1 }));
  expect(() => Template.fromStack(stack)).toThrow(/11 rollback alarms, CodeDeploy takes at most 10 per deployment group/);
});

describe('grants for what users wire next', () => {
  test.each<[string, (stack: Stack) => { api: { restApiId: string }; grantInvoke(grantee: iam.IGrantable): iam.Grant }]>([
    ['RestfulMicroservice', (stack) => new RestfulMicroservice(stack, 'Pattern')],
    ['RelationalMicroservice', (stack) => new RelationalMicroservice(stack, 'Pattern', { code })],
    ['FileStorageService', (stack) => new FileStorageService(stack, 'Pattern', { code })],
  ])('%s.grantInvoke lets a role call its API stage, nothing else', (_name, build) => {
    const stack = new Stack(new App(), 'Test');
    const pattern = build(stack);
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    pattern.grantInvoke(caller);
    const [granted, ...others] = allowedPermissions(Template.fromStack(stack), /^Caller/);
    expect(others).toEqual([]);
    expect(granted.action).toBe('execute-api:Invoke');
    expect(JSON.stringify(granted.resource)).toContain(stack.resolve(pattern.api.restApiId).Ref);
  });

  test('FanOut.grantPublish lets a role publish to the topic and use its key for that, nothing else', () => {
    const stack = new Stack(new App(), 'Test');
    const fanOut = new FanOut(stack, 'Pattern', { subscribers: [{ name: 'audit' }], publisher: false });
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    fanOut.grantPublish(caller);
    expectExactly(allowedPermissions(Template.fromStack(stack), /^Caller/), [
      ...actionsOn(stack.resolve(fanOut.topic.topicArn), 'sns:Publish'),
      ...actionsOn({ 'Fn::GetAtt': [expect.stringMatching(/^PatternTopicKey/), 'Arn'] }, 'kms:GenerateDataKey', 'kms:Decrypt'),
    ]);
  });
});
