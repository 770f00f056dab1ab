/**
 * The fan-out example through the local runner: the publisher function publishes to the local
 * SNS topic, the subscriptions' filter policies choose the queues, the consumers' event source
 * mappings process them, and the projection reads back; a poison message ends in its DLQ after
 * the queue's maxReceiveCount (the queues' clock runs fast: visibility timeouts pass at once).
 */
import { DynamoDBClient, paginateScan, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { FanOutExampleStack } from '../../examples/fan-out';
import { orderEvent } from '../helpers/fan-out';
import { useLocalStack } from '../helpers/local-runner';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('the fan-out example, run locally', () => {
  const running = useLocalStack((app) => new FanOutExampleStack(app, 'FanOutExample'), { timeScale: 1000 });

  async function scan(tableLogicalId: string): Promise<Array<Record<string, AttributeValue>>> {
    const env = running.local.clientEnvironment();
    const client = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region: env.AWS_REGION, credentials });
    const items: Array<Record<string, AttributeValue>> = [];
    for await (const page of paginateScan({ client }, { TableName: running.local.ref(tableLogicalId), ConsistentRead: true })) {
      items.push(...(page.Items ?? []));
    }
    client.destroy();
    return items;
  }

  test('a published order reaches the consumers its filter policies choose, and the projection reads back', async () => {
    const small = orderEvent({ amount: 20 });
    const large = orderEvent({ amount: 250 });

    const published = await running.local.invoke('OrderEventsPublisher684AACE0', { events: [small, large] });
    expect(published).toMatchObject({ ok: true, payload: { eventIds: [small.eventId, large.eventId] } });
    await running.local.settled();

    const keys = (await scan('OrderEventsTableE1D0AC15')).map((item) => `${item.pk?.S} ${item.sk?.S}`);
    // Both events audited and projected; only the large order passes the high-value filter (amount >= 100).
    expect(keys).toEqual(expect.arrayContaining([
      `AUDIT#${small.eventId} EVENT`, `AUDIT#${large.eventId} EVENT`,
      `ORDER#${small.orderId} STATUS`, `ORDER#${large.orderId} STATUS`,
      `HV#${large.customerId} ORDER#${large.orderId}`,
    ]));
    expect(keys).not.toContain(`HV#${small.customerId} ORDER#${small.orderId}`);
  });

  test('a poison message lands in its DLQ after maxReceiveCount receives', async () => {
    const env = running.local.clientEnvironment();
    const sqs = new SQSClient({ endpoint: env.AWS_ENDPOINT_URL_SQS, region: env.AWS_REGION, credentials });
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: running.local.ref('OrderEventsProjectionQueueE310EC02'), MessageBody: '{not json' }));
      await running.local.settled();

      const dead = await sqs.send(new ReceiveMessageCommand({
        QueueUrl: running.local.ref('OrderEventsProjectionDeadLetterQueueD19731BB'), MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'],
      }));
      expect(dead.Messages?.map((m) => m.Body)).toEqual(['{not json']);
    } finally {
      sqs.destroy();
    }
  });
});
