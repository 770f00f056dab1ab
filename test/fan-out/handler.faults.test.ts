/**
 * Fan-out consumers: transient DynamoDB failures that a local engine cannot produce (throttling),
 * injected with aws-sdk-client-mock on the handler's own DocumentClient class; every other call
 * goes through to dynalite. Also checks what is logged for poison messages.
 */
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { loadConsumer, orderEvent, publishOf, type ConsumerName, type TestOrderEvent } from '../helpers/fan-out';
import { envelopeRecord, rawRecord, redeliveryOf, sqsEvent, sqsRecord } from '../helpers/sqs-events';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.stop();
});

function throttled(): Error {
  return Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
    name: 'ProvisionedThroughputExceededException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400, requestId: 'DDB-REQ-1', attempts: 3 },
  });
}

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Which write to fail for the target event: the last write of each consumer, after others applied. */
const FAULTS: Record<ConsumerName, (command: 'Put' | 'Update', input: Input, target: TestOrderEvent) => boolean> = {
  'audit-consumer': (command, input, target) => command === 'Put' && input.Item?.eventId === target.eventId,
  'high-value-consumer': (command, input, target) => command === 'Update' && input.Key?.sk === `ORDER#${target.orderId}`,
  'projection-consumer': (command, input, target) => command === 'Update' && String(input.Key?.pk).startsWith('TYPECOUNT#') && input.ExpressionAttributeValues?.[':eventId'] === target.eventId,
};

describe.each(Object.keys(FAULTS).map((c) => [c as ConsumerName]))('%s', (name) => {
  test('throttling fails exactly the affected message, and the retry applies it exactly once', async () => {
    // Prepare
    const table = await dynamo.createTable();
    const reference = await dynamo.createTable();
    const consumer = loadConsumer(name, { TABLE_NAME: table });
    const { PutCommand, UpdateCommand, DynamoDBDocumentClient } = consumer.libDynamodb;
    const realSend = DynamoDBDocumentClient.prototype.send;
    const events = [orderEvent({ type: 'paid' }), orderEvent({ type: 'paid', amount: 300 }), orderEvent({ amount: 150 })];
    const target = events[1];
    const batch = sqsEvent(events.map((e, i) => (i % 2 === 0 ? rawRecord(publishOf(e)) : envelopeRecord(publishOf(e)))));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ddb: AwsStub<any, any, any> = mockClient(DynamoDBDocumentClient);
    let failing = true;
    const through = (command: 'Put' | 'Update') => async (input: Input, getClient: () => unknown) => {
      if (failing && FAULTS[name](command, input, target)) throw throttled();
      const Command = command === 'Put' ? PutCommand : UpdateCommand;
      return (realSend as (c: unknown) => Promise<unknown>).call(getClient(), new Command(input as never));
    };
    ddb.on(PutCommand).callsFake(through('Put'));
    ddb.on(UpdateCommand).callsFake(through('Update'));

    try {
      // Act
      const first = await consumer.invoke(batch);
      failing = false;
      const retry = await consumer.invoke(redeliveryOf(batch, first));
      const again = await consumer.invoke(redeliveryOf(batch, first));

      // Assess
      expect(first.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[1].messageId }]);
      expect(retry.batchItemFailures).toEqual([]);
      expect(again.batchItemFailures).toEqual([]);
    } finally {
      ddb.restore();
    }
    const clean = loadConsumer(name, { TABLE_NAME: reference });
    await clean.invoke(batch);
    // A string set has no order: compare its members sorted.
    const strip = (items: Awaited<ReturnType<LocalDynamo['scanAll']>>): unknown => items.map(({ recordedAt, sqsMessageId, ...rest }) =>
      Object.fromEntries(Object.entries(rest).map(([attribute, value]) => [attribute, value.SS ? { SS: [...value.SS].sort() } : value])));
    expect(strip(await dynamo.scanAll(table))).toEqual(strip(await dynamo.scanAll(reference)));
  });
});

test('a failure of every write fails every message without throwing', async () => {
  const consumer = loadConsumer('audit-consumer', { TABLE_NAME: 'throttled-table' });
  const ddb = mockClient(consumer.libDynamodb.DynamoDBDocumentClient);
  ddb.onAnyCommand().rejects(throttled());
  const batch = sqsEvent([rawRecord(publishOf(orderEvent())), rawRecord(publishOf(orderEvent()))]);
  try {
    const response = await consumer.invoke(batch);

    expect(response.batchItemFailures).toEqual(batch.Records.map((r) => ({ itemIdentifier: r.messageId })));
  } finally {
    ddb.restore();
  }
});

test('a poison message is logged with its reason and message id, never its content', async () => {
  // Prepare
  const table = await dynamo.createTable();
  const consumer = loadConsumer('projection-consumer', { TABLE_NAME: table, POWERTOOLS_LOG_LEVEL: 'INFO' });
  const logged: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) => jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logged.push(String(chunk));
    return true;
  }));
  const poison = rawRecord(publishOf(orderEvent({ currency: 'eur', customerId: 'secret-customer-42' })));

  // Act
  try {
    await consumer.invoke(sqsEvent([poison, sqsRecord('{"Type":"SubscriptionConfirmation"}')]));
  } finally {
    for (const spy of spies) spy.mockRestore();
  }

  // Assess
  const lines = logged.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const warnings = lines.filter((l) => String(l.message).startsWith('poison message'));
  expect(warnings).toEqual([
    expect.objectContaining({ level: 'WARN', messageId: poison.messageId, reason: 'InvalidEvent', problem: 'invalid order event: /currency must be 3 upper-case letters' }),
    expect.objectContaining({ level: 'WARN', reason: 'BadEnvelope', problem: 'unsupported SNS message type "SubscriptionConfirmation"' }),
  ]);
  expect(lines.find((l) => l.message === 'batch partially failed')).toMatchObject({ records: 2, poison: 2, applied: 0 });
  expect(logged.join('')).not.toContain('secret-customer-42');
});
