/**
 * The metrics a construct alarms on are the metrics its handlers emit or read:
 * - an alarm on a metric of our own namespace watches what a reference handler emits: the
 *   periodic job's missed-run alarm is checked against the EMF the poller prints when it runs
 *   with the construct's environment (namespace, name, dimension name and value);
 * - the post-traffic hook reads the same Lambda series as the deployment's rollback alarms
 *   (`Errors` of the new version through the alias), for a deployment alone and one made by a pattern.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { loadPostTrafficConfig } from '../../lambda/canary/lib/config';
import { errorMetricQueries } from '../../lambda/canary/lib/error-metrics';
import {
  CanaryDeployment, EventDrivenMicroservice, FanOut, FanOutConsumerCode, FileStorageService, PeriodicJob, RelationalMicroservice, RestfulMicroservice,
  StreamProcessor, WebApplication,
} from '../../lib';
import { type AlarmMetric, alarmMetrics, deployedFunction, loadRecordingReads, newStack } from '../helpers/contract';
import { useDynaliteTable } from '../helpers/dynalite';
import { StreamCapture, streamEvent } from '../helpers/dynamodb-stream';
import { useLocalEventBus } from '../helpers/event-bus';
import { loadPublisher } from '../helpers/event-driven';
import { capturingStdout, loadPoller, usePollerHarness } from '../helpers/load-poller';

const isOwnNamespace = (m: AlarmMetric): boolean => !m.namespace.startsWith('AWS/');

test('only the periodic job and the event publisher alarm on metrics of their own namespace (the ones the next tests check)', () => {
  const stack = newStack();
  const target = new lambda.Function(stack, 'Target', {
    runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  new RestfulMicroservice(stack, 'Items');
  new RelationalMicroservice(stack, 'Rows');
  new FileStorageService(stack, 'Files');
  new StreamProcessor(stack, 'Events');
  new FanOut(stack, 'Orders', { subscribers: [{ name: 'audit', consumer: { code: FanOutConsumerCode.audit() } }] });
  new WebApplication(stack, 'Web');
  new CanaryDeployment(stack, 'Deployment', { function: target, preTrafficHook: {}, postTrafficHook: {} });
  new PeriodicJob(stack, 'Sync', { sourceApi: { url: 'https://api.example.com/v1/catalog' } });
  new EventDrivenMicroservice(stack, 'Changes');

  const own = alarmMetrics(stack).filter(isOwnNamespace);

  expect(own.length).toBeGreaterThan(0);
  expect(own.filter((m) => !m.alarm.startsWith('Sync') && !m.alarm.startsWith('Changes'))).toEqual([]);
});

interface EmfLine {
  readonly _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
  readonly [field: string]: unknown;
}

/** The series (dimension names and values) each EMF line of `stdout` emits `metric` in. */
function emittedSeries(stdout: string, metric: AlarmMetric): Array<{ dimensions: string[][]; values: Record<string, unknown> }> {
  const lines = stdout.split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as EmfLine);
  return lines.flatMap((line) => line._aws.CloudWatchMetrics
    .filter((d) => d.Namespace === metric.namespace && d.Metrics.some((m) => m.Name === metric.metricName))
    .map((d) => ({ dimensions: d.Dimensions, values: Object.fromEntries(d.Dimensions.flat().map((name) => [name, line[name]])) })));
}

describe('EventDrivenMicroservice: its publisher alarms watch what the publisher emits', () => {
  const local = useDynaliteTable();
  const engine = useLocalEventBus();

  test('failed entries and unpublished changes, in the namespace and on the bus the construct names', async () => {
    // Prepare: the construct's environment (the bus's deployed name), a bus of that name, and a change.
    const stack = newStack();
    new EventDrivenMicroservice(stack, 'Changes');
    const alarmed = alarmMetrics(stack).filter(isOwnNamespace);
    const { environment } = deployedFunction(stack, 'event-driven/publisher');
    engine.bus.createBus(environment.EVENT_BUS_NAME);
    const publisher = loadPublisher({ ...environment, POWERTOOLS_METRICS_DISABLED: 'false' });
    const capture = new StreamCapture(local.dynamo.client, local.tableName);
    await capture.put({ pk: { S: 'item#1' }, sk: { S: 'A' }, status: { S: 'new' } });
    engine.bus.failEntries(() => 'InternalFailure');

    // Act: every attempt is rejected
    const { stdout } = await capturingStdout(() => publisher.invoke(streamEvent(capture.drain())));

    // Assess
    expect(alarmed.map((m) => m.metricName).sort()).toEqual(['FailedPutEventsEntries', 'UnpublishedChanges']);
    for (const metric of alarmed) {
      expect(emittedSeries(stdout, metric)).toEqual([{ dimensions: [Object.keys(metric.dimensions)], values: metric.dimensions }]);
    }
  });
});

describe('PeriodicJob: its alarms (missed run, credential not set) watch what the poller emits', () => {
  const harness = usePollerHarness(() => ({ json: { items: [{ id: 'a' }] } }));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let secrets: AwsStub<any, any, any> | undefined;
  let stdout: string[];
  let spy: jest.SpyInstance;

  beforeEach(() => {
    stdout = [];
    spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    spy.mockRestore();
    secrets?.restore();
  });

  interface EmfDirective {
    readonly Namespace: string;
    readonly Dimensions: string[][];
    readonly Metrics: Array<{ Name: string }>;
  }

  test.each([
    ['the construct id as the job name', {}],
    ['a job name', { jobName: 'catalog-sync' }],
  ])('%s', async (_name, props) => {
    // Prepare: the construct's environment, with the table and the source on local engines.
    const stack = newStack();
    new PeriodicJob(stack, 'Sync', { sourceApi: { url: `${harness.server.origin}/items` }, ...props });
    const alarmed = alarmMetrics(stack).filter(isOwnNamespace);
    const { environment } = deployedFunction(stack, 'periodic-job/poller');
    const poller = loadPoller({ ...environment, TABLE_NAME: harness.tableName, POWERTOOLS_METRICS_DISABLED: 'false' });
    // The created secret's value as deployed (its placeholder), then a token someone set.
    const [createdSecret] = Object.values(Template.fromStack(stack).findResources('AWS::SecretsManager::Secret'));
    secrets = mockClient(poller.secretsManager.SecretsManagerClient);
    secrets.on(poller.secretsManager.GetSecretValueCommand)
      .resolvesOnce({ SecretString: createdSecret.Properties.SecretString as string })
      .resolves({ SecretString: 'token' });

    // Act: a run before the token is set, and one after
    expect(await poller.invokeOutcome()).toMatchObject({ status: 'skipped', reason: 'credential-not-set' });
    await poller.invoke();

    // Assess
    const emf = stdout.join('').split('\n').filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: EmfDirective[] } });
    expect(alarmed.length).toBeGreaterThan(0);
    for (const metric of alarmed) {
      const emitted = emf.flatMap((line) => line._aws.CloudWatchMetrics
        .filter((d) => d.Namespace === metric.namespace && d.Metrics.some((m) => m.Name === metric.metricName))
        .map((d) => ({ dimensions: d.Dimensions, values: Object.fromEntries(d.Dimensions.flat().map((name) => [name, line[name]])) })));
      expect(emitted).toEqual([{ dimensions: [Object.keys(metric.dimensions)], values: metric.dimensions }]);
    }
  });
});

describe('CanaryDeployment: the post-traffic hook reads the series the rollback alarm watches', () => {
  function check(stack: Stack): void {
    const { environment } = deployedFunction(stack, 'canary/post-traffic');
    const { config, error } = loadRecordingReads(loadPostTrafficConfig, environment);
    expect(error).toBeUndefined();
    const read = errorMetricQueries(config as ReturnType<typeof loadPostTrafficConfig>).map((q) => ({
      namespace: q.MetricStat!.Metric!.Namespace,
      metricName: q.MetricStat!.Metric!.MetricName,
      dimensions: Object.fromEntries(q.MetricStat!.Metric!.Dimensions!.map((d) => [d.Name, d.Value])),
    }));
    const alarmed = alarmMetrics(stack).filter((m) => m.namespace === 'AWS/Lambda' && 'ExecutedVersion' in m.dimensions);

    expect(read.find((m) => m.metricName === 'Errors')).toBeDefined();
    for (const series of read.filter((m) => m.metricName === 'Errors')) {
      expect(alarmed).toContainEqual(expect.objectContaining(series));
    }
  }

  test('a deployment of a function', () => {
    const stack = newStack();
    const target = new lambda.Function(stack, 'Target', {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    new CanaryDeployment(stack, 'Deployment', { function: target, aliasName: 'prod', postTrafficHook: { window: Duration.minutes(20) } });
    check(stack);
  });

  test('the deployment of a pattern', () => {
    const stack = newStack();
    new RestfulMicroservice(stack, 'Items', { deployment: { postTrafficHook: {} } });
    check(stack);
  });
});
