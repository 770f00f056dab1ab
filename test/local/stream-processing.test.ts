/**
 * The stream processing example through the local runner: records put on the Kinesis stream
 * (kinesalite) reach the processor through the event source mapping, per shard and in batches,
 * and the counts in the table are exactly those of the events.
 */
import { DynamoDBClient, paginateScan, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { StreamProcessingExampleStack } from '../../examples/stream-processing';
import { useLocalStack } from '../helpers/local-runner';
import { expectedState, stateFromItems, telemetryEvents } from '../helpers/telemetry';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('the stream processing example, run locally', () => {
  const running = useLocalStack((app) => new StreamProcessingExampleStack(app, 'StreamProcessingExample'));

  test('records put on the stream are counted exactly', async () => {
    const env = running.local.clientEnvironment();
    const kinesis = new KinesisClient({
      endpoint: env.AWS_ENDPOINT_URL_KINESIS, region: env.AWS_REGION, credentials, requestHandler: new NodeHttpHandler(),
    });
    const dynamodb = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region: env.AWS_REGION, credentials });
    const events = telemetryEvents(600, { sources: 5, minutes: 3, seed: 7 });
    try {
      for (let i = 0; i < events.length; i += 200) {
        const out = await kinesis.send(new PutRecordsCommand({
          StreamName: running.local.ref('TelemetryStream5198B67A'),
          Records: events.slice(i, i + 200).map((e) => ({ PartitionKey: e.source, Data: Buffer.from(JSON.stringify(e)) })),
        }));
        expect(out.FailedRecordCount ?? 0).toBe(0);
      }
      await running.local.settled();

      const items: Array<Record<string, AttributeValue>> = [];
      for await (const page of paginateScan({ client: dynamodb }, { TableName: running.local.ref('TelemetryTableC7A3E736'), ConsistentRead: true })) {
        items.push(...(page.Items ?? []));
      }
      expect(stateFromItems(items)).toEqual(expectedState(events));
    } finally {
      kinesis.destroy();
      dynamodb.destroy();
    }
  });
});
