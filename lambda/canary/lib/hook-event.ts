/**
 * The event CodeDeploy invokes a Lambda lifecycle hook with:
 * `{ "DeploymentId": "d-XXXXXXXXX", "LifecycleEventHookExecutionId": "<opaque>" }`.
 *
 * Both ids are needed to report a status. When either is missing there is nothing to report to;
 * when both are there but the event is otherwise wrong (a deployment id CodeDeploy would never
 * send), the hook still reports `Failed` to them rather than run its check for a caller it does
 * not recognise.
 */

/** CodeDeploy deployment ids: `d-` and nine upper-case letters or digits. */
export const DEPLOYMENT_ID_PATTERN = /^d-[A-Z0-9]{9}$/;
/** The execution id is opaque; only an absurd length is refused. */
export const MAX_HOOK_EXECUTION_ID_LENGTH = 4096;
const MAX_QUOTED = 40;

export interface HookTarget {
  readonly deploymentId: string;
  readonly lifecycleEventHookExecutionId: string;
}

export type ParsedHookEvent =
  /** A well-formed event. */
  | { readonly kind: 'valid'; readonly target: HookTarget }
  /** Malformed, but with ids to report `Failed` to. */
  | { readonly kind: 'malformed'; readonly target: HookTarget; readonly problem: string }
  /** Malformed without ids: nothing can be reported. */
  | { readonly kind: 'unreportable'; readonly problem: string };

function quoted(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}...` : value);
}

function idProblem(name: string, value: unknown, maxLength: number): string | undefined {
  if (value === undefined || value === null) return `${name} is missing`;
  if (typeof value !== 'string') return `${name} is not a string (${Array.isArray(value) ? 'array' : typeof value})`;
  if (value.length === 0) return `${name} is empty`;
  if (value.length > maxLength) return `${name} is longer than ${maxLength} characters`;
  return undefined;
}

export function parseHookEvent(event: unknown): ParsedHookEvent {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    return { kind: 'unreportable', problem: `the event is not an object (${event === null ? 'null' : Array.isArray(event) ? 'array' : typeof event})` };
  }
  const { DeploymentId: deploymentId, LifecycleEventHookExecutionId: executionId } = event as Record<string, unknown>;
  const problems = [
    idProblem('DeploymentId', deploymentId, MAX_HOOK_EXECUTION_ID_LENGTH),
    idProblem('LifecycleEventHookExecutionId', executionId, MAX_HOOK_EXECUTION_ID_LENGTH),
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) return { kind: 'unreportable', problem: problems.join('; ') };
  const target: HookTarget = { deploymentId: deploymentId as string, lifecycleEventHookExecutionId: executionId as string };
  if (!DEPLOYMENT_ID_PATTERN.test(target.deploymentId)) {
    return { kind: 'malformed', target, problem: `DeploymentId ${quoted(target.deploymentId)} does not match ${DEPLOYMENT_ID_PATTERN.source}` };
  }
  return { kind: 'valid', target };
}
