/** Kinesis data streams of the template on kinesalite (HTTP/1.1: clients need `NodeHttpHandler`). */
import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { lambdaKinesisRecord, startKinesalite, type LocalKinesis } from '../engines/kinesis';
import type { Provider, RunContext } from '../provider';
import type { ShardReader } from '../triggers/stream-mapping';

/** An on-demand stream starts with four shards. */
const ON_DEMAND_SHARDS = 4;

export class KinesisProvider implements Provider {
  public readonly name = 'Kinesis';
  public engine: LocalKinesis | undefined;
  /** Stream name by the ARN the template gives the stream. */
  private readonly streamsByArn = new Map<string, string>();

  public async prepare(context: RunContext): Promise<void> {
    const streams = context.template.resources('AWS::Kinesis::Stream');
    if (streams.length === 0) return;
    const engine = await startKinesalite();
    this.engine = engine;
    context.onStop(() => engine.stop());
    context.endpoint('KINESIS', engine.endpoint);
    for (const [id] of streams) {
      const props = context.template.properties(id);
      const name = context.template.physicalName(id);
      const shards = Number(props.ShardCount ?? ON_DEMAND_SHARDS);
      await engine.createStream(name, shards);
      this.streamsByArn.set(String(context.template.getAtt(id, 'Arn')), name);
      context.report(`stream   ${name} (${shards} shards)`);
    }
    context.report(`Kinesis  ${engine.endpoint} (HTTP/1.1 only: give SDK clients requestHandler: new NodeHttpHandler())`);
    context.notEmulated('Kinesis: stream encryption, retention and enhanced fan-out are not modelled');
  }

  /** A reader of the stream with this ARN, for an event source mapping. */
  public reader(arn: string): ShardReader | undefined {
    const stream = this.streamsByArn.get(arn);
    const engine = this.engine;
    if (stream === undefined || engine === undefined) return undefined;
    const iterator = async (shardId: string, after: string | undefined): Promise<string | undefined> =>
      (await engine.client.send(new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: shardId,
        ...(after === undefined ? { ShardIteratorType: 'TRIM_HORIZON' } : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }),
      }))).ShardIterator;
    const readShard = async (shardId: string, after: string | undefined, limit: number) => {
      const page = await engine.client.send(new GetRecordsCommand({ ShardIterator: await iterator(shardId, after), Limit: limit }));
      return (page.Records ?? []).map((r) => {
        const arrival = (r.ApproximateArrivalTimestamp ?? new Date()).getTime() / 1000;
        return {
          sequence: r.SequenceNumber!,
          arrival,
          record: lambdaKinesisRecord({
            shardId,
            stream,
            sequenceNumber: r.SequenceNumber!,
            partitionKey: r.PartitionKey!,
            data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
            approximateArrivalTimestamp: arrival,
          }),
        };
      });
    };
    return {
      shardIds: () => engine.shardIds(stream),
      read: readShard,
      async latest(shardId) {
        let last: string | undefined;
        for (let page = await readShard(shardId, undefined, 10_000); page.length > 0; page = await readShard(shardId, last, 10_000)) {
          last = page[page.length - 1]!.sequence;
        }
        return last;
      },
    };
  }
}
