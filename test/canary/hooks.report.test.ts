/**
 * What both lifecycle hooks share (`lambda/canary/lib/lifecycle-hook.ts`, `lib/report.ts`): the
 * report is retried on transient failures and sent successfully exactly once, a report that
 * cannot be delivered fails the invocation, and a malformed event is reported `Failed` when it
 * has ids to report to and only logged when it has none.
 */
import {
  FUNCTION_NAME,
  HOOK_EXECUTION_ID,
  TARGET_VERSION,
  TARGET_VERSION_ARN,
  awsError,
  captureLogs,
  expectedReport,
  hookContext,
  hookEvent,
  jsonBytes,
  loadPostTraffic,
  loadPreTraffic,
  rejection,
  sendOptions,
  type LoadedPostTraffic,
  type LoadedPreTraffic,
} from './hook-harness';

type AnyHook = LoadedPreTraffic | LoadedPostTraffic;

interface HookCase {
  readonly name: string;
  /** Loads the hook with a check that passes; `env` goes over its minimal configuration. */
  load(env?: Record<string, string>): AnyHook;
  /** Calls of the check's client. */
  checkCalls(h: AnyHook): number;
}

const HOOKS: HookCase[] = [
  {
    name: 'pre-traffic',
    load(env = {}) {
      const h = loadPreTraffic({ TARGET_VERSION_ARN, ...env });
      h.checkClient.on(h.checkSdk.InvokeCommand).resolves({ StatusCode: 200, ExecutedVersion: TARGET_VERSION, Payload: jsonBytes({}) });
      return h;
    },
    checkCalls: (h) => h.checkClient.calls().length,
  },
  {
    name: 'post-traffic',
    load(env = {}) {
      const h = loadPostTraffic({ FUNCTION_NAME, ALIAS_NAME: 'live', TARGET_VERSION, ...env });
      h.checkClient.on(h.checkSdk.GetMetricDataCommand).resolves({
        MetricDataResults: [
          { Id: 'errors', Values: [0], Timestamps: [new Date()], StatusCode: 'Complete' },
          { Id: 'invocations', Values: [10], Timestamps: [new Date()], StatusCode: 'Complete' },
        ],
      });
      return h;
    },
    checkCalls: (h) => h.checkClient.calls().length,
  },
];

beforeAll(() => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe.each(HOOKS)('$name hook', (hookCase) => {
  const load = (env?: Record<string, string>): AnyHook => hookCase.load(env);

  function putStatus(h: AnyHook) {
    return h.codedeploy.on(h.codedeploySdk.PutLifecycleEventHookExecutionStatusCommand);
  }

  describe('reporting', () => {
    test('a report throttled once is retried and succeeds: one successful report', async () => {
      // Prepare
      const h = load();
      putStatus(h).rejectsOnce(awsError('ThrottlingException', 'Rate exceeded')).resolves({ lifecycleEventHookExecutionId: HOOK_EXECUTION_ID });

      // Act
      const result = await h.invoke();

      // Assess: two identical calls, the first refused; the check ran once.
      expect(result).toEqual(expect.objectContaining({ reported: true, status: 'Succeeded' }));
      expect(h.reports()).toEqual([expectedReport('Succeeded'), expectedReport('Succeeded')]);
      expect(h.codedeploy.calls()).toHaveLength(2);
      expect(hookCase.checkCalls(h)).toBe(1);
    });

    test('a retry told LifecycleEventAlreadyCompleted finds its own earlier attempt landed: success', async () => {
      const h = load();
      putStatus(h)
        .rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }))
        .rejects(awsError('LifecycleEventAlreadyCompletedException', 'already completed'));

      const result = await h.invoke();

      expect(result.status).toBe('Succeeded');
      expect(h.reports()).toEqual([expectedReport('Succeeded'), expectedReport('Succeeded')]);
    });

    test('a report that keeps failing transiently: every attempt made, then the invocation rejects', async () => {
      // Prepare: no backoff wait (full jitter with random() = 0).
      jest.spyOn(Math, 'random').mockReturnValue(0);
      const h = load({ POWERTOOLS_LOG_LEVEL: 'ERROR' });
      putStatus(h).rejects(awsError('ServiceUnavailableException', 'try later', 'server', 503));
      const logs = captureLogs();

      // Act
      let err: Error;
      try {
        err = await rejection(h.invoke());
      } finally {
        logs.restore();
      }

      // Assess
      expect(err.name).toBe('HookReportError');
      expect(err.message).toBe('Could not report Succeeded to CodeDeploy: ServiceUnavailableException: try later');
      expect(h.reports()).toEqual(Array(5).fill(expectedReport('Succeeded')));
      expect(hookCase.checkCalls(h)).toBe(1);
      expect(logs.lines()).toEqual([expect.objectContaining({ level: 'ERROR', message: 'status could not be reported to CodeDeploy', hook: hookCase.name })]);
    });

    test.each([
      ['AccessDeniedException', awsError('AccessDeniedException', 'not authorized to perform: codedeploy:PutLifecycleEventHookExecutionStatus')],
      ['DeploymentDoesNotExistException', awsError('DeploymentDoesNotExistException', 'no such deployment')],
      ['LifecycleEventAlreadyCompletedException', awsError('LifecycleEventAlreadyCompletedException', 'already completed')],
    ])('a report refused with %s is not retried: the invocation rejects', async (name, error) => {
      const h = load();
      putStatus(h).rejects(error);

      const err = await rejection(h.invoke());

      expect(err.message).toBe(`Could not report Succeeded to CodeDeploy: ${name}: ${error.message}`);
      expect(h.reports()).toEqual([expectedReport('Succeeded')]);
    });

    test('retries stop before the invocation times out', async () => {
      // Prepare: every attempt hangs until its abort signal (the report deadline) fires, as the SDK's does.
      const h = load();
      putStatus(h).callsFake(() => {
        const { abortSignal } = sendOptions(h.codedeploy.send.lastCall);
        return new Promise((_resolve, reject) => abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }))));
      });
      const started = performance.now();

      // Act
      const err = await rejection(h.invoke(hookEvent(), hookContext(1_000)));

      // Assess: given up 250 ms before the 1 s timeout, after a single attempt (aborted, so not retried).
      const elapsed = performance.now() - started;
      expect(err.message).toBe('Could not report Succeeded to CodeDeploy: AbortError: Request aborted');
      // The aborted signal below shows it gave up at its own deadline (no upper bound on the time,
      // which a loaded machine can stretch).
      expect(elapsed).toBeGreaterThanOrEqual(700);
      expect(h.reports()).toEqual([expectedReport('Succeeded')]);
      expect(sendOptions(h.codedeploy.calls()[0]).abortSignal?.aborted).toBe(true);
    });
  });

  describe('malformed events', () => {
    test.each([
      ['null', null],
      ['a string', 'd-A1B2C3D4E'],
      ['an array', [hookEvent()]],
      ['an empty object', {}],
      ['no LifecycleEventHookExecutionId', { DeploymentId: 'd-A1B2C3D4E' }],
      ['no DeploymentId', { LifecycleEventHookExecutionId: HOOK_EXECUTION_ID }],
      ['a numeric DeploymentId', { DeploymentId: 42, LifecycleEventHookExecutionId: HOOK_EXECUTION_ID }],
      ['an empty LifecycleEventHookExecutionId', { DeploymentId: 'd-A1B2C3D4E', LifecycleEventHookExecutionId: '' }],
      ['an absurdly long LifecycleEventHookExecutionId', { DeploymentId: 'd-A1B2C3D4E', LifecycleEventHookExecutionId: 'x'.repeat(5_000) }],
    ])('%s: nothing to report to, logged, no call at all', async (_name, event) => {
      // Prepare
      const h = load({ POWERTOOLS_LOG_LEVEL: 'ERROR' });
      putStatus(h).resolves({});
      const logs = captureLogs();

      // Act
      let result;
      try {
        result = await h.invoke(event);
      } finally {
        logs.restore();
      }

      // Assess
      expect(result).toEqual({ reported: false, reason: expect.stringMatching(/^malformed event: /) });
      expect(h.codedeploy.calls()).toHaveLength(0);
      expect(hookCase.checkCalls(h)).toBe(0);
      expect(logs.lines()).toEqual([expect.objectContaining({
        level: 'ERROR',
        message: 'malformed lifecycle hook event: no ids to report to, nothing reported',
        problem: result!.reason.slice('malformed event: '.length),
      })]);
    });

    test('ids present but a DeploymentId CodeDeploy never sends: Failed reported to them, the check not run', async () => {
      const h = load();
      putStatus(h).resolves({});

      const result = await h.invoke({ DeploymentId: 'deployment-1', LifecycleEventHookExecutionId: HOOK_EXECUTION_ID });

      expect(result).toEqual({ reported: true, status: 'Failed', reason: 'malformed event: DeploymentId "deployment-1" does not match ^d-[A-Z0-9]{9}$' });
      expect(h.reports()).toEqual([{ deploymentId: 'deployment-1', lifecycleEventHookExecutionId: HOOK_EXECUTION_ID, status: 'Failed' }]);
      expect(h.codedeploy.calls()).toHaveLength(1);
      expect(hookCase.checkCalls(h)).toBe(0);
    });

    test('extra fields are ignored', async () => {
      const h = load();
      putStatus(h).resolves({});

      const result = await h.invoke({ ...hookEvent(), Unexpected: { nested: true } });

      expect(result.status).toBe('Succeeded');
      expect(h.reports()).toEqual([expectedReport('Succeeded')]);
    });
  });
});
