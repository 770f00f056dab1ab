/**
 * Cold-starts the periodic job poller (`lambda/periodic-job/poller.ts`) with a given environment
 * in an isolated module registry (see `isolatedRequire`), together with the Secrets Manager client
 * module of that registry (to mock it with aws-sdk-client-mock).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { startDynalite, type LocalDynamo } from './dynalite';
import { startHttpServer, type Responder, type TestHttpServer } from './http-server';
import { isolatedRequire, type Env } from './load-handler';
import { scheduledContext, schedulerEvent } from './scheduler-events';
import type { RunSummary, SkippedRunSummary } from '../../lambda/periodic-job/lib/run';

/** Every variable the poller reads; unset before each load unless given. */
export const POLLER_ENV_VARS = [
  'TABLE_NAME',
  'JOB_NAME',
  'SOURCE_URL',
  'PAGING_STYLE',
  'PAGE_PARAM',
  'FIRST_PAGE',
  'CURSOR_PARAM',
  'CURSOR_FIELD',
  'ITEMS_PATH',
  'ID_FIELD',
  'ON_INVALID_ITEM',
  'MAX_PAGES',
  'REQUEST_TIMEOUT_MS',
  'MAX_ATTEMPTS',
  'RETRY_BASE_DELAY_MS',
  'MAX_RETRY_DELAY_MS',
  'MAX_RESPONSE_BYTES',
  'TIME_BUDGET_MARGIN_MS',
  'WRITE_CONCURRENCY',
  'RUN_RETENTION_DAYS',
  'SECRET_ARN',
  'ALLOW_INSECURE_HTTP',
  'AUTH_HEADER',
  'AUTH_SCHEME',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_METRICS_DISABLED',
  'POWERTOOLS_DEV',
] as const;

/** Fast retries for tests: the defaults would wait seconds. */
export const FAST_RETRY_ENV = { RETRY_BASE_DELAY_MS: '5', MAX_RETRY_DELAY_MS: '2000', REQUEST_TIMEOUT_MS: '1000', TIME_BUDGET_MARGIN_MS: '500' } as const;

export type PollerHandler = (event: unknown, context?: Context) => Promise<RunSummary | SkippedRunSummary>;

export interface InvokeOptions {
  readonly event?: unknown;
  readonly remainingMs?: number;
}

export interface LoadedPoller {
  readonly handler: PollerHandler;
  readonly secretsManager: typeof import('@aws-sdk/client-secrets-manager');
  /**
   * Runs the handler with `event` (default: a scheduler event) and a context with `remainingMs`
   * left (default 60 s), as a run that must not be skipped: a skipped run fails the call.
   */
  invoke(options?: InvokeOptions): Promise<RunSummary>;
  /** The same, returning a skipped run too. */
  invokeOutcome(options?: InvokeOptions): Promise<RunSummary | SkippedRunSummary>;
}

/** The summary of a run that ran; a skipped run is an error here. */
export function ranSummary(outcome: RunSummary | SkippedRunSummary): RunSummary {
  if (outcome.status === 'skipped') throw new Error(`the run was skipped: run ${outcome.leaseHolder} holds the lease until ${outcome.leaseUntil}`);
  return outcome;
}

/**
 * Cold-starts the poller with `env` (other poller variables unset). Metrics are disabled
 * (`POWERTOOLS_METRICS_DISABLED=true`) unless `env` says otherwise, to keep test output quiet.
 */
export function loadPoller(env: Env): LoadedPoller {
  const { module, others } = isolatedRequire<{ handler: LoadedPoller['handler'] }>(
    'lambda/periodic-job/poller',
    { POWERTOOLS_METRICS_DISABLED: 'true', ...env },
    POLLER_ENV_VARS,
    ['@aws-sdk/client-secrets-manager'],
  );
  const invokeOutcome = (options: InvokeOptions = {}) => module.handler('event' in options ? options.event : schedulerEvent(), scheduledContext(options.remainingMs));
  return {
    handler: module.handler,
    invokeOutcome,
    invoke: async (options) => ranSummary(await invokeOutcome(options)),
    secretsManager: others[0] as typeof import('@aws-sdk/client-secrets-manager'),
  };
}

export interface JobTable {
  /** Records of every job, sorted by pk then sk. */
  readonly records: Array<Record<string, unknown>>;
  /** Run records, oldest first. */
  readonly runs: Array<Record<string, unknown>>;
  /** The lease item of each job that has one. */
  readonly leases: Array<Record<string, unknown>>;
}

/** Reads the whole table as plain objects (numbers as JS numbers). */
export async function readJobTable(client: DynamoDBClient, tableName: string): Promise<JobTable> {
  const doc = DynamoDBDocumentClient.from(client, { unmarshallOptions: { wrapNumbers: (value: string) => Number(value) } });
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const key = (i: Record<string, unknown>): string => `${String(i.pk)}\u0000${String(i.sk)}`;
  items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return {
    records: items.filter((i) => String(i.pk).startsWith('record#')),
    runs: items.filter((i) => String(i.pk).startsWith('run#')),
    leases: items.filter((i) => String(i.pk).startsWith('lease#')),
  };
}

/** What every poller test file works against; read the fields inside tests (they are set by hooks). */
export interface PollerHarness {
  readonly dynamo: LocalDynamo;
  readonly server: TestHttpServer;
  /** A fresh table for each test. */
  readonly tableName: string;
}

/**
 * Registers the hooks of a poller test file: dynalite and a local HTTP server for the file,
 * a fresh table and an empty request log for each test.
 */
export function usePollerHarness(responder?: Responder): PollerHarness {
  let dynamo: LocalDynamo | undefined;
  let server: TestHttpServer | undefined;
  let tableName: string | undefined;
  beforeAll(async () => {
    dynamo = await startDynalite();
    server = await startHttpServer(responder);
  });
  beforeEach(async () => {
    tableName = await dynamo!.createTable();
    server!.requests.length = 0;
  });
  afterAll(async () => {
    await server?.close();
    await dynamo?.stop();
  });
  return {
    get dynamo() { return dynamo!; },
    get server() { return server!; },
    get tableName() { return tableName!; },
  };
}

/** The error a run that must fail failed with. */
export async function runFailure(run: Promise<unknown>): Promise<Error> {
  try {
    await run;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the run to fail');
}

/** What `act` wrote to stdout (EMF metric lines, logs), and its result. */
export async function capturingStdout<T>(act: () => Promise<T>): Promise<{ result: T; stdout: string }> {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    return { result: await act(), stdout: written.join('') };
  } finally {
    spy.mockRestore();
  }
}
