/**
 * A small concurrency limiter: at most `max` tasks in flight, the rest queued in FIFO order.
 * A task must not wait for another task of the same limiter (that could deadlock when every slot
 * is held by a waiting task): schedule follow-up work from outside the limited function instead.
 */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(max: number): Limiter {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
  let active = 0;
  const queue: Array<() => void> = [];
  const next = (): void => {
    active--;
    queue.shift()?.();
  };
  return <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const run = (): void => {
        active++;
        let result: Promise<T>;
        try {
          result = task();
        } catch (err) {
          result = Promise.reject(err);
        }
        result.then(resolve, reject).finally(next);
      };
      if (active < max) run();
      else queue.push(run);
    });
}
