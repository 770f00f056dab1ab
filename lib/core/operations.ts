import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CanaryDeployment, CanaryDeploymentOptions } from './canary-deployment';
import { createAlarmDashboard } from './dashboard';
import { InvalidPropsError } from './errors';

/** How a pattern is operated: the same three props, with the same meaning and defaults, on every pattern. */
export interface PatternOperationsProps {
  /**
   * Receives the actions (alarm and OK) of every alarm of the pattern, the rollback alarms of
   * its deployment included.
   * @default - alarms have no actions
   */
  readonly alarmTopic?: sns.ITopic;
  /** Create a CloudWatch dashboard of every alarm of the pattern. @default false */
  readonly dashboard?: boolean;
  /**
   * Deploy the pattern's function(s) through CodeDeploy: an alias on each new version, canary
   * traffic shifting, optional hooks, and rollback on the new version's errors, throttles and
   * p99 duration and on the pattern's own rollback alarms (its API's 5XX rate, its queues' oldest
   * message age). The pattern's triggers invoke the alias.
   * @default - triggers invoke the function's latest code directly
   */
  readonly deployment?: CanaryDeploymentOptions;
}

/** A pattern's `deployment` applied to one function: the deployment, and what its triggers must invoke. */
export interface PatternDeployment {
  readonly deployment?: CanaryDeployment;
  /** The alias with a deployment, the function without. */
  readonly invokeTarget: lambda.IFunction;
}

/**
 * Creates the `Deployment` of `handler` when `options` (the pattern's `deployment`, or a
 * per-function override) asks for one; the pattern's alarm topic receives its alarms.
 */
export function patternDeployment(
  scope: Construct, construct: string, handler: lambda.IFunction, alarmTopic: sns.ITopic | undefined,
  options: CanaryDeploymentOptions | undefined, id: string = 'Deployment',
): PatternDeployment {
  if (!options) return { invokeTarget: handler };
  if (!(handler instanceof lambda.Function)) {
    throw new InvalidPropsError(construct, 'deployment needs a function created in this app (a lambda.Function), to publish its versions; an imported existingFunction cannot be deployed through CodeDeploy here');
  }
  const deployment = new CanaryDeployment(scope, id, { ...options, function: handler, alarmTopic });
  return { deployment, invokeTarget: deployment.alias };
}

/** A deployment and the pattern alarms that roll it back. */
export interface DeploymentRollback {
  readonly deployment?: CanaryDeployment;
  readonly rollbackAlarms: readonly cloudwatch.IAlarm[];
}

/** What every pattern exposes of its operations. */
export interface PatternOperations {
  /** The pattern's alarms followed by those of its deployments. */
  readonly alarms: cloudwatch.IAlarm[];
  readonly dashboard?: cloudwatch.Dashboard;
}

/**
 * The last step of every pattern: its rollback alarms join its deployments, the deployments'
 * alarms join its `alarms`, and the dashboard (id `Dashboard`) shows them all.
 */
export function completeOperations(
  scope: Construct, props: PatternOperationsProps, patternAlarms: readonly cloudwatch.IAlarm[], deployments: readonly DeploymentRollback[],
): PatternOperations {
  const alarms = [...patternAlarms];
  for (const { deployment, rollbackAlarms } of deployments) {
    if (!deployment) continue;
    for (const alarm of rollbackAlarms) deployment.addRollbackAlarm(alarm);
    alarms.push(...deployment.alarms);
  }
  return { alarms, dashboard: props.dashboard ? createAlarmDashboard(scope, 'Dashboard', alarms) : undefined };
}
