/**
 * The template's Step Functions state machines on the local engine (aws-local-stepfunctions):
 * Lambda tasks invoke the stack's functions, `sqs:sendMessage` (with `.waitForTaskToken`) sends to
 * the local queues, `sns:publish` and `events:putEvents` publish to the local topics and buses,
 * and DynamoDB tasks run against the local tables (through the stream-capturing
 * endpoint, so their writes reach the tables' streams). A state machine with a task the engine
 * cannot run is not started, and start-up names the state.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DynamoDbProvider } from './dynamodb';
import type { EventBridgeProvider } from './event-bridge';
import type { SqsProvider } from './sqs';
import { LOCAL_CREDENTIALS } from '../engines/aws-protocol';
import { startLocalStepFunctions, type LocalStepFunctions, type StateMachineType } from '../engines/step-functions';
import type { DestinationMessage, Provider, RunContext, RunningFunctions } from '../provider';

/** An invocation's error, named as Lambda names it, for the state's Retry and Catch. */
class LambdaFunctionError extends Error {
  constructor(name: string, message: string, public readonly trace?: readonly string[]) {
    super(message);
    this.name = name;
  }
}

export class StepFunctionsProvider implements Provider {
  public readonly name = 'Step Functions';
  public engine: LocalStepFunctions | undefined;
  private functions: RunningFunctions | undefined;

  constructor(private readonly sources: { dynamodb: DynamoDbProvider; sqs: SqsProvider; events: EventBridgeProvider }) {}

  public async prepare(context: RunContext): Promise<void> {
    const { template } = context;
    const machines = template.resources('AWS::StepFunctions::StateMachine');
    if (machines.length === 0) return;
    const engine = await startLocalStepFunctions({
      invokeFunction: async (functionArn, payload) => {
        const outcome = await this.functions?.invoke(functionArn, payload);
        if (outcome === undefined) throw new LambdaFunctionError('Lambda.ResourceNotFoundException', `no local function ${functionArn}`);
        if (!outcome.ok) throw new LambdaFunctionError(outcome.errorType, outcome.errorMessage, outcome.trace);
        return outcome.payload;
      },
      sendQueueMessage: async (queueUrl, body, extra) => {
        const queue = this.sources.sqs.engine?.queueByUrl(queueUrl);
        if (queue === undefined) throw new LambdaFunctionError('SQS.QueueDoesNotExistException', `no local queue ${queueUrl}`);
        const { messageGroupId, messageDeduplicationId, delaySeconds } = extra;
        queue.send({ body, messageGroupId, messageDeduplicationId, delaySeconds });
      },
      dynamodbEndpoint: this.sources.dynamodb.engine?.endpoint,
      publishSns: async (topicArn, message, extra) => {
        await context.deliver(topicArn, {
          body: message,
          messageAttributes: extra.messageAttributes as DestinationMessage['messageAttributes'],
          messageGroupId: extra.messageGroupId,
          messageDeduplicationId: extra.messageDeduplicationId,
        });
      },
      publishEvents: async (entries) => {
        const bus = this.sources.events.engine;
        if (bus === undefined) throw new LambdaFunctionError('EventBridge.ResourceNotFoundException', 'the stack has no event bus');
        const client = new EventBridgeClient({ endpoint: bus.endpoint, region: template.region, credentials: LOCAL_CREDENTIALS });
        try {
          const withDates = entries.map((e) => ({ ...e, Time: e.Time === undefined ? undefined : new Date(e.Time) }));
          const answer = await client.send(new PutEventsCommand({ Entries: withDates }));
          return { FailedEntryCount: answer.FailedEntryCount, Entries: answer.Entries };
        } finally {
          client.destroy();
        }
      },
    });
    this.engine = engine;
    context.onStop(() => engine.stop());
    context.endpoint('SFN', engine.endpoint);
    for (const [id] of machines) {
      const props = template.properties(id);
      const name = template.physicalName(id);
      let definition = typeof props.DefinitionString === 'string' ? props.DefinitionString : JSON.stringify(props.Definition ?? {});
      for (const [key, value] of Object.entries((props.DefinitionSubstitutions ?? {}) as Record<string, unknown>)) {
        definition = definition.split(`\${${key}}`).join(String(value));
      }
      try {
        const { arn } = engine.createStateMachine({ name, type: (props.StateMachineType ?? 'STANDARD') as StateMachineType, definition });
        template.bind(id, { ref: arn, attributes: { Arn: arn, Name: name } });
        context.report(`state machine ${name} (${String(props.StateMachineType ?? 'STANDARD')})`);
      } catch (error) {
        context.notEmulated(`state machine ${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    context.report(`Step Functions ${engine.endpoint}`);
  }

  public async connect(_context: RunContext, functions: RunningFunctions): Promise<void> {
    this.functions = functions;
  }

  public async settled(): Promise<void> {
    await this.engine?.settled();
  }
}
