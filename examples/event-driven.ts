import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { AlarmTopic, EventDrivenMicroservice, EventSubscriberTarget } from '../lib';

/**
 * An orders table whose every change becomes an `order.created.v1`, `order.updated.v1` or
 * `order.deleted.v1` event on an encrypted, archived and audited bus, with three subscribers that
 * show content filtering: the reference projection of every order; the orders whose status
 * changed (exists + prefix), to a queue; and the large orders (a numeric range, anything-but),
 * reshaped by an input transformation, to a second queue.
 */
export class EventDrivenExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');
    const orders = new EventDrivenMicroservice(this, 'Orders', {
      entityName: 'order',
      source: 'example.orders',
      subscribers: [
        { name: 'projection', target: EventSubscriberTarget.projection() },
        {
          name: 'status-changes',
          eventPattern: {
            detailType: events.Match.prefix('order.updated.'),
            detail: { changedFields: ['status'] },
          },
          target: EventSubscriberTarget.queue(),
        },
        {
          name: 'large-orders',
          eventPattern: {
            detail: {
              change: events.Match.anythingBut('deleted'),
              item: { total: events.Match.greaterThanOrEqual(1000) },
            },
          },
          target: EventSubscriberTarget.queue(),
          input: events.RuleTargetInput.fromObject({
            orderId: events.EventField.fromPath('$.detail.keys.pk'),
            total: events.EventField.fromPath('$.detail.item.total'),
            at: events.EventField.fromPath('$.detail.occurredAt'),
          }),
        },
      ],
      alarmTopic: alarms.topic,
      dashboard: true,
    });
    new CfnOutput(this, 'TableName', { value: orders.table.tableName, description: 'Write orders here (pk, sk, status, total); each change becomes an event' });
    new CfnOutput(this, 'EventBusName', { value: orders.eventBus.eventBusName });
    new CfnOutput(this, 'ProjectionTableName', { value: orders.projectionTable!.tableName });
    new CfnOutput(this, 'ArchiveArn', { value: orders.archive!.archiveArn, description: 'aws events start-replay --event-source-arn <this> ... (see the README)' });
  }
}
