/**
 * The table a construct creates is the table its handler writes: the key schema and the TTL
 * attribute come from the synthesized template, the writes from the reference handler cold-started
 * with the construct's environment, on a local DynamoDB engine (dynalite). A key name the two
 * sides spell differently fails the write; a TTL attribute they spell differently leaves run
 * records that never expire.
 */
import { CreateTableCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { RECORD_PREFIX, RUN_PREFIX } from '../../lambda/periodic-job/lib/store';
import { EventDrivenMicroservice, PeriodicJob, RestfulMicroservice } from '../../lib';
import { collectionEvent, jsonBody } from '../helpers/api-gateway-events';
import { deployedFunction, newStack } from '../helpers/contract';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { StreamCapture, streamEvent } from '../helpers/dynamodb-stream';
import { startLocalEventBus, type LocalEventBus } from '../helpers/event-bus';
import { loadConsumer, loadPublisher } from '../helpers/event-driven';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server';
import { loadRestApi } from '../helpers/load-handler';
import { loadPoller } from '../helpers/load-poller';

let dynamo: LocalDynamo;
let server: TestHttpServer;

beforeAll(async () => {
  dynamo = await startDynalite();
  server = await startHttpServer(() => ({ json: { items: [{ id: 'a', name: 'Lamp' }, { id: 'b', name: 'Desk' }] } }));
});

afterAll(async () => {
  await server?.close();
  await dynamo?.stop();
});

interface TableSpec {
  readonly name: string;
  readonly partitionKey: string;
  readonly ttlAttribute?: string;
}

let tables = 0;

/** Creates the construct's one table (or the one whose logical id starts with `prefix`), as the template defines its keys, on the local engine. */
async function createTableOf(stack: Stack, prefix = ''): Promise<TableSpec> {
  const found = Object.entries(Template.fromStack(stack).findResources('AWS::DynamoDB::GlobalTable')).filter(([id]) => id.startsWith(prefix));
  expect(found).toHaveLength(1);
  const properties = found[0][1].Properties;
  const name = `contract-${++tables}`;
  await dynamo.client.send(new CreateTableCommand({
    TableName: name,
    KeySchema: properties.KeySchema,
    AttributeDefinitions: properties.AttributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
  }));
  const ttl = properties.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  const partitionKey = (properties.KeySchema as Array<{ AttributeName: string; KeyType: string }>).find((k) => k.KeyType === 'HASH')!.AttributeName;
  return { name, partitionKey, ...(ttl?.Enabled ? { ttlAttribute: ttl.AttributeName } : {}) };
}

test('RestfulMicroservice: the handler creates and lists items in the construct\'s table', async () => {
  // Prepare
  const stack = newStack();
  new RestfulMicroservice(stack, 'Items');
  const table = await createTableOf(stack);
  const { environment } = deployedFunction(stack, 'rest-api/api');
  const api = loadRestApi({ ...environment, TABLE_NAME: table.name });

  // Act
  const created = await api.invoke(collectionEvent('POST', environment.RESOURCE_NAME, { json: { name: 'Lamp' } }));
  const listed = await api.invoke(collectionEvent('GET', environment.RESOURCE_NAME));

  // Assess
  expect(created.statusCode).toBe(201);
  expect(listed.statusCode).toBe(200);
  expect(jsonBody<{ items: unknown[] }>(listed).items).toHaveLength(1);
});

describe('PeriodicJob', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let secrets: AwsStub<any, any, any> | undefined;
  afterEach(() => secrets?.restore());

  test('the poller writes records and expiring run records to the construct\'s table', async () => {
    // Prepare
    const stack = newStack();
    new PeriodicJob(stack, 'Sync', { sourceApi: { url: `${server.origin}/items` } });
    const table = await createTableOf(stack);
    const { environment } = deployedFunction(stack, 'periodic-job/poller');
    const poller = loadPoller({ ...environment, TABLE_NAME: table.name });
    secrets = mockClient(poller.secretsManager.SecretsManagerClient);
    secrets.on(poller.secretsManager.GetSecretValueCommand).resolves({ SecretString: 'token' });
    const startedAt = Math.floor(Date.now() / 1000);

    // Act
    const summary = await poller.invoke();

    // Assess
    expect(summary).toMatchObject({ fetched: 2, changed: 2 });
    expect(table.ttlAttribute).toBeDefined();
    const items = await dynamo.scanAll(table.name);
    const partition = (item: Record<string, AttributeValue>): string => item[table.partitionKey]?.S ?? '';
    const runs = items.filter((item) => partition(item).startsWith(RUN_PREFIX));
    expect(items.filter((item) => partition(item).startsWith(RECORD_PREFIX))).toHaveLength(2);
    expect(runs).toHaveLength(1);
    for (const run of runs) {
      const expiry = (run[table.ttlAttribute!] as AttributeValue | undefined)?.N;
      expect(Number(expiry)).toBeGreaterThan(startedAt);
    }
  });
});

describe('EventDrivenMicroservice', () => {
  let bus: LocalEventBus;
  let savedEndpoint: string | undefined;
  beforeAll(async () => {
    bus = await startLocalEventBus();
    savedEndpoint = process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.endpoint;
  });
  afterAll(async () => {
    if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
    else process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = savedEndpoint;
    await bus?.stop();
  });

  test('changes of the construct\'s table reach its projection table through its own rule, and deletions expire', async () => {
    // Prepare: both tables as the template defines them, the bus and the projection rule's pattern as synthesized.
    const stack = newStack();
    new EventDrivenMicroservice(stack, 'Orders');
    const source = await createTableOf(stack, 'OrdersTable');
    const projection = await createTableOf(stack, 'OrdersProjectionTable');
    const publisherEnv = deployedFunction(stack, 'event-driven/publisher').environment;
    const consumerEnv = deployedFunction(stack, 'event-driven/projection-consumer').environment;
    const [rule] = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule', { Properties: { Description: 'Subscriber projection of Test/Orders' } }));
    bus.createBus(publisherEnv.EVENT_BUS_NAME);
    const consumer = loadConsumer({ ...consumerEnv, TABLE_NAME: projection.name });
    bus.addRule({ name: 'projection', busName: publisherEnv.EVENT_BUS_NAME, eventPattern: rule.Properties.EventPattern, target: (event) => consumer.invoke(event) });
    const publisher = loadPublisher(publisherEnv);
    const capture = new StreamCapture(dynamo.client, source.name);
    const deletedAt = Math.floor(Date.now() / 1000);

    // Act
    await capture.put({ pk: { S: 'order#1' }, sk: { S: 'ORDER' }, status: { S: 'new' } });
    await capture.put({ pk: { S: 'order#2' }, sk: { S: 'ORDER' }, status: { S: 'new' } });
    await capture.delete({ pk: { S: 'order#2' }, sk: { S: 'ORDER' } });
    expect(await publisher.invoke(streamEvent(capture.drain()))).toEqual({ batchItemFailures: [] });
    await bus.settled();

    // Assess
    expect(bus.deadLetters).toEqual([]);
    const items = await dynamo.scanAll(projection.name);
    expect(items).toHaveLength(2);
    const tombstone = items.find((item) => item.deleted?.BOOL === true);
    expect(projection.ttlAttribute).toBeDefined();
    expect(Number(tombstone?.[projection.ttlAttribute!]?.N)).toBeGreaterThan(deletedAt);
    expect(items.find((item) => item.deleted === undefined)?.item?.M?.status).toEqual({ S: 'new' });
  });
});
