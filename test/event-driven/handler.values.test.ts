/**
 * The event's value representation and size handling, on hand-built stream records (shapes that
 * the SDK cannot write to a table, and the limits of the contract).
 */
import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { canonicalDecimal, decodeAttribute, encodeAttribute, exactJsonNumber } from '../../lambda/event-driven/lib/attribute-json';
import { PUT_EVENTS_LIMITS, entrySize, toChangeEvent } from '../../lambda/event-driven/lib/change-event';
import { toRequests, type PendingEvent } from '../../lambda/event-driven/lib/publish';
import { canonicalNumber } from '../helpers/dynamodb-stream';
import { schemaErrors } from '../helpers/event-driven';

const OPTIONS = { entity: 'order', source: 'com.example.orders', eventBus: 'bus' };

function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', images: { NewImage?: unknown; OldImage?: unknown }, keys: unknown = { pk: { S: 'k' } }): DynamoDBRecord {
  return JSON.parse(JSON.stringify({
    eventID: 'a'.repeat(32),
    eventName,
    eventSource: 'aws:dynamodb',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000',
    dynamodb: { ApproximateCreationDateTime: 1_767_225_600, Keys: keys, SequenceNumber: '4200000000000000000001', StreamViewType: 'NEW_AND_OLD_IMAGES', ...images },
  })) as DynamoDBRecord;
}

describe('numbers', () => {
  test('a number is a JSON number exactly when the double prints back to the same decimal value', () => {
    expect(exactJsonNumber('12.50')).toBe(12.5);
    expect(exactJsonNumber('1E+100')).toBe(1e100);
    expect(exactJsonNumber('-0')).toBe(0);
    expect(exactJsonNumber('9007199254740993')).toBeUndefined(); // 2^53 + 1
    expect(exactJsonNumber('0.1000000000000000000001')).toBeUndefined();
    expect(encodeAttribute({ N: '12345678901234567890123456789012345678' })).toEqual({ $n: '12345678901234567890123456789012345678' });
  });

  test('every 38-digit decimal survives encode -> JSON text -> decode with its exact value', () => {
    const decimal = fc.tuple(fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }), fc.integer({ min: -130, max: 87 }))
      .map(([digits, exponent]) => `${digits}E${exponent}`);
    fc.assert(fc.property(decimal, (text) => {
      const json = JSON.parse(JSON.stringify(encodeAttribute({ N: text })));
      expect(canonicalNumber(decodeAttribute(json).N!)).toBe(canonicalNumber(text));
    }), { numRuns: 500 });
  });

  test('canonicalDecimal agrees with an independent implementation', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
      expect(canonicalDecimal(String(d))).toBe(canonicalNumber(String(d)));
    }), { numRuns: 300 });
  });
});

describe('odd shapes', () => {
  test('attribute names like __proto__, constructor and tag names are plain keys of the JSON objects', () => {
    const conversion = toChangeEvent(record('INSERT', {
      NewImage: JSON.parse('{"pk":{"S":"k"},"__proto__":{"S":"p"},"constructor":{"M":{"$n":{"S":"x"}}},"$b":{"N":"1"}}'),
    }), OPTIONS);

    expect(conversion.kind).toBe('event');
    const detail = JSON.parse((conversion as { entry: { Detail: string } }).entry.Detail) as Record<string, unknown>;
    expect(Object.keys(detail.item as object).sort()).toEqual(['$b', '__proto__', 'constructor', 'pk']);
    expect(Object.getPrototypeOf(detail.item)).toBe(Object.prototype);
    expect(JSON.stringify((detail.item as Record<string, unknown>).constructor)).toBe('{"$m":{"$n":"x"}}');
    expect(detail.changedFields).toEqual(['$b', '__proto__', 'constructor', 'pk']);
    expect(schemaErrors('order.created.v1', detail)).toEqual([]);
  });

  test('malformed attribute values and records are invalid, never published', () => {
    const bad: DynamoDBRecord[] = [
      record('INSERT', { NewImage: { x: { S: 1 } } }),
      record('INSERT', { NewImage: { x: { N: 'NaN' } } }),
      record('INSERT', { NewImage: { x: { SS: [] } } }),
      record('INSERT', { NewImage: { x: { S: 'a', N: '1' } } }),
      record('MODIFY', { NewImage: { x: { S: 'a' } } }), // no OldImage: not NEW_AND_OLD_IMAGES
      record('INSERT', { NewImage: { x: { S: 'a' } } }, {}),
      { ...record('INSERT', { NewImage: {} }), eventName: 'UPSERT' } as unknown as DynamoDBRecord,
    ];
    for (const r of bad) expect(toChangeEvent(r, OPTIONS).kind).toBe('invalid');
  });
});

describe('size', () => {
  test('an item whose attribute names alone exceed 256 KB: published truncated, without changedFields, still schema-valid', () => {
    const image: Record<string, unknown> = { pk: { S: 'k' } };
    for (let i = 0; i < 30_000; i++) image[`attribute-${String(i).padStart(5, '0')}`] = { BOOL: true };

    const conversion = toChangeEvent(record('REMOVE', { OldImage: image }), OPTIONS);

    expect(conversion.kind).toBe('event');
    const { detail, sizeBytes } = conversion as unknown as { detail: Record<string, unknown>; sizeBytes: number };
    expect(detail).toMatchObject({ truncated: true, change: 'deleted' });
    expect(detail).not.toHaveProperty('changedFields');
    expect(sizeBytes).toBeLessThanOrEqual(PUT_EVENTS_LIMITS.maxEventEntryBytes);
    expect(schemaErrors('order.deleted.v1', detail)).toEqual([]);
  });

  test('an entry within the PutEvents limit but without room for the delivered event\'s envelope is truncated', () => {
    // Prepare: an item whose full entry lands between the two limits.
    const base = toChangeEvent(record('INSERT', { NewImage: { pk: { S: 'k' }, blob: { S: '' } } }), OPTIONS) as { sizeBytes: number };
    const fill = PUT_EVENTS_LIMITS.maxEventEntryBytes - base.sizeBytes + 1_000;
    const image = { pk: { S: 'k' }, blob: { S: 'x'.repeat(fill) } };

    // Act
    const conversion = toChangeEvent(record('INSERT', { NewImage: image }), OPTIONS) as { kind: string; detail: Record<string, unknown>; sizeBytes: number };

    // Assess: the full entry would have been accepted by PutEvents, yet is sent truncated.
    expect(base.sizeBytes + fill).toBeLessThan(PUT_EVENTS_LIMITS.maxBytes);
    expect(conversion.kind).toBe('event');
    expect(conversion.detail).toMatchObject({ truncated: true });
    expect(conversion.sizeBytes).toBeLessThanOrEqual(PUT_EVENTS_LIMITS.maxEventEntryBytes);
  });

  test('the largest keys DynamoDB allows, escaped to 6 JSON bytes per byte, still fit in the smallest form', () => {
    const keys = { pk: { S: '\u0001'.repeat(2048) }, sk: { B: Buffer.alloc(1024, 255).toString('base64') } };
    const image: Record<string, unknown> = { ...keys, blob: { S: 'x'.repeat(390_000) } };

    const conversion = toChangeEvent(record('INSERT', { NewImage: image }, keys), OPTIONS);

    expect(conversion.kind).toBe('event');
    expect((conversion as { sizeBytes: number }).sizeBytes).toBeLessThan(30_000);
  });

  test('entry size counts Time (14 bytes), Source, DetailType, Detail and Resources in UTF-8 bytes', () => {
    expect(entrySize({ Source: 'sé', DetailType: 'x', Detail: '{"a":"€"}', Resources: ['r1'] })).toBe(14 + 3 + 1 + 11 + 2);
  });

  test('requests hold at most 10 entries and 256 KB, in order', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 100, max: PUT_EVENTS_LIMITS.maxBytes }), { maxLength: 60 }), (sizes) => {
      const events: PendingEvent[] = sizes.map((sizeBytes, recordIndex) => ({ recordIndex, sizeBytes, eventId: String(recordIndex), entry: {} }));
      const requests = toRequests(events);
      expect(requests.flat().map((e) => e.recordIndex)).toEqual(sizes.map((_, i) => i));
      for (const r of requests) {
        expect(r.length).toBeLessThanOrEqual(10);
        expect(r.reduce((s, e) => s + e.sizeBytes, 0)).toBeLessThanOrEqual(PUT_EVENTS_LIMITS.maxBytes);
      }
      // Greedy: a request closes only when the next event would not fit.
      for (let i = 0; i + 1 < requests.length; i++) {
        const bytes = requests[i].reduce((s, e) => s + e.sizeBytes, 0);
        expect(requests[i].length === 10 || bytes + requests[i + 1][0].sizeBytes > PUT_EVENTS_LIMITS.maxBytes).toBe(true);
      }
    }), { numRuns: 200 });
  });
});
