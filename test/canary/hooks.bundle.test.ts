/**
 * The pre-built bundles `assets/canary/{pre,post}-traffic/index.mjs` (what Lambda runs), imported
 * in a fresh `node` process as ESM and invoked with one CodeDeploy hook event each, their SDK
 * clients pointed at a local endpoint speaking the Lambda (REST JSON), CloudWatch (JSON 1.0) and
 * CodeDeploy (JSON 1.1) protocols: catches bundling-only failures and checks the requests on the
 * wire. Build them first with `npx projen bundle` (`npm test` does).
 */
import { startAwsEndpoint, type AwsEndpoint, type AwsRequest, type AwsResponse } from './aws-endpoint';
import { DEPLOYMENT_ID, FUNCTION_NAME, HOOK_EXECUTION_ID, TARGET_VERSION, TARGET_VERSION_ARN, hookContext, hookEvent } from './hook-harness';
import { builtBundle, invokeBundle } from '../helpers/fresh-node';

const PRE_TRAFFIC = builtBundle('canary', 'pre-traffic');
const POST_TRAFFIC = builtBundle('canary', 'post-traffic');

const CODEDEPLOY_REPORTED: AwsResponse = { headers: { 'content-type': 'application/x-amz-json-1.1' }, json: { lifecycleEventHookExecutionId: HOOK_EXECUTION_ID } };
const CONTEXT = { ...hookContext(), getRemainingTimeInMillis: undefined };

let endpoint: AwsEndpoint | undefined;

afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

function byOperation(request: AwsRequest): string {
  return request.operation ?? `${request.method} ${request.path}`;
}

test('pre-traffic: invokes the version over the Lambda REST protocol and reports Succeeded to CodeDeploy', async () => {
  // Prepare
  endpoint = await startAwsEndpoint((request) => {
    if (request.operation === 'PutLifecycleEventHookExecutionStatus') return CODEDEPLOY_REPORTED;
    return { headers: { 'x-amz-executed-version': TARGET_VERSION }, json: { statusCode: 200, body: '{"status":"ok"}' } };
  });

  // Act
  const { results, error } = await invokeBundle(PRE_TRAFFIC, [hookEvent()], CONTEXT, {
    TARGET_VERSION_ARN,
    SMOKE_TEST_PAYLOAD: '{"path":"/health"}',
    SMOKE_TEST_EXPECT: '{"statusCode":200,"bodyContains":"ok"}',
    AWS_ENDPOINT_URL_LAMBDA: endpoint.origin,
    AWS_ENDPOINT_URL_CODEDEPLOY: endpoint.origin,
  });

  // Assess
  expect(error).toBeUndefined();
  expect(results).toEqual([{ reported: true, status: 'Succeeded', reason: 'smoke test passed' }]);
  expect(endpoint.requests.map(byOperation)).toEqual([`POST /2015-03-31/functions/${TARGET_VERSION_ARN}/invocations`, 'PutLifecycleEventHookExecutionStatus']);
  const [invoke, report] = endpoint.requests;
  expect(invoke.headers['x-amz-invocation-type']).toBe('RequestResponse');
  expect(invoke.body).toBe('{"path":"/health"}');
  expect(JSON.parse(report.body)).toEqual({ deploymentId: DEPLOYMENT_ID, lifecycleEventHookExecutionId: HOOK_EXECUTION_ID, status: 'Succeeded' });
});

test('post-traffic: reads every page of metrics over the CloudWatch JSON protocol and reports Succeeded', async () => {
  // Prepare
  const series = (Id: string, values: number[]) => ({ Id, Label: Id, Timestamps: values.map(() => Math.floor(Date.now() / 60_000) * 60), Values: values, StatusCode: 'Complete' });
  endpoint = await startAwsEndpoint((request, index) => {
    if (request.operation === 'PutLifecycleEventHookExecutionStatus') return CODEDEPLOY_REPORTED;
    const json = index === 0
      ? { MetricDataResults: [series('errors', [0]), series('invocations', [4])], NextToken: 'page-2' }
      : { MetricDataResults: [series('errors', [1]), series('invocations', [96])] };
    return { headers: { 'content-type': 'application/x-amz-json-1.0' }, json };
  });

  // Act
  const { results, error } = await invokeBundle(POST_TRAFFIC, [hookEvent()], CONTEXT, {
    FUNCTION_NAME,
    ALIAS_NAME: 'live',
    TARGET_VERSION,
    MAX_ERRORS: '1',
    MAX_ERROR_RATE_PERCENT: '5',
    AWS_ENDPOINT_URL_CLOUDWATCH: endpoint.origin,
    AWS_ENDPOINT_URL_CODEDEPLOY: endpoint.origin,
  });

  // Assess
  expect(error).toBeUndefined();
  expect(results).toEqual([{ reported: true, status: 'Succeeded', reason: '1 errors in 100 invocations of the new version in the last 10 minutes: within the thresholds' }]);
  expect(endpoint.requests.map(byOperation)).toEqual(['GetMetricData', 'GetMetricData', 'PutLifecycleEventHookExecutionStatus']);
  const [first, second, report] = endpoint.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
  const dimensions = [
    { Name: 'FunctionName', Value: FUNCTION_NAME },
    { Name: 'Resource', Value: `${FUNCTION_NAME}:live` },
    { Name: 'ExecutedVersion', Value: TARGET_VERSION },
  ];
  expect(first.MetricDataQueries).toEqual(['Errors', 'Invocations'].map((MetricName) => ({
    Id: MetricName.toLowerCase(),
    MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName, Dimensions: dimensions }, Period: 60, Stat: 'Sum' },
    ReturnData: true,
  })));
  // Timestamps travel as epoch seconds: ten whole minutes.
  expect(first.EndTime as number % 60).toBe(0);
  expect((first.EndTime as number) - (first.StartTime as number)).toBe(600);
  expect(first.NextToken).toBeUndefined();
  expect(second).toEqual({ ...first, NextToken: 'page-2' });
  expect(report).toEqual({ deploymentId: DEPLOYMENT_ID, lifecycleEventHookExecutionId: HOOK_EXECUTION_ID, status: 'Succeeded' });
});

test.each([
  ['pre-traffic', PRE_TRAFFIC, { SMOKE_TEST_EXPECT: '{"statusCode":"200"}' }, 'Invalid configuration: TARGET_VERSION_ARN is required; SMOKE_TEST_EXPECT statusCode must be an integer in 100..599, got "200"'],
  ['post-traffic', POST_TRAFFIC, { FUNCTION_NAME, WINDOW_MINUTES: '0' }, 'Invalid configuration: ALIAS_NAME is required; TARGET_VERSION is required; WINDOW_MINUTES must be an integer in 1..180, got "0"'],
])('%s: the bundle fails its cold start with the configuration problems', async (_name, bundle, env, message) => {
  const { error } = await invokeBundle(bundle, [], CONTEXT, env);

  expect(error).toBe(message);
});
