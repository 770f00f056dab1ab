/**
 * The template's EventBridge buses and event-pattern rules on the local bus engine: `PutEvents`
 * from the functions reaches every enabled rule whose pattern matches, and each target gets its
 * input (constant, path or transformer), delivered as `triggers/delivery.ts` says: a function is
 * invoked asynchronously, a queue or topic gets a message, retried and then dead-lettered. Archives, schema
 * registries, API destinations and log-group targets are not emulated.
 */
import { busNameOf, startLocalEventBus, type LocalEventBus } from '../engines/event-bus';
import type { Provider, RunContext, RunningFunctions } from '../provider';
import { deliverToTarget } from '../triggers/delivery';
import { targetInput, type TargetInputOptions } from '../triggers/target-input';

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
      const busName = busNameOf(props.EventBusName as string | undefined);
      const ruleName = template.physicalName(id);
      for (const target of (props.Targets ?? []) as RuleTarget[]) {
        const kind = target.Arn.split(':')[2];
        const local = functions.has(target.Arn) || kind === 'sqs' || kind === 'sns';
        if (!local) {
          context.notEmulated(`rule ${ruleName}: target ${target.Arn} (${kind}) is not emulated`);
          continue;
        }
        engine.addRule({
          name: `${ruleName}/${target.Id}`,
          busName,
          eventPattern: props.EventPattern,
          maxDeliveryAttempts: 1,
          target: async (event) => {
            await deliverToTarget(context, functions, {
              targetArn: target.Arn,
              input: targetInput(event, target),
              maximumRetryAttempts: target.RetryPolicy?.MaximumRetryAttempts,
              deadLetterArn: target.DeadLetterConfig?.Arn,
              deadLetterAttributes: { RULE_ARN: String(template.getAtt(id, 'Arn')), TARGET_ARN: target.Arn, ERROR_CODE: 'DeliveryFailed' },
              messageGroupId: target.SqsParameters?.MessageGroupId,
              // A FIFO queue target deduplicates by the event id, as EventBridge sends it.
              messageDeduplicationId: target.SqsParameters?.MessageGroupId !== undefined ? event.id : undefined,
              source: `rule ${ruleName}`,
            });
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
}
