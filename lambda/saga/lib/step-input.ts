/**
 * The input the state machine gives a Lambda step (`Payload` of its lambda:invoke task):
 * `{ "action": ..., "executionId": "$$.Execution.Id", "order": {...} }`. The execution id is the
 * idempotency key of every write a step makes, so a retried step, a redriven execution or a
 * Lambda retry after a lost response applies once.
 */
import { InvalidStepInputError } from './errors';
import { parseOrder, type Order } from './order';

export interface StepInput<A extends string> {
  readonly action: A;
  readonly executionId: string;
  readonly order: Order;
}

/** A Step Functions execution ARN (Standard `execution`, Express `express`). */
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:(?:execution|express):[A-Za-z0-9_-]{1,80}:[A-Za-z0-9_-]{1,80}(?::[A-Za-z0-9_-]{1,80})?$/;

export function parseStepInput<A extends string>(event: unknown, actions: readonly A[]): StepInput<A> {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) throw new InvalidStepInputError('The step input must be an object');
  const { action, executionId, order } = event as Record<string, unknown>;
  if (typeof action !== 'string' || !(actions as readonly string[]).includes(action)) {
    throw new InvalidStepInputError(`action must be one of ${actions.join(', ')}`);
  }
  if (typeof executionId !== 'string' || !EXECUTION_ARN.test(executionId)) {
    throw new InvalidStepInputError('executionId must be the execution ARN ($$.Execution.Id)');
  }
  const parsed = parseOrder(order, '/order');
  if ('problems' in parsed) {
    throw new InvalidStepInputError(`order is invalid: ${parsed.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
  }
  return { action: action as A, executionId, order: parsed.order };
}
