/**
 * The template's `AWS::Lambda::EventSourceMapping`s: Kinesis and DynamoDB Streams sources poll
 * through `StreamMapping`; queues through the SQS provider when it has the queue.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { DynamoDbProvider } from './dynamodb';
import type { KinesisProvider } from './kinesis';
import type { Provider, RunContext, RunningFunctions } from '../provider';
import { DEFAULT_STREAM_BATCH_SIZE, StreamMapping, type ShardReader } from '../triggers/stream-mapping';

/** DynamoDB Streams has one shard per table here: every record of the table's stream, in order. */
const DYNAMODB_SHARD = 'shardId-00000001-local';

/** The patterns of a mapping's `FilterCriteria`. */
export function filtersOf(criteria: unknown): unknown[] {
  const filters = (criteria as { Filters?: Array<{ Pattern?: string }> } | undefined)?.Filters ?? [];
  return filters.map((f) => JSON.parse(String(f.Pattern)) as unknown);
}

export interface QueueMappingSource {
  /** Starts polling the queue for the function, if the queue is one of this source's; returns whether it did. */
  mapQueue(context: RunContext, functions: RunningFunctions, mapping: Record<string, unknown>): Promise<boolean>;
  settled(): Promise<void>;
}

export class EventSourceMappingProvider implements Provider {
  public readonly name = 'event source mappings';
  public readonly streamMappings: StreamMapping[] = [];

  constructor(private readonly sources: { dynamodb: DynamoDbProvider; kinesis: KinesisProvider; queues?: QueueMappingSource }) {}

  public async connect(context: RunContext, functions: RunningFunctions): Promise<void> {
    const { template } = context;
    for (const [id] of template.resources('AWS::Lambda::EventSourceMapping')) {
      const props = template.properties(id);
      const sourceArn = String(props.EventSourceArn ?? '');
      const functionName = String(props.FunctionName ?? '');
      if (props.Enabled === false) continue;
      if (!functions.has(functionName)) {
        context.notEmulated(`event source mapping ${id}: its function ${functionName} does not run locally`);
        continue;
      }
      if (sourceArn.startsWith('arn:aws:sqs:')) {
        const mapped = await this.sources.queues?.mapQueue(context, functions, props);
        if (mapped !== true) context.notEmulated(`event source mapping ${id}: queue ${sourceArn} is not emulated`);
        continue;
      }
      const kind = sourceArn.startsWith('arn:aws:kinesis:') ? 'kinesis' : sourceArn.includes(':dynamodb:') ? 'dynamodb' : undefined;
      const reader = kind === 'kinesis' ? this.sources.kinesis.reader(sourceArn) : kind === 'dynamodb' ? this.dynamodbReader(sourceArn) : undefined;
      if (kind === undefined || reader === undefined) {
        context.notEmulated(`event source mapping ${id}: source ${sourceArn} is not emulated`);
        continue;
      }
      const destination = (props.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure?.Destination;
      const mapping = new StreamMapping({
        kind,
        sourceArn,
        functionArn: functionName,
        batchSize: Number(props.BatchSize ?? DEFAULT_STREAM_BATCH_SIZE),
        startingPosition: props.StartingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
        bisectOnError: props.BisectBatchOnFunctionError === true,
        maximumRetryAttempts: Number(props.MaximumRetryAttempts ?? -1),
        reportBatchItemFailures: ((props.FunctionResponseTypes ?? []) as string[]).includes('ReportBatchItemFailures'),
        onFailureArn: destination,
        filters: filtersOf(props.FilterCriteria),
      }, reader, {
        invoke: (arn, event) => functions.invoke(arn, event),
        deliverFailure: (arn, body) => context.deliver(arn, { body }),
        log: (line) => context.log(line),
      });
      // Stopped even when its start fails half-way (a later shard's reader throws).
      context.onStop(() => mapping.stop());
      this.streamMappings.push(mapping);
      await mapping.start();
      context.report(`mapping  ${kind} ${sourceArn.split('/')[1] ?? sourceArn} -> ${functionName} (batch ${mapping.definition.batchSize})`);
    }
  }

  /** Resolves when every mapping has caught up with its source and nothing is in flight. */
  public async settled(): Promise<void> {
    await Promise.all([...this.streamMappings.map((m) => m.settled()), this.sources.queues?.settled()]);
  }

  private dynamodbReader(streamArn: string): ShardReader | undefined {
    const tableName = /:table\/([^/]+)\/stream\//.exec(streamArn)?.[1];
    const stream = tableName === undefined ? undefined : this.sources.dynamodb.engine?.stream(tableName);
    if (stream === undefined) return undefined;
    const sequenceOf = (r: DynamoDBRecord): string => r.dynamodb!.SequenceNumber!;
    return {
      shardIds: async () => [DYNAMODB_SHARD],
      async read(_shard, after, limit) {
        const from = after === undefined ? 0 : stream.records.findIndex((r) => BigInt(sequenceOf(r)) > BigInt(after));
        if (from < 0) return [];
        return stream.records.slice(from, from + limit).map((record) => ({
          sequence: sequenceOf(record),
          record: { ...record, eventSourceARN: streamArn },
          arrival: record.dynamodb?.ApproximateCreationDateTime ?? 0,
        }));
      },
      latest: async () => {
        const last = stream.records[stream.records.length - 1];
        return last === undefined ? undefined : sequenceOf(last);
      },
    };
  }
}
