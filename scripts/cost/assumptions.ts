/**
 * Every assumption of the cost figures, in one place: what one request (or record, run, event)
 * does on each example stack's main path, and the account-level assumptions shared by all.
 * Quantities that a template holds (memory, architecture, tracing, tables, streams, PITR, WAF,
 * schedules, capacity) are read from the template, never written here.
 */

/** A Lambda function on the main path, found by a fragment of its logical id (its construct id). */
export interface FunctionStep {
  /** Part of the function's logical id, e.g. `ItemsHandler`; exactly one function must match. */
  readonly match: string;
  /** Invocations per unit (0.01 = one invocation per batch of 100). */
  readonly invocations: number;
  /** Billed duration of one invocation, in milliseconds. */
  readonly durationMs: number;
  /** Log bytes one invocation writes (platform START/END/REPORT lines plus the handler's JSON lines). */
  readonly logBytes: number;
}

export interface MainPath {
  /** What is counted: "request", "record", "run", ... (singular). */
  readonly unit: string;
  /** One sentence: what one unit does. */
  readonly description: string;
  /** Bytes of the request, record or event. */
  readonly payloadBytes: number;
  readonly functions: readonly FunctionStep[];
  /** API Gateway REST requests per unit (WAF inspects each one where a web ACL is associated). */
  readonly restApiRequests?: number;
  /** API Gateway access log bytes per REST request (counted where the stage has access logging). */
  readonly accessLogBytes?: number;
  /** DynamoDB item operations per unit, on items of `itemBytes`. */
  readonly dynamodb?: {
    readonly writes: number;
    /** Strongly consistent reads (1 read unit per 4 KB). */
    readonly reads: number;
    readonly itemBytes: number;
    /** Items a unit adds to the table (stored, and backed up by PITR where the template enables it). */
    readonly newItems: number;
  };
  /** Kinesis records put per unit (each read by every event source mapping of the stream). */
  readonly kinesisRecords?: number;
  readonly snsPublishes?: number;
  /** SQS requests per unit (send, receive, delete; a Lambda poller's batch counts once). */
  readonly sqsRequests?: number;
  readonly schedulerInvocations?: number;
  /** Custom events put on an EventBridge bus (archived where the template has an archive). */
  readonly eventBridgeEvents?: number;
  /** Other CloudWatch Logs bytes per unit (audit log target, flow logs), with what they are. */
  readonly otherLogBytes?: { readonly bytes: number; readonly what: string };
  readonly cloudFront?: { readonly requests: number; readonly bytesOut: number };
  /** Cognito: main-path units per monthly active user. */
  readonly unitsPerMonthlyActiveUser?: number;
  /**
   * Step Functions: executions per unit, state transitions per execution, and the log bytes a
   * transition writes where the template's log level is ALL.
   */
  readonly stepFunctions?: {
    readonly executions: number;
    readonly transitions: number;
    readonly logBytesPerTransition: number;
    readonly expressDurationMs?: number;
  };
  /** Aurora I/O requests per unit (the cluster stays at its minimum capacity). */
  readonly auroraIos?: number;
  readonly efs?: { readonly readBytes: number; readonly writeBytes: number; readonly storedBytes: number };
  readonly secretsManagerCalls?: number;
  /** Where the figures run on a schedule (the template's `rate(...)`): idle includes the scheduled units. */
  readonly scheduled?: boolean;
}

/** Assumptions that are not per pattern. */
export const ACCOUNT_ASSUMPTIONS = {
  /**
   * Fraction of requests X-Ray records as traces: the default sampling rule keeps the first
   * request each second and 5 % of the rest, so at steady traffic about 5 %.
   */
  xraySampledFraction: 0.05,
  /**
   * Lambda reads an SQS queue with long polls (20 s) from about five pollers, also when the queue
   * is empty: 5 x 3 requests a minute per event source mapping.
   */
  sqsIdlePollers: 5,
  sqsLongPollSeconds: 20,
  /**
   * Services cache the data keys of a customer-managed key for about 5 minutes: while traffic
   * flows, each resource encrypting with the key asks KMS about once per period. The per-million
   * figures assume the units are spread over a month.
   */
  kmsDataKeyReuseSeconds: 300,
  /** Free tiers are account-level and shared by all stacks: none is subtracted. */
  freeTiersApplied: false,
  /** Dashboards: the account already has its 3 free ones, so each of ours is billed. */
  dashboardsBeyondFreeThree: true,
  /** Units a month for the per-million figures. */
  unitsPerFigure: 1_000_000,
} as const;

const API_FUNCTION_LOG = 1_000;
const REST_CRUD = {
  unit: 'request',
  payloadBytes: 1_024,
  restApiRequests: 1,
  accessLogBytes: 600,
  dynamodb: { writes: 0.5, reads: 0.5, itemBytes: 1_024, newItems: 0.5 },
} as const;

/** The main path of each example stack, keyed like `addExampleStacks`. */
export const MAIN_PATHS: Readonly<Record<string, MainPath>> = {
  'rest-api': {
    ...REST_CRUD,
    description: 'one API request: half reads (GetItem), half writes (PutItem) of a 1 KB item',
    functions: [{ match: 'ItemsHandler', invocations: 1, durationMs: 50, logBytes: API_FUNCTION_LOG }],
  },
  'hardened-rest-api': {
    ...REST_CRUD,
    description: 'one API request through the web ACL to the function in the VPC: half reads, half writes of a 1 KB item',
    functions: [{ match: 'ItemsHandler', invocations: 1, durationMs: 50, logBytes: API_FUNCTION_LOG }],
    otherLogBytes: { bytes: 300, what: 'VPC flow log and WAF log records' },
  },
  'stream-processing': {
    unit: 'record',
    description: 'one 1 KB record put on the stream, processed in batches of 100; writes grouped per key (1 write per 10 records)',
    payloadBytes: 1_024,
    kinesisRecords: 1,
    functions: [{ match: 'TelemetryHandler', invocations: 1 / 100, durationMs: 400, logBytes: 2_000 }],
    dynamodb: { writes: 0.1, reads: 0, itemBytes: 1_024, newItems: 0.01 },
  },
  'periodic-job': {
    unit: 'run',
    description: 'one scheduled run: fetch the credential, call the HTTP API for 3 s, write 100 items of 1 KB',
    payloadBytes: 100 * 1_024,
    scheduled: true,
    schedulerInvocations: 1,
    secretsManagerCalls: 1,
    functions: [{ match: 'CatalogSyncHandler', invocations: 1, durationMs: 3_000, logBytes: 5_000 }],
    dynamodb: { writes: 100, reads: 1, itemBytes: 1_024, newItems: 0 },
  },
  'web-app': {
    unit: 'request',
    description: 'one signed-in API request through CloudFront (2 KB answer): half reads, half writes of a 1 KB item; 1,000 requests per monthly active user',
    payloadBytes: 1_024,
    cloudFront: { requests: 1, bytesOut: 2_048 },
    restApiRequests: 1,
    accessLogBytes: 600,
    unitsPerMonthlyActiveUser: 1_000,
    functions: [{ match: 'AppApiHandler', invocations: 1, durationMs: 50, logBytes: API_FUNCTION_LOG }],
    dynamodb: { writes: 0.5, reads: 0.5, itemBytes: 1_024, newItems: 0.5 },
  },
  'fan-out': {
    unit: 'published event',
    description: 'one 1 KB order event published by the publisher function; 3 of the 4 subscriptions match on average, 3 have a consumer (batches of 1 at this rate)',
    payloadBytes: 1_024,
    snsPublishes: 1,
    // 3 matching deliveries x (send + receive + delete)
    sqsRequests: 9,
    functions: [
      { match: 'OrderEventsPublisher', invocations: 1, durationMs: 40, logBytes: API_FUNCTION_LOG },
      { match: 'OrderEventsAuditConsumer', invocations: 1, durationMs: 30, logBytes: API_FUNCTION_LOG },
      { match: 'OrderEventsHighValueConsumer', invocations: 0.3, durationMs: 30, logBytes: API_FUNCTION_LOG },
      { match: 'OrderEventsProjectionConsumer', invocations: 1, durationMs: 30, logBytes: API_FUNCTION_LOG },
    ],
    dynamodb: { writes: 1.3, reads: 0, itemBytes: 1_024, newItems: 1 },
  },
  'event-driven': {
    unit: 'item change',
    description: 'one 1 KB item change: published in batches of 100, archived, audit-logged, projected by one consumer; half also reach a queue subscriber',
    payloadBytes: 1_024,
    eventBridgeEvents: 1,
    // 0.5 deliveries to a queue subscriber x (send + receive + delete)
    sqsRequests: 1.5,
    otherLogBytes: { bytes: 1_200, what: 'audit log (every event, as CloudWatch Logs JSON)' },
    functions: [
      { match: 'OrdersHandler', invocations: 1 / 100, durationMs: 300, logBytes: 2_000 },
      { match: 'OrdersProjectionConsumer', invocations: 1, durationMs: 50, logBytes: API_FUNCTION_LOG },
    ],
    dynamodb: { writes: 1, reads: 0, itemBytes: 1_024, newItems: 0.1 },
  },
  'efs': {
    unit: 'request',
    description: 'one API request: half read a 32 KB file, half write one (stored a month)',
    payloadBytes: 32 * 1_024,
    restApiRequests: 1,
    accessLogBytes: 600,
    otherLogBytes: { bytes: 200, what: 'VPC flow log records' },
    functions: [{ match: 'FilesHandler', invocations: 1, durationMs: 30, logBytes: API_FUNCTION_LOG }],
    efs: { readBytes: 16 * 1_024, writeBytes: 16 * 1_024, storedBytes: 16 * 1_024 },
  },
  'rds-proxy': {
    unit: 'request',
    description: 'one API request: one query through the proxy (2 Aurora I/Os); the cluster stays at its minimum capacity',
    payloadBytes: 1_024,
    restApiRequests: 1,
    accessLogBytes: 600,
    auroraIos: 2,
    otherLogBytes: { bytes: 200, what: 'VPC flow log records' },
    functions: [{ match: 'ItemsHandler', invocations: 1, durationMs: 30, logBytes: API_FUNCTION_LOG }],
  },
  'canary': {
    ...REST_CRUD,
    description: 'one API request to the alias: half reads, half writes of a 1 KB item (deployments and their hooks not counted)',
    functions: [{ match: 'ItemsHandler', invocations: 1, durationMs: 50, logBytes: API_FUNCTION_LOG }],
  },
  'saga': {
    unit: 'saga',
    description: 'one order saga on the happy path: POST /sagas, reserve, charge, the callback (task token on the queue, POST /callbacks), confirm',
    payloadBytes: 1_024,
    restApiRequests: 2,
    accessLogBytes: 600,
    // the task token sent to the callback queue, received and deleted by the confirming system
    sqsRequests: 3,
    stepFunctions: { executions: 1, transitions: 5, logBytesPerTransition: 3_000 },
    functions: [
      { match: 'StartHandler', invocations: 1, durationMs: 50, logBytes: API_FUNCTION_LOG },
      { match: 'InventoryStep', invocations: 1, durationMs: 50, logBytes: API_FUNCTION_LOG },
      { match: 'PaymentStep', invocations: 1, durationMs: 50, logBytes: API_FUNCTION_LOG },
      { match: 'CallbackHandler', invocations: 1, durationMs: 50, logBytes: API_FUNCTION_LOG },
    ],
    // the start record, the reservation and the charge; the confirm step updates the start record
    dynamodb: { writes: 3, reads: 0, itemBytes: 1_024, newItems: 2 },
  },
};

/** Where each example's generated cost section goes, when it is not `lib/<key>/README.md`. */
export const README_OF: Readonly<Record<string, string>> = {
  'hardened-rest-api': 'rest-api',
};
