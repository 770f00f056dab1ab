/**
 * Configuration of the saga handlers, from environment variables, validated at cold start.
 *
 * | entry | variable | default | rule |
 * |---|---|---|---|
 * | inventory, payment, start | TABLE_NAME | (required) | DynamoDB table, `pk` (S) + `sk` (S) |
 * | payment | PAYMENT_LIMIT | `1000000` | integer 1..100000000: larger charges are declined (the reference provider's rule) |
 * | start | STATE_MACHINE_ARN | (required) | the saga's state machine |
 * | start | WORKFLOW_TYPE | `STANDARD` | `STANDARD` or `EXPRESS` |
 * | start | START_MODE | `async` | `async` (202) or `sync` (EXPRESS only: StartSyncExecution, 200) |
 * | start | SYNC_START_TIMEOUT_MS | `25000` | integer 1000..300000: how long the one StartSyncExecution attempt may wait for the saga's end (sync only); at least the state machine's timeout, and at least 2 s less than the starter's Lambda timeout |
 * | start | MAX_BODY_BYTES | `16384` | integer 256..262144 |
 * | callback | MAX_BODY_BYTES | `8192` | integer 256..65536 (a task token is at most 2048 characters) |
 * | all | POWERTOOLS_SERVICE_NAME | the entry name | Powertools service name |
 */
import { EnvReader } from '../../shared/config';

export const STATE_MACHINE_ARN_PATTERN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

export function loadTableConfig(env: NodeJS.ProcessEnv = process.env): { tableName: string } {
  const reader = new EnvReader(env);
  const tableName = reader.requiredString('TABLE_NAME');
  reader.done();
  return { tableName };
}

export function loadPaymentConfig(env: NodeJS.ProcessEnv = process.env): { tableName: string; paymentLimit: number } {
  const reader = new EnvReader(env);
  const tableName = reader.requiredString('TABLE_NAME');
  const paymentLimit = reader.integerInRange('PAYMENT_LIMIT', 1_000_000, 1, 100_000_000);
  reader.done();
  return { tableName, paymentLimit };
}

export interface StartConfig {
  readonly tableName: string;
  readonly stateMachineArn: string;
  readonly workflowType: 'STANDARD' | 'EXPRESS';
  readonly startMode: 'async' | 'sync';
  readonly maxBodyBytes: number;
  /** The request timeout of the one StartSyncExecution attempt (sync only). */
  readonly syncStartTimeoutMs: number;
}

/** StartSyncExecution's default wait: a saga under API Gateway's 29 s integration timeout, with time left to record it. */
export const DEFAULT_SYNC_START_TIMEOUT_MS = 25_000;

export function loadStartConfig(env: NodeJS.ProcessEnv = process.env): StartConfig {
  const reader = new EnvReader(env);
  const tableName = reader.requiredString('TABLE_NAME');
  const stateMachineArn = reader.requiredString('STATE_MACHINE_ARN', { pattern: STATE_MACHINE_ARN_PATTERN });
  const workflowType = reader.oneOf('WORKFLOW_TYPE', ['STANDARD', 'EXPRESS'] as const, 'STANDARD');
  const startMode = reader.oneOf('START_MODE', ['async', 'sync'] as const, 'async');
  const maxBodyBytes = reader.integerInRange('MAX_BODY_BYTES', 16_384, 256, 262_144);
  // StartSyncExecution runs an Express execution for at most 5 minutes.
  const syncStartTimeoutMs = reader.integerInRange('SYNC_START_TIMEOUT_MS', DEFAULT_SYNC_START_TIMEOUT_MS, 1_000, 300_000);
  if (startMode === 'sync' && workflowType !== 'EXPRESS') reader.problem('START_MODE', 'sync needs WORKFLOW_TYPE=EXPRESS (StartSyncExecution runs Express workflows only)');
  reader.done();
  return { tableName, stateMachineArn, workflowType, startMode, maxBodyBytes, syncStartTimeoutMs };
}

export function loadCallbackConfig(env: NodeJS.ProcessEnv = process.env): { maxBodyBytes: number } {
  const reader = new EnvReader(env);
  const maxBodyBytes = reader.integerInRange('MAX_BODY_BYTES', 8_192, 256, 65_536);
  reader.done();
  return { maxBodyBytes };
}
