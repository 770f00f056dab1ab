/**
 * CodeDeploy `AfterAllowTraffic` hook of the canary deployment: reads the new version's `Errors`
 * and `Invocations` through the alias over the last WINDOW_MINUTES from CloudWatch and reports
 * `Succeeded` or `Failed` to CodeDeploy (`lib/error-metrics.ts` judges, `lib/lifecycle-hook.ts`
 * reports exactly once, also on errors and near the timeout). Configuration: `lib/config.ts`.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { Context } from 'aws-lambda';
import { awsClientConfig, lazy } from '../shared/aws-client';
import { createLogger } from '../shared/logger';
import { loadPostTrafficConfig } from './lib/config';
import { judgeErrorMetrics, readErrorMetrics } from './lib/error-metrics';
import { runLifecycleHook, type HookResult } from './lib/lifecycle-hook';

const config = loadPostTrafficConfig();
const logger = createLogger('canary-post-traffic');
// The report loop (lib/report.ts) owns the retries of PutLifecycleEventHookExecutionStatus.
const codedeploy = lazy(() => new CodeDeployClient(awsClientConfig('caller')));
const cloudwatch = lazy(() => new CloudWatchClient(awsClientConfig()));

export const handler = async (event: unknown, context?: Context): Promise<HookResult> =>
  runLifecycleHook(event, context, {
    hook: 'post-traffic',
    logger,
    codedeploy,
    check: async (signal) => judgeErrorMetrics(await readErrorMetrics(config, cloudwatch(), signal), config),
  });
