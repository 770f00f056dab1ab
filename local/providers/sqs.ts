/**
 * The template's SQS queues in the local SQS engine (dead-letter queues first, so that redrive
 * policies find them), their URLs bound for the functions' environment, and SQS event source
 * mappings: a poller per mapping receives batches, invokes the function with Lambda's SQS event,
 * deletes what succeeded (all, or all but the reported failures), and leaves failures to come
 * back after the visibility timeout, until the queue's redrive policy moves them.
 */
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { filtersOf, type QueueMappingSource } from './event-source-mappings';
import { sleep } from '../../lambda/shared/retry';
import { compileEventPattern, type EventPatternMatcher } from '../engines/event-pattern';
import { startLocalSqs, type LocalQueue, type LocalSqs, type QueueDefinition, type ReceivedMessage } from '../engines/sqs';
import type { Provider, RunContext, RunningFunctions } from '../provider';

/** Lambda's default batch size for queues. */
const DEFAULT_QUEUE_BATCH_SIZE = 10;

function lambdaAttributes(message: ReceivedMessage): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.messageAttributes)) {
    out[name] = {
      dataType: value.DataType,
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return out;
}

export function sqsRecord(queue: LocalQueue, message: ReceivedMessage, region: string): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: message.attributes as unknown as SQSRecord['attributes'],
    messageAttributes: lambdaAttributes(message),
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes !== undefined ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

class QueuePoller {
  private stopped = false;
  private busy = false;
  private loop: Promise<void> | undefined;
  /** Ends a waiting receive at once when the poller stops. */
  private readonly abort = new AbortController();

  constructor(
    private readonly queue: LocalQueue,
    private readonly functionId: string,
    private readonly batchSize: number,
    private readonly reportBatchItemFailures: boolean,
    private readonly functions: RunningFunctions,
    private readonly region: string,
    private readonly filters: readonly EventPatternMatcher[] = [],
  ) {}

  /**
   * Whether a message passes the mapping's filters (Lambda developer guide, "Lambda event
   * filtering"): the pattern sees the record with its body as JSON when it is JSON.
   */
  private passes(record: SQSRecord): boolean {
    if (this.filters.length === 0) return true;
    let body: unknown = record.body;
    try {
      body = JSON.parse(record.body);
    } catch {
      // A body that is not JSON is matched as the plain string.
    }
    return this.filters.some((match) => match({ ...record, body }));
  }

  public start(): void {
    this.loop = this.run();
  }

  /** Idle: nothing visible, delayed or in flight in the queue, and no invocation running. */
  public get idle(): boolean {
    return this.stopped || (!this.busy && this.queue.messages().length === 0);
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const messages = await this.queue.receive({ maxMessages: Math.min(10, this.batchSize), waitTimeSeconds: 1, signal: this.abort.signal });
      if (messages.length === 0) continue;
      this.busy = true;
      try {
        const records = messages.map((m) => sqsRecord(this.queue, m, this.region));
        // Lambda deletes the messages no filter matches, without invoking the function.
        for (const record of records.filter((r) => !this.passes(r))) this.queue.deleteMessage(record.receiptHandle);
        const kept = records.filter((r) => this.passes(r));
        if (kept.length === 0) continue;
        const event: SQSEvent = { Records: kept };
        const outcome = await this.functions.invoke(this.functionId, event);
        if (!outcome.ok) continue;
        const failed = new Set<string>();
        if (this.reportBatchItemFailures) {
          const failures = (outcome.payload as { batchItemFailures?: Array<{ itemIdentifier?: string }> } | null)?.batchItemFailures ?? [];
          for (const f of failures) failed.add(String(f.itemIdentifier));
          // An identifier that names no message of the batch fails the whole batch, as in Lambda.
          if ([...failed].some((id) => !kept.some((r) => r.messageId === id))) continue;
        }
        for (const r of kept) if (!failed.has(r.messageId)) this.queue.deleteMessage(r.receiptHandle);
      } finally {
        this.busy = false;
      }
    }
  }
}

export class SqsProvider implements Provider, QueueMappingSource {
  public readonly name = 'SQS';
  public engine: LocalSqs | undefined;
  private readonly pollers: QueuePoller[] = [];

  constructor(private readonly options: { clock?: () => number } = {}) {}

  public async prepare(context: RunContext): Promise<void> {
    const { template } = context;
    const queues = template.resources('AWS::SQS::Queue');
    const engine = await startLocalSqs({ clock: this.options.clock });
    this.engine = engine;
    context.onStop(() => engine.stop());
    context.endpoint('SQS', engine.endpoint);
    context.addDestination({
      accepts: (arn) => engine.queueByArn(arn) !== undefined,
      deliver: async (arn, message) => {
        engine.queueByArn(arn)!.send({
          body: message.body,
          messageAttributes: message.messageAttributes,
          messageGroupId: message.messageGroupId,
          messageDeduplicationId: message.messageDeduplicationId,
        });
      },
    });
    const definitions = new Map(queues.map(([id]) => [id, this.definition(context, id)]));
    const created = new Set<string>();
    const create = (id: string): void => {
      if (created.has(id)) return;
      created.add(id);
      const definition = definitions.get(id)!;
      const dlqArn = definition.redrivePolicy?.deadLetterTargetArn;
      const dlq = dlqArn === undefined ? undefined : queues.find(([other]) => String(template.getAtt(other, 'Arn')) === dlqArn)?.[0];
      if (dlq !== undefined) create(dlq);
      const queue = engine.createQueue(definition);
      template.bind(id, { ref: queue.url, attributes: { QueueUrl: queue.url, Arn: queue.arn, QueueName: queue.name } });
      context.report(`queue    ${queue.name}${definition.redrivePolicy ? ` (DLQ after ${definition.redrivePolicy.maxReceiveCount} receives)` : ''}`);
    };
    for (const [id] of queues) create(id);
    if (queues.length > 0) context.report(`SQS      ${engine.endpoint}`);
  }

  public async mapQueue(context: RunContext, functions: RunningFunctions, mapping: Record<string, unknown>): Promise<boolean> {
    const queue = this.engine?.queueByArn(String(mapping.EventSourceArn));
    if (queue === undefined) return false;
    const functionId = String(mapping.FunctionName);
    const batchSize = Number(mapping.BatchSize ?? DEFAULT_QUEUE_BATCH_SIZE);
    const reportFailures = ((mapping.FunctionResponseTypes ?? []) as string[]).includes('ReportBatchItemFailures');
    const filters = filtersOf(mapping.FilterCriteria).map((pattern) => compileEventPattern(pattern));
    const poller = new QueuePoller(queue, functionId, batchSize, reportFailures, functions, context.template.region, filters);
    poller.start();
    this.pollers.push(poller);
    context.onStop(() => poller.stop());
    context.report(`mapping  queue ${queue.name} -> ${functionId} (batch ${batchSize})`);
    if (batchSize > 10) context.notEmulated(`mapping of ${queue.name}: batches of more than 10 messages (batching windows) are delivered 10 at a time`);
    return true;
  }

  /** Resolves when every mapped queue is empty and its poller idle (failed messages included, until redriven). */
  public async settled(): Promise<void> {
    while (this.pollers.some((p) => !p.idle)) await sleep(20, undefined);
  }

  private definition(context: RunContext, logicalId: string): QueueDefinition {
    const props = context.template.properties(logicalId);
    const redrive = props.RedrivePolicy as { deadLetterTargetArn?: string; maxReceiveCount?: number } | undefined;
    return {
      name: context.template.physicalName(logicalId),
      fifo: props.FifoQueue === true,
      contentBasedDeduplication: props.ContentBasedDeduplication === true,
      visibilityTimeoutSeconds: props.VisibilityTimeout !== undefined ? Number(props.VisibilityTimeout) : undefined,
      delaySeconds: props.DelaySeconds !== undefined ? Number(props.DelaySeconds) : undefined,
      messageRetentionPeriodSeconds: props.MessageRetentionPeriod !== undefined ? Number(props.MessageRetentionPeriod) : undefined,
      receiveMessageWaitTimeSeconds: props.ReceiveMessageWaitTimeSeconds !== undefined ? Number(props.ReceiveMessageWaitTimeSeconds) : undefined,
      maximumMessageSize: props.MaximumMessageSize !== undefined ? Number(props.MaximumMessageSize) : undefined,
      redrivePolicy: redrive?.deadLetterTargetArn !== undefined
        ? { deadLetterTargetArn: redrive.deadLetterTargetArn, maxReceiveCount: Number(redrive.maxReceiveCount ?? 10) }
        : undefined,
    };
  }
}
