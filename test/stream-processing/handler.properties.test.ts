/**
 * Stream processor property tests: malformed and hostile record data (random bytes, broken
 * base64, non-JSON, schema violations, unstorable payloads) mixed with valid events never crash
 * the handler, every malformed record is rejected to the queue (never a failure), and the stored
 * state is exactly what the valid events alone produce.
 */
import type { SendMessageBatchCommand as SendMessageBatchCommandType } from '@aws-sdk/client-sqs';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { poisonedObjectText } from '../helpers/hostile-input';
import { syntheticRecord, toBase64 } from '../helpers/kinesis-events';
import { TEST_QUEUE_URL, loadStreamProcessor, type LoadedStreamProcessor } from '../helpers/stream-processor';
import { expectedState, stateFromItems, telemetryEvents, type TelemetryInput } from '../helpers/telemetry';

let dynamo: LocalDynamo;
let processor: LoadedStreamProcessor;
let tableName: string;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let sqs: AwsStub<any, any, any>;
let SendMessageBatchCommand: typeof SendMessageBatchCommandType;

beforeAll(async () => {
  dynamo = await startDynalite();
  tableName = await dynamo.createTable();
  processor = loadStreamProcessor({ TABLE_NAME: tableName, REJECTED_QUEUE_URL: TEST_QUEUE_URL, MAX_PAYLOAD_BYTES: '2048' });
  sqs = mockClient(processor.clientSqs.SQSClient);
  SendMessageBatchCommand = processor.clientSqs.SendMessageBatchCommand;
});

afterAll(async () => {
  sqs?.restore();
  await dynamo?.stop();
});

const valid = telemetryEvents(5, { sources: 2, minutes: 1, seed: 21 });
const good: TelemetryInput = valid[0];

/** Record data (base64) that must be rejected. */
const badData: fc.Arbitrary<string> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('base64')).filter((d) => {
    try {
      const v: unknown = JSON.parse(Buffer.from(d, 'base64').toString('utf8'));
      return v === null || typeof v !== 'object';
    } catch {
      return true;
    }
  }),
  fc.string({ maxLength: 60 }).filter((s) => !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s) || s === ''),
  fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => {
    try {
      const v: unknown = JSON.parse(s);
      return v === null || typeof v !== 'object' || Array.isArray(v) || !('id' in v);
    } catch {
      return true;
    }
  }).map(toBase64),
  // (a payload may hold the REST API's server-owned names: those poisoned objects are valid here)
  poisonedObjectText.filter((text) => !/"(?:id|version|createdAt|updatedAt)":"x"\}$/.test(text))
    .map((text) => toBase64(`{"id":"p","source":"s","type":"t","timestamp":1,"payload":${text}}`)),
  fc.record({
    id: fc.oneof(fc.constant(''), fc.string({ minLength: 129, maxLength: 140 }), fc.constant('with space'), fc.constant('é')),
  }).map((o) => toBase64({ ...good, ...o })),
  fc.oneof(
    fc.constantFrom('a#b', '', '-x', 'x'.repeat(129), 'ü'),
  ).map((source) => toBase64({ ...good, source })),
  fc.oneof(
    fc.constantFrom(-1, 1.5, 253_402_300_800_000, '2025-01-31', '2025-01-31T12:00:00', '2025-13-01T00:00:00Z', '2025-01-31T24:00:00Z', 'yesterday', null, true),
  ).map((timestamp) => toBase64({ ...good, timestamp })),
  fc.constantFrom<unknown>([], 'x', 1, null).map((payload) => toBase64({ ...good, payload })),
  fc.constant(toBase64({ ...good, payload: { big: 'x'.repeat(3000) } })),
  fc.constant(toBase64(`\ufeff${JSON.stringify(good)}`)),
  fc.constant(toBase64(`${JSON.stringify(good)}x`)),
);

test('hostile records never crash the handler, are all rejected, and never change stored state', async () => {
  // Prepare: the state of the valid events
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })) }));
  await processor.invoke({ Records: valid.map((e) => syntheticRecord(toBase64(e))) });
  const snapshot = await dynamo.scanAll(tableName);
  expect(stateFromItems(snapshot)).toEqual(expectedState(valid));

  await fc.assert(fc.asyncProperty(fc.array(badData, { minLength: 1, maxLength: 12 }), fc.nat(5), async (datas, at) => {
    // Prepare: hostile records around replays of valid ones
    sqs.resetHistory();
    const bad = datas.map((d) => syntheticRecord(d));
    const replayed = valid.map((e) => syntheticRecord(toBase64(e)));
    const records = [...bad.slice(0, at), ...replayed, ...bad.slice(at)];

    // Act
    const response = await processor.invoke({ Records: records });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const rejected = sqs.commandCalls(SendMessageBatchCommand)
      .flatMap((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.MessageBody!) as { kinesis: { eventID: string }; reason: string }));
    expect(rejected.map((m) => m.kinesis.eventID)).toEqual(bad.map((r) => r.eventID));
    expect(await dynamo.scanAll(tableName)).toEqual(snapshot);
  }), { numRuns: 40, seed: 7 });
});
