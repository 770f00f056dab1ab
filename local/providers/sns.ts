/**
 * The template's SNS topics and their subscriptions (`AWS::SNS::Subscription` and a topic's own
 * `Subscription` list) in the local SNS engine: SQS subscriptions deliver into the local queues,
 * Lambda subscriptions invoke the function (a failed invocation is a failed delivery, retried and
 * then dead-lettered by the engine).
 */
import type { SqsProvider } from './sqs';
import { SnsClientSideError, snsEvent, startLocalSns, type LocalSns } from '../engines/sns';
import type { Provider, RunContext, RunningFunctions } from '../provider';

export class SnsProvider implements Provider {
  public readonly name = 'SNS';
  public engine: LocalSns | undefined;
  private functions: RunningFunctions | undefined;

  constructor(private readonly queues: SqsProvider) {}

  public async prepare(context: RunContext): Promise<void> {
    const { template } = context;
    const topics = template.resources('AWS::SNS::Topic');
    if (topics.length === 0) return;
    const engine = await startLocalSns({
      deliver: async (delivery) => {
        if (delivery.protocol === 'sqs') {
          const queue = this.queues.engine?.queueByArn(delivery.endpoint);
          if (queue === undefined) throw new SnsClientSideError(`no local queue ${delivery.endpoint}`);
          queue.send({
            body: delivery.body,
            messageAttributes: delivery.messageAttributes,
            messageGroupId: delivery.messageGroupId,
            messageDeduplicationId: delivery.messageDeduplicationId,
          });
          return;
        }
        const outcome = await this.functions?.invoke(delivery.endpoint, snsEvent(delivery));
        if (outcome === undefined) throw new SnsClientSideError(`no local function ${delivery.endpoint}`);
        if (!outcome.ok) throw new Error(`${outcome.errorType}: ${outcome.errorMessage}`);
      },
    });
    this.engine = engine;
    context.onStop(() => engine.stop());
    context.endpoint('SNS', engine.endpoint);
    for (const [id] of topics) {
      const props = template.properties(id);
      const topic = engine.createTopic({
        name: template.physicalName(id), fifo: props.FifoTopic === true, contentBasedDeduplication: props.ContentBasedDeduplication === true,
      });
      template.bind(id, { ref: topic.arn, attributes: { TopicArn: topic.arn, TopicName: topic.name } });
      for (const inline of (props.Subscription ?? []) as Array<{ Protocol: string; Endpoint: string }>) {
        this.subscribe(context, { TopicArn: topic.arn, ...inline });
      }
      context.report(`topic    ${topic.name}`);
    }
    for (const [id] of template.resources('AWS::SNS::Subscription')) this.subscribe(context, template.properties(id));
    context.report(`SNS      ${engine.endpoint}`);
  }

  public async connect(_context: RunContext, functions: RunningFunctions): Promise<void> {
    this.functions = functions;
  }

  public async settled(): Promise<void> {
    await this.engine?.settled();
  }

  private subscribe(context: RunContext, props: Record<string, unknown>): void {
    const protocol = String(props.Protocol);
    if (protocol !== 'sqs' && protocol !== 'lambda') {
      context.notEmulated(`SNS subscription ${protocol}:${String(props.Endpoint)}: only sqs and lambda subscriptions are delivered`);
      return;
    }
    this.engine!.subscribe({
      topicArn: String(props.TopicArn),
      protocol,
      endpoint: String(props.Endpoint),
      filterPolicy: props.FilterPolicy as object | string | undefined,
      filterPolicyScope: props.FilterPolicyScope as 'MessageAttributes' | 'MessageBody' | undefined,
      rawMessageDelivery: props.RawMessageDelivery as boolean | 'true' | 'false' | undefined,
      redrivePolicy: props.RedrivePolicy as { deadLetterTargetArn: string } | string | undefined,
    });
  }
}
