/**
 * Not one of our examples: a stack composed here from the library, with two REST services (one on
 * a table the app brings, one on its own table) and a fan-out, all run by the local runner from
 * the assembly alone. It shows the runner knows the constructs only through their templates.
 */
import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { FanOut, FanOutConsumerCode, RestfulMicroservice } from '../../lib';
import { useLocalStack } from '../helpers/local-runner';

const IDENTITY = { 'x-local-identity': 'arn:aws:iam::123456789012:user/alice' };

describe('a composition that is not an example, run locally', () => {
  const running = useLocalStack((app) => {
    const stack = new Stack(app, 'TwoServices');
    const ownTable = new dynamodb.TableV2(stack, 'BroughtTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
    new RestfulMicroservice(stack, 'Books', { resourceName: 'books', existingTable: ownTable });
    new RestfulMicroservice(stack, 'Authors', { resourceName: 'authors' });
    new FanOut(stack, 'Events', { subscribers: [{ name: 'audit', consumer: { code: FanOutConsumerCode.audit() } }] });
    return stack;
  });

  test('each service has its own API and table, and they do not see each other\'s items', async () => {
    expect(running.local.apis).toHaveLength(2);
    const [books, authors] = ['Books', 'Authors'].map((prefix) => running.local.apis.find((api) => api.logicalId.startsWith(prefix))!.url);

    const book = await fetch(`${books}/books`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...IDENTITY }, body: JSON.stringify({ title: 'Dune' }),
    });
    expect(book.status).toBe(201);
    const { id } = await book.json() as { id: string };

    expect((await fetch(`${books}/books/${id}`, { headers: IDENTITY })).status).toBe(200);
    expect((await fetch(`${authors}/authors/${id}`, { headers: IDENTITY })).status).toBe(404);
  });

  test('the fan-out beside them publishes and audits', async () => {
    const publisher = running.local.summary.match(/function (TwoServices-EventsPublisher\S*)/)?.[1];
    expect(publisher).toBeDefined();
    const outcome = await running.local.invoke(publisher!, {
      eventId: '7d1b1b7e-8a53-4a4e-9a52-7d7c2b7c0b01', orderId: 'o-1', customerId: 'c-1', type: 'created', amount: 5, currency: 'EUR', occurredAt: '2025-01-31T12:00:00Z',
    });
    expect(outcome).toMatchObject({ ok: true });
    await running.local.settled();
    expect(running.lines.some((line) => line.includes('EventsAuditConsumer') && line.includes('ERROR'))).toBe(false);
  });
});
