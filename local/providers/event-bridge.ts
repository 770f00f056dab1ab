/**
 * The template's EventBridge buses and event-pattern rules on the local bus engine: `PutEvents`
 * from the functions reaches every enabled rule whose pattern matches, and each target gets its
 * input (constant, path or transformer): a Lambda function is invoked, a queue or topic gets a
 * message. A failed delivery is tried again (three attempts locally; EventBridge retries for up to
 * 24 hours with backoff), then goes to the target's dead-letter queue. Archives, schema
 * registries, API destinations and log-group targets are not emulated.
 */
import { startLocalEventBus, type BusEvent, type LocalEventBus } from '../engines/event-bus';
import type { Provider, RunContext, RunningFunctions } from '../provider';
import { targetInput, type TargetInputOptions } from '../triggers/target-input';

/** Attempts per event and target here: enough to see a retry, without EventBridge's day of backoff. */
const LOCAL_DELIVERY_ATTEMPTS = 3;

interface RuleTarget extends TargetInputOptions {
  readonly Arn: string;
  readonly Id: string;
  readonly DeadLetterConfig?: { readonly Arn?: string };
  readonly RetryPolicy?: { readonly MaximumRetryAttempts?: number };
  readonly SqsParameters?: { readonly MessageGroupId?: string };
}

export class EventBridgeProvider implements Provider {
  public readonly name = 'EventBridge';
  public engine: LocalEventBus | undefined;
  /** Events that no attempt could deliver, with the target they were for. */
  public readonly undelivered: Array<{ rule: string; target: string; event: BusEvent; error: string }> = [];

  public async prepare(context: RunContext): Promise<void> {
    const { template } = context;
    const buses = template.resources('AWS::Events::EventBus');
    const patternRules = template.resources('AWS::Events::Rule').filter(([id]) => template.properties(id).EventPattern !== undefined);
    if (buses.length === 0 && patternRules.length === 0) return;
    const engine = await startLocalEventBus({ maxConcurrentDeliveries: 4 });
    this.engine = engine;
    context.onStop(() => engine.stop());
    context.endpoint('EVENTBRIDGE', engine.endpoint);
    for (const [id] of buses) {
      const name = template.physicalName(id);
      engine.createBus(name);
      context.report(`bus      ${name}`);
    }
    context.report(`EventBridge ${engine.endpoint}`);
    if (template.resources('AWS::Events::Archive').length > 0) context.notEmulated('EventBridge archives and replays');
  }

  public async connect(context: RunContext, functions: RunningFunctions): Promise<void> {
    const engine = this.engine;
    if (engine === undefined) return;
    const { template } = context;
    for (const [id] of template.resources('AWS::Events::Rule')) {
      const props = template.properties(id);
      if (props.EventPattern === undefined) continue;
      if (props.State !== undefined && props.State !== 'ENABLED') continue;
      const bus = String(props.EventBusName ?? 'default');
      const busName = bus.includes(':event-bus/') ? bus.slice(bus.indexOf(':event-bus/') + ':event-bus/'.length) : bus;
      const ruleName = template.physicalName(id);
      for (const target of (props.Targets ?? []) as RuleTarget[]) {
        const deliver = this.targetDelivery(context, functions, target);
        if (deliver === undefined) {
          context.notEmulated(`rule ${ruleName}: target ${target.Arn} (${target.Arn.split(':')[2]}) is not emulated`);
          continue;
        }
        engine.addRule({
          name: `${ruleName}/${target.Id}`,
          busName,
          eventPattern: props.EventPattern,
          maxDeliveryAttempts: 1,
          target: async (event) => {
            const input = targetInput(event, target);
            const attempts = Math.min(LOCAL_DELIVERY_ATTEMPTS, 1 + Number(target.RetryPolicy?.MaximumRetryAttempts ?? 185));
            let lastError = '';
            for (let attempt = 1; attempt <= attempts; attempt++) {
              try {
                await deliver(input);
                return;
              } catch (error) {
                lastError = error instanceof Error ? error.message : String(error);
              }
            }
            this.undelivered.push({ rule: ruleName, target: target.Arn, event, error: lastError });
            const dlq = target.DeadLetterConfig?.Arn;
            if (dlq !== undefined) {
              await context.deliver(dlq, {
                body: JSON.stringify(event),
                messageAttributes: {
                  RULE_ARN: { DataType: 'String', StringValue: String(template.getAtt(id, 'Arn')) },
                  TARGET_ARN: { DataType: 'String', StringValue: target.Arn },
                  ERROR_MESSAGE: { DataType: 'String', StringValue: lastError.slice(0, 256) || 'failed' },
                },
              }).catch((error: unknown) => context.log(`rule ${ruleName}: dead-letter queue refused an event: ${String(error)}`));
            }
          },
        });
      }
      context.report(`rule     ${ruleName} on ${busName} -> ${((props.Targets ?? []) as RuleTarget[]).length} target(s)`);
    }
  }

  /** Waits until every delivery so far is done. */
  public async settled(): Promise<void> {
    await this.engine?.settled();
  }

  private targetDelivery(context: RunContext, functions: RunningFunctions, target: RuleTarget): ((input: string) => Promise<void>) | undefined {
    if (target.Arn.startsWith('arn:aws:lambda:')) {
      if (!functions.has(target.Arn)) return undefined;
      return async (input) => {
        const outcome = await functions.invoke(target.Arn, JSON.parse(input) as unknown);
        if (!outcome.ok) throw new Error(`${outcome.errorType}: ${outcome.errorMessage}`);
      };
    }
    if (target.Arn.startsWith('arn:aws:sqs:') || target.Arn.startsWith('arn:aws:sns:')) {
      return (input) => context.deliver(target.Arn, { body: input, messageGroupId: target.SqsParameters?.MessageGroupId });
    }
    return undefined;
  }
}
