/**
 * Configuration of the periodic poller, from environment variables, validated at cold start
 * (one `ConfigError` naming every problem).
 *
 * | variable | default | rule |
 * |---|---|---|
 * | TABLE_NAME | (required) | DynamoDB table with `pk` (S) partition key and `sk` (S) sort key |
 * | JOB_NAME | (required) | `^[A-Za-z0-9_-]{1,64}$`; partition of the job's records and runs, the `JobName` metric dimension |
 * | SOURCE_URL | (required) | absolute `https:` URL of the first page, without user info or fragment; `http:` only without SECRET_ARN, to a loopback host, or with ALLOW_INSECURE_HTTP |
 * | ALLOW_INSECURE_HTTP | `false` | `true`: send the credential over a plain `http:` SOURCE_URL |
 * | PAGING_STYLE | `none` | `none`, `page`, `cursor` or `link` |
 * | PAGE_PARAM | `page` | `page` style: query parameter of the page number |
 * | FIRST_PAGE | 1 | `page` style: number of the first page, 0..1 |
 * | CURSOR_PARAM | `cursor` | `cursor` style: query parameter the cursor is sent in |
 * | CURSOR_FIELD | `next` | `cursor` style: dot path of the next cursor in the response body |
 * | ITEMS_PATH | `items` | dot path of the items array; set but empty (or `.`): the body is the array |
 * | ID_FIELD | `id` | dot path of the id in each item (a string of 1..512 characters or a finite number) |
 * | ON_INVALID_ITEM | `skip` | `skip`: count it as invalid and go on; `fail`: fail the run |
 * | MAX_PAGES | 100 | 1..100000; a source with more pages fails the run |
 * | REQUEST_TIMEOUT_MS | 5000 | 100..120000, per attempt (headers and body) |
 * | MAX_ATTEMPTS | 4 | 1..10 attempts per page |
 * | RETRY_BASE_DELAY_MS | 500 | 1..60000, full-jitter exponential backoff base |
 * | MAX_RETRY_DELAY_MS | 20000 | 1..300000, cap on one wait (also on `Retry-After`) |
 * | MAX_RESPONSE_BYTES | 10485760 | 1024..104857600, per page |
 * | TIME_BUDGET_MARGIN_MS | 5000 | 0..600000, kept back from the remaining invocation time |
 * | WRITE_CONCURRENCY | 8 | 1..50 parallel record writes |
 * | RUN_RETENTION_DAYS | 90 | 0..3650; run records get `expiresAt` (epoch seconds) for a TTL; 0 = none |
 * | SECRET_ARN | none | Secrets Manager secret ARN holding the API credential |
 * | AUTH_HEADER | `Authorization` | header the credential is sent in |
 * | AUTH_SCHEME | `Bearer` | prefix of the header value (`Bearer <token>`); `none`: the raw token |
 * | POWERTOOLS_METRICS_NAMESPACE | `ServerlessReferenceArchitectures` | namespace of the job metrics |
 * | POWERTOOLS_SERVICE_NAME | `periodic-job` | service name in the logs |
 */
import { EnvReader, quoteValue } from '../../shared/config';

export const PagingStyle = {
  None: 'none',
  Page: 'page',
  Cursor: 'cursor',
  Link: 'link',
} as const;
export type PagingStyle = (typeof PagingStyle)[keyof typeof PagingStyle];

export const InvalidItemPolicy = {
  Skip: 'skip',
  Fail: 'fail',
} as const;
export type InvalidItemPolicy = (typeof InvalidItemPolicy)[keyof typeof InvalidItemPolicy];

export const JOB_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A header field name (RFC 9110 token). */
export const HEADER_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
/** An auth scheme (token) or `none`. */
export const AUTH_SCHEME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/;
/** A query parameter name: printable ASCII without `&`, `=`, `#`, space. */
export const QUERY_PARAM_PATTERN = /^[\x21-\x22\x24-\x25\x27-\x3c\x3e-\x7e]{1,64}$/;
/** Dot paths: 1..10 non-empty segments of printable ASCII. */
export const DOT_PATH_PATTERN = /^[\x21-\x2d\x2f-\x7e]{1,64}(?:\.[\x21-\x2d\x2f-\x7e]{1,64}){0,9}$/;
export const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;

export const DEFAULT_METRICS_NAMESPACE = 'ServerlessReferenceArchitectures';
export const DEFAULT_SERVICE_NAME = 'periodic-job';

export interface PollerConfig {
  readonly tableName: string;
  readonly jobName: string;
  readonly sourceUrl: string;
  readonly pagingStyle: PagingStyle;
  readonly pageParam: string;
  readonly firstPage: number;
  readonly cursorParam: string;
  readonly cursorField: readonly string[];
  /** Empty: the body itself is the items array. */
  readonly itemsPath: readonly string[];
  readonly idField: readonly string[];
  readonly onInvalidItem: InvalidItemPolicy;
  readonly maxPages: number;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly maxResponseBytes: number;
  readonly timeBudgetMarginMs: number;
  readonly writeConcurrency: number;
  readonly runRetentionDays: number;
  readonly secretArn?: string;
  readonly allowInsecureHttp: boolean;
  readonly authHeader: string;
  /** `undefined`: the raw token is the header value. */
  readonly authScheme?: string;
  readonly metricsNamespace: string;
}

function parseSourceUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`must be an absolute http(s) URL, got ${quoteValue(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`must be an http: or https: URL, got ${quoteValue(url.protocol)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error('must not contain user info (put the credential in the secret SECRET_ARN)');
  }
  if (url.hash !== '') throw new Error(`must not contain a fragment, got ${quoteValue(url.hash)}`);
  return url.href;
}

/** Hosts whose traffic never leaves the machine: a credential sent there over http: is not exposed. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

function splitPath(value: string): string[] {
  return value.split('.');
}

/** Reads and validates the configuration; throws one `ConfigError` listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PollerConfig {
  const reader = new EnvReader(env);
  const tableName = reader.requiredString('TABLE_NAME');
  const jobName = reader.requiredString('JOB_NAME', { pattern: JOB_NAME_PATTERN });
  const sourceUrl = reader.raw('SOURCE_URL') === undefined
    ? (reader.problem('SOURCE_URL', 'is required'), '')
    : reader.parsed('SOURCE_URL', parseSourceUrl) ?? '';
  const pagingStyle = reader.oneOf('PAGING_STYLE', Object.values(PagingStyle), PagingStyle.None);
  const pageParam = reader.stringWithDefault('PAGE_PARAM', 'page', { pattern: QUERY_PARAM_PATTERN });
  const firstPage = reader.integerInRange('FIRST_PAGE', 1, 0, 1);
  const cursorParam = reader.stringWithDefault('CURSOR_PARAM', 'cursor', { pattern: QUERY_PARAM_PATTERN });
  const cursorField = splitPath(reader.stringWithDefault('CURSOR_FIELD', 'next', { pattern: DOT_PATH_PATTERN }));
  // An ITEMS_PATH that is set but empty means "the body is the array" (EnvReader treats empty as unset).
  const rawItemsPath = env.ITEMS_PATH;
  const itemsPath = rawItemsPath === '' || rawItemsPath === '.'
    ? []
    : splitPath(reader.stringWithDefault('ITEMS_PATH', 'items', { pattern: DOT_PATH_PATTERN }));
  if (pagingStyle === PagingStyle.Cursor && itemsPath.length === 0) {
    reader.problem('ITEMS_PATH', 'must name a field when PAGING_STYLE is cursor (the cursor is read from the body object)');
  }
  const idField = splitPath(reader.stringWithDefault('ID_FIELD', 'id', { pattern: DOT_PATH_PATTERN }));
  const onInvalidItem = reader.oneOf('ON_INVALID_ITEM', Object.values(InvalidItemPolicy), InvalidItemPolicy.Skip);
  const maxPages = reader.integerInRange('MAX_PAGES', 100, 1, 100_000);
  const requestTimeoutMs = reader.integerInRange('REQUEST_TIMEOUT_MS', 5_000, 100, 120_000);
  const maxAttempts = reader.integerInRange('MAX_ATTEMPTS', 4, 1, 10);
  const retryBaseDelayMs = reader.integerInRange('RETRY_BASE_DELAY_MS', 500, 1, 60_000);
  const maxRetryDelayMs = reader.integerInRange('MAX_RETRY_DELAY_MS', 20_000, 1, 300_000);
  const maxResponseBytes = reader.integerInRange('MAX_RESPONSE_BYTES', 10 * 1024 * 1024, 1024, 100 * 1024 * 1024);
  const timeBudgetMarginMs = reader.integerInRange('TIME_BUDGET_MARGIN_MS', 5_000, 0, 600_000);
  const writeConcurrency = reader.integerInRange('WRITE_CONCURRENCY', 8, 1, 50);
  const runRetentionDays = reader.integerInRange('RUN_RETENTION_DAYS', 90, 0, 3650);
  const secretArn = reader.optionalString('SECRET_ARN', { pattern: SECRET_ARN_PATTERN });
  const allowInsecureHttp = reader.booleanFlag('ALLOW_INSECURE_HTTP', false);
  if (secretArn !== undefined && !allowInsecureHttp && sourceUrl !== '') {
    const url = new URL(sourceUrl);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      reader.problem('SOURCE_URL', 'must be an https: URL: the credential (SECRET_ARN) would cross the network in clear text; set ALLOW_INSECURE_HTTP=true to send it anyway');
    }
  }
  const authHeader = reader.stringWithDefault('AUTH_HEADER', 'Authorization', { pattern: HEADER_NAME_PATTERN });
  const authScheme = reader.stringWithDefault('AUTH_SCHEME', 'Bearer', { pattern: AUTH_SCHEME_PATTERN });
  const metricsNamespace = reader.stringWithDefault('POWERTOOLS_METRICS_NAMESPACE', DEFAULT_METRICS_NAMESPACE, {
    pattern: /^[A-Za-z0-9.\-_/#:]{1,255}$/,
  });
  reader.done();
  return {
    tableName,
    jobName,
    sourceUrl,
    pagingStyle,
    pageParam,
    firstPage,
    cursorParam,
    cursorField,
    itemsPath,
    idField,
    onInvalidItem,
    maxPages,
    requestTimeoutMs,
    maxAttempts,
    retryBaseDelayMs,
    maxRetryDelayMs,
    maxResponseBytes,
    timeBudgetMarginMs,
    writeConcurrency,
    runRetentionDays,
    ...(secretArn !== undefined ? { secretArn } : {}),
    allowInsecureHttp,
    authHeader,
    ...(authScheme.toLowerCase() === 'none' ? {} : { authScheme }),
    metricsNamespace,
  };
}
