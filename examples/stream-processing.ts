import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AlarmTopic, StreamProcessor } from '../lib';

/**
 * Kinesis -> Lambda -> DynamoDB with its defaults: an on-demand encrypted stream, the reference
 * telemetry handler, a rejected-records queue, an on-failure queue, alarms and a dashboard.
 */
export class StreamProcessingExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');
    const processor = new StreamProcessor(this, 'Telemetry', { alarmTopic: alarms.topic, dashboard: true });
    new CfnOutput(this, 'StreamName', { value: processor.stream.streamName, description: 'Put telemetry events here (JSON: id, source, type, timestamp, payload)' });
    new CfnOutput(this, 'TableName', { value: processor.table.tableName });
    new CfnOutput(this, 'RejectedRecordsQueueUrl', { value: processor.rejectedRecordsQueue.queueUrl });
  }
}
