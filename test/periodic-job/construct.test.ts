import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { TimeZone } from 'aws-cdk-lib/core';
import { CredentialNotSetError, parseToken } from '../../lambda/periodic-job/lib/auth';
import { PagingStyle, PeriodicJob, PeriodicJobProps } from '../../lib';
import { allowedPermissions, actionsOn } from '../helpers/iam';
import { nagFindings } from '../helpers/nag';

interface Built { stack: Stack; job: PeriodicJob; template: Template }

const sourceApi = { url: 'https://api.example.com/v1/catalog' };

function build(props?: PeriodicJobProps, extra?: (stack: Stack) => PeriodicJobProps): Built {
  const stack = new Stack(new App(), 'Test');
  const job = new PeriodicJob(stack, 'Sync', { sourceApi, ...props, ...extra?.(stack) });
  return { stack, job, template: Template.fromStack(stack) };
}

const inlineCode = lambda.Code.fromInline('exports.main = async () => {}');

describe('PeriodicJob defaults', () => {
  const { stack, job, template } = build();

  test('schedules the handler hourly in its own group, with retries, an event age limit and a DLQ', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      GroupName: Match.stringLikeRegexp('Test-Sync-ScheduleGroup'),
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SyncHandler'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SyncScheduleDeadLetterQueue'), 'Arn'] } },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SyncSchedulerRole'), 'Arn'] },
      }),
    });
  });

  test('no reserved concurrency (the handler\'s lease keeps runs apart); async retries with an on-failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: Match.absent(),
      Timeout: 120,
      Environment: {
        Variables: Match.objectLike({
          JOB_NAME: 'Sync',
          SOURCE_URL: 'https://api.example.com/v1/catalog',
          SECRET_ARN: { Ref: Match.stringLikeRegexp('SyncApiCredential') },
          POWERTOOLS_METRICS_NAMESPACE: 'ServerlessReferenceArchitectures',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('SyncFailedRunsQueue'), 'Arn'] } } },
    });
  });

  test('grants exactly the table actions the poller calls; run records expire through TTL', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('SyncHandlerRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('SyncTable'), 'Arn'] },
        })]),
      },
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
  });

  test('the secret is readable by this function only', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::ManagedPolicy'))
      .filter(([, p]) => JSON.stringify(p).includes('secretsmanager:GetSecretValue'));
    expect(policies).toHaveLength(1);
    expect(JSON.stringify(policies[0][1].Properties.Roles)).toMatch(/SyncHandlerRole/);
    expect(allowedPermissions(template, /^SyncHandlerRole/)).toEqual(expect.arrayContaining(
      actionsOn({ Ref: expect.stringMatching(/^SyncApiCredential/) }, 'secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'),
    ));
  });

  test('the scheduler role may invoke this function only, and only from this account', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } })],
      },
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('SyncSchedulerRole') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Action: 'lambda:InvokeFunction', Resource: Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('SyncHandler'), 'Arn'] }]) }),
          Match.objectLike({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('SyncScheduleDeadLetterQueue'), 'Arn'] } }),
        ],
      },
    });
  });

  test('the missed-run alarm fires when no success was recorded for two intervals, missing data breaching', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ServerlessReferenceArchitectures',
      MetricName: 'PeriodicJobSuccess',
      Dimensions: [{ Name: 'JobName', Value: 'Sync' }],
      Period: 3600,
      EvaluationPeriods: 2,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  test('alarms on errors, failed runs, failed deliveries, the schedule DLQ, table throttles and an unset credential', () => {
    expect(job.alarms).toHaveLength(7);
    // One datapoint per run (the job's hourly rate), so the alarm holds until the token is set.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ServerlessReferenceArchitectures',
      MetricName: 'PeriodicJobCredentialNotSet',
      Dimensions: [{ Name: 'JobName', Value: 'Sync' }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'errors + dropped + dlq' }),
        Match.objectLike({ Id: 'errors', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'TargetErrorCount' }) }) }),
        Match.objectLike({
          Id: 'dropped',
          MetricStat: Match.objectLike({
            Metric: { Namespace: 'AWS/Scheduler', MetricName: 'InvocationDroppedCount', Dimensions: [{ Name: 'ScheduleGroup', Value: Match.stringLikeRegexp('Test-Sync-ScheduleGroup') }] },
          }),
        }),
      ]),
    });
    for (const queue of ['SyncFailedRunsQueue', 'SyncScheduleDeadLetterQueue']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(queue), 'QueueName'] } }],
      });
    }
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('PeriodicJob options', () => {
  test('a cron schedule with a time zone, flexible window, disabled, with retry settings', () => {
    const { template } = build({
      schedule: scheduler.ScheduleExpression.cron({ minute: '0', hour: '6', timeZone: TimeZone.EUROPE_BERLIN }),
      expectedInterval: Duration.days(1),
      flexibleTimeWindow: Duration.minutes(15),
      enabled: false,
      scheduleRetryAttempts: 10,
      scheduleMaxEventAge: Duration.hours(2),
      retryAttempts: 0,
      maxEventAge: Duration.minutes(30),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      State: 'DISABLED',
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 7200 } }),
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 1800 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'PeriodicJobSuccess', Period: 86_400 });
  });

  test('sourceApi settings reach the handler', () => {
    const { template } = build({
      jobName: 'catalog',
      sourceApi: {
        url: 'https://api.example.com/items',
        pagingStyle: PagingStyle.CURSOR,
        cursorParam: 'after',
        cursorField: 'meta.next',
        itemsPath: 'data.items',
        idField: 'sku',
        maxPages: 20,
        requestTimeout: Duration.seconds(3),
        maxAttempts: 5,
        authHeader: 'X-Api-Key',
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          JOB_NAME: 'catalog',
          PAGING_STYLE: 'cursor',
          CURSOR_PARAM: 'after',
          CURSOR_FIELD: 'meta.next',
          ITEMS_PATH: 'data.items',
          ID_FIELD: 'sku',
          MAX_PAGES: '20',
          REQUEST_TIMEOUT_MS: '3000',
          MAX_ATTEMPTS: '5',
          AUTH_HEADER: 'X-Api-Key',
        }),
      },
    });
  });

  test('the created credential starts as a placeholder the handler recognises as not set, so nothing is sent until someone sets it', () => {
    const { template } = build();
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(1);
    const value = secrets[0].Properties.SecretString as string;
    expect(secrets[0].Properties.GenerateSecretString).toBeUndefined();
    expect(() => parseToken(value)).toThrow(CredentialNotSetError);
  });

  test('allowInsecureHttp lets the handler send the credential over plain http:', () => {
    const { template } = build({ sourceApi: { url: 'http://api.example.com/v1', allowInsecureHttp: true } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SOURCE_URL: 'http://api.example.com/v1', ALLOW_INSECURE_HTTP: 'true' }) },
    });
  });

  test('existingApiCredential is granted instead of creating one', () => {
    const { template } = build(undefined, (s) => ({ existingApiCredential: secretsmanager.Secret.fromSecretNameV2(s, 'Existing', 'catalog-token') }));
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(allowedPermissions(template, /^SyncHandlerRole/).map((p) => p.action)).toEqual(
      expect.arrayContaining(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']),
    );
  });

  test('own code needs no sourceApi; functionProps override the defaults', () => {
    const stack = new Stack(new App(), 'Test');
    new PeriodicJob(stack, 'Own', { code: inlineCode, handler: 'index.main', functionProps: { reservedConcurrentExecutions: 2, timeout: Duration.minutes(5) } });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.main', ReservedConcurrentExecutions: 2, Timeout: 300 });
  });

  test('functionProps reserve concurrency for the reference handler where the account allows it', () => {
    const stack = new Stack(new App(), 'Test');
    new PeriodicJob(stack, 'Sync', { sourceApi: { url: 'https://api.example.com/v1/catalog' }, functionProps: { reservedConcurrentExecutions: 1 } });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1, Timeout: 120 });
  });

  test('existingFunction is scheduled and configured for async failures', () => {
    const { template } = build(undefined, (s) => ({
      sourceApi: undefined,
      existingFunction: new lambda.Function(s, 'Mine', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.main', code: inlineCode }),
    }));
    template.hasResourceProperties('AWS::Scheduler::Schedule', { Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Mine'), 'Arn'] } }) });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: Match.stringLikeRegexp('Mine') } });
  });

  test('missedRunAlarm: false, alarmTopic and dashboard', () => {
    const { template, job } = build({ missedRunAlarm: false, dashboard: true }, (s) => ({ alarmTopic: new sns.Topic(s, 'Topic') }));
    expect(job.alarms).toHaveLength(6);
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'PeriodicJobSuccess' }, 0);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: Match.stringLikeRegexp('Topic') }] });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('PeriodicJob invalid props', () => {
  test.each<[string, PeriodicJobProps, RegExp]>([
    ['the schedule expression is not rate or cron', { schedule: scheduler.ScheduleExpression.expression('every 5 minutes') }, /schedule must be rate\(.*got 'every 5 minutes'/],
    ['the schedule is a one-time at()', { schedule: scheduler.ScheduleExpression.at(new Date('2030-01-01T00:00:00Z')) }, /schedule must be rate.*got 'at\(2030-01-01T00:00:00\)'/],
    ['a cron schedule has no expectedInterval for the missed-run alarm', { schedule: scheduler.ScheduleExpression.cron({ minute: '0' }) }, /needs expectedInterval with a cron schedule/],
    ['the interval is longer than a day with the missed-run alarm', { schedule: scheduler.ScheduleExpression.rate(Duration.days(7)) }, /from 1 minute to 1 day.*got 604800 seconds/],
    ['the reference handler has no sourceApi', { sourceApi: undefined }, /needs sourceApi/],
    ['sourceApi.url is not http(s)', { sourceApi: { url: 'ftp://example.com' } }, /sourceApi.url must be an http\(s\) URL without user info or fragment .*got 'ftp:\/\/example.com'/],
    ['sourceApi.url carries a password', { sourceApi: { url: 'https://user:pw@example.com' } }, /sourceApi.url must be an http\(s\) URL without user info or fragment \(the credential goes in the secret\)/],
    ['sourceApi.url is plain http: to another host', { sourceApi: { url: 'http://api.example.com/v1' } },
      /sourceApi.url must be https: \(the API credential would cross the network in clear text\); set sourceApi.allowInsecureHttp .*got 'http:\/\/api.example.com\/v1'/],
    ['sourceApi.pageParam is not a query parameter name', { sourceApi: { url: 'https://example.com', pageParam: 'a&b' } }, /sourceApi.pageParam must be a query parameter name .*got 'a&b'/],
    ['sourceApi.itemsPath is not a dot path', { sourceApi: { url: 'https://example.com', itemsPath: 'a..b' } }, /sourceApi.itemsPath must be a dot path .*got 'a..b'/],
    ['sourceApi.authHeader is not a header name', { sourceApi: { url: 'https://example.com', authHeader: 'X Api' } }, /sourceApi.authHeader must be an HTTP header name, got 'X Api'/],
    ['cursor paging of a bare array', { sourceApi: { url: 'https://example.com', pagingStyle: PagingStyle.CURSOR, itemsPath: '' } }, /sourceApi.itemsPath must name a field with CURSOR paging/],
    ['jobName is not a metric-safe name', { jobName: 'my job!' }, /jobName must be 1\.\.64 letters.*got 'my job!'/],
    ['retryAttempts is above 2', { retryAttempts: 3 }, /retryAttempts must be an integer in 0\.\.2, got 3/],
    ['maxEventAge is above 6 hours', { maxEventAge: Duration.hours(7) }, /maxEventAge must be 60\.\.21600 seconds, got 25200/],
    ['scheduleRetryAttempts is above 185', { scheduleRetryAttempts: 200 }, /scheduleRetryAttempts must be an integer in 0\.\.185, got 200/],
    ['requestTimeout is above a minute', { sourceApi: { url: 'https://x.example.com', requestTimeout: Duration.minutes(2) } }, /requestTimeout must be 100 ms\.\.60 s, got 120000 ms/],
    ['handler is given without code', { handler: 'index.main' }, /pass code too/],
  ])('fails when %s', (_name, props, message) => {
    const stack = new Stack(new App(), 'Test');
    expect(() => new PeriodicJob(stack, 'Sync', { sourceApi, ...props })).toThrow(message);
  });
});
