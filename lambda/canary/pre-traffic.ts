/**
 * CodeDeploy `BeforeAllowTraffic` hook of the canary deployment: invokes the new version
 * (TARGET_VERSION_ARN) once with the smoke-test payload before any traffic is shifted to it, and
 * reports `Succeeded` or `Failed` to CodeDeploy (`lib/smoke-test.ts` judges, `lib/lifecycle-hook.ts`
 * reports exactly once, also on errors and near the timeout). Configuration: `lib/config.ts`.
 */
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { awsClientConfig, lazy } from '../shared/aws-client';
import { createLogger } from '../shared/logger';
import { loadPreTrafficConfig } from './lib/config';
import { runLifecycleHook, type HookResult } from './lib/lifecycle-hook';
import { runSmokeTest } from './lib/smoke-test';

const config = loadPreTrafficConfig();
const logger = createLogger('canary-pre-traffic');
// The report loop (lib/report.ts) owns the retries of PutLifecycleEventHookExecutionStatus.
const codedeploy = lazy(() => new CodeDeployClient(awsClientConfig('caller')));
const lambda = lazy(() => new LambdaClient(awsClientConfig()));

export const handler = async (event: unknown, context?: Context): Promise<HookResult> =>
  runLifecycleHook(event, context, {
    hook: 'pre-traffic',
    logger,
    codedeploy,
    check: (signal) => runSmokeTest(config, lambda(), signal),
  });
