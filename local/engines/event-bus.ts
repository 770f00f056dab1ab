/**
 * A local EventBridge engine (for the local runner and handler tests): a `node:http` server on 127.0.0.1 that speaks the
 * EventBridge JSON protocol (awsJson1_1, `X-Amz-Target: AWSEvents.PutEvents`) to the real SDK
 * client (`AWS_ENDPOINT_URL_EVENTBRIDGE`, set by `useLocalEventBus`, or `endpoint`).
 *
 * - PutEvents: validates the request as EventBridge does (1..10 entries, 256 KB per request with
 *   entry sizes counted as EventBridge documents: Time 14 bytes + Source + DetailType + Detail +
 *   Resources; Source, DetailType and a JSON-object Detail per entry; a known bus, by name or ARN),
 *   assigns each accepted entry an id and a time, keeps the event envelope
 *   `{ version, id, detail-type, source, account, time, region, resources, detail }` and answers
 *   `{ FailedEntryCount, Entries }` in request order.
 * - Rules: `addRule` with an event pattern (object or JSON text, e.g. a synthesized
 *   `AWS::Events::Rule` `EventPattern`) and a target callback; every accepted event is matched
 *   (local/engines/event-pattern.ts) and delivered, asynchronously, to each matching rule's target,
 *   as EventBridge invokes a Lambda function asynchronously: a target that throws is tried again
 *   (`maxDeliveryAttempts`, Lambda's asynchronous default is 3 in all), then the event goes to
 *   `deadLetters`. `settled()` waits until every delivery so far is done.
 * - Faults: per-entry failures (`failEntries`), whole-call errors such as throttling
 *   (`failCalls`), lost responses (`loseResponses`: the call is applied, then the socket is
 *   destroyed instead of answered) and hung calls (`holdCalls`: never answered).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LOCAL_ACCOUNT, LOCAL_REGION, readBody, sendJson } from './aws-protocol';
import { compileEventPattern, type EventPatternMatcher } from './event-pattern';
import { closeServer, listenOnLoopback } from './loopback';
import { createLimiter } from '../../lambda/shared/concurrency';

export { LOCAL_ACCOUNT, LOCAL_REGION };
const MAX_REQUEST_BYTES = 262_144;

export interface BusEvent {
  readonly 'version': '0';
  readonly 'id': string;
  readonly 'detail-type': string;
  readonly 'source': string;
  readonly 'account': string;
  readonly 'time': string;
  readonly 'region': string;
  readonly 'resources': string[];
  readonly 'detail': Record<string, unknown>;
}

export interface ReceivedEvent {
  readonly busName: string;
  readonly event: BusEvent;
  /** Size of the entry as EventBridge counts it. */
  readonly sizeBytes: number;
}

export interface PutEventsEntryInput {
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly EventBusName?: string;
  readonly Resources?: string[];
  readonly Time?: number | string;
  readonly TraceHeader?: string;
}

export interface PutEventsCall {
  readonly entries: PutEventsEntryInput[];
  /** What happened: answered normally, failed as a whole, or applied with the answer lost. */
  readonly outcome: 'answered' | 'failed' | 'lost' | 'invalid' | 'held';
  /** Per entry: the event id, or the error code it was answered with. */
  readonly results: Array<{ eventId?: string; errorCode?: string }>;
}

export type Delivery = (event: BusEvent) => unknown;

export interface RuleOptions {
  readonly name: string;
  readonly eventPattern: unknown;
  readonly target: Delivery;
  /** @default the bus's default bus name */
  readonly busName?: string;
  /** Attempts per event, the first included. @default 3 (Lambda's asynchronous invocation: 1 + 2 retries) */
  readonly maxDeliveryAttempts?: number;
}

export interface DeadLetter {
  readonly rule: string;
  readonly event: BusEvent;
  readonly error: unknown;
  readonly attempts: number;
}

/** Decides the error code of an entry (or `undefined` to accept it); `attempt` counts calls. */
export type EntryFault = (entry: PutEventsEntryInput, call: number) => string | undefined;

export interface LocalEventBus {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** The bus name PutEvents accepts by default (`createBus` adds more). */
  readonly busName: string;
  readonly busArn: string;
  /** Every accepted event, in the order applied. */
  readonly received: ReceivedEvent[];
  readonly calls: PutEventsCall[];
  readonly deadLetters: DeadLetter[];
  createBus(name: string): string;
  addRule(options: RuleOptions): void;
  removeRules(): void;
  /** Entries for which `fault` returns a code are answered with it (and not applied) until `clearFaults`. */
  failEntries(fault: EntryFault): void;
  /** The next `count` calls fail as a whole, nothing applied: `ThrottlingException` (400) by default. */
  failCalls(count: number, error?: { status: number; type: string; message?: string }): void;
  /** The next `count` calls are applied, then their connection is destroyed without an answer. */
  loseResponses(count: number): void;
  /** Calls get no answer at all (nothing applied) until `clearFaults` or `stop`: a hung endpoint. */
  holdCalls(): void;
  clearFaults(): void;
  /** Waits until every delivery started so far (and the retries they cause) has finished. */
  settled(): Promise<void>;
  /** Forgets received events, calls and dead letters (keeps rules and faults). */
  reset(): void;
  stop(): Promise<void>;
}

const utf8 = (s: string | undefined): number => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));

function entrySize(entry: PutEventsEntryInput): number {
  return 14 + utf8(entry.Source) + utf8(entry.DetailType) + utf8(entry.Detail) + (entry.Resources ?? []).reduce((s, r) => s + utf8(r), 0);
}

/** A bus's name from its name or ARN (`default` when none is given), as PutEvents and rules take either. */
export function busNameOf(nameOrArn: string | undefined): string {
  if (nameOrArn === undefined || nameOrArn === '') return 'default';
  const marker = ':event-bus/';
  return nameOrArn.startsWith('arn:') && nameOrArn.includes(marker) ? nameOrArn.slice(nameOrArn.indexOf(marker) + marker.length) : nameOrArn;
}

/** The event's `time`: EventBridge keeps second precision. */
function eventTime(time: number | string | undefined, now: Date): string {
  let date = now;
  if (typeof time === 'number') date = new Date(time * 1000);
  else if (typeof time === 'string' && time !== '') date = new Date(time);
  if (Number.isNaN(date.getTime())) date = now;
  return `${date.toISOString().slice(0, 19)}Z`;
}

export interface LocalEventBusOptions {
  /** @default 'local-bus' */
  readonly busName?: string;
  /**
   * Deliveries in flight at once, over all rules: like a target function's reserved concurrency,
   * it keeps a test's many deliveries from swamping the local engines behind the targets.
   * @default 4
   */
  readonly maxConcurrentDeliveries?: number;
}

export async function startLocalEventBus(options: LocalEventBusOptions = {}): Promise<LocalEventBus> {
  const defaultBus = options.busName ?? 'local-bus';
  const limit = createLimiter(options.maxConcurrentDeliveries ?? 4);
  const buses = new Set(['default', defaultBus]);
  const received: ReceivedEvent[] = [];
  const calls: PutEventsCall[] = [];
  const deadLetters: DeadLetter[] = [];
  let rules: Array<RuleOptions & { matcher: EventPatternMatcher }> = [];
  let entryFault: EntryFault | undefined;
  let callFaults: Array<{ status: number; type: string; message?: string }> = [];
  let toLose = 0;
  let hold = false;
  const pending = new Set<Promise<void>>();

  const deliver = (rule: RuleOptions, event: BusEvent): void => {
    const attempts = rule.maxDeliveryAttempts ?? 3;
    const run = (async () => {
      let lastError: unknown;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          // A deep copy: each target gets its own parsed event, as over the wire.
          await limit(async () => rule.target(JSON.parse(JSON.stringify(event)) as BusEvent));
          return;
        } catch (err) {
          lastError = err;
        }
      }
      deadLetters.push({ rule: rule.name, event, error: lastError, attempts });
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  };

  const putEvents = (body: unknown, res: ServerResponse, req: IncomingMessage): void => {
    const entries = (body as { Entries?: unknown })?.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      calls.push({ entries: [], outcome: 'invalid', results: [] });
      return sendJson(res, 400, { __type: 'ValidationException', message: 'Entries must hold 1 to 10 entries' }, 'ValidationException');
    }
    const typed = entries as PutEventsEntryInput[];
    const total = typed.reduce((sum, e) => sum + entrySize(e), 0);
    if (total > MAX_REQUEST_BYTES) {
      calls.push({ entries: typed, outcome: 'invalid', results: [] });
      return sendJson(res, 400, { __type: 'ValidationException', message: `Total size of the entries in the request is over the limit: ${total}` }, 'ValidationException');
    }
    if (hold) {
      calls.push({ entries: typed, outcome: 'held', results: [] });
      return;
    }
    const fault = callFaults.shift();
    if (fault !== undefined) {
      calls.push({ entries: typed, outcome: 'failed', results: [] });
      return sendJson(res, fault.status, { __type: fault.type, message: fault.message ?? fault.type }, fault.type);
    }
    const now = new Date();
    const callNumber = calls.length + 1;
    const results: Array<{ eventId?: string; errorCode?: string; errorMessage?: string }> = [];
    const accepted: Array<{ busName: string; event: BusEvent; sizeBytes: number }> = [];
    for (const entry of typed) {
      const busName = busNameOf(entry.EventBusName);
      let detail: unknown;
      try {
        detail = entry.Detail !== undefined ? JSON.parse(entry.Detail) : undefined;
      } catch {
        detail = undefined;
      }
      const injected = entryFault?.(entry, callNumber);
      if (injected !== undefined) {
        results.push({ errorCode: injected, errorMessage: `injected ${injected}` });
      } else if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
        results.push({ errorCode: 'InvalidArgument', errorMessage: 'Parameters Source, DetailType and Detail are required' });
      } else if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
        results.push({ errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.' });
      } else if (entrySize(entry) > MAX_REQUEST_BYTES) {
        results.push({ errorCode: 'InvalidArgument', errorMessage: 'Entry is over the 256 KB limit' });
      } else if (!buses.has(busName)) {
        results.push({ errorCode: 'ResourceNotFoundException', errorMessage: `Event bus ${busName} does not exist.` });
      } else {
        const event: BusEvent = {
          'version': '0',
          'id': randomUUID(),
          'detail-type': entry.DetailType,
          'source': entry.Source,
          'account': LOCAL_ACCOUNT,
          'time': eventTime(entry.Time, now),
          'region': LOCAL_REGION,
          'resources': entry.Resources ?? [],
          'detail': detail as Record<string, unknown>,
        };
        results.push({ eventId: event.id });
        accepted.push({ busName, event, sizeBytes: entrySize(entry) });
      }
    }
    const lose = toLose > 0;
    if (lose) toLose--;
    calls.push({ entries: typed, outcome: lose ? 'lost' : 'answered', results: results.map(({ eventId, errorCode }) => ({ eventId, errorCode })) });
    for (const a of accepted) {
      received.push(a);
      for (const rule of rules) {
        if ((rule.busName ?? defaultBus) === a.busName && rule.matcher(a.event)) deliver(rule, a.event);
      }
    }
    if (lose) {
      req.socket.destroy();
      return;
    }
    sendJson(res, 200, {
      FailedEntryCount: results.filter((r) => r.errorCode !== undefined).length,
      Entries: results.map((r) => (r.errorCode !== undefined ? { ErrorCode: r.errorCode, ErrorMessage: r.errorMessage } : { EventId: r.eventId })),
    });
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(res, 400, { __type: 'SerializationException', message: 'body is not JSON' }, 'SerializationException');
      }
      if (target === 'AWSEvents.PutEvents') return putEvents(parsed, res, req);
      return sendJson(res, 400, { __type: 'UnknownOperationException', message: `${target} is not supported here` }, 'UnknownOperationException');
    })();
  });
  const endpoint = await listenOnLoopback(server);

  return {
    endpoint,
    busName: defaultBus,
    busArn: `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${defaultBus}`,
    received,
    calls,
    deadLetters,
    createBus(name) {
      buses.add(name);
      return `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${name}`;
    },
    addRule(rule) {
      rules.push({ ...rule, matcher: compileEventPattern(rule.eventPattern) });
    },
    removeRules() {
      rules = [];
    },
    failEntries(fault) {
      entryFault = fault;
    },
    failCalls(count, error = { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }) {
      callFaults = Array.from({ length: count }, () => error);
    },
    loseResponses(count) {
      toLose = count;
    },
    holdCalls() {
      hold = true;
    },
    clearFaults() {
      entryFault = undefined;
      callFaults = [];
      toLose = 0;
      hold = false;
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    reset() {
      received.length = 0;
      calls.length = 0;
      deadLetters.length = 0;
    },
    async stop() {
      await closeServer(server);
    },
  };
}
