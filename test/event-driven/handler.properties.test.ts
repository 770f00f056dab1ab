/**
 * Property tests of the publisher over hostile item shapes written to dynalite (binary, sets,
 * 38-digit numbers, deep maps, odd attribute names, unicode, items whose event exceeds 256 KB) and
 * over corrupted stream records. For every record: its event is published (schema-valid, lossless
 * unless truncated), or the answer reports it or an earlier record (Lambda resends from there).
 * A change is never silently lost, and nothing is published under an id that is not a record's.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { decodeAttributeMap } from '../../lambda/event-driven/lib/attribute-json';
import { useDynaliteTable } from '../helpers/dynalite';
import { StreamCapture, canonicalItem, streamEvent, type Item } from '../helpers/dynamodb-stream';
import { useLocalEventBus } from '../helpers/event-bus';
import { TEST_ENTITY, TEST_SOURCE, loadPublisher, schemaErrors, type LoadedPublisher } from '../helpers/event-driven';

const local = useDynaliteTable();
const engine = useLocalEventBus({ busName: 'hostile-bus' });
let publisher: LoadedPublisher;

beforeAll(() => {
  publisher = loadPublisher({ EVENT_BUS_NAME: engine.bus.busName, EVENT_SOURCE: TEST_SOURCE, ENTITY_NAME: TEST_ENTITY });
});

/** `__proto__` is left out here: the SDK's serializer cannot write it (test/event-driven/handler.values.test.ts feeds it in a record). */
const attributeName = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }),
  fc.constantFrom('constructor', 'toString', '$n', '$m', '$ss', '$b', 'a.b', '#x', ':v', ' ', 'é', '😀', 'a/b', '~0', '\u0001', 'x'.repeat(255)),
).filter((n) => n !== 'pk' && n !== 'sk' && n !== '__proto__');

const numberText = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }).map(String),
  fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 37n }), fc.integer({ min: 1, max: 60 })).map(([digits, scale]) => {
    const s = digits.toString().padStart(scale + 1, '0');
    return `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  }),
  fc.constantFrom('0', '-0', '1E+100', '9.9999999999999999999999999999999999999E+125', '1E-130', '-1e-7', '0.1', '1.50'),
);

const unicodeString = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/[\uD800-\uDFFF]/g, '?')));

const { value } = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    unicodeString.map((S) => ({ S })),
    numberText.map((N) => ({ N })),
    fc.uint8Array({ maxLength: 24 }).map((B) => ({ B })),
    fc.boolean().map((BOOL) => ({ BOOL })),
    fc.constant({ NULL: true }),
    fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 0, maxLength: 10 }), { minLength: 1, maxLength: 5 }).map((SS) => ({ SS })),
    fc.uniqueArray(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 5 }).map((ns) => ({ NS: ns.map(String) })),
    fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4, selector: (b) => Buffer.from(b).toString('hex') })
      .map((BS) => ({ BS })),
    fc.array(tie('value'), { maxLength: 4 }).map((L) => ({ L })),
    fc.dictionary(attributeName, tie('value'), { maxKeys: 4, noNullPrototype: true }).map((M) => ({ M })),
  ),
}));

/** Maps nested `depth` levels deep (DynamoDB allows 32). */
const deepMap = fc.integer({ min: 1, max: 30 }).map((depth) => {
  let v: AttributeValue = { S: 'bottom' };
  for (let i = 0; i < depth; i++) v = { M: { [`level${i}`]: v } };
  return v;
});

/** Big strings: 1-byte or multi-byte characters, up to about 380 KB (DynamoDB's item limit is 400 KB). */
const bigString = fc.tuple(fc.integer({ min: 100_000, max: 380_000 }), fc.constantFrom('a', 'é', '€', '😀', '"', '\u0001')).map(([bytes, ch]) => ({
  S: ch.repeat(Math.floor(bytes / Buffer.byteLength(ch))),
}));

const hostileAttributes = fc.tuple(
  fc.dictionary(attributeName, fc.oneof({ weight: 6, arbitrary: value }, { weight: 1, arbitrary: deepMap }), { maxKeys: 6, noNullPrototype: true }),
  fc.option(bigString, { freq: 3 }),
).map(([attributes, big]) => (big === null ? attributes : { ...attributes, big }));

let run = 0;

function eventsById(): Map<string, Array<Record<string, unknown>>> {
  const byId = new Map<string, Array<Record<string, unknown>>>();
  for (const r of engine.bus.received) {
    expect(schemaErrors(r.event['detail-type'], r.event.detail)).toEqual([]);
    const id = r.event.detail.eventId as string;
    byId.set(id, [...(byId.get(id) ?? []), r.event.detail]);
  }
  return byId;
}

/** Every record is published or at/after the reported one; no unknown id; returns the published details by id. */
function expectNothingLost(records: readonly DynamoDBRecord[], reported: string | undefined): Map<string, Array<Record<string, unknown>>> {
  const byId = eventsById();
  const known = new Set(records.map((r) => r.eventID));
  expect([...byId.keys()].filter((id) => !known.has(id))).toEqual([]);
  const reportedIndex = reported === undefined ? records.length : records.findIndex((r) => r.dynamodb?.SequenceNumber === reported);
  expect(reportedIndex).toBeGreaterThanOrEqual(0);
  records.forEach((r, i) => {
    if (i < reportedIndex) expect([i, byId.has(r.eventID!)]).toEqual([i, true]);
  });
  return byId;
}

test('hostile items written to DynamoDB: each change is published losslessly or truncated, never lost', async () => {
  await fc.assert(fc.asyncProperty(hostileAttributes, hostileAttributes, async (first, second) => {
    engine.bus.reset();
    const firstSequenceNumber = 300_000_000_000_000_000_000n + BigInt(++run) * 10n ** 9n;
    const capture = new StreamCapture(local.dynamo.client, local.tableName, { firstSequenceNumber });
    const key = { pk: { S: `HOSTILE#${run}` }, sk: { S: 'A' } };
    await capture.put({ ...first, ...key } as Item);
    await capture.put({ ...second, ...key } as Item);
    await capture.delete(key);
    const records = capture.drain();

    const response = await publisher.invoke(streamEvent(records));

    expect(response).toEqual({ batchItemFailures: [] });
    const byId = expectNothingLost(records, undefined);
    for (const record of records) {
      const [detail] = byId.get(record.eventID!)!;
      const image = (record.eventName === 'REMOVE' ? record.dynamodb!.OldImage : record.dynamodb!.NewImage) as Record<string, AttributeValue>;
      if (detail.truncated === true) {
        // Only when the full event (item, and previous for an update) would not fit.
        expect(Buffer.byteLength(JSON.stringify(record.dynamodb))).toBeGreaterThan(100_000);
        expect(detail).not.toHaveProperty('item');
      } else {
        const decoded = decodeAttributeMap(detail.item as Record<string, unknown>);
        const lambdaImage = Object.fromEntries(Object.entries(image).map(([k, v]) => [k, fromLambda(v)]));
        expect(canonicalItem(decoded)).toBe(canonicalItem(lambdaImage));
      }
    }
  }), { numRuns: 30 });
});

/** Lambda's JSON form (B as base64) back to SDK form. */
function fromLambda(v: AttributeValue): AttributeValue {
  const x = v as unknown as Record<string, unknown>;
  if (typeof x.B === 'string') return { B: Buffer.from(x.B, 'base64') };
  if (Array.isArray(x.BS)) return { BS: (x.BS as string[]).map((b) => Buffer.from(b, 'base64')) };
  if (Array.isArray(x.L)) return { L: (x.L as AttributeValue[]).map(fromLambda) };
  if (x.M !== undefined) return { M: Object.fromEntries(Object.entries(x.M as Record<string, AttributeValue>).map(([k, e]) => [k, fromLambda(e)])) };
  return v;
}

/** A valid record with one part replaced by arbitrary JSON. */
const corruption = fc.tuple(
  fc.constantFrom('eventName', 'eventID', 'dynamodb', 'dynamodb.Keys', 'dynamodb.NewImage', 'dynamodb.OldImage', 'dynamodb.ApproximateCreationDateTime',
    'dynamodb.NewImage.n', 'dynamodb.Keys.pk', 'dynamodb.NewImage.n.N', 'userIdentity'),
  fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined), fc.constantFrom({ S: 1 }, { N: 'abc' }, { SS: [] }, { B: '***' }, { M: [] }, { L: {} }, { X: 'y' })),
);

test('corrupted stream records: published schema-valid, or reported; never published under another id', async () => {
  const capture = new StreamCapture(local.dynamo.client, local.tableName, { firstSequenceNumber: 500_000_000_000_000_000_000n });
  for (let i = 0; i < 4; i++) await capture.put({ pk: { S: `CORRUPT#${i}` }, sk: { S: 'A' }, n: { N: String(i) } });
  await capture.update({ pk: { S: 'CORRUPT#0' }, sk: { S: 'A' } }, { UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': { N: '9' } } });
  const clean = capture.drain();

  await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: clean.length - 1 }), corruption, async (index, [path, replacement]) => {
    engine.bus.reset();
    const records = JSON.parse(JSON.stringify(clean)) as DynamoDBRecord[];
    const parts = path.split('.');
    let target = records[index] as unknown as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) target = target[p] as Record<string, unknown>;
    if (replacement === undefined) delete target[parts[parts.length - 1]];
    else target[parts[parts.length - 1]] = replacement;

    const sequenceNumber = records[index].dynamodb?.SequenceNumber;
    if (typeof sequenceNumber !== 'string' || sequenceNumber === '') {
      // Not reportable on its own: the invocation fails, and Lambda sends the whole batch again (bisecting it).
      await expect(publisher.invoke({ Records: records })).rejects.toThrow(expect.objectContaining({ name: 'UnidentifiableRecordError' }));
      return;
    }
    const response = await publisher.invoke({ Records: records });

    const reported = response.batchItemFailures[0]?.itemIdentifier;
    expect(response.batchItemFailures.length).toBeLessThanOrEqual(1);
    expectNothingLost(records, reported);
    if (reported !== undefined) expect(records.findIndex((r) => r.dynamodb?.SequenceNumber === reported)).toBeLessThanOrEqual(index);
  }), { numRuns: 100 });
});
