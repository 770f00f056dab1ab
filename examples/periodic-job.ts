import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { AlarmTopic, PagingStyle, PeriodicJob } from '../lib';

export interface PeriodicJobExampleStackProps extends StackProps {
  /** The JSON API to poll; `cdk synth -c periodicJobSourceUrl=https://...` overrides it. */
  readonly sourceUrl: string;
}

/**
 * A poller that copies a paginated JSON API into DynamoDB every 15 minutes: runs kept apart by a
 * lease (no reserved concurrency, so it deploys in a new account), retries and failure queues on
 * both async hops, a missed-run alarm, and a dashboard.
 */
export class PeriodicJobExampleStack extends Stack {
  constructor(scope: Construct, id: string, props: PeriodicJobExampleStackProps) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');
    const job = new PeriodicJob(this, 'CatalogSync', {
      jobName: 'catalog-sync',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(15)),
      sourceApi: { url: props.sourceUrl, pagingStyle: PagingStyle.LINK, itemsPath: 'items', idField: 'id' },
      alarmTopic: alarms.topic,
      dashboard: true,
    });
    new CfnOutput(this, 'SecretArn', { value: job.apiCredential.secretArn, description: 'Set the API token here' });
    new CfnOutput(this, 'TableName', { value: job.table.tableName });
    new CfnOutput(this, 'FailedRunsQueueUrl', { value: job.failedRunsQueue.queueUrl });
  }
}
