/**
 * The projection consumer when DynamoDB applies its conditional PutItem but the answer is lost
 * (test/helpers/dynamo-fault-proxy.ts resets the connection instead): the SDK sends the write
 * again, its condition fails because the first attempt applied, and the consumer recognises its
 * own write (the write token it put) and answers as after one write. When every answer is lost,
 * the invocation fails; Lambda's retry of the event then finds it applied.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { lambdaContext } from '../helpers/api-gateway-events';
import { useDynamoBehindFaultProxy } from '../helpers/dynamo-fault-proxy';
import { StreamCapture } from '../helpers/dynamodb-stream';
import { envelopesOf, loadConsumer, type TestEnvelope } from '../helpers/event-driven';

const local = useDynamoBehindFaultProxy();
let n = 0;

afterEach(() => {
  local.proxy.loseResponses('PutItem', 0);
});

async function createdEvent(): Promise<TestEnvelope> {
  const source = await local.dynamo.createTable();
  const capture = new StreamCapture(local.dynamo.client, source);
  await capture.put({ pk: { S: `ORDER#${++n}` }, sk: { S: 'A' }, amount: { N: '5' } });
  return envelopesOf(capture.drain())[0];
}

async function items(table: string): Promise<Array<Record<string, AttributeValue>>> {
  return local.dynamo.scanAll(table);
}

test('a lost answer of the first attempt: applied once, answered as applied', async () => {
  const table = await local.dynamo.createTable();
  const consumer = loadConsumer({ TABLE_NAME: table });
  const event = await createdEvent();
  const before = local.proxy.forwarded('PutItem');
  local.proxy.loseResponses('PutItem', 1);

  const result = await consumer.invoke(event);

  expect(result).toEqual({ eventId: event.detail.eventId, outcome: 'applied' });
  expect(local.proxy.forwarded('PutItem') - before).toBe(2);
  const stored = await items(table);
  expect(stored).toHaveLength(1);
  expect(stored[0].eventId).toEqual({ S: event.detail.eventId });
});

test('every answer lost: the invocation fails; Lambda retries the event (same request id) and it is one write', async () => {
  const table = await local.dynamo.createTable();
  const consumer = loadConsumer({ TABLE_NAME: table });
  const event = await createdEvent();
  const context = lambdaContext({ functionName: 'projection-consumer', getRemainingTimeInMillis: () => 60_000 });
  local.proxy.loseResponses('PutItem', 100);

  await expect(consumer.invoke(event, context)).rejects.toThrow();
  local.proxy.loseResponses('PutItem', 0);
  const stored = await items(table);
  expect(stored).toHaveLength(1);

  // Lambda's asynchronous retry keeps the request id: the consumer sees its own write.
  expect(await consumer.invoke(event, context)).toEqual({ eventId: event.detail.eventId, outcome: 'applied' });
  // Another delivery of the event (EventBridge's at-least-once): a duplicate.
  expect(await consumer.invoke(event)).toEqual({ eventId: event.detail.eventId, outcome: 'duplicate' });
  expect(await items(table)).toEqual(stored);
});
