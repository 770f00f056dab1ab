/**
 * Lifecycle hooks, property-based: any event, however malformed or hostile, never crashes the
 * hook; it reports at most once, and exactly once (to the event's own ids) whenever the event
 * carries both ids. Checked on the pre-traffic hook; the event handling is shared code.
 */
import fc from 'fast-check';
import { TARGET_VERSION, TARGET_VERSION_ARN, hookEvent, jsonBytes, loadPreTraffic, type LoadedPreTraffic } from './hook-harness';
import { anyString } from '../helpers/hostile-input';

let hook: LoadedPreTraffic;

beforeAll(() => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  hook = loadPreTraffic({ TARGET_VERSION_ARN });
});

beforeEach(() => {
  hook.codedeploy.reset();
  hook.checkClient.reset();
  hook.codedeploy.on(hook.codedeploySdk.PutLifecycleEventHookExecutionStatusCommand).resolves({});
  hook.checkClient.on(hook.checkSdk.InvokeCommand).resolves({ StatusCode: 200, ExecutedVersion: TARGET_VERSION, Payload: jsonBytes({}) });
});

/** Independent oracle: the ids a report must go to, or `undefined` when there are none. */
function reportableIds(event: unknown): { deploymentId: string; lifecycleEventHookExecutionId: string } | undefined {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return undefined;
  const d = (event as Record<string, unknown>).DeploymentId;
  const l = (event as Record<string, unknown>).LifecycleEventHookExecutionId;
  const ok = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 4096;
  return ok(d) && ok(l) ? { deploymentId: d, lifecycleEventHookExecutionId: l } : undefined;
}

const idValue = fc.oneof(anyString, fc.constant(undefined), fc.constant(null), fc.integer(), fc.jsonValue({ maxDepth: 2 }), fc.constant('d-A1B2C3D4E'));

const hostileEvent: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  anyString,
  fc.record({ DeploymentId: idValue, LifecycleEventHookExecutionId: idValue }, { requiredKeys: [] }),
  fc.tuple(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), fc.constantFrom('DeploymentId', 'LifecycleEventHookExecutionId'), idValue)
    .map(([extra, key, value]) => ({ ...extra, ...hookEvent(), [key]: value })),
);

test('any event: no crash, and exactly one report exactly when both ids are there', async () => {
  await fc.assert(fc.asyncProperty(hostileEvent, async (event) => {
    hook.codedeploy.resetHistory();
    hook.checkClient.resetHistory();

    const result = await hook.invoke(event);

    const ids = reportableIds(event);
    const reports = hook.reports();
    if (ids === undefined) {
      expect(result.reported).toBe(false);
      expect(reports).toEqual([]);
      expect(hook.checkClient.calls()).toHaveLength(0);
    } else {
      expect(result.reported).toBe(true);
      expect(reports).toEqual([{ ...ids, status: result.status }]);
      // Only a CodeDeploy-shaped deployment id gets the check run (and can pass).
      const wellFormed = /^d-[A-Z0-9]{9}$/.test(ids.deploymentId);
      expect(result.status).toBe(wellFormed ? 'Succeeded' : 'Failed');
      expect(hook.checkClient.calls()).toHaveLength(wellFormed ? 1 : 0);
    }
  }), { numRuns: 150 });
});

test('the opaque execution id is passed on exactly as received', async () => {
  await fc.assert(fc.asyncProperty(fc.string({ minLength: 1, maxLength: 300, unit: 'binary' }), async (executionId) => {
    hook.codedeploy.resetHistory();

    await hook.invoke(hookEvent({ LifecycleEventHookExecutionId: executionId }));

    expect(hook.reports()).toEqual([{ deploymentId: 'd-A1B2C3D4E', lifecycleEventHookExecutionId: executionId, status: 'Succeeded' }]);
  }), { numRuns: 50 });
});
