import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AlarmDefinition {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  /** What a person paged by this alarm should know. */
  readonly description: string;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** @default NOT_BREACHING: no traffic is not an incident */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
  /**
   * The alarm measures failures that new code causes, as a rate that recovers by itself (an
   * API's 5XX rate, a queue's oldest message age), so a canary deployment rolls back on it.
   * Depth alarms (messages waiting in a dead-letter queue) never qualify: one old message would
   * stop every deployment until someone drains the queue.
   * @default false
   */
  readonly rollsBackDeployment?: boolean;
}

/**
 * Builds a construct's alarms in one place: each alarm gets the optional SNS topic as its
 * alarm and OK action, and lands in `alarms` for the construct to expose.
 */
export class AlarmFactory {
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The alarms added with `rollsBackDeployment`. */
  public readonly rollbackAlarms: cloudwatch.Alarm[] = [];

  constructor(private readonly scope: Construct, private readonly alarmTopic?: sns.ITopic) {}

  public add(id: string, definition: AlarmDefinition): cloudwatch.Alarm {
    const evaluationPeriods = definition.evaluationPeriods ?? 1;
    const alarm = new cloudwatch.Alarm(this.scope, id, {
      metric: definition.metric,
      threshold: definition.threshold,
      alarmDescription: definition.description,
      comparisonOperator: definition.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm: definition.datapointsToAlarm ?? evaluationPeriods,
      treatMissingData: definition.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.alarmTopic) {
      const action = new cwActions.SnsAction(this.alarmTopic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    this.alarms.push(alarm);
    if (definition.rollsBackDeployment) this.rollbackAlarms.push(alarm);
    return alarm;
  }
}
