/**
 * Configuration of the fan-out handlers, from environment variables, validated at cold start
 * (one `ConfigError` lists every problem).
 *
 * | entry | variable | default | rule |
 * |---|---|---|---|
 * | publisher | TOPIC_ARN | (required) | an SNS topic ARN; a `.fifo` topic needs FIFO=true |
 * | consumers, publisher | FIFO | `false` | `true` or `false` |
 * | consumers | TABLE_NAME | (required) | DynamoDB table, `pk` (S) + `sk` (S) |
 * | redrive | REDRIVE_TARGETS | (required) | JSON `{"<subscriber>": {"deadLetterQueueArn": "...", "sourceQueueArn": "..."}}` |
 * | all | POWERTOOLS_SERVICE_NAME | the entry name | Powertools service name |
 */
import { EnvReader } from '../../shared/config';

export const TOPIC_ARN_PATTERN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
export const QUEUE_ARN_PATTERN = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
export const SUBSCRIBER_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

export interface ConsumerConfig {
  readonly tableName: string;
  readonly fifo: boolean;
}

export function loadConsumerConfig(env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  const reader = new EnvReader(env);
  const tableName = reader.requiredString('TABLE_NAME');
  const fifo = reader.booleanFlag('FIFO', false);
  reader.done();
  return { tableName, fifo };
}

export interface PublisherConfig {
  readonly topicArn: string;
  readonly fifo: boolean;
}

export function loadPublisherConfig(env: NodeJS.ProcessEnv = process.env): PublisherConfig {
  const reader = new EnvReader(env);
  const topicArn = reader.requiredString('TOPIC_ARN', { pattern: TOPIC_ARN_PATTERN });
  const fifo = reader.booleanFlag('FIFO', false);
  if (!reader.hasProblems && topicArn.endsWith('.fifo') !== fifo) {
    reader.problem('FIFO', `must be ${!fifo} for the ${fifo ? 'standard' : 'FIFO'} topic ${topicArn}`);
  }
  reader.done();
  return { topicArn, fifo };
}

export interface RedriveTarget {
  readonly deadLetterQueueArn: string;
  readonly sourceQueueArn: string;
}

export interface RedriveConfig {
  /** By subscriber name (a null-prototype map). */
  readonly targets: Readonly<Record<string, RedriveTarget>>;
}

function parseTargets(text: string): Record<string, RedriveTarget> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('must be a JSON object of subscriber name -> {deadLetterQueueArn, sourceQueueArn}');
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length === 0) throw new Error('must name at least one subscriber');
  const problems: string[] = [];
  const targets = Object.create(null) as Record<string, RedriveTarget>;
  for (const [name, value] of entries) {
    const shown = JSON.stringify(name.slice(0, 80));
    if (!SUBSCRIBER_NAME_PATTERN.test(name)) {
      problems.push(`subscriber name ${shown} must match ${SUBSCRIBER_NAME_PATTERN.source}`);
      continue;
    }
    const target = value as Record<string, unknown> | null;
    if (target === null || typeof target !== 'object' || Array.isArray(target)) {
      problems.push(`${name} must be an object {deadLetterQueueArn, sourceQueueArn}`);
      continue;
    }
    const extra = Object.keys(target).filter((k) => k !== 'deadLetterQueueArn' && k !== 'sourceQueueArn');
    if (extra.length > 0) problems.push(`${name} has unknown fields ${extra.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`);
    for (const field of ['deadLetterQueueArn', 'sourceQueueArn'] as const) {
      const arn = target[field];
      if (typeof arn !== 'string' || !QUEUE_ARN_PATTERN.test(arn)) problems.push(`${name}.${field} must be an SQS queue ARN, got ${JSON.stringify(arn)?.slice(0, 120)}`);
    }
    if (target.deadLetterQueueArn === target.sourceQueueArn && typeof target.sourceQueueArn === 'string') {
      problems.push(`${name}.deadLetterQueueArn must differ from sourceQueueArn`);
    }
    targets[name] = { deadLetterQueueArn: target.deadLetterQueueArn as string, sourceQueueArn: target.sourceQueueArn as string };
  }
  if (problems.length > 0) throw new Error(`is invalid: ${problems.join(', ')}`);
  return targets;
}

export function loadRedriveConfig(env: NodeJS.ProcessEnv = process.env): RedriveConfig {
  const reader = new EnvReader(env);
  if (reader.raw('REDRIVE_TARGETS') === undefined) reader.problem('REDRIVE_TARGETS', 'is required');
  const targets = reader.parsed('REDRIVE_TARGETS', parseTargets);
  reader.done();
  return { targets: targets! };
}
