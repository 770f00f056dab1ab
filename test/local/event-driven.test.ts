/**
 * The event-driven example through the local runner: a write to the orders table becomes a
 * DynamoDB stream record (captured by the runner's DynamoDB proxy), the publisher's mapping turns
 * it into an `order.created.v1` event on the local bus, and the rules deliver it: the projection
 * consumer stores the order, and the large-orders rule sends its transformed input to its queue.
 */
import { DynamoDBClient, PutItemCommand, paginateScan, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventDrivenExampleStack } from '../../examples/event-driven';
import { useLocalStack } from '../helpers/local-runner';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('the event-driven example, run locally', () => {
  const running = useLocalStack((app) => new EventDrivenExampleStack(app, 'EventDrivenExample'));

  test('an order written to the table is projected, and a large one reaches its subscriber queue reshaped', async () => {
    const env = running.local.clientEnvironment();
    const dynamodb = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region: env.AWS_REGION, credentials });
    const sqs = new SQSClient({ endpoint: env.AWS_ENDPOINT_URL_SQS, region: env.AWS_REGION, credentials });
    try {
      await dynamodb.send(new PutItemCommand({
        TableName: running.local.ref('OrdersTable1F8332C7'),
        Item: { pk: { S: 'order-1' }, sk: { S: 'ORDER' }, status: { S: 'placed' }, total: { N: '1500' } },
      }));
      await running.local.settled();

      const projected: Array<Record<string, AttributeValue>> = [];
      const projection = running.local.ref('OrdersProjectionTableDA50745A');
      for await (const page of paginateScan({ client: dynamodb }, { TableName: projection, ConsistentRead: true })) {
        projected.push(...(page.Items ?? []));
      }
      expect(projected.map((item) => ({ change: item.change?.S, keys: item.keys?.M?.pk?.S, status: item.item?.M?.status?.S }))).toEqual([
        { change: 'created', keys: 'order-1', status: 'placed' },
      ]);

      const largeOrders = running.local.ref('OrdersLargeOrdersQueue432A29B4');
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: largeOrders, MaxNumberOfMessages: 10 }));
      expect(received.Messages?.map((m) => JSON.parse(m.Body!) as unknown)).toEqual([
        { orderId: 'order-1', total: 1500, at: expect.any(String) as unknown },
      ]);
      // A created order changed no field: the status-changes subscriber does not get it.
      const statusQueue = running.local.ref('OrdersStatusChangesQueueEA73608F');
      const statusChanges = await sqs.send(new ReceiveMessageCommand({ QueueUrl: statusQueue, MaxNumberOfMessages: 10 }));
      expect(statusChanges.Messages ?? []).toEqual([]);
    } finally {
      dynamodb.destroy();
      sqs.destroy();
    }
  });
});
