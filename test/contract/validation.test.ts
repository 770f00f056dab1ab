/**
 * Where a construct and its handler both validate a value (a pattern, a range, a size limit),
 * they must draw the line in the same place. Each row runs one candidate value through the
 * construct (synth-time validation: throws or not) and through the handler's cold-start
 * validation, fed the environment the construct wrote (or, for a value the construct rejects,
 * the environment it would have written). The handler accepts a value when it starts and reads
 * the value as given. Both must agree on every row, edges included, except rows marked:
 * - `handlerWider`: the construct rejects what the handler accepts (harmless: a construct user
 *   never reaches it), listed so that a change on either side is seen.
 */
import { Duration, Size, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { loadPostTrafficConfig, loadPreTrafficConfig } from '../../lambda/canary/lib/config';
import { loadConfig as loadFilesConfig } from '../../lambda/efs/lib/config';
import { loadPublisherConfig as loadChangePublisherConfig, type PublisherConfig } from '../../lambda/event-driven/lib/config';
import { loadRedriveConfig, type RedriveConfig } from '../../lambda/fan-out/lib/config';
import { parseRedriveRequest, targetFor } from '../../lambda/fan-out/lib/redrive';
import { loadConfig as loadPollerConfig, type PollerConfig } from '../../lambda/periodic-job/lib/config';
import { loadApiConfig } from '../../lambda/rds-proxy/lib/config';
import { loadConfig as loadRestApiConfig } from '../../lambda/rest-api/lib/config';
import type { ResourceApiSettings } from '../../lambda/shared/resource-api/config';
import {
  ApiAuthorization, CanaryDeployment, EventDrivenMicroservice, FanOut, FileStorageService, PagingStyle, PeriodicJob, RelationalMicroservice,
  RestfulMicroservice,
} from '../../lib';
import {
  cognitoAuthorization, type ConfigLoader, deployedFunction, type Env, literalEnvironment, loadRecordingReads, newStack, targetFunction,
} from '../helpers/contract';

type Props = Record<string, unknown>;

/** A construct and the reference handler whose configuration a table checks. */
interface Probe {
  readonly name: string;
  readonly asset: string;
  readonly load: ConfigLoader;
  /** Builds the construct with `props` over the smallest working props; returns the function running `asset`. */
  readonly build: (stack: Stack, props: Props) => lambda.IFunction;
  /** The value lives in a variable known only at deploy time: synthesize each row. */
  readonly deployTimeValue?: boolean;
}

const REST: Probe = {
  name: 'RestfulMicroservice',
  asset: 'rest-api/api',
  load: loadRestApiConfig,
  build: (s, props) => new RestfulMicroservice(s, 'Items', { apiProps: { authorization: cognitoAuthorization(s) }, ...props }).handler,
};
const RDS: Probe = {
  name: 'RelationalMicroservice',
  asset: 'rds-proxy/api',
  load: loadApiConfig,
  build: (s, props) => new RelationalMicroservice(s, 'Items', { apiProps: { authorization: cognitoAuthorization(s) }, ...props }).handler,
};
const EFS: Probe = {
  name: 'FileStorageService',
  asset: 'efs/files',
  load: loadFilesConfig,
  build: (s, props) => new FileStorageService(s, 'Files', props).handler,
};
const SOURCE_URL = 'https://api.example.com/v1/catalog';
const JOB: Probe = {
  name: 'PeriodicJob',
  asset: 'periodic-job/poller',
  load: loadPollerConfig,
  build: (s, props) => new PeriodicJob(s, 'Sync', { ...props, sourceApi: { url: SOURCE_URL, ...(props.sourceApi as object | undefined) } }).handler,
};
const PRE_TRAFFIC: Probe = {
  name: 'CanaryDeployment',
  asset: 'canary/pre-traffic',
  load: loadPreTrafficConfig,
  build: (s, props) => new CanaryDeployment(s, 'Deployment', { function: targetFunction(s), preTrafficHook: {}, ...props }).preTrafficHook!,
};
const POST_TRAFFIC: Probe = {
  name: 'CanaryDeployment',
  asset: 'canary/post-traffic',
  load: loadPostTrafficConfig,
  build: (s, props) => new CanaryDeployment(s, 'Deployment', { function: targetFunction(s), postTrafficHook: {}, ...props }).postTrafficHook!,
};
const REDRIVE: Probe = {
  name: 'FanOut',
  asset: 'fan-out/redrive',
  load: loadRedriveConfig,
  build: (s, props) => new FanOut(s, 'Orders', { subscribers: [{ name: 'audit' }], ...props }).redrive,
  deployTimeValue: true,
};

const CHANGE_PUBLISHER: Probe = {
  name: 'EventDrivenMicroservice',
  asset: 'event-driven/publisher',
  load: loadChangePublisherConfig,
  build: (s, props) => new EventDrivenMicroservice(s, 'Orders', props).publisher,
};

interface ProbeEnvironment {
  /** The function's whole environment with the smallest props (deploy-time values as stand-ins). */
  readonly base: Env;
  /** Only its deploy-time variables, e.g. TABLE_NAME. */
  readonly deployTime: Env;
}

const probeEnvironments = new Map<Probe, ProbeEnvironment>();

function probeEnvironment(probe: Probe): ProbeEnvironment {
  let env = probeEnvironments.get(probe);
  if (!env) {
    const stack = newStack();
    const literal = literalEnvironment(probe.build(stack, {}));
    const base = deployedFunction(stack, probe.asset).environment;
    env = { base, deployTime: Object.fromEntries(Object.entries(base).filter(([name]) => !(name in literal))) };
    probeEnvironments.set(probe, env);
  }
  return env;
}

interface Verdict {
  readonly accepted: boolean;
  readonly detail: string;
}

interface Row<V> {
  readonly label: string;
  readonly value: V;
  readonly handlerWider?: boolean;
}

interface Table<V> {
  readonly probe: Probe;
  readonly what: string;
  readonly props: (value: V) => Props;
  /** What the construct would write for the value: used for the rows it rejects. */
  readonly encode: (value: V) => Env;
  /** The handler read the value as given. */
  readonly same: (config: any, value: V) => boolean;
  readonly rows: ReadonlyArray<Row<V>>;
}

function constructVerdict<V>(table: Table<V>, value: V): Verdict & { env?: Env } {
  const stack = newStack();
  let fn: lambda.IFunction;
  try {
    fn = table.probe.build(stack, table.props(value));
  } catch (err) {
    return { accepted: false, detail: (err as Error).message };
  }
  const env = table.probe.deployTimeValue
    ? deployedFunction(stack, table.probe.asset).environment
    : { ...probeEnvironment(table.probe).deployTime, ...literalEnvironment(fn) };
  return { accepted: true, detail: 'accepts', env };
}

function handlerVerdict<V>(table: Table<V>, value: V, env: Env): Verdict {
  const { config, error } = loadRecordingReads(table.probe.load, env);
  if (error) return { accepted: false, detail: error.message };
  let same: boolean;
  try {
    same = table.same(config, value);
  } catch (err) {
    return { accepted: false, detail: (err as Error).message };
  }
  return same ? { accepted: true, detail: 'accepts' } : { accepted: false, detail: `starts, but does not read the value as given (${JSON.stringify(env)})` };
}

function checkRow<V>(table: Table<V>, row: Row<V>): void {
  const construct = constructVerdict(table, row.value);
  const env = construct.env ?? { ...probeEnvironment(table.probe).base, ...table.encode(row.value) };
  const handler = handlerVerdict(table, row.value, env);
  const expected = row.handlerWider ? { construct: false, handler: true } : { construct: construct.accepted, handler: construct.accepted };
  if (construct.accepted !== expected.construct || handler.accepted !== expected.handler) {
    throw new Error(`${table.probe.name} ${construct.accepted ? 'accepts' : 'rejects'} it (${construct.detail}); `
      + `${table.probe.asset} ${handler.accepted ? 'accepts' : 'rejects'} it (${handler.detail})`);
  }
}

function runTable<V>(table: Table<V>): void {
  describe(`${table.what}: ${table.probe.name} and ${table.probe.asset}`, () => {
    for (const row of table.rows) {
      const title = `${row.label}${row.handlerWider ? ' (only the handler accepts it)' : ''}`;
      test(title, () => checkRow(table, row));
    }
  });
}

const str = (value: string): string => JSON.stringify(value);
const row = <V>(value: V, extra: Partial<Row<V>> = {}): Row<V> => ({ label: typeof value === 'string' ? str(value) : String(value), value, ...extra });

// ---- the resource API contract (REST and RDS Proxy)

const RESOURCE_NAMES: Row<string>[] = [
  row('items'), row('a'), row('a'.repeat(63)), row('a'.repeat(64)), row('my-items2'), row('items-'), row('Items'),
  row('1items'), row('-items'), row('my_items'), row('my items'), row('ítems'), row('items/x'), row('items\n'), row(''),
];
const OWNER_CLAIMS: Row<string>[] = [
  row('sub'), row('cognito:username'), row('custom:tenant'), row('x.y-z_1'), row('a'.repeat(128)), row('a'.repeat(129)),
  row(''), row('a b'), row('a/b'), row('ü'), row('sub\n'), row('claims[sub]'),
];
const BODY_SIZES: Row<Size>[] = [
  { label: '1 byte', value: Size.bytes(1) },
  { label: '64 KiB', value: Size.kibibytes(64) },
  { label: '256 KiB', value: Size.kibibytes(256) },
  { label: '256 KiB + 1 byte', value: Size.bytes(262_145) },
  { label: '0 bytes', value: Size.bytes(0) },
  { label: '1 MiB', value: Size.mebibytes(1) },
];
interface PageSizes { readonly defaultPageSize?: number; readonly maxPageSize?: number }
const PAGE_SIZES: Row<PageSizes>[] = [
  {}, { defaultPageSize: 1 }, { defaultPageSize: 25 }, { defaultPageSize: 100 }, { defaultPageSize: 101 }, { defaultPageSize: 500 },
  { defaultPageSize: 1000 }, { defaultPageSize: 0 }, { defaultPageSize: -1 }, { defaultPageSize: 2.5 }, { defaultPageSize: Number.NaN },
  { defaultPageSize: 1e21 }, { maxPageSize: 1 }, { maxPageSize: 10 }, { maxPageSize: 1000 }, { maxPageSize: 1001 }, { maxPageSize: 0 },
  { defaultPageSize: 40, maxPageSize: 50 }, { defaultPageSize: 50, maxPageSize: 50 }, { defaultPageSize: 51, maxPageSize: 50 },
  { defaultPageSize: 1000, maxPageSize: 1000 },
].map((value) => ({ label: JSON.stringify(value).replace('null', 'NaN'), value }));

const pageSizesEnv = (v: PageSizes): Env => ({
  ...(v.defaultPageSize !== undefined ? { DEFAULT_PAGE_SIZE: String(v.defaultPageSize) } : {}),
  ...(v.maxPageSize !== undefined ? { MAX_PAGE_SIZE: String(v.maxPageSize) } : {}),
});
const samePageSizes = (c: { defaultPageSize: number; maxPageSize: number }, v: PageSizes): boolean =>
  (v.defaultPageSize === undefined || c.defaultPageSize === v.defaultPageSize) && (v.maxPageSize === undefined || c.maxPageSize === v.maxPageSize);

const ITEM_SCHEMAS: Row<unknown>[] = [
  { label: 'a draft-07 object schema', value: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
  { label: 'a draft 2020-12 schema', value: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { tags: { type: 'array', prefixItems: [{ type: 'string' }] } } } },
  { label: 'the empty schema', value: {} },
  { label: 'an array', value: [{ type: 'object' }] },
  { label: 'a schema larger than Lambda\'s 4 KB environment', value: { type: 'object', description: 'x'.repeat(4000) }, handlerWider: true },
  { label: 'an unknown type', value: { type: 'objekt' } },
  { label: 'a misspelt keyword', value: { type: 'object', requried: ['name'] } },
  { label: 'draft-04', value: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' } },
];

for (const probe of [REST, RDS]) {
  runTable<string>({
    probe,
    what: 'resourceName / RESOURCE_NAME',
    rows: RESOURCE_NAMES,
    props: (v) => ({ resourceName: v }),
    encode: (v) => ({ RESOURCE_NAME: v }),
    same: (c: ResourceApiSettings, v) => c.resourceName === v,
  });
  runTable<string>({
    probe,
    what: 'itemOwnerClaim / ITEM_OWNER_CLAIM',
    rows: OWNER_CLAIMS,
    props: (v) => ({ itemOwnerClaim: v }),
    encode: (v) => ({ ITEM_OWNER_CLAIM: v }),
    same: (c: ResourceApiSettings, v) => c.ownerClaim === v,
  });
  runTable<Size>({
    probe,
    what: 'maxBodySize / MAX_BODY_BYTES',
    rows: BODY_SIZES,
    props: (v) => ({ maxBodySize: v }),
    encode: (v) => ({ MAX_BODY_BYTES: String(v.toBytes()) }),
    same: (c: ResourceApiSettings, v) => c.maxBodyBytes === v.toBytes(),
  });
  runTable<PageSizes>({
    probe,
    what: 'defaultPageSize, maxPageSize / DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE',
    rows: PAGE_SIZES,
    props: (v) => ({ ...v }),
    encode: pageSizesEnv,
    same: samePageSizes,
  });
}
runTable<unknown>({
  probe: REST,
  what: 'itemSchema / ITEM_SCHEMA',
  rows: ITEM_SCHEMAS,
  props: (v) => ({ itemSchema: v }),
  encode: (v) => ({ ITEM_SCHEMA: JSON.stringify(v) }),
  same: (c: ResourceApiSettings) => c.validateItem !== undefined,
});
runTable<string[]>({
  probe: REST,
  what: 'apiProps.cors.allowOrigins / CORS_ALLOW_ORIGINS',
  rows: [
    { label: 'one origin', value: ['https://app.example.com'] },
    { label: 'any origin', value: ['*'] },
    { label: 'a local development server', value: ['http://localhost:5173'] },
    { label: 'two origins', value: ['https://a.example.com', 'https://b.example.com'] },
    { label: 'an upper-case host', value: ['https://App.Example.com'] },
    { label: 'an IPv6 host with a port', value: ['http://[::1]:8080'] },
    { label: 'any origin mixed with one', value: ['*', 'https://app.example.com'] },
    { label: 'an origin with a trailing slash', value: ['https://app.example.com/'] },
    { label: 'a wildcard subdomain', value: ['https://*.example.com'] },
    { label: 'a host without a scheme', value: ['app.example.com'] },
  ],
  props: (v) => ({ apiProps: { authorization: ApiAuthorization.iam(), cors: { allowOrigins: v } } }),
  encode: (v) => ({ CORS_ALLOW_ORIGINS: v.join(',') }),
  same: (c: ResourceApiSettings, v) => JSON.stringify(c.cors?.allowOrigins) === JSON.stringify(v.length === 1 && v[0] === '*' ? '*' : v.map((o) => o.toLowerCase())),
});

// ---- the file API (EFS)

runTable<Size>({
  probe: EFS,
  what: 'maxFileSize / MAX_FILE_BYTES',
  rows: [
    { label: '1 byte', value: Size.bytes(1) },
    { label: '1 MiB', value: Size.mebibytes(1) },
    { label: '4 MiB', value: Size.mebibytes(4) },
    { label: '4 MiB + 1 byte', value: Size.bytes(4 * 1024 * 1024 + 1) },
    { label: '0 bytes', value: Size.bytes(0) },
    { label: '5 MiB', value: Size.mebibytes(5) },
  ],
  props: (v) => ({ maxFileSize: v }),
  encode: (v) => ({ MAX_FILE_BYTES: String(v.toBytes()) }),
  same: (c, v) => c.maxFileBytes === v.toBytes(),
});
runTable<PageSizes>({
  probe: EFS,
  what: 'defaultPageSize, maxPageSize / DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE',
  rows: PAGE_SIZES,
  props: (v) => ({ ...v }),
  encode: pageSizesEnv,
  same: samePageSizes,
});
runTable<string>({
  probe: EFS,
  what: 'mountPath / MOUNT_PATH',
  rows: [
    row('/mnt/data'), row('/mnt/a'), row('/mnt/a.b-c_d'), row('/mnt/'), row('mnt/data'), row('/mnt/data/'),
    row('/mnt', { handlerWider: true }), row('/mnt/da ta', { handlerWider: true }), row('/mnt/a/b', { handlerWider: true }), row('/data', { handlerWider: true }),
    row('/mnt/.'), row('/mnt/..'),
  ],
  props: (v) => ({ mountPath: v }),
  encode: (v) => ({ MOUNT_PATH: v }),
  same: (c, v) => c.mountPath === v,
});

// ---- the periodic job

const sourceApiTable = <V>(
  what: string, field: keyof PollerConfig, variable: string, rows: Row<V>[], read: (v: V) => unknown = (v) => v,
): void => runTable<V>({
  probe: JOB,
  what: `sourceApi.${what} / ${variable}`,
  rows,
  props: (v) => ({ sourceApi: { [what]: v } }),
  encode: (v) => ({ [variable]: String(v instanceof Duration ? v.toMilliseconds() : v) }),
  same: (c: PollerConfig, v) => JSON.stringify(c[field]) === JSON.stringify(read(v)),
});

runTable<string>({
  probe: JOB,
  what: 'jobName / JOB_NAME',
  rows: [
    row('sync'), row('a'), row('a'.repeat(64)), row('a'.repeat(65)), row('Catalog_Sync-2'), row('a b'), row('a.b'), row('a:b'), row('ü'), row(''),
  ],
  props: (v) => ({ jobName: v }),
  encode: (v) => ({ JOB_NAME: v }),
  same: (c: PollerConfig, v) => c.jobName === v,
});
runTable<string>({
  probe: JOB,
  what: 'sourceApi.url / SOURCE_URL',
  rows: [
    row('https://api.example.com/v1/items?page=1'), row('http://localhost:8080/items'), row('https://api.example.com'), row('https://[::1]:8080/'),
    row('https://api.example.com/a b'), row('ftp://api.example.com/items'), row('https://'), row('api.example.com/items'),
    row('HTTPS://API.EXAMPLE.COM/items'),
    row('https://user:secret@api.example.com/items'),
    row('https://api.example.com/items#top'),
    row('https://exa mple.com/items'),
  ],
  props: (v) => ({ sourceApi: { url: v } }),
  encode: (v) => ({ SOURCE_URL: v }),
  same: () => true,
});
runTable<PagingStyle>({
  probe: JOB,
  what: 'sourceApi.pagingStyle / PAGING_STYLE',
  rows: Object.values(PagingStyle).map((v) => row(v)),
  props: (v) => ({ sourceApi: { pagingStyle: v } }),
  encode: (v) => ({ PAGING_STYLE: v }),
  same: (c: PollerConfig, v) => c.pagingStyle === v,
});
runTable<{ pagingStyle: PagingStyle; itemsPath: string }>({
  probe: JOB,
  what: 'sourceApi.pagingStyle with itemsPath / PAGING_STYLE, ITEMS_PATH',
  rows: [
    { label: 'cursor paging in a field', value: { pagingStyle: PagingStyle.CURSOR, itemsPath: 'data' } },
    { label: 'link paging of a bare array', value: { pagingStyle: PagingStyle.LINK, itemsPath: '' } },
    { label: 'cursor paging of a bare array', value: { pagingStyle: PagingStyle.CURSOR, itemsPath: '' } },
  ],
  props: (v) => ({ sourceApi: v }),
  encode: (v) => ({ PAGING_STYLE: v.pagingStyle, ITEMS_PATH: v.itemsPath }),
  same: () => true,
});
for (const [what, variable] of [['pageParam', 'PAGE_PARAM'], ['cursorParam', 'CURSOR_PARAM']] as const) {
  sourceApiTable<string>(what, what, variable, [
    row('page'), row('p'), row('a'.repeat(64)),
    row('a b'), row('a&b'), row('a=b'),
    row('a'.repeat(65)), row(''),
  ]);
}
for (const [what, variable] of [['cursorField', 'CURSOR_FIELD'], ['idField', 'ID_FIELD']] as const) {
  sourceApiTable<string>(what, what, variable, [
    row('next'), row('meta.next'), row('a.b.c.d.e.f.g.h.i.j'),
    row('a..b'), row('.a'), row('a b'),
    row('a.b.c.d.e.f.g.h.i.j.k'), row(''),
  ], (v) => v.split('.'));
}
sourceApiTable<string>('itemsPath', 'itemsPath', 'ITEMS_PATH', [
  row('items'), row('data.items'), row(''), row('.'), row('a..b'), row('a b'),
], (v) => (v === '' || v === '.' ? [] : v.split('.')));
sourceApiTable<string>('authHeader', 'authHeader', 'AUTH_HEADER', [
  row('Authorization'), row('X-Api-Key'),
  row('X Api'), row('X:Api'),
  row(''),
]);
sourceApiTable<number>('maxPages', 'maxPages', 'MAX_PAGES', [
  row(1), row(100), row(10_000), row(10_001, { handlerWider: true }), row(100_001), row(0), row(2.5),
]);
sourceApiTable<number>('maxAttempts', 'maxAttempts', 'MAX_ATTEMPTS', [row(1), row(4), row(10), row(11), row(0), row(1.5)]);
runTable<Duration>({
  probe: JOB,
  what: 'sourceApi.requestTimeout / REQUEST_TIMEOUT_MS',
  rows: [
    { label: '100 ms', value: Duration.millis(100) },
    { label: '60 s', value: Duration.seconds(60) },
    { label: '99 ms', value: Duration.millis(99) },
    { label: '60 s + 1 ms', value: Duration.millis(60_001), handlerWider: true },
    { label: '121 s', value: Duration.seconds(121) },
  ],
  props: (v) => ({ sourceApi: { requestTimeout: v } }),
  encode: (v) => ({ REQUEST_TIMEOUT_MS: String(v.toMilliseconds()) }),
  same: (c: PollerConfig, v) => c.requestTimeoutMs === v.toMilliseconds(),
});

// ---- the canary hooks

runTable<string>({
  probe: POST_TRAFFIC,
  what: 'aliasName / ALIAS_NAME',
  rows: [
    row('live'), row('a'), row('1a'), row('a1'), row('a-b_c'), row('a'.repeat(128)), row('a'.repeat(129)), row('123'), row('0'),
    row('a b'), row('a.b'), row('$LATEST'), row(''),
  ],
  props: (v) => ({ aliasName: v }),
  encode: (v) => ({ ALIAS_NAME: v }),
  same: (c, v) => c.aliasName === v,
});
runTable<Duration>({
  probe: POST_TRAFFIC,
  what: 'postTrafficHook.window / WINDOW_MINUTES',
  rows: [
    { label: '1 minute', value: Duration.minutes(1) },
    { label: '3 hours', value: Duration.hours(3) },
    { label: '181 minutes', value: Duration.minutes(181) },
    { label: '0 minutes', value: Duration.minutes(0) },
    { label: '90 seconds', value: Duration.seconds(90) },
  ],
  props: (v) => ({ postTrafficHook: { window: v } }),
  encode: (v) => ({ WINDOW_MINUTES: String(v.toSeconds() / 60) }),
  same: (c, v) => c.windowMinutes === v.toSeconds() / 60,
});
runTable<number>({
  probe: POST_TRAFFIC,
  what: 'postTrafficHook.maxErrors / MAX_ERRORS',
  rows: [row(0), row(5), row(1_000_000), row(1_000_001, { handlerWider: true }), row(-1), row(1.5)],
  props: (v) => ({ postTrafficHook: { maxErrors: v } }),
  encode: (v) => ({ MAX_ERRORS: String(v) }),
  same: (c, v) => c.maxErrors === v,
});
runTable<number>({
  probe: POST_TRAFFIC,
  what: 'postTrafficHook.maxErrorRatePercent / MAX_ERROR_RATE_PERCENT',
  rows: [
    row(0), row(-0), row(0.5), row(100 / 3), row(100), row(1e-7), row(Number.MIN_VALUE), row(100.5), row(-1), row(Number.NaN),
    row(Number.POSITIVE_INFINITY),
  ],
  props: (v) => ({ postTrafficHook: { maxErrorRatePercent: v } }),
  encode: (v) => ({ MAX_ERROR_RATE_PERCENT: String(v) }),
  // -0 and 0 are the same rate.
  same: (c, v) => c.maxErrorRatePercent === v,
});
runTable<number>({
  probe: PRE_TRAFFIC,
  what: 'preTrafficHook.expectedStatusCode / SMOKE_TEST_EXPECT.statusCode',
  rows: [row(100), row(200), row(599), row(99), row(600), row(200.5)],
  props: (v) => ({ preTrafficHook: { expectedStatusCode: v } }),
  encode: (v) => ({ SMOKE_TEST_EXPECT: JSON.stringify({ statusCode: v }) }),
  same: (c, v) => c.expect.statusCode === v,
});
runTable<string>({
  probe: PRE_TRAFFIC,
  what: 'preTrafficHook.expectedBodyContains / SMOKE_TEST_EXPECT.bodyContains',
  rows: [row('ok'), row(' '), row('"items":['), row('')],
  props: (v) => ({ preTrafficHook: { expectedBodyContains: v } }),
  encode: (v) => ({ SMOKE_TEST_EXPECT: JSON.stringify({ bodyContains: v }) }),
  same: (c, v) => c.expect.bodyContains === v,
});

// ---- the fan-out redrive

runTable<string>({
  probe: REDRIVE,
  what: 'subscribers[].name / REDRIVE_TARGETS and the redrive request',
  rows: [
    row('a'), row('audit'), row('high-value'), row('a'.repeat(40)), row('a b'), row('a.b'), row(''),
    row('a'.repeat(41), { handlerWider: true }), row('Audit', { handlerWider: true }), row('a_b', { handlerWider: true }),
    row('1a', { handlerWider: true }),
  ],
  props: (v) => ({ subscribers: [{ name: v }] }),
  encode: (v) => ({
    REDRIVE_TARGETS: JSON.stringify({ [v]: { deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq', sourceQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:queue' } }),
  }),
  // What the operator sends, as the DLQ alarm tells them: `{"subscriber": "<name>"}`.
  same: (c: RedriveConfig, v) => targetFor(c, parseRedriveRequest({ subscriber: v }).subscriber) !== undefined,
});

// ---- the event-driven publisher

runTable<string>({
  probe: CHANGE_PUBLISHER,
  what: 'entityName / ENTITY_NAME',
  rows: [row('order'), row('a'), row('a'.repeat(40)), row('a'.repeat(41)), row('line-item2'), row('Order'), row('1order'), row('-order'), row('line_item'), row('')],
  props: (v) => ({ entityName: v }),
  encode: (v) => ({ ENTITY_NAME: v }),
  same: (c: PublisherConfig, v) => c.entity === v,
});
runTable<string>({
  probe: CHANGE_PUBLISHER,
  what: 'source / EVENT_SOURCE',
  rows: [
    row('example.orders'), row('com.example/orders_v2'), row('x'), row('x'.repeat(256)), row('x'.repeat(257)), row('aws.orders'), row('awsome.orders'),
    row('my orders'), row('orders\n'), row('ördersı'), row(''),
  ],
  props: (v) => ({ source: v }),
  encode: (v) => ({ EVENT_SOURCE: v }),
  same: (c: PublisherConfig, v) => c.source === v,
});
