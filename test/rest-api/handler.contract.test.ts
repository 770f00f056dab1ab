/**
 * The shared resource API contract (test/helpers/resource-api-contract.ts) on the REST pattern's
 * handler over a local DynamoDB engine (dynalite): the same assertions the RDS Proxy pattern passes.
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { JSON_NUMBER_OPTIONS } from '../../lambda/shared/dynamodb';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { loadRestApi } from '../helpers/load-handler';
import { describeResourceApiContract } from '../helpers/resource-api-contract';

describeResourceApiContract('DynamoDB (dynalite) through the REST handler', () => {
  let dynamo: LocalDynamo;
  let tableName: string;
  let documents: DynamoDBDocumentClient;
  return {
    async setup() {
      dynamo = await startDynalite();
      tableName = await dynamo.createTable();
      documents = DynamoDBDocumentClient.from(dynamo.client, { unmarshallOptions: JSON_NUMBER_OPTIONS.unmarshallOptions });
    },
    teardown: () => dynamo.stop(),
    load: (env) => loadRestApi({ TABLE_NAME: tableName, ...env }).invoke,
    snapshot: () => dynamo.scanAll(tableName),
    async storedItem(resourceName, id, owner) {
      // The layout of lambda/rest-api/lib/item-store.ts: one partition per collection, `<resource>[#<owner>]`.
      const pk = owner === undefined ? resourceName : `${resourceName}#${owner}`;
      const { Item: item } = await documents.send(new GetCommand({ TableName: tableName, Key: { pk, sk: id }, ConsistentRead: true }));
      return item === undefined ? undefined : { version: item.version as number, data: item.data as Record<string, unknown> };
    },
  };
});
