/**
 * The saga example through the local runner: `POST /sagas` starts the state machine on the local
 * Step Functions engine; the reserve and charge steps run the stack's functions; the confirmation
 * step (after the stock is seeded as the README says) puts its task token on the local callback queue, where the "external system" (this test)
 * reads it and answers through `POST /callbacks`; the saga then confirms and succeeds.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SagaExampleStack } from '../../examples/saga';
import { useLocalStack } from '../helpers/local-runner';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const CALLER = { 'x-local-identity': 'arn:aws:iam::123456789012:user/shop' };

describe('the saga example, run locally', () => {
  const running = useLocalStack((app) => new SagaExampleStack(app, 'SagaExample'));

  test('an order is reserved, charged, confirmed by the external system through its callback, and succeeds', async () => {
    const env = running.local.clientEnvironment();
    const sqs = new SQSClient({ endpoint: env.AWS_ENDPOINT_URL_SQS, region: env.AWS_REGION, credentials });
    const sfn = new SFNClient({ endpoint: env.AWS_ENDPOINT_URL_SFN, region: env.AWS_REGION, credentials });
    const dynamodb = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region: env.AWS_REGION, credentials });
    try {
      // The stock the README says to seed.
      await dynamodb.send(new PutItemCommand({
        TableName: running.local.ref('OrderSagaTable0E2D79F0'),
        Item: { pk: { S: 'SKU#lamp-01' }, sk: { S: 'STOCK' }, available: { N: '10' }, reservations: { M: {} } },
      }));
      const base = running.local.apiUrl();
      const started = await fetch(`${base}/sagas`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'order-1042', ...CALLER },
        body: JSON.stringify({ orderId: '1042', customerId: 'c-7', sku: 'lamp-01', quantity: 2, amount: 4999 }),
      });
      expect(started.status).toBe(202);
      const { executionArn } = await started.json() as { executionArn: string };
      await running.local.settled();

      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: running.local.ref('OrderSagaCallbackQueueE7920BC3'), MaxNumberOfMessages: 1 }));
      const { taskToken } = JSON.parse(received.Messages![0]!.Body!) as { taskToken: string };
      const confirmed = await fetch(`${base}/callbacks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...CALLER },
        body: JSON.stringify({ taskToken, outcome: 'confirmed', reference: 'WH-1234' }),
      });
      expect(confirmed.status).toBeLessThan(300);
      await running.local.settled();

      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output!)).toMatchObject({ status: 'CONFIRMED', orderId: '1042' });
    } finally {
      sqs.destroy();
      sfn.destroy();
      dynamodb.destroy();
    }
  });
});
