/**
 * The publisher under PutEvents faults from the local bus: partial entry failures, whole-call
 * throttling, lost responses and exhausted retries. The properties: no change is lost (every
 * record's event is on the bus, or the first unpublished record is reported and Lambda's resend
 * from it publishes the rest), only failed entries are resent, and nothing is ever published
 * under a new id (every published eventId is a stream record's eventID).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { useDynaliteTable } from '../helpers/dynalite';
import { StreamCapture, streamEvent } from '../helpers/dynamodb-stream';
import { useLocalEventBus } from '../helpers/event-bus';
import { TEST_ENTITY, TEST_SOURCE, loadPublisher, schemaErrors, streamContext, type LoadedPublisher } from '../helpers/event-driven';
import { capturingStdout } from '../helpers/load-poller';

const local = useDynaliteTable();
const engine = useLocalEventBus({ busName: 'faults-bus' });

const BASE_ENV = { EVENT_SOURCE: TEST_SOURCE, ENTITY_NAME: TEST_ENTITY, MAX_PUT_ATTEMPTS: '4' };
let publisher: LoadedPublisher;
let records: DynamoDBRecord[];
let counter = 0;

const key = (id: string): Record<string, AttributeValue> => ({ pk: { S: `ITEM#${id}` }, sk: { S: 'A' } });

/** `n` fresh changes (creates, and an update and a delete among them) captured from dynalite. */
async function changes(n: number): Promise<DynamoDBRecord[]> {
  const firstSequenceNumber = 200_000_000_000_000_000_000n + BigInt(++counter) * 10n ** 12n;
  const capture = new StreamCapture(local.dynamo.client, local.tableName, { firstSequenceNumber });
  const prefix = `c${counter}`;
  for (let i = 0; i < n - 2; i++) await capture.put({ ...key(`${prefix}-${i}`), n: { N: String(i) } });
  await capture.update(key(`${prefix}-0`), { UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': { N: '100' } } });
  await capture.delete(key(`${prefix}-1`));
  return capture.drain();
}

const idOf = (entry: { Detail?: string }): string => (JSON.parse(entry.Detail!) as { eventId: string }).eventId;
const publishedIds = (): string[] => engine.bus.received.map((r) => r.event.detail.eventId as string);

beforeEach(async () => {
  engine.bus.reset();
  engine.bus.clearFaults();
  publisher = loadPublisher({ ...BASE_ENV, EVENT_BUS_NAME: engine.bus.busName });
  records = await changes(8);
});

/** No id other than the records' eventIDs was ever published, and every published detail is schema-valid. */
function expectNoNewIds(): void {
  const known = new Set(records.map((r) => r.eventID));
  expect(publishedIds().filter((id) => !known.has(id))).toEqual([]);
  for (const r of engine.bus.received) expect(schemaErrors(r.event['detail-type'], r.event.detail)).toEqual([]);
}

/** What Lambda does with `{ batchItemFailures: [{ itemIdentifier }] }` on a stream: send again from that record on. */
function resendFrom(itemIdentifier: string): DynamoDBRecord[] {
  const index = records.findIndex((r) => r.dynamodb?.SequenceNumber === itemIdentifier);
  expect(index).toBeGreaterThanOrEqual(0);
  return records.slice(index);
}

describe('partial PutEvents failures', () => {
  test('only the failed entries are sent again, and every change is published once', async () => {
    const failing = new Set([records[1].eventID!, records[4].eventID!, records[7].eventID!]);
    engine.bus.failEntries((entry, call) => (call === 1 && failing.has(idOf(entry)) ? 'ThrottlingException' : undefined));

    const response = await publisher.invoke(streamEvent(records));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(engine.bus.calls).toHaveLength(2);
    expect(engine.bus.calls[1].entries.map(idOf).sort()).toEqual([...failing].sort());
    expect(publishedIds().sort()).toEqual(records.map((r) => r.eventID).sort());
    expectNoNewIds();
  });

  test('exhausted retries report the first failed record; the resend from it loses no later change', async () => {
    const stuck = records[3].eventID!;
    engine.bus.failEntries((entry) => (idOf(entry) === stuck ? 'InternalFailure' : undefined));

    const first = await publisher.invoke(streamEvent(records));

    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: records[3].dynamodb!.SequenceNumber }] });
    // One retry budget: 4 attempts for the failing entry, and no more.
    expect(engine.bus.calls.filter((c) => c.entries.some((e) => idOf(e) === stuck))).toHaveLength(4);
    expect(publishedIds()).not.toContain(stuck);
    expect(publishedIds()).toEqual(expect.arrayContaining(records.slice(0, 3).map((r) => r.eventID)));

    engine.bus.clearFaults();
    const second = await publisher.invoke(streamEvent(resendFrom(first.batchItemFailures[0].itemIdentifier)));

    expect(second).toEqual({ batchItemFailures: [] });
    expect(new Set(publishedIds())).toEqual(new Set(records.map((r) => r.eventID)));
    expectNoNewIds();
  });

  test('a permanent entry error is not retried and is reported', async () => {
    const bad = records[5].eventID!;
    engine.bus.failEntries((entry) => (idOf(entry) === bad ? 'MalformedDetail' : undefined));

    const response = await publisher.invoke(streamEvent(records));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[5].dynamodb!.SequenceNumber }] });
    expect(engine.bus.calls).toHaveLength(1);
    expectNoNewIds();
  });
});

describe('whole-call failures', () => {
  test('throttled calls are retried with the same entries', async () => {
    engine.bus.failCalls(2);

    expect(await publisher.invoke(streamEvent(records))).toEqual({ batchItemFailures: [] });

    expect(engine.bus.calls.map((c) => c.outcome)).toEqual(['failed', 'failed', 'answered']);
    expect(engine.bus.calls[2].entries.map(idOf)).toEqual(engine.bus.calls[0].entries.map(idOf));
    expect(publishedIds().sort()).toEqual(records.map((r) => r.eventID).sort());
  });

  test('the retry budget is bounded: sustained throttling ends after MAX_PUT_ATTEMPTS calls with the first record reported', async () => {
    engine.bus.failCalls(1000);

    const response = await publisher.invoke(streamEvent(records));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] });
    expect(engine.bus.calls).toHaveLength(4);
    expect(engine.bus.received).toHaveLength(0);
  });

  test('a permanent call error (access denied) is not retried', async () => {
    engine.bus.failCalls(1, { status: 400, type: 'AccessDeniedException', message: 'not authorized' });

    const response = await publisher.invoke(streamEvent(records));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] });
    expect(engine.bus.calls).toHaveLength(1);
  });

  test('a hung endpoint: the invocation deadline ends the call, no retry starts after it, the first record is reported', async () => {
    engine.bus.holdCalls();
    // 600 ms left, of which the handler keeps 500 back: its outbound calls are aborted after about 100 ms.
    const context = streamContext(600);

    const response = await publisher.invoke(streamEvent(records), context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] });
    // At most the first attempt reached the bus (under load the deadline may end it before it arrives), never answered.
    expect(engine.bus.calls.length).toBeLessThanOrEqual(1);
    expect(engine.bus.calls.every((c) => c.outcome === 'held')).toBe(true);
    expect(engine.bus.received).toHaveLength(0);
  });

  test('a lost response (applied, answer lost) is resent with the same eventIds: a duplicate, never a new id', async () => {
    engine.bus.loseResponses(1);

    expect(await publisher.invoke(streamEvent(records))).toEqual({ batchItemFailures: [] });

    expect(engine.bus.calls.map((c) => c.outcome)).toEqual(['lost', 'answered']);
    const ids = publishedIds();
    expect(ids).toHaveLength(records.length * 2);
    expect(new Set(ids)).toEqual(new Set(records.map((r) => r.eventID)));
    expectNoNewIds();
  });
});

describe('records that cannot be published', () => {
  test('a malformed record is reported; the records before it are published, none after it', async () => {
    const broken = JSON.parse(JSON.stringify(records[4])) as DynamoDBRecord;
    broken.dynamodb!.NewImage = { bad: { X: 'unknown type' } } as never;

    const response = await publisher.invoke({ Records: [...records.slice(0, 4), broken, ...records.slice(5)] });

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[4].dynamodb!.SequenceNumber }] });
    expect(publishedIds().sort()).toEqual(records.slice(0, 4).map((r) => r.eventID).sort());
  });

  test('a record without a sequence number fails the whole invocation (Lambda bisects the batch)', async () => {
    const broken = JSON.parse(JSON.stringify(records[0])) as DynamoDBRecord;
    delete broken.dynamodb!.SequenceNumber;

    await expect(publisher.invoke({ Records: [broken, ...records.slice(1)] })).rejects.toThrow(expect.objectContaining({ name: 'UnidentifiableRecordError' }));
    expect(engine.bus.received).toHaveLength(0);
  });

  test('an empty or missing Records list publishes nothing', async () => {
    expect(await publisher.invoke({ Records: [] })).toEqual({ batchItemFailures: [] });
    expect(await publisher.invoke({} as never)).toEqual({ batchItemFailures: [] });
    expect(engine.bus.calls).toHaveLength(0);
  });
});

describe('metrics', () => {
  interface Emf { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> } }

  function emf(stdout: string): Array<Emf & Record<string, unknown>> {
    return stdout.split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Emf & Record<string, unknown>);
  }

  test('PublishedEvents, FailedPutEventsEntries and UnpublishedChanges, with the one dimension EventBusName = the bus name of an ARN', async () => {
    const withMetrics = loadPublisher({
      ...BASE_ENV, EVENT_BUS_NAME: engine.bus.busArn, POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_METRICS_NAMESPACE: 'Test/Events',
    });
    const stuck = records[6].eventID!;
    const once = records[2].eventID!;
    engine.bus.failEntries((entry, call) => (idOf(entry) === stuck || (idOf(entry) === once && call === 1) ? 'InternalFailure' : undefined));

    const { result, stdout } = await capturingStdout(() => withMetrics.invoke(streamEvent(records)));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: records[6].dynamodb!.SequenceNumber }] });
    const [line] = emf(stdout);
    expect(line._aws.CloudWatchMetrics[0].Namespace).toBe('Test/Events');
    expect(line._aws.CloudWatchMetrics[0].Dimensions).toEqual([['EventBusName']]);
    expect(line.EventBusName).toBe('faults-bus');
    // records[6] failed in all 4 attempts, records[2] once; 7 published; records 6 and 7 unpublished at most.
    expect(line.FailedPutEventsEntries).toBe(5);
    expect(line.PublishedEvents).toBe(publishedIds().length);
    expect(publishedIds()).toEqual(expect.arrayContaining(records.slice(0, 6).map((r) => r.eventID)));
    expect(line.UnpublishedChanges).toBe(records.length - new Set(publishedIds()).size);
    expect(line.UnpublishedChanges).toBeGreaterThanOrEqual(1);
  });
});
