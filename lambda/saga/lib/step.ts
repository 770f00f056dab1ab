/**
 * What every Lambda step of the saga shares: Powertools logger keys per invocation (execution id,
 * order id, action), typed input, and one rule for failures: an AWS failure that is worth another
 * attempt (throttling, timeout, server fault, after the SDK's own retries) becomes
 * `TransientStepError`, which the state retries with backoff and jitter; anything else keeps its
 * name, so the state's `Catch` runs the compensations.
 */
import type { Context } from 'aws-lambda';
import { TransientStepError } from './errors';
import { parseStepInput, type StepInput } from './step-input';
import { errorSummary, isTransientAwsError } from '../../shared/aws-errors';
import { createLogger, startInvocation, type Logger } from '../../shared/logger';

export function createStepHandler<A extends string, R>(
  serviceName: string,
  actions: readonly A[],
  run: (input: StepInput<A>, logger: Logger) => Promise<R>,
): { handler: (event: unknown, context?: Partial<Context>) => Promise<R>; logger: Logger } {
  const logger = createLogger(serviceName);
  const handler = async (event: unknown, context?: Partial<Context>): Promise<R> => {
    startInvocation(logger, context);
    let input: StepInput<A>;
    try {
      input = parseStepInput(event, actions);
    } catch (err) {
      logger.error('invalid step input', errorSummary(err));
      throw err;
    }
    logger.appendKeys({ execution_id: input.executionId, order_id: input.order.orderId, action: input.action });
    try {
      const result = await run(input, logger);
      logger.info('step done');
      return result;
    } catch (err) {
      if (isTransientAwsError(err)) {
        logger.warn('step failed transiently', errorSummary(err));
        throw new TransientStepError(`${input.action} failed transiently: ${errorSummary(err).name}`, { cause: err });
      }
      logger.info('step failed', errorSummary(err));
      throw err;
    }
  };
  return { handler, logger };
}
