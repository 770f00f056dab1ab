/**
 * The local EventBridge engine itself (local/engines/event-bus.ts), driven by the real SDK client:
 * PutEvents validation as EventBridge does it, the envelope of delivered events, rule delivery with
 * retries and dead letters, and the injectable faults.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startLocalEventBus, type BusEvent, type LocalEventBus } from '../../local/engines/event-bus';

let bus: LocalEventBus;
let client: EventBridgeClient;

beforeAll(async () => {
  bus = await startLocalEventBus({ busName: 'engine-bus' });
  client = new EventBridgeClient({
    endpoint: bus.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  });
});

afterAll(async () => {
  client.destroy();
  await bus.stop();
});

beforeEach(() => {
  bus.reset();
  bus.clearFaults();
  bus.removeRules();
});

const entry = (detail: unknown = { n: 1 }, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  EventBusName: 'engine-bus', Source: 'test.source', DetailType: 'thing.happened', Detail: JSON.stringify(detail), ...extra,
});

test('accepts entries and answers an id per entry, in order; keeps the EventBridge envelope', async () => {
  const out = await client.send(new PutEventsCommand({ Entries: [entry({ a: 1 }), entry({ b: 2 }, { Resources: ['arn:x'], Time: new Date('2026-01-02T03:04:05.678Z') })] }));

  expect(out.FailedEntryCount).toBe(0);
  expect(out.Entries?.map((e) => e.EventId)).toEqual(bus.received.map((r) => r.event.id));
  expect(bus.received[1].event).toEqual({
    'version': '0',
    'id': expect.any(String),
    'detail-type': 'thing.happened',
    'source': 'test.source',
    'account': '123456789012',
    'time': '2026-01-02T03:04:05Z',
    'region': 'us-east-1',
    'resources': ['arn:x'],
    'detail': { b: 2 },
  });
});

test('rejects more than 10 entries and requests over 256 KB as a whole (ValidationException)', async () => {
  await expect(client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry()) }))).rejects.toThrow(expect.objectContaining({ name: 'ValidationException' }));
  const big = 'x'.repeat(140_000);
  await expect(client.send(new PutEventsCommand({ Entries: [entry({ big }), entry({ big })] }))).rejects.toThrow(expect.objectContaining({ name: 'ValidationException' }));
  expect(bus.received).toHaveLength(0);
});

test('per-entry errors: a detail that is not a JSON object, a missing field, an unknown bus', async () => {
  const out = await client.send(new PutEventsCommand({ Entries: [entry(), { ...entry(), Detail: '[1]' }, { ...entry(), Source: undefined }, entry({}, { EventBusName: 'nope' })] }));

  expect(out.FailedEntryCount).toBe(3);
  expect(out.Entries?.map((e) => e.ErrorCode)).toEqual([undefined, 'MalformedDetail', 'InvalidArgument', 'ResourceNotFoundException']);
  expect(bus.received).toHaveLength(1);
});

test('rules deliver matching events to their targets; a failing target is retried, then dead-lettered', async () => {
  const seen: BusEvent[] = [];
  let failures = 0;
  bus.addRule({
    name: 'match',
    eventPattern: { 'detail-type': ['thing.happened'], 'detail': { n: [{ numeric: ['>', 1] }] } },
    target: (e) => {
      seen.push(e);
    },
  });
  bus.addRule({
    name: 'flaky',
    eventPattern: { source: ['test.source'] },
    target: () => {
      failures++;
      throw new Error('target down');
    },
  });

  await client.send(new PutEventsCommand({ Entries: [entry({ n: 1 }), entry({ n: 2 })] }));
  await bus.settled();

  expect(seen.map((e) => e.detail)).toEqual([{ n: 2 }]);
  expect(failures).toBe(6);
  expect(bus.deadLetters.map((d) => [d.rule, d.attempts])).toEqual([['flaky', 3], ['flaky', 3]]);
});

test('faults: failed entries are not applied; a lost response is applied', async () => {
  bus.failEntries((e) => (e.Detail === JSON.stringify({ n: 2 }) ? 'ThrottlingException' : undefined));
  const out = await client.send(new PutEventsCommand({ Entries: [entry({ n: 1 }), entry({ n: 2 })] }));
  expect(out.Entries?.map((e) => e.ErrorCode)).toEqual([undefined, 'ThrottlingException']);
  expect(bus.received.map((r) => r.event.detail)).toEqual([{ n: 1 }]);

  bus.clearFaults();
  bus.failCalls(1);
  await expect(client.send(new PutEventsCommand({ Entries: [entry()] }))).rejects.toThrow(expect.objectContaining({ name: 'ThrottlingException' }));

  bus.loseResponses(1);
  await expect(client.send(new PutEventsCommand({ Entries: [entry({ n: 3 })] }))).rejects.toThrow();
  expect(bus.received.map((r) => r.event.detail)).toEqual([{ n: 1 }, { n: 3 }]);
  expect(bus.calls.map((c) => c.outcome)).toEqual(['answered', 'failed', 'lost']);
});
