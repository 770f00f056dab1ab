/** DynamoDB tables of the template on dynalite, with their keys, indexes and streams. */
import { startLocalDynamoDb, type LocalDynamoDb, type TableDefinition } from '../engines/dynamodb';
import type { Provider } from '../provider';
import type { LocalTemplate } from '../template';

export const TABLE_TYPES = ['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable'];

export function tableDefinition(template: LocalTemplate, logicalId: string): TableDefinition {
  const props = template.properties(logicalId);
  const stream = props.StreamSpecification as { StreamViewType?: TableDefinition['streamViewType'] } | undefined;
  const indexes = (value: unknown) => ((value ?? []) as Array<Record<string, unknown>>)
    .map(({ IndexName, KeySchema, Projection }) => ({ IndexName: String(IndexName), KeySchema: KeySchema as unknown[], Projection }));
  return {
    name: template.physicalName(logicalId),
    keySchema: props.KeySchema as TableDefinition['keySchema'],
    attributeDefinitions: props.AttributeDefinitions as TableDefinition['attributeDefinitions'],
    globalSecondaryIndexes: indexes(props.GlobalSecondaryIndexes),
    localSecondaryIndexes: indexes(props.LocalSecondaryIndexes),
    streamViewType: stream?.StreamViewType,
  };
}

export class DynamoDbProvider implements Provider {
  public readonly name = 'DynamoDB';
  public engine: LocalDynamoDb | undefined;

  public async prepare(context: Parameters<NonNullable<Provider['prepare']>>[0]): Promise<void> {
    const { template } = context;
    const tableIds = TABLE_TYPES.flatMap((type) => template.resources(type)).map(([id]) => id);
    if (tableIds.length === 0) return;
    const engine = await startLocalDynamoDb();
    this.engine = engine;
    context.onStop(() => engine.stop());
    context.endpoint('DYNAMODB', engine.endpoint);
    for (const id of tableIds) {
      const definition = tableDefinition(template, id);
      await engine.createTable(definition);
      if ((template.properties(id).TimeToLiveSpecification as { Enabled?: boolean } | undefined)?.Enabled === true) {
        context.notEmulated(`table ${definition.name}: its TTL attribute is kept, but expired items are not deleted`);
      }
      context.report(`table    ${definition.name}${definition.streamViewType ? ` (stream: ${definition.streamViewType})` : ''}`);
    }
    context.report(`DynamoDB ${engine.endpoint}`);
  }
}
