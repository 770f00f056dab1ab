import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmFactory } from './alarms';
import { InvalidPropsError } from './errors';
import { mergeProps } from './merge';
import { LambdaMetrics } from './metrics';
import { NagAcknowledgement, ruleAcknowledgements } from './nag';
import { SecureRestApi, SecureRestApiProps } from './secure-rest-api';

/** Findings about asynchronous invocation that do not apply to a function only `invoker` calls, synchronously. */
export function synchronousInvokeAcknowledgements(invoker: string): NagAcknowledgement[] {
  return [
    ...ruleAcknowledgements('LambdaDLQ', `${invoker} invokes this function synchronously; a failure is returned to the caller, there is no event to dead-letter.`),
    { id: 'Serverless-LambdaAsyncFailureDestination', reason: `${invoker} invokes this function synchronously; there is no asynchronous invocation to send to a failure destination.` },
  ];
}

/** Findings about asynchronous invocation that do not apply to a function only API Gateway calls. */
export const SYNCHRONOUS_INVOKE_ACKNOWLEDGEMENTS: NagAcknowledgement[] = synchronousInvokeAcknowledgements('API Gateway');

/** The API props every HTTP pattern accepts. */
export interface PatternApiProps {
  readonly apiProps?: SecureRestApiProps;
  readonly alarmTopic?: sns.ITopic;
}

/** The pattern's `SecureRestApi` (id `Api`), with the pattern's alarm topic and the settings it requires. */
export function createPatternApi(
  scope: Construct, construct: string, props: PatternApiProps, required: Partial<SecureRestApiProps> = {},
): SecureRestApi {
  if (props.apiProps?.alarmTopic && props.alarmTopic && props.apiProps.alarmTopic !== props.alarmTopic) {
    throw new InvalidPropsError(construct, 'alarmTopic and apiProps.alarmTopic name different topics; set alarmTopic only');
  }
  return new SecureRestApi(scope, 'Api', mergeProps<SecureRestApiProps>({}, props.apiProps, { ...required, alarmTopic: props.alarmTopic }));
}

/** Errors and throttles of a function behind an API. */
export function addApiHandlerAlarms(alarms: AlarmFactory, handler: lambda.IFunction, path: string): void {
  alarms.add('HandlerErrorsAlarm', {
    metric: LambdaMetrics.errorCount(handler),
    threshold: 1,
    description: `The handler of ${path} failed (crash or timeout, not a 4XX/5XX answer) at least once in 5 minutes. Check its log group.`,
  });
  alarms.add('HandlerThrottlesAlarm', {
    metric: LambdaMetrics.throttleCount(handler),
    threshold: 1,
    description: `The handler of ${path} was throttled in the last 5 minutes: callers got 5XX. Raise the account concurrency or reserve concurrency for it.`,
  });
}
