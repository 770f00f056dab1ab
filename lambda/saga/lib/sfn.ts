/**
 * The Step Functions clients of the saga's API handlers.
 *
 * - `lazySfnClient`: timeouts and SDK retries like every client here (3 attempts, 3 s each), for
 *   calls that are safe to repeat (DescribeExecution, SendTask*).
 * - `lazyStartClient`: ONE attempt per call (`awsClientConfig('caller')`), for StartExecution and
 *   StartSyncExecution. An SDK retry after a lost answer would start a second Express execution
 *   (Express does not deduplicate names); the caller decides what may be retried. Its request
 *   timeout bounds that one attempt: StartSyncExecution answers only when the saga has ended, so
 *   its client needs a timeout at least as long as the saga can run.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { awsClientConfig, lazy } from '../../shared/aws-client';

export const lazySfnClient = (): (() => SFNClient) => lazy(() => new SFNClient({ ...awsClientConfig() }));

/** A single-attempt client whose one attempt may take `requestTimeoutMs` (default: the shared 3 s). */
export function lazyStartClient(requestTimeoutMs?: number): () => SFNClient {
  return lazy(() => {
    const base = awsClientConfig('caller');
    return new SFNClient({
      ...base,
      requestHandler: { ...base.requestHandler, requestTimeout: requestTimeoutMs ?? base.requestHandler.requestTimeout },
    });
  });
}
