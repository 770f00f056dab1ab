import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AlarmTopic, SagaWorkflow } from '../lib';

/**
 * An order saga on a Standard state machine: POST /sagas (IAM auth, Idempotency-Key) starts
 * reserve -> charge -> external confirmation (task token on the callback queue, answered through
 * POST /callbacks) -> confirm, with compensations in reverse order; alarms to an SNS topic and a dashboard.
 */
export class SagaExampleStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');
    const saga = new SagaWorkflow(this, 'OrderSaga', { alarmTopic: alarms.topic, dashboard: true });
    new CfnOutput(this, 'StartUrl', { value: `${saga.restApi.url}sagas`, description: 'POST an order with an Idempotency-Key header (SigV4-signed)' });
    new CfnOutput(this, 'CallbackUrl', { value: `${saga.restApi.url}callbacks`, description: 'POST {"taskToken", "outcome"} from the confirming system' });
    new CfnOutput(this, 'CallbackQueueUrl', { value: saga.callbackQueue!.queueUrl, description: 'task tokens for the confirming system' });
    new CfnOutput(this, 'StateMachineArn', { value: saga.stateMachine.stateMachineArn });
    new CfnOutput(this, 'TableName', { value: saga.table.tableName, description: 'seed SKU items {pk: "SKU#<sku>", sk: "STOCK", available, reservations: {}}' });
  }
}
