import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

/** A dashboard with the state of every alarm on top and one graph per alarm metric below. */
export function createAlarmDashboard(scope: Construct, id: string, alarms: cloudwatch.IAlarm[]): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, id, { defaultInterval: undefined });
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: `${scope.node.path} alarms`, alarms, width: 24 }));
  const graphs = alarms
    .filter((a): a is cloudwatch.Alarm => a instanceof cloudwatch.Alarm)
    .map((alarm) => new cloudwatch.AlarmWidget({ alarm, title: alarm.node.id, width: 8 }));
  if (graphs.length > 0) dashboard.addWidgets(...graphs);
  return dashboard;
}
