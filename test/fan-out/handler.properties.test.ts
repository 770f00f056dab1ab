/**
 * Fan-out consumers, property-based: malformed, hostile or inconsistent SQS records (bodies,
 * SNS envelopes, message attributes, events) never crash the handler; each one is reported in
 * `batchItemFailures` and nothing in the table changes.
 */
import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { CONSUMERS, loadConsumer, orderEvent, publishOf, publishedAttributes, type LoadedConsumer, type TestOrderEvent } from '../helpers/fan-out';
import { anyString } from '../helpers/hostile-input';
import { envelopeRecord, rawRecord, snsEnvelope, sqsEvent, sqsRecord } from '../helpers/sqs-events';

let dynamo: LocalDynamo;
let table: string;
let consumers: LoadedConsumer[];

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
  consumers = CONSUMERS.map((name) => loadConsumer(name, { TABLE_NAME: table }));
  // Some state to protect.
  const seed = sqsEvent([rawRecord(publishOf(orderEvent({ orderId: 'o1' }))), envelopeRecord(publishOf(orderEvent({ orderId: 'o1', type: 'paid' })))]);
  for (const consumer of consumers) expect((await consumer.invoke(seed)).batchItemFailures).toEqual([]);
});

afterAll(async () => {
  await dynamo.stop();
});

/** A value that each field can never take (so the event is certainly invalid). */
const INVALID: Record<keyof TestOrderEvent, unknown[]> = {
  eventId: ['', 'not-a-uuid', 42, null, '0b6f3c1e-8d2a-4c55-9e0f-1a2b3c4d5e6', '0b6f3c1e8d2a4c559e0f1a2b3c4d5e6f'],
  orderId: ['', 'a#b', 'x'.repeat(65), 7, ['o'], 'o/1', 'o\u0000'],
  customerId: ['', 'c d', 'é', {}, true, 'x'.repeat(65)],
  type: ['refunded', 'CREATED', '', 1, null],
  amount: [-1, -0.01, 1e9 + 1, '100', null, 1e400, 0.000001, 1.123456, {}],
  currency: ['eur', 'EURO', 'E1R', '', 978],
  occurredAt: ['2025-02-30T00:00:00Z', '2025-01-31', '2025-01-31T12:00:00', 'yesterday', '2025-13-01T00:00:00Z', '2025-01-31T24:00:00Z', 1738324800, '2025-01-31T12:00:00+25:00'],
};
const FIELD_NAMES = Object.keys(INVALID) as Array<keyof TestOrderEvent>;

const invalidEvent: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.tuple(fc.constantFrom(...FIELD_NAMES), fc.nat()).map(([field, i]) => ({ ...orderEvent(), [field]: INVALID[field][i % INVALID[field].length] })),
  fc.constantFrom(...FIELD_NAMES).map((field) => {
    const { [field]: _removed, ...rest } = orderEvent();
    return rest;
  }),
  fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !(FIELD_NAMES as string[]).includes(k)).map((k) => ({ ...orderEvent(), [k]: 1 })),
);

/** Any message text that is not a valid order event. */
const badMessage: fc.Arbitrary<string> = fc.oneof(
  anyString,
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  invalidEvent.map((e) => JSON.stringify(e)),
  fc.integer({ min: 1000, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
);

/** SNS envelopes with one broken part around a VALID event. */
const brokenEnvelope: fc.Arbitrary<string> = fc.tuple(
  fc.constantFrom('Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'MessageAttributes', 'Subject'),
  fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('SubscriptionConfirmation', 'arn:aws:sqs:us-east-1:123456789012:q', { amount: 5 })),
).filter(([field, value]) => !(field === 'Subject' && (value === undefined || value === null || typeof value === 'string')))
  .filter(([field, value]) => !((field === 'MessageId' || field === 'Timestamp') && typeof value === 'string'))
  .filter(([field, value]) => !(field === 'MessageAttributes' && (value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0))))
  .map(([field, value]) => {
    const envelope = snsEnvelope(publishOf(orderEvent()));
    if (value === undefined) delete envelope[field];
    else envelope[field] = value;
    return JSON.stringify(envelope);
  });

function sqsAttribute(dataType: string, stringValue: string): SQSMessageAttributes[string] {
  return { dataType, stringValue, stringListValues: [], binaryListValues: [] };
}

/** Attributes that contradict a valid event, or are malformed. */
const badAttributes: fc.Arbitrary<SQSMessageAttributes> = fc.oneof(
  fc.tuple(fc.constantFrom('type', 'amount', 'customerId', 'currency'), fc.constantFrom('String', 'Number', 'Binary'), fc.string({ maxLength: 12 }))
    .map(([name, dataType, value]) => ({ [name]: sqsAttribute(dataType, `${value}~`) })),
  fc.constantFrom<SQSMessageAttributes>(
    { amount: { dataType: 'String', stringValue: '120.5', stringListValues: [], binaryListValues: [] } },
    { amount: { dataType: 'Number', stringValue: '', stringListValues: [], binaryListValues: [] } },
    { 'bad name!': { dataType: 'String', stringValue: 'x', stringListValues: [], binaryListValues: [] } },
    { type: { dataType: 'Strange', stringValue: 'created', stringListValues: [], binaryListValues: [] } },
    { type: { dataType: 'String', stringListValues: [], binaryListValues: [] } } as unknown as SQSMessageAttributes,
    { type: 'created' } as unknown as SQSMessageAttributes,
  ),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 4 })
    .map((junk) => junk as unknown as SQSMessageAttributes),
);

const badRecord: fc.Arbitrary<SQSRecord> = fc.oneof(
  badMessage.map((m) => sqsRecord(m)),
  badMessage.map((m) => envelopeRecord({ message: m })),
  brokenEnvelope.map((body) => sqsRecord(body)),
  badAttributes.map((attributes) => {
    const event = orderEvent({ amount: 120.5, type: 'created' });
    const good = Object.fromEntries(Object.entries(publishedAttributes(event)).map(([k, a]) => [k, sqsAttribute(a.DataType, a.StringValue!)]));
    return sqsRecord(JSON.stringify(event), {}, { ...good, ...attributes });
  }),
  badAttributes.filter((a) => Object.values(a).every((v) => typeof v === 'object' && v !== null && typeof (v as { stringValue?: unknown }).stringValue === 'string'))
    .map((attributes) => {
      const event = orderEvent({ amount: 120.5, type: 'created' });
      const envelope = snsEnvelope(publishOf(event));
      envelope.MessageAttributes = {
        ...(envelope.MessageAttributes as object),
        ...Object.fromEntries(Object.entries(attributes).map(([k, a]) => [k, { Type: a.dataType, Value: a.stringValue }])),
      };
      return sqsRecord(JSON.stringify(envelope));
    }),
);

test('bad records never crash a consumer, are each reported failed, and change nothing', async () => {
  const before = await dynamo.scanAll(table);
  await fc.assert(fc.asyncProperty(fc.array(badRecord, { minLength: 1, maxLength: 5 }), fc.constantFrom(0, 1, 2), async (records, which) => {
    const response = await consumers[which].invoke(sqsEvent(records));

    expect(response.batchItemFailures).toEqual(records.map((r) => ({ itemIdentifier: r.messageId })));
  }), { numRuns: 120 });
  expect(await dynamo.scanAll(table)).toEqual(before);
});

test('events that are not objects, or records without a body, are failures too', async () => {
  const before = await dynamo.scanAll(table);
  const noBody = { ...sqsRecord('x'), body: undefined } as unknown as SQSRecord;
  const nullAttributes = { ...sqsRecord(JSON.stringify(orderEvent())), messageAttributes: null } as unknown as SQSRecord;

  for (const consumer of consumers) {
    expect(await consumer.invoke({ Records: [] })).toEqual({ batchItemFailures: [] });
    expect(await consumer.invoke(undefined as never)).toEqual({ batchItemFailures: [] });
    expect((await consumer.invoke(sqsEvent([noBody]))).batchItemFailures).toEqual([{ itemIdentifier: noBody.messageId }]);
    expect((await consumer.invoke(sqsEvent([nullAttributes]))).batchItemFailures).toEqual([]);
  }
  expect((await dynamo.scanAll(table)).length).toBeGreaterThan(before.length);
});
