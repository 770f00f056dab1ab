/**
 * The template's SNS topics and their subscriptions (`AWS::SNS::Subscription` and a topic's own
 * `Subscription` list) in the local SNS engine: SQS subscriptions deliver into the local queues,
 * Lambda subscriptions invoke the function (a failed invocation is a failed delivery, retried and
 * then dead-lettered by the engine).
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { SqsProvider } from './sqs';
import { LOCAL_CREDENTIALS } from '../engines/aws-protocol';
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
        // SNS invokes a function asynchronously: the delivery is done when Lambda takes the event;
        // the function's own errors are Lambda's to retry and dead-letter.
        if (this.functions === undefined || !this.functions.has(delivery.endpoint)) throw new SnsClientSideError(`no local function ${delivery.endpoint}`);
        void this.functions.invokeAsync(delivery.endpoint, snsEvent(delivery));
      },
    });
    this.engine = engine;
    context.onStop(() => engine.stop());
    context.endpoint('SNS', engine.endpoint);
    // A topic as a target or destination (a rule's, a schedule's, a mapping's on-failure) gets a Publish.
    const client = new SNSClient({ endpoint: engine.endpoint, region: template.region, credentials: LOCAL_CREDENTIALS });
    context.onStop(async () => client.destroy());
    context.addDestination({
      accepts: (arn) => topics.some(([id]) => template.ref(id) === arn),
      deliver: async (arn, message) => {
        await client.send(new PublishCommand({
          TopicArn: arn,
          Message: message.body,
          MessageAttributes: message.messageAttributes,
          MessageGroupId: message.messageGroupId,
          MessageDeduplicationId: message.messageDeduplicationId,
        }));
      },
    });
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
