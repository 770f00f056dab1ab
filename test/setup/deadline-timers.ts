/**
 * Runs in every test file after the framework is installed (jest `setupFilesAfterEnv`).
 *
 * The handlers make their deadlines with `AbortSignal.timeout()` (lambda/shared/deadline.ts and
 * others): an unref'd timer that lives until the deadline, 10-60 s for the test contexts, and that
 * cannot be cleared. jest-circus runs every test in an AsyncLocalStorage context, and a timer keeps
 * the context it was created in: the test, and through it the file's whole module registry
 * (aws-cdk-lib, the handler, its SDK clients). The handler's warm state still references the
 * signal, so it is never collected early either. A worker therefore kept the last minute's test
 * files alive (up to 1 GB after a full GC), and freeing that much memory at exit used up most of
 * jest's 500 ms grace period ("A worker process has failed to exit gracefully").
 *
 * Here `AbortSignal.timeout()` makes the same signal (a real timer, a `TimeoutError` reason) from
 * a timer this file clears when the test file ends.
 */
import { clearTimeout, setTimeout } from 'node:timers';

const nodeTimeout = AbortSignal.timeout;
const pending = new Set<NodeJS.Timeout>();

AbortSignal.timeout = function timeout(delay: number): AbortSignal {
  // Node's own checks and errors for a delay that is not a uint32.
  if (!Number.isInteger(delay) || delay < 0 || delay > 0xFFFF_FFFF) return nodeTimeout.call(AbortSignal, delay);
  const controller = new AbortController();
  const timer = setTimeout(() => {
    pending.delete(timer);
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }, delay);
  timer.unref();
  pending.add(timer);
  return controller.signal;
};

afterAll(() => {
  for (const timer of pending) clearTimeout(timer);
  pending.clear();
  AbortSignal.timeout = nodeTimeout;
});
