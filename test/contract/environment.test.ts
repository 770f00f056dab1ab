/**
 * The environment a construct gives each reference handler is the environment that handler
 * reads: synthesized with default props and with every handler setting on, each function's
 * environment (deploy-time references replaced by values of their deployed shape) must pass the
 * handler's own cold-start validation, every variable set must be one the handler reads, and each
 * documented default of the construct must be what the handler does when the variable is absent.
 */
import { join } from 'node:path';
import { Duration, Size, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { loadPostTrafficConfig, loadPreTrafficConfig } from '../../lambda/canary/lib/config';
import { loadConfig as loadFilesConfig } from '../../lambda/efs/lib/config';
import { loadConsumerConfig as loadProjectionConsumerConfig, loadPublisherConfig as loadChangePublisherConfig } from '../../lambda/event-driven/lib/config';
import { loadConsumerConfig, loadPublisherConfig, loadRedriveConfig } from '../../lambda/fan-out/lib/config';
import { loadConfig as loadPollerConfig } from '../../lambda/periodic-job/lib/config';
import { loadApiConfig, loadMigrateConfig } from '../../lambda/rds-proxy/lib/config';
import { loadConfig as loadRestApiConfig } from '../../lambda/rest-api/lib/config';
import { loadCallbackConfig, loadPaymentConfig, loadStartConfig, loadTableConfig } from '../../lambda/saga/lib/config';
import { loadConfig as loadStreamConfig } from '../../lambda/stream-processing/lib/config';
import {
  CanaryDeployment, EventDrivenMicroservice, EventSubscriberTarget, FanOut, FanOutConsumerCode, FileStorageService, PagingStyle, PeriodicJob,
  RelationalMicroservice, RestfulMicroservice, SagaWorkflow, StreamProcessor, WebApplication,
} from '../../lib';
import { ASSETS_DIR, discoverHandlers, ROOT } from '../../scripts/bundle';
import {
  type ConfigLoader, type DeployedFunction, deployedFunctions, documentedDefault, documentedProperties, LAMBDA_RUNTIME_ENV, loadRecordingReads,
  newStack, READ_OUTSIDE_THE_LOADER, cognitoAuthorization, targetFunction,
} from '../helpers/contract';
import { runInFreshNode } from '../helpers/fresh-node';

/** The loader each entry point runs at cold start. */
const LOADERS: Record<string, ConfigLoader> = {
  'canary/post-traffic': loadPostTrafficConfig,
  'canary/pre-traffic': loadPreTrafficConfig,
  'efs/files': loadFilesConfig,
  'event-driven/projection-consumer': loadProjectionConsumerConfig,
  'event-driven/publisher': loadChangePublisherConfig,
  'fan-out/audit-consumer': loadConsumerConfig,
  'fan-out/high-value-consumer': loadConsumerConfig,
  'fan-out/projection-consumer': loadConsumerConfig,
  'fan-out/publisher': loadPublisherConfig,
  'fan-out/redrive': loadRedriveConfig,
  'periodic-job/poller': loadPollerConfig,
  'rds-proxy/api': loadApiConfig,
  'rds-proxy/migrate': loadMigrateConfig,
  'rest-api/api': loadRestApiConfig,
  'saga/callback': loadCallbackConfig,
  'saga/inventory': loadTableConfig,
  'saga/payment': loadPaymentConfig,
  'saga/start': loadStartConfig,
  'stream-processing/processor': loadStreamConfig,
};
const ASSETS = Object.keys(LOADERS);

type Props = Record<string, unknown>;

function withSettings(stack: Stack, build: (stack: Stack) => void): Stack {
  build(stack);
  return stack;
}

const ITEM_SCHEMA = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 100 } } };

const referenceConsumers = () => [
  { name: 'audit', consumer: { code: FanOutConsumerCode.audit() } },
  { name: 'high-value', consumer: { code: FanOutConsumerCode.highValue() } },
  { name: 'projection', consumer: { code: FanOutConsumerCode.projection() } },
  { name: 'external' },
];

interface Scenario {
  readonly name: string;
  readonly build: (stack: Stack) => void;
  /** The reference handlers the scenario deploys. */
  readonly assets: readonly string[];
  /** What each handler's configuration must say, from the props set (encodings of non-default values). */
  readonly expect?: Record<string, Record<string, unknown>>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'RestfulMicroservice, defaults',
    build: (s) => new RestfulMicroservice(s, 'Items'),
    assets: ['rest-api/api'],
  },
  {
    name: 'RestfulMicroservice, every handler setting and a deployment with both hooks',
    build: (s) => new RestfulMicroservice(s, 'Items', {
      resourceName: 'orders',
      requireIfMatch: false,
      maxBodySize: Size.kibibytes(128),
      defaultPageSize: 10,
      maxPageSize: 50,
      itemSchema: ITEM_SCHEMA,
      itemOwnerClaim: 'custom:tenant',
      apiProps: { authorization: cognitoAuthorization(s), cors: { allowOrigins: ['https://app.example.com', 'http://localhost:5173'] } },
      deployment: { preTrafficHook: { expectedStatusCode: 200 }, postTrafficHook: { maxErrorRatePercent: 0.5 } },
    }),
    assets: ['rest-api/api', 'canary/pre-traffic', 'canary/post-traffic'],
    expect: {
      'rest-api/api': {
        resourceName: 'orders',
        requireIfMatch: false,
        maxBodyBytes: 131_072,
        defaultPageSize: 10,
        maxPageSize: 50,
        validateItem: expect.any(Function),
        ownerClaim: 'custom:tenant',
        cors: expect.objectContaining({ allowOrigins: ['https://app.example.com', 'http://localhost:5173'] }),
      },
      'canary/pre-traffic': { expect: { statusCode: 200 } },
      'canary/post-traffic': { maxErrorRatePercent: 0.5 },
    },
  },
  {
    name: 'RelationalMicroservice, defaults',
    build: (s) => new RelationalMicroservice(s, 'Items'),
    assets: ['rds-proxy/api', 'rds-proxy/migrate'],
  },
  {
    name: 'RelationalMicroservice, every handler setting',
    build: (s) => new RelationalMicroservice(s, 'Items', {
      resourceName: 'orders',
      requireIfMatch: false,
      maxBodySize: Size.kibibytes(16),
      defaultPageSize: 5,
      maxPageSize: 20,
      itemSchema: ITEM_SCHEMA,
      itemOwnerClaim: 'sub',
      apiDatabaseUser: 'orders_api',
      databaseOptions: { databaseName: 'orders' },
      migrationsDirectory: join(ROOT, 'lambda', 'rds-proxy', 'migrations'),
      apiProps: { authorization: cognitoAuthorization(s), cors: { allowOrigins: ['*'] } },
    }),
    assets: ['rds-proxy/api', 'rds-proxy/migrate'],
    expect: {
      'rds-proxy/api': {
        resourceName: 'orders',
        requireIfMatch: false,
        maxBodyBytes: 16_384,
        defaultPageSize: 5,
        maxPageSize: 20,
        validateItem: expect.any(Function),
        ownerClaim: 'sub',
        cors: expect.objectContaining({ allowOrigins: '*' }),
        db: expect.objectContaining({ database: 'orders', user: 'orders_api', iamAuth: true, tls: 'verify-full', port: 5432 }),
      },
      'rds-proxy/migrate': { db: expect.objectContaining({ database: 'orders', iamAuth: true, tls: 'verify-full' }), migrationsDir: '/opt' },
    },
  },
  {
    name: 'FileStorageService, defaults',
    build: (s) => new FileStorageService(s, 'Files'),
    assets: ['efs/files'],
  },
  {
    name: 'FileStorageService, every handler setting',
    build: (s) => new FileStorageService(s, 'Files', {
      mountPath: '/mnt/files', maxFileSize: Size.mebibytes(1), requireIfMatch: true, defaultPageSize: 20, maxPageSize: 200,
    }),
    assets: ['efs/files'],
    expect: { 'efs/files': { mountPath: '/mnt/files', maxFileBytes: 1_048_576, requireIfMatch: true, defaultPageSize: 20, maxPageSize: 200 } },
  },
  {
    name: 'StreamProcessor, defaults',
    build: (s) => new StreamProcessor(s, 'Events'),
    assets: ['stream-processing/processor'],
  },
  {
    name: 'StreamProcessor, every handler setting',
    build: (s) => new StreamProcessor(s, 'Events', { maxParallelWrites: 25 }),
    assets: ['stream-processing/processor'],
    expect: { 'stream-processing/processor': { maxParallelWrites: 25 } },
  },
  {
    name: 'PeriodicJob, the smallest source API',
    build: (s) => new PeriodicJob(s, 'Sync', { sourceApi: { url: 'https://api.example.com/v1/catalog' } }),
    assets: ['periodic-job/poller'],
  },
  {
    name: 'PeriodicJob, every source API setting',
    build: (s) => new PeriodicJob(s, 'Sync', {
      jobName: 'catalog-sync',
      sourceApi: {
        url: 'https://api.example.com/v1/catalog?region=eu',
        pagingStyle: PagingStyle.CURSOR,
        pageParam: 'p',
        cursorParam: 'after',
        cursorField: 'meta.next',
        itemsPath: 'data.items',
        idField: 'sku',
        maxPages: 500,
        requestTimeout: Duration.seconds(20),
        maxAttempts: 6,
        authHeader: 'X-Api-Key',
      },
    }),
    assets: ['periodic-job/poller'],
    expect: {
      'periodic-job/poller': {
        jobName: 'catalog-sync',
        sourceUrl: 'https://api.example.com/v1/catalog?region=eu',
        pagingStyle: 'cursor',
        pageParam: 'p',
        cursorParam: 'after',
        cursorField: ['meta', 'next'],
        itemsPath: ['data', 'items'],
        idField: ['sku'],
        maxPages: 500,
        requestTimeoutMs: 20_000,
        maxAttempts: 6,
        authHeader: 'X-Api-Key',
      },
    },
  },
  {
    name: 'PeriodicJob, plain http: allowed for the credential',
    build: (s) => new PeriodicJob(s, 'Sync', { sourceApi: { url: 'http://api.example.com/v1/catalog', allowInsecureHttp: true } }),
    assets: ['periodic-job/poller'],
    expect: { 'periodic-job/poller': { sourceUrl: 'http://api.example.com/v1/catalog', allowInsecureHttp: true } },
  },
  {
    name: 'PeriodicJob, a source API whose body is the items array',
    build: (s) => new PeriodicJob(s, 'Sync', { sourceApi: { url: 'https://api.example.com/v1/catalog', pagingStyle: PagingStyle.LINK, itemsPath: '' } }),
    assets: ['periodic-job/poller'],
    expect: { 'periodic-job/poller': { pagingStyle: 'link', itemsPath: [] } },
  },
  {
    name: 'FanOut, standard, the three reference consumers, publisher and redrive',
    build: (s) => new FanOut(s, 'Orders', { subscribers: referenceConsumers() }),
    assets: ['fan-out/audit-consumer', 'fan-out/high-value-consumer', 'fan-out/projection-consumer', 'fan-out/publisher', 'fan-out/redrive'],
  },
  {
    name: 'FanOut, FIFO',
    build: (s) => new FanOut(s, 'Orders', { fifo: true, subscribers: referenceConsumers() }),
    assets: ['fan-out/audit-consumer', 'fan-out/high-value-consumer', 'fan-out/projection-consumer', 'fan-out/publisher', 'fan-out/redrive'],
    expect: {
      'fan-out/publisher': { fifo: true },
      'fan-out/audit-consumer': { fifo: true },
      'fan-out/high-value-consumer': { fifo: true },
      'fan-out/projection-consumer': { fifo: true },
    },
  },
  {
    name: 'FanOut, an existing standard topic',
    build: (s) => new FanOut(s, 'Orders', { existingTopic: new sns.Topic(s, 'Existing'), subscribers: [{ name: 'audit', consumer: { code: FanOutConsumerCode.audit() } }] }),
    assets: ['fan-out/audit-consumer', 'fan-out/publisher', 'fan-out/redrive'],
  },
  {
    name: 'EventDrivenMicroservice, defaults',
    build: (s) => new EventDrivenMicroservice(s, 'Orders'),
    assets: ['event-driven/publisher', 'event-driven/projection-consumer'],
    expect: { 'event-driven/publisher': { entity: 'item', source: 'app.item' }, 'event-driven/projection-consumer': { tombstoneRetentionSeconds: 31 * 86_400 } },
  },
  {
    name: 'EventDrivenMicroservice, every handler setting',
    build: (s) => new EventDrivenMicroservice(s, 'Orders', {
      entityName: 'order',
      source: 'example.orders',
      archiveRetention: Duration.days(90),
      subscribers: [
        { name: 'updates', eventPattern: { detailType: ['order.updated.v1'] }, target: EventSubscriberTarget.projection() },
        { name: 'feed', target: EventSubscriberTarget.queue() },
      ],
    }),
    assets: ['event-driven/publisher', 'event-driven/projection-consumer'],
    expect: {
      'event-driven/publisher': { entity: 'order', source: 'example.orders' },
      'event-driven/projection-consumer': { tombstoneRetentionSeconds: 91 * 86_400 },
    },
  },
  {
    name: 'SagaWorkflow, defaults',
    build: (s) => new SagaWorkflow(s, 'Saga'),
    assets: ['saga/callback', 'saga/inventory', 'saga/payment', 'saga/start'],
  },
  {
    name: 'SagaWorkflow, EXPRESS with a synchronous start and a payment limit',
    build: (s) => new SagaWorkflow(s, 'Saga', { stateMachineType: sfn.StateMachineType.EXPRESS, synchronousStart: true, paymentLimit: 500 }),
    assets: ['saga/inventory', 'saga/payment', 'saga/start'],
    expect: { 'saga/start': { workflowType: 'EXPRESS', startMode: 'sync', syncStartTimeoutMs: 25_000 }, 'saga/payment': { paymentLimit: 500 } },
  },
  {
    name: 'CanaryDeployment, both reference hooks with defaults',
    build: (s) => new CanaryDeployment(s, 'Deployment', { function: targetFunction(s), preTrafficHook: {}, postTrafficHook: {} }),
    assets: ['canary/pre-traffic', 'canary/post-traffic'],
  },
  {
    name: 'CanaryDeployment, every hook setting',
    build: (s) => new CanaryDeployment(s, 'Deployment', {
      function: targetFunction(s),
      aliasName: 'prod_2',
      preTrafficHook: {
        smokeTestPayload: { httpMethod: 'GET', path: '/items' },
        expectedStatusCode: 200,
        expectedBodyContains: '"items"',
        expectedFields: { isBase64Encoded: false },
      },
      postTrafficHook: { window: Duration.hours(1), maxErrors: 3, maxErrorRatePercent: 100 / 3, requireInvocations: true },
    }),
    assets: ['canary/pre-traffic', 'canary/post-traffic'],
    expect: {
      'canary/pre-traffic': { expect: { statusCode: 200, bodyContains: '"items"', fields: { isBase64Encoded: false } } },
      'canary/post-traffic': { aliasName: 'prod_2', windowMinutes: 60, maxErrors: 3, maxErrorRatePercent: 100 / 3, requireInvocations: true },
    },
  },
  {
    name: 'WebApplication, defaults',
    build: (s) => new WebApplication(s, 'Web'),
    assets: ['rest-api/api'],
    expect: { 'rest-api/api': { ownerClaim: 'sub', validateItem: expect.any(Function) } },
  },
];

test('every reference handler entry point has its config loader here', () => {
  expect(ASSETS.sort()).toEqual(discoverHandlers().map((h) => h.assetName).sort());
});

/** The environment of each reference handler's first deployment among the scenarios (defaults come first). */
const firstEnvironments = new Map<string, Record<string, string>>();

describe.each(SCENARIOS)('$name', (scenario) => {
  const functions = deployedFunctions(withSettings(newStack(), scenario.build), ASSETS);
  const reference = functions.filter((f): f is DeployedFunction & { asset: string } => f.asset !== undefined);
  for (const f of reference) if (!firstEnvironments.has(f.asset)) firstEnvironments.set(f.asset, f.environment);

  test('deploys the expected reference handlers', () => {
    expect([...new Set(reference.map((f) => f.asset))].sort()).toEqual([...scenario.assets].sort());
  });

  describe.each(reference.map((f) => [f.asset, f] as const))('%s', (asset, fn) => {
    const { config, error, read } = loadRecordingReads(LOADERS[asset], fn.environment);

    test('the handler accepts the environment at cold start', () => {
      expect(error).toBeUndefined();
    });

    test('every variable the construct sets is one the handler reads', () => {
      const unread = Object.keys(fn.environment).filter((name) => !read.has(name) && !READ_OUTSIDE_THE_LOADER.has(name));
      expect(unread).toEqual([]);
    });

    const expected = scenario.expect?.[asset];
    if (expected) {
      test('the handler reads the settings as the props say', () => {
        expect(config).toMatchObject(expected);
      });
    }
  });
});

// The loaders above are what the entry points call; this checks the code Lambda runs itself.
describe('the built bundle starts in a fresh Node process with the construct\'s environment', () => {
  test.each(ASSETS.map((asset) => [asset]))('%s', async (asset) => {
    const env = firstEnvironments.get(asset);
    expect(env).toBeDefined();
    const run = await runInFreshNode<{ handlerType: string }>(
      `const m = await import(${JSON.stringify(join(ASSETS_DIR, asset, 'index.mjs'))}); report({ handlerType: typeof m.handler });`,
      { ...LAMBDA_RUNTIME_ENV, ...env },
    );
    expect(run).toEqual(expect.objectContaining({ handlerType: 'function' }));
  });
});

// ---- documented defaults

interface DefaultRow {
  /** The exported props or options type that documents the default. */
  readonly type: string;
  readonly property: string;
  /** Where the property goes in the construct's props. */
  readonly path: readonly string[];
  /** The handler config field that the property becomes. */
  readonly field: string;
}

interface DefaultsCase {
  readonly construct: string;
  /** The construct's props type, which must have the first key of every row's path. */
  readonly propsType: string;
  readonly assets: readonly string[];
  readonly build: (stack: Stack, props: Props) => void;
  readonly rows: readonly DefaultRow[];
}

const resourceApiRows = (type: string): DefaultRow[] => [
  { type, property: 'resourceName', path: ['resourceName'], field: 'resourceName' },
  { type, property: 'requireIfMatch', path: ['requireIfMatch'], field: 'requireIfMatch' },
  { type, property: 'maxBodySize', path: ['maxBodySize'], field: 'maxBodyBytes' },
  { type, property: 'defaultPageSize', path: ['defaultPageSize'], field: 'defaultPageSize' },
  { type, property: 'maxPageSize', path: ['maxPageSize'], field: 'maxPageSize' },
  { type, property: 'itemSchema', path: ['itemSchema'], field: 'validateItem' },
  { type, property: 'itemOwnerClaim', path: ['itemOwnerClaim'], field: 'ownerClaim' },
];

const sourceApiRow = (property: string, field: string = property): DefaultRow => (
  { type: 'PeriodicJobSourceApi', property, path: ['sourceApi', property], field }
);

const DEFAULTS: DefaultsCase[] = [
  {
    construct: 'RestfulMicroservice',
    propsType: 'RestfulMicroserviceProps',
    assets: ['rest-api/api'],
    build: (s, props) => new RestfulMicroservice(s, 'Items', props),
    rows: resourceApiRows('RestfulMicroserviceProps'),
  },
  {
    construct: 'RelationalMicroservice',
    propsType: 'RelationalMicroserviceProps',
    assets: ['rds-proxy/api'],
    build: (s, props) => new RelationalMicroservice(s, 'Items', props),
    rows: [
      ...resourceApiRows('RelationalMicroserviceProps'),
      { type: 'RelationalMicroserviceProps', property: 'apiDatabaseUser', path: ['apiDatabaseUser'], field: 'db.user' },
      { type: 'RelationalDatabaseOptions', property: 'databaseName', path: ['databaseOptions', 'databaseName'], field: 'db.database' },
    ],
  },
  {
    construct: 'RelationalMicroservice migrations',
    propsType: 'RelationalMicroserviceProps',
    assets: ['rds-proxy/migrate'],
    build: (s, props) => new RelationalMicroservice(s, 'Items', props),
    rows: [{ type: 'RelationalDatabaseOptions', property: 'databaseName', path: ['databaseOptions', 'databaseName'], field: 'db.database' }],
  },
  {
    construct: 'FileStorageService',
    propsType: 'FileStorageServiceProps',
    assets: ['efs/files'],
    build: (s, props) => new FileStorageService(s, 'Files', props),
    rows: [
      { type: 'FileStorageServiceProps', property: 'mountPath', path: ['mountPath'], field: 'mountPath' },
      { type: 'FileStorageServiceProps', property: 'maxFileSize', path: ['maxFileSize'], field: 'maxFileBytes' },
      { type: 'FileStorageServiceProps', property: 'requireIfMatch', path: ['requireIfMatch'], field: 'requireIfMatch' },
      { type: 'FileStorageServiceProps', property: 'defaultPageSize', path: ['defaultPageSize'], field: 'defaultPageSize' },
      { type: 'FileStorageServiceProps', property: 'maxPageSize', path: ['maxPageSize'], field: 'maxPageSize' },
    ],
  },
  {
    construct: 'StreamProcessor',
    propsType: 'StreamProcessorProps',
    assets: ['stream-processing/processor'],
    build: (s, props) => new StreamProcessor(s, 'Events', props),
    rows: [{ type: 'StreamProcessorProps', property: 'maxParallelWrites', path: ['maxParallelWrites'], field: 'maxParallelWrites' }],
  },
  {
    construct: 'PeriodicJob',
    propsType: 'PeriodicJobProps',
    assets: ['periodic-job/poller'],
    build: (s, props) => new PeriodicJob(s, 'Sync', mergeProps({ sourceApi: { url: 'https://api.example.com/v1/catalog' } }, props)),
    rows: [
      sourceApiRow('pagingStyle'), sourceApiRow('pageParam'), sourceApiRow('cursorParam'), sourceApiRow('cursorField'),
      sourceApiRow('itemsPath'), sourceApiRow('idField'), sourceApiRow('maxPages'), sourceApiRow('requestTimeout', 'requestTimeoutMs'),
      sourceApiRow('maxAttempts'), sourceApiRow('authHeader'), sourceApiRow('allowInsecureHttp'),
    ],
  },
  {
    construct: 'FanOut',
    propsType: 'FanOutProps',
    assets: ['fan-out/publisher', 'fan-out/audit-consumer', 'fan-out/high-value-consumer', 'fan-out/projection-consumer'],
    build: (s, props) => new FanOut(s, 'Orders', { subscribers: referenceConsumers(), ...props }),
    rows: [{ type: 'FanOutProps', property: 'fifo', path: ['fifo'], field: 'fifo' }],
  },
  {
    construct: 'CanaryDeployment pre-traffic hook',
    propsType: 'CanaryDeploymentProps',
    assets: ['canary/pre-traffic'],
    build: (s, props) => new CanaryDeployment(s, 'Deployment', { function: targetFunction(s), ...mergeProps({ preTrafficHook: {} }, props) }),
    rows: [
      { type: 'PreTrafficHookOptions', property: 'smokeTestPayload', path: ['preTrafficHook', 'smokeTestPayload'], field: 'payload' },
      { type: 'PreTrafficHookOptions', property: 'expectedStatusCode', path: ['preTrafficHook', 'expectedStatusCode'], field: 'expect.statusCode' },
      { type: 'PreTrafficHookOptions', property: 'expectedBodyContains', path: ['preTrafficHook', 'expectedBodyContains'], field: 'expect.bodyContains' },
      { type: 'PreTrafficHookOptions', property: 'expectedFields', path: ['preTrafficHook', 'expectedFields'], field: 'expect.fields' },
    ],
  },
  {
    construct: 'CanaryDeployment post-traffic hook',
    propsType: 'CanaryDeploymentProps',
    assets: ['canary/post-traffic'],
    build: (s, props) => new CanaryDeployment(s, 'Deployment', { function: targetFunction(s), ...mergeProps({ postTrafficHook: {} }, props) }),
    rows: [
      { type: 'PostTrafficHookOptions', property: 'window', path: ['postTrafficHook', 'window'], field: 'windowMinutes' },
      { type: 'PostTrafficHookOptions', property: 'maxErrors', path: ['postTrafficHook', 'maxErrors'], field: 'maxErrors' },
      { type: 'PostTrafficHookOptions', property: 'maxErrorRatePercent', path: ['postTrafficHook', 'maxErrorRatePercent'], field: 'maxErrorRatePercent' },
      { type: 'PostTrafficHookOptions', property: 'requireInvocations', path: ['postTrafficHook', 'requireInvocations'], field: 'requireInvocations' },
    ],
  },
];

function mergeProps(base: Props, extra: Props): Props {
  const merged: Props = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const inner = merged[key];
    merged[key] = isRecord(inner) && isRecord(value) ? mergeProps(inner, value) : value;
  }
  return merged;
}

function isRecord(value: unknown): value is Props {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function withPath(path: readonly string[], value: unknown): Props {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Props;
}

function fieldOf(config: unknown, field: string): unknown {
  return field.split('.').reduce<unknown>((value, key) => (value as Props | undefined)?.[key], config);
}

interface Loaded {
  readonly environment: Record<string, string>;
  readonly config: unknown;
}

function loadAll(build: (stack: Stack) => void, assets: readonly string[]): Map<string, Loaded[]> {
  const byAsset = new Map<string, Loaded[]>(assets.map((a) => [a, []]));
  for (const fn of deployedFunctions(withSettings(newStack(), build), assets)) {
    if (fn.asset === undefined || !byAsset.has(fn.asset)) continue;
    const { config, error } = loadRecordingReads(LOADERS[fn.asset], fn.environment);
    if (error) throw error;
    byAsset.get(fn.asset)!.push({ environment: fn.environment, config });
  }
  return byAsset;
}

describe.each(DEFAULTS)('$construct: a documented default is what the handler does', (c) => {
  const documented = c.rows.map((row) => ({ row, value: documentedDefault(row.type, row.property) }));
  const explicit = documented.filter((d) => d.value !== undefined)
    .reduce<Props>((props, d) => mergeProps(props, withPath(d.row.path, d.value)), {});
  const omitted = loadAll((s) => c.build(s, {}), c.assets);
  const given = loadAll((s) => c.build(s, explicit), c.assets);
  const rows = documented.map((d) => [`${d.row.type}.${d.row.property}`, d] as const);

  test.each(rows)('%s: left out, the handler gets what the documented value gives', (_name, { row, value }) => {
    expect(documentedProperties(c.propsType)).toContain(row.path[0]);
    for (const asset of c.assets) {
      expect(omitted.get(asset)!.length).toBeGreaterThan(0);
      for (const [i, { config }] of omitted.get(asset)!.entries()) {
        if (value === undefined) {
          // "@default - none": the handler has no such setting either.
          expect(fieldOf(config, row.field)).toBeUndefined();
        } else {
          expect(fieldOf(config, row.field)).toEqual(fieldOf(given.get(asset)![i].config, row.field));
        }
      }
    }
  });

  // Also for a variable the construct always sets: the same name has the same default on both sides.
  test.each(rows)('%s: the handler\'s own default is the documented one (or it requires the variable)', (_name, { row }) => {
    for (const asset of c.assets) {
      for (const { environment, config } of omitted.get(asset)!) {
        const differing = Object.keys(environment).filter((name) => {
          const { [name]: _removed, ...rest } = environment;
          const without = loadRecordingReads(LOADERS[asset], rest);
          return without.error === undefined && !equal(fieldOf(without.config, row.field), fieldOf(config, row.field));
        });
        expect(differing).toEqual([]);
      }
    }
  });
});

function equal(a: unknown, b: unknown): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}
