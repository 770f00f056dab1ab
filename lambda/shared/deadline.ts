/**
 * A per-invocation deadline for outbound calls: aborts shortly before the Lambda timeout, so the
 * handler still answers with its own error shape (and logs) instead of being killed mid-call
 * (which API Gateway turns into a bare 502). Pass it as `send(command, { abortSignal })`.
 */
import type { Context } from 'aws-lambda';

/** Time kept back to build the response and flush logs. */
export const DEFAULT_DEADLINE_MARGIN_MS = 500;
const MIN_BUDGET_MS = 100;

/** An AbortSignal firing `marginMs` before the invocation times out; `undefined` without a Lambda context. */
export function invocationDeadline(context: Partial<Context> | undefined, marginMs = DEFAULT_DEADLINE_MARGIN_MS): AbortSignal | undefined {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  if (remaining === undefined || !Number.isFinite(remaining)) return undefined;
  return AbortSignal.timeout(Math.max(MIN_BUDGET_MS, Math.floor(remaining - marginMs)));
}
