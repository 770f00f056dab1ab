/**
 * Stream processor: records that can never succeed go to the rejected-records queue at once
 * (exact SendMessageBatch requests asserted with aws-sdk-client-mock: no npm SQS engine speaks
 * SDK v3's JSON protocol) and are not reported as failures; valid records of the same batch are
 * written to dynalite. A record whose rejection SQS does not accept is reported as a failure.
 */
import type { SendMessageBatchCommand as SendMessageBatchCommandType } from '@aws-sdk/client-sqs';
import type { KinesisStreamRecord } from 'aws-lambda';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { syntheticRecord, toBase64 } from '../helpers/kinesis-events';
import { TEST_QUEUE_URL, loadStreamProcessor, type LoadedStreamProcessor } from '../helpers/stream-processor';
import { expectedState, stateFromItems, telemetryEvents } from '../helpers/telemetry';

let dynamo: LocalDynamo;
let tableName: string;
let processor: LoadedStreamProcessor;
/** The command class of the handler's module registry (the mock matches by class). */
let SendMessageBatchCommand: typeof SendMessageBatchCommandType;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let sqs: AwsStub<any, any, any>;

beforeAll(async () => {
  dynamo = await startDynalite();
});

beforeEach(async () => {
  tableName = await dynamo.createTable();
  processor = loadStreamProcessor({ TABLE_NAME: tableName, REJECTED_QUEUE_URL: TEST_QUEUE_URL });
  sqs = mockClient(processor.clientSqs.SQSClient);
  SendMessageBatchCommand = processor.clientSqs.SendMessageBatchCommand;
});

afterEach(() => sqs.restore());

afterAll(async () => {
  await dynamo?.stop();
});

/** What the handler must send for a rejected record. */
function expectedBody(record: KinesisStreamRecord, reason: string, message: string | RegExp): unknown {
  return {
    reason,
    message: typeof message === 'string' ? message : expect.stringMatching(message),
    kinesis: {
      eventID: record.eventID,
      eventSourceARN: record.eventSourceARN,
      shardId: record.eventID.split(':')[0],
      sequenceNumber: record.kinesis.sequenceNumber,
      partitionKey: record.kinesis.partitionKey,
      approximateArrivalTimestamp: record.kinesis.approximateArrivalTimestamp,
    },
    data: record.kinesis.data,
    dataLength: record.kinesis.data.length,
    dataTruncated: false,
  };
}

const VALID = telemetryEvents(3, { sources: 2, minutes: 1, seed: 7 });

test('poison records go to the rejected queue in one exact SendMessageBatch; none is a failure; valid ones are written', async () => {
  // Prepare
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })), Failed: [] }));
  const poison = [
    syntheticRecord('***not base64***'),
    syntheticRecord(toBase64('{"id": "truncated')),
    syntheticRecord(Buffer.from([0xc3, 0x28]).toString('base64')),
    syntheticRecord(toBase64({ ...VALID[0], id: '' })),
    syntheticRecord(toBase64({ ...VALID[0], timestamp: '2025-02-30T00:00:00Z' })),
    syntheticRecord(toBase64({ ...VALID[0], extra: true })),
  ];
  const valid = VALID.map((e) => syntheticRecord(toBase64(e)));
  const records = [valid[0], ...poison.slice(0, 3), valid[1], ...poison.slice(3), valid[2]];

  // Act
  const response = await processor.invoke({ Records: records });

  // Assess
  expect(response).toEqual({ batchItemFailures: [] });
  const calls = sqs.commandCalls(SendMessageBatchCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0].args[0].input;
  expect(input.QueueUrl).toBe(TEST_QUEUE_URL);
  expect(input.Entries!.map((e) => e.Id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  expect(input.Entries!.map((e) => JSON.parse(e.MessageBody!))).toEqual([
    expectedBody(poison[0], 'InvalidBase64', 'the record data is not valid base64'),
    expectedBody(poison[1], 'InvalidJson', 'the record data is not valid JSON'),
    expectedBody(poison[2], 'InvalidUtf8', 'the record data is not valid UTF-8'),
    expectedBody(poison[3], 'SchemaViolation', 'id: must be 1..128 printable ASCII characters'),
    expectedBody(poison[4], 'SchemaViolation', /^timestamp: must be an ISO-8601 date-time/),
    expectedBody(poison[5], 'SchemaViolation', '(root): unknown members "extra"'),
  ]);
  for (const entry of input.Entries!) expect(entry.MessageBody).toMatch(/^[\x20-\x7e]+$/);
  expect(stateFromItems(await dynamo.scanAll(tableName))).toEqual(expectedState(VALID));
});

test('more than 10 poison records are sent in several batches of at most 10 entries', async () => {
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })) }));
  const poison = Array.from({ length: 23 }, (_, i) => syntheticRecord(toBase64(`not json ${i}`)));

  const response = await processor.invoke({ Records: poison });

  expect(response).toEqual({ batchItemFailures: [] });
  const sizes = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries!.length);
  expect(sizes).toEqual([10, 10, 3]);
  const sent = sqs.commandCalls(SendMessageBatchCommand)
    .flatMap((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.MessageBody!).kinesis.eventID));
  expect(sent).toEqual(poison.map((r) => r.eventID));
});

test('an entry that SQS fails (sender fault) is reported as a batch item failure; the others are not', async () => {
  // Prepare
  sqs.on(SendMessageBatchCommand).resolves({
    Successful: [{ Id: 'r0', MessageId: 'm0', MD5OfMessageBody: 'x' }],
    Failed: [{ Id: 'r1', SenderFault: true, Code: 'InvalidParameterValue', Message: 'bad' }],
  });
  const poison = [syntheticRecord(toBase64('x')), syntheticRecord(toBase64('y'))];
  const valid = syntheticRecord(toBase64(VALID[0]));

  // Act
  const response = await processor.invoke({ Records: [poison[0], valid, poison[1]] });

  // Assess
  expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: poison[1].kinesis.sequenceNumber }] });
  expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1); // a sender fault is not retried
  expect(stateFromItems(await dynamo.scanAll(tableName))).toEqual(expectedState([VALID[0]]));
});

test('entries that SQS fails transiently are retried; a queue that stays unavailable makes them failures', async () => {
  // Prepare: first call fails r1 (server side), the retry succeeds
  sqs.on(SendMessageBatchCommand)
    .resolvesOnce({ Successful: [{ Id: 'r0', MessageId: 'm0', MD5OfMessageBody: 'x' }], Failed: [{ Id: 'r1', SenderFault: false, Code: 'InternalError', Message: 'try again' }] })
    .resolves({ Successful: [{ Id: 'r1', MessageId: 'm1', MD5OfMessageBody: 'x' }] });
  const poison = [syntheticRecord(toBase64('x')), syntheticRecord(toBase64('y'))];

  // Act
  const first = await processor.invoke({ Records: poison });

  // Assess
  expect(first).toEqual({ batchItemFailures: [] });
  const calls = sqs.commandCalls(SendMessageBatchCommand);
  expect(calls.map((c) => c.args[0].input.Entries!.map((e) => e.Id))).toEqual([['r0', 'r1'], ['r1']]);

  // Act: the queue is unavailable
  sqs.reset();
  sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable', $fault: 'server' }));
  const second = await processor.invoke({ Records: poison });

  // Assess
  expect(second.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(poison.map((r) => r.kinesis.sequenceNumber).sort());
});
