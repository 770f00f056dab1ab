/**
 * The pre-built bundles `assets/event-driven/{publisher,projection-consumer}/index.mjs` (what Lambda
 * runs), imported in a fresh `node` process as ESM: the publisher publishes a captured stream batch
 * to the local bus (and prints its EMF metrics), the consumer projects the delivered events on
 * dynalite. Build them first with `npx projen bundle` (`npm test` does).
 */
import { useDynaliteTable } from '../helpers/dynalite';
import { StreamCapture, canonicalItem, streamEvent } from '../helpers/dynamodb-stream';
import { useLocalEventBus } from '../helpers/event-bus';
import { TEST_ENTITY, TEST_SOURCE } from '../helpers/event-driven';
import { builtBundle, invokeBundle } from '../helpers/fresh-node';

const PUBLISHER = builtBundle('event-driven', 'publisher');
const CONSUMER = builtBundle('event-driven', 'projection-consumer');
const CONTEXT = { functionName: 'bundle-test', awsRequestId: 'bundle-request', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bundle-test' };

const db = useDynaliteTable();
const engine = useLocalEventBus({ busName: 'bundle-bus' });

test('publisher and consumer bundles: a stream batch ends in a projection equal to the source', async () => {
  const capture = new StreamCapture(db.dynamo.client, db.tableName);
  await capture.put({ pk: { S: 'ORDER#1' }, sk: { S: 'A' }, amount: { N: '12345678901234567890123456789012345678' }, raw: { B: Buffer.from([0, 1]) } });
  await capture.put({ pk: { S: 'ORDER#2' }, sk: { S: 'A' }, tags: { SS: ['a'] } });
  await capture.update({ pk: { S: 'ORDER#2' }, sk: { S: 'A' } }, { UpdateExpression: 'SET note = :n', ExpressionAttributeValues: { ':n': { S: 'x' } } });
  const batch = streamEvent(capture.drain());

  const published = await invokeBundle<unknown>(PUBLISHER, [batch], CONTEXT, {
    EVENT_BUS_NAME: engine.bus.busArn,
    EVENT_SOURCE: TEST_SOURCE,
    ENTITY_NAME: TEST_ENTITY,
    POWERTOOLS_METRICS_NAMESPACE: 'Bundle/Test',
    AWS_ENDPOINT_URL_EVENTBRIDGE: engine.bus.endpoint,
  });

  expect(published.error).toBeUndefined();
  expect(published.results).toEqual([{ batchItemFailures: [] }]);
  expect(engine.bus.received).toHaveLength(3);
  const emf = published.lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(emf).toEqual([expect.objectContaining({ EventBusName: 'bundle-bus', PublishedEvents: 3, FailedPutEventsEntries: 0, UnpublishedChanges: 0 })]);

  const projectionTable = await db.dynamo.createTable();
  const consumed = await invokeBundle<{ outcome: string }>(CONSUMER, engine.bus.received.map((r) => r.event), CONTEXT, {
    TABLE_NAME: projectionTable, AWS_ENDPOINT_URL_DYNAMODB: db.dynamo.endpoint,
  });

  expect(consumed.error).toBeUndefined();
  expect(consumed.results?.map((r) => r.outcome)).toEqual(['applied', 'applied', 'applied']);
  const source = await db.dynamo.scanAll(db.tableName);
  const projected = await db.dynamo.scanAll(projectionTable);
  expect(projected.map((p) => canonicalItem(p.item.M!)).sort()).toEqual(source.map(canonicalItem).sort());
});

test('the consumer bundle rejects a malformed event with MalformedEventError', async () => {
  const projectionTable = await db.dynamo.createTable();
  const run = await invokeBundle<unknown>(CONSUMER, [{ 'detail-type': 'order.created.v1', 'detail': {} }], CONTEXT, {
    TABLE_NAME: projectionTable, AWS_ENDPOINT_URL_DYNAMODB: db.dynamo.endpoint,
  });

  expect(run.errorName).toBe('MalformedEventError');
  expect(await db.dynamo.scanAll(projectionTable)).toEqual([]);
});

test('the publisher bundle fails its cold start with the configuration problems', async () => {
  const run = await invokeBundle<unknown>(PUBLISHER, [], CONTEXT, { ENTITY_NAME: 'Order' });

  expect(run.errorName).toBe('ConfigError');
  expect(run.error).toBe('Invalid configuration: EVENT_BUS_NAME is required; EVENT_SOURCE is required; '
    + 'ENTITY_NAME must match ^[a-z][a-z0-9-]{0,39}$, got "Order"');
});
