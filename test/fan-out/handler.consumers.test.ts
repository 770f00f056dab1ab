/**
 * Fan-out consumers against a local DynamoDB engine (dynalite), with SQS events in the real shapes
 * of an SNS -> SQS subscription (SNS notification envelope, and raw message delivery).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { CONSUMERS, loadConsumer, orderEvent, publishOf, type ConsumerName, type LoadedConsumer, type TestOrderEvent } from '../helpers/fan-out';
import { envelopeRecord, rawRecord, redelivered, redeliveryOf, sqsEvent, sqsRecord } from '../helpers/sqs-events';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.stop();
});

async function freshConsumer(name: ConsumerName, fifo = false): Promise<{ consumer: LoadedConsumer; table: string }> {
  const table = await dynamo.createTable();
  return { consumer: loadConsumer(name, { TABLE_NAME: table, ...(fifo ? { FIFO: 'true' } : {}) }), table };
}

function item(items: Array<Record<string, AttributeValue>>, pk: string, sk: string): Record<string, AttributeValue> | undefined {
  return items.find((i) => i.pk.S === pk && i.sk.S === sk);
}

/** Items without the per-delivery metadata of the audit log (which copy was first differs between runs). */
function withoutDeliveryMetadata(items: Array<Record<string, AttributeValue>>): unknown {
  return items.map(({ recordedAt, sqsMessageId, snsMessageId, topicArn, publishedAt, delivery, ...rest }) => rest);
}

/** Sums a numeric attribute of the items whose pk/sk match, as an exact decimal string (5 decimals). */
function sumOf(items: Array<Record<string, AttributeValue>>, filter: (i: Record<string, AttributeValue>) => boolean, attribute: string): bigint {
  return items.filter(filter).reduce((acc, i) => acc + toUnits(i[attribute].N!), 0n);
}

/** A decimal string as an integer number of 1e-5 units (exact). */
function toUnits(decimal: string): bigint {
  const [whole, fraction = ''] = decimal.split('.');
  return BigInt(whole) * 100_000n + BigInt(fraction.padEnd(5, '0'));
}

describe.each(CONSUMERS.map((c) => [c]))('%s', (name) => {
  test('applies envelope and raw deliveries, and a redelivery of the same batch changes nothing', async () => {
    // Prepare
    const { consumer, table } = await freshConsumer(name);
    const events = [orderEvent(), orderEvent({ type: 'paid', amount: 250 }), orderEvent({ customerId: 'customer-2', amount: 999.99 })];
    const batch = sqsEvent([envelopeRecord(publishOf(events[0])), rawRecord(publishOf(events[1])), envelopeRecord(publishOf(events[2]))]);

    // Act
    const first = await consumer.invoke(batch);
    const afterFirst = await dynamo.scanAll(table);
    const second = await consumer.invoke(redelivered(batch));

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(afterFirst.length).toBeGreaterThan(0);
    expect(await dynamo.scanAll(table)).toEqual(afterFirst);
  });

  test('a poison message fails exactly that message, and the rest apply', async () => {
    // Prepare
    const { consumer, table } = await freshConsumer(name);
    const good = [orderEvent(), orderEvent()];
    const poisons = [
      sqsRecord('{not json'),
      envelopeRecord({ message: 'not json either' }),
      sqsRecord(JSON.stringify({ Type: 'Notification', Message: '{}' })),
      rawRecord(publishOf({ ...good[0], amount: -1 })),
      rawRecord({ ...publishOf(good[0]), attributes: { ...publishOf(good[0]).attributes, amount: { DataType: 'Number', StringValue: '1' } } }),
    ];
    const reference = await freshConsumer(name);
    await reference.consumer.invoke(sqsEvent(good.map((e) => rawRecord(publishOf(e)))));

    for (const poison of poisons) {
      // Act
      const response = await consumer.invoke(sqsEvent([envelopeRecord(publishOf(good[0])), poison, rawRecord(publishOf(good[1]))]));

      // Assess
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: poison.messageId }]);
    }
    expect(withoutDeliveryMetadata(await dynamo.scanAll(table))).toEqual(withoutDeliveryMetadata(await dynamo.scanAll(reference.table)));
  });

  test('FIFO: after the first failure the rest of the batch is reported failed', async () => {
    // Prepare
    const { consumer, table } = await freshConsumer(name, true);
    const events = [orderEvent(), orderEvent({ customerId: 'customer-2' }), orderEvent()];
    const records = [
      rawRecord(publishOf(events[0]), { messageGroupId: events[0].customerId }),
      sqsRecord('{bad', { messageGroupId: 'customer-9' }),
      rawRecord(publishOf(events[1]), { messageGroupId: events[1].customerId }),
      envelopeRecord(publishOf(events[2]), { messageGroupId: events[2].customerId }),
    ];

    // Act
    const response = await consumer.invoke(sqsEvent(records));

    // Assess
    expect(response.batchItemFailures).toEqual(records.slice(1).map((r) => ({ itemIdentifier: r.messageId })));
    const after = await dynamo.scanAll(table);
    const solo = await freshConsumer(name);
    await solo.consumer.invoke(sqsEvent([records[0]]));
    expect(withoutDeliveryMetadata(after)).toEqual(withoutDeliveryMetadata(await dynamo.scanAll(solo.table)));
  });
});

describe('audit-consumer', () => {
  test('stores every event once, keyed by eventId, with its SNS metadata', async () => {
    const { consumer, table } = await freshConsumer('audit-consumer');
    const event = orderEvent({ eventId: 'A3C1E2F4-5B6D-4E7F-8A9B-0C1D2E3F4A5B', amount: 0.00001 });
    const record = envelopeRecord({ ...publishOf(event), snsMessageId: '9d0c7b64-5c1b-5f3e-9c0a-3b0f0c1e2d3f' });

    await consumer.invoke(sqsEvent([record]));

    const items = await dynamo.scanAll(table);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      pk: { S: 'AUDIT#a3c1e2f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b' },
      sk: { S: 'EVENT' },
      eventId: { S: 'a3c1e2f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b' },
      orderId: { S: event.orderId },
      amount: { N: '0.00001' },
      delivery: { S: 'envelope' },
      snsMessageId: { S: '9d0c7b64-5c1b-5f3e-9c0a-3b0f0c1e2d3f' },
      topicArn: { S: 'arn:aws:sns:us-east-1:123456789012:order-events' },
      sqsMessageId: { S: record.messageId },
    });
  });
});

describe('high-value-consumer', () => {
  test('totals per customer, currency and month are exact after shuffled, repeated deliveries', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({
        customer: fc.constantFrom('c1', 'c2'),
        currency: fc.constantFrom('EUR', 'USD'),
        cents: fc.integer({ min: 10_000, max: 100_000_000 }),
        month: fc.constantFrom('01', '02'),
        type: fc.constantFrom<TestOrderEvent['type']>('created', 'paid', 'shipped'),
        order: fc.constantFrom('o1', 'o2', 'o3'),
      }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
      async (specs, shuffle) => {
        // Prepare
        const { consumer, table } = await freshConsumer('high-value-consumer');
        const events = specs.map((s) => orderEvent({
          customerId: s.customer, currency: s.currency, amount: s.cents / 1000, type: s.type, orderId: s.order, occurredAt: `2025-${s.month}-15T10:00:00Z`,
        }));
        const deliveries = [...events, ...events, ...events.slice(0, 3)]
          .map((e, i) => (i % 2 === 0 ? rawRecord(publishOf(e)) : envelopeRecord(publishOf(e))));
        const shuffled = deliveries.map((d, i) => ({ d, k: shuffle[i % shuffle.length] + i / 1000 })).sort((a, b) => a.k - b.k).map((x) => x.d);

        // Act
        for (let i = 0; i < shuffled.length; i += 7) {
          const response = await consumer.invoke(sqsEvent(shuffled.slice(i, i + 7)));
          expect(response.batchItemFailures).toEqual([]);
        }

        // Assess
        const items = await dynamo.scanAll(table);
        for (const customer of ['c1', 'c2']) {
          for (const currency of ['EUR', 'USD']) {
            for (const month of ['01', '02']) {
              const mine = specs.filter((s) => s.customer === customer && s.currency === currency && s.month === month);
              const total = item(items, `HV#${customer}`, `TOTAL#${currency}#2025-${month}`);
              if (mine.length === 0) {
                expect(total).toBeUndefined();
                continue;
              }
              expect(toUnits(total!.totalAmount.N!)).toBe(mine.reduce((acc, s) => acc + BigInt(s.cents) * 100n, 0n));
              expect(total!.eventCount.N).toBe(String(mine.length));
            }
          }
          for (const order of ['o1', 'o2', 'o3']) {
            const types = [...new Set(specs.filter((s) => s.customer === customer && s.order === order).map((s) => s.type))].sort();
            const flag = item(items, `HV#${customer}`, `ORDER#${order}`);
            if (types.length === 0) expect(flag).toBeUndefined();
            else expect([...flag!.eventTypes.SS!].sort()).toEqual(types);
          }
        }
        expect(sumOf(items, (i) => i.sk.S!.startsWith('TOTAL#'), 'eventCount')).toBe(BigInt(events.length) * 100_000n);
      },
    ), { numRuns: 6 });
  });
});

describe('projection-consumer', () => {
  const RANK = { created: 1, paid: 2, shipped: 3, cancelled: 4 } as const;

  test('status never moves backwards, and per-type counts are exact, after shuffled redeliveries', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({
        order: fc.constantFrom('o1', 'o2'),
        type: fc.constantFrom<TestOrderEvent['type']>('created', 'paid', 'shipped', 'cancelled'),
        minute: fc.integer({ min: 0, max: 3 }),
        hour: fc.constantFrom('10', '11'),
      }), { minLength: 1, maxLength: 10 }),
      fc.array(fc.nat(), { minLength: 25, maxLength: 25 }),
      async (specs, shuffle) => {
        // Prepare
        const { consumer, table } = await freshConsumer('projection-consumer');
        const events = specs.map((s) => orderEvent({ orderId: s.order, type: s.type, occurredAt: `2025-01-31T${s.hour}:0${s.minute}:00Z` }));
        const deliveries = [...events, ...events.slice(1), ...events.slice(0, 2)]
          .map((e, i) => (i % 3 === 0 ? rawRecord(publishOf(e)) : envelopeRecord(publishOf(e))));
        const shuffled = deliveries.map((d, i) => ({ d, k: shuffle[i % shuffle.length] + i / 1000 })).sort((a, b) => a.k - b.k).map((x) => x.d);

        // Act / Assess: after every batch, each order's status is the highest position seen so far
        const seen: TestOrderEvent[] = [];
        let previousRank: Record<string, number> = {};
        for (let i = 0; i < shuffled.length; i += 4) {
          const batch = shuffled.slice(i, i + 4);
          const response = await consumer.invoke(sqsEvent(batch));
          expect(response.batchItemFailures).toEqual([]);
          seen.push(...batch.map((r) => events.find((e) => r.body.includes(e.eventId))!));
          const items = await dynamo.scanAll(table);
          const ranks: Record<string, number> = {};
          for (const order of ['o1', 'o2']) {
            const status = item(items, `ORDER#${order}`, 'STATUS');
            const mine = seen.filter((e) => e.orderId === order);
            if (mine.length === 0) continue;
            const best = [...mine]
              .sort((a, b) => RANK[a.type] - RANK[b.type] || Date.parse(a.occurredAt) - Date.parse(b.occurredAt) || (a.eventId < b.eventId ? -1 : 1))
              .pop()!;
            expect(status?.eventId.S).toBe(best.eventId);
            expect(status?.status.S).toBe(best.type);
            ranks[order] = Number(status!.statusRank.N);
            expect(ranks[order]).toBeGreaterThanOrEqual(previousRank[order] ?? 0);
          }
          previousRank = ranks;
        }
        const items = await dynamo.scanAll(table);
        for (const type of ['created', 'paid', 'shipped', 'cancelled'] as const) {
          const expected = specs.filter((s) => s.type === type).length;
          expect(sumOf(items, (i) => i.pk.S === `TYPECOUNT#${type}`, 'eventCount')).toBe(BigInt(expected) * 100_000n);
        }
      },
    ), { numRuns: 6 });
  });

  test('an older or same-rank earlier event does not overwrite a later status', async () => {
    const { consumer, table } = await freshConsumer('projection-consumer');
    const shipped = orderEvent({ orderId: 'o-1', type: 'shipped', occurredAt: '2025-01-31T12:00:00Z' });
    const created = orderEvent({ orderId: 'o-1', type: 'created', occurredAt: '2025-01-31T13:00:00Z' });
    const paid = orderEvent({ orderId: 'o-1', type: 'paid', occurredAt: '2025-01-31T11:00:00+01:00' });

    await consumer.invoke(sqsEvent([rawRecord(publishOf(shipped))]));
    await consumer.invoke(sqsEvent([envelopeRecord(publishOf(created)), rawRecord(publishOf(paid))]));

    const status = item(await dynamo.scanAll(table), 'ORDER#o-1', 'STATUS');
    expect(status).toMatchObject({ status: { S: 'shipped' }, statusRank: { N: '3' }, eventId: { S: shipped.eventId }, occurredAtMs: { N: String(Date.parse(shipped.occurredAt)) } });
  });
});

describe('redelivery after a partial failure', () => {
  test('only the failed messages come back, and they apply once', async () => {
    const { consumer, table } = await freshConsumer('projection-consumer');
    const events = [orderEvent(), orderEvent()];
    const batch = sqsEvent([rawRecord(publishOf(events[0])), sqsRecord('poison'), envelopeRecord(publishOf(events[1]))]);

    const first = await consumer.invoke(batch);
    const before = await dynamo.scanAll(table);
    const retry = await consumer.invoke(redeliveryOf(batch, first));

    expect(first.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[1].messageId }]);
    expect(retry.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[1].messageId }]);
    expect(await dynamo.scanAll(table)).toEqual(before);
  });
});
