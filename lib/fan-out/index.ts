import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AlarmFactory } from '../core/alarms';
import { referenceHandlerCode } from '../core/assets';
import { CanaryDeployment, CanaryDeploymentOptions } from '../core/canary-deployment';
import { PatternEncryptionProps, usePatternKey } from '../core/encryption';
import { assertExclusive, assertIntegerInRange, InvalidPropsError } from '../core/errors';
import { createLibraryFunction } from '../core/function';
import { mergeProps } from '../core/merge';
import { LambdaMetrics, SqsMetrics } from '../core/metrics';
import { acknowledgeNagFindings, NagAcknowledgement, ruleAcknowledgements } from '../core/nag';
import { completeOperations, DeploymentRollback, PatternOperationsProps, patternDeployment } from '../core/operations';
import { PatternTableProps } from '../core/pattern-props';
import { createTerminalQueue } from '../core/queue';
import { QUEUE_DEFAULTS } from '../core/sqs-defaults';
import { createLibraryTable } from '../core/table';
import { createEncryptedTopic } from '../core/topic';

/**
 * The code of a subscriber's consumer: one of the reference order-event consumers, or yours.
 * Reference consumers get exactly the table actions they call; your code gets read/write.
 */
export class FanOutConsumerCode {
  /** Stores every order event (append-only audit log). */
  public static audit(): FanOutConsumerCode {
    return new FanOutConsumerCode(referenceHandlerCode('fan-out/audit-consumer'), 'index.handler', ['dynamodb:PutItem']);
  }

  /** Keeps per-customer totals of high-value orders; subscribe it with a numeric `amount` filter. */
  public static highValue(): FanOutConsumerCode {
    return new FanOutConsumerCode(referenceHandlerCode('fan-out/high-value-consumer'), 'index.handler', ['dynamodb:UpdateItem']);
  }

  /** Projects each order's current status and exact per-type counts. */
  public static projection(): FanOutConsumerCode {
    return new FanOutConsumerCode(referenceHandlerCode('fan-out/projection-consumer'), 'index.handler', ['dynamodb:PutItem', 'dynamodb:UpdateItem']);
  }

  /** Your own consumer; it receives `TABLE_NAME` and `FIFO` and must return an SQS partial batch response. */
  public static fromCode(code: lambda.Code, handler: string = 'index.handler'): FanOutConsumerCode {
    return new FanOutConsumerCode(code, handler, undefined);
  }

  private constructor(
    public readonly code: lambda.Code,
    public readonly handler: string,
    /** The table actions a reference consumer calls; undefined for your code (read/write). */
    public readonly tableActions: string[] | undefined,
  ) {}
}

/** A Lambda function that consumes one subscriber's queue. */
export interface FanOutConsumer {
  readonly code: FanOutConsumerCode;
  /** @default - library defaults, timeout 30 s */
  readonly functionProps?: lambda.FunctionOptions;
  /** Messages per invocation (1..10 for FIFO, 1..10000 otherwise). @default 10 */
  readonly batchSize?: number;
  /** Wait to fill a batch (standard queues only). @default - none */
  readonly maxBatchingWindow?: Duration;
  /** Most concurrent invocations for this queue (2..1000), so one subscriber cannot starve the account. @default 5 */
  readonly maxConcurrency?: number;
  /**
   * How this consumer is deployed through CodeDeploy, instead of the pattern's `deployment`
   * (alias, canary shifting, rollback on the new version's alarms and on this queue's oldest
   * message age); the queue's event source mapping invokes the alias.
   * @default - the pattern's `deployment`
   */
  readonly deployment?: CanaryDeploymentOptions;
}

/** One subscriber of the topic: its own queue with a DLQ, a subscription DLQ, and optionally a consumer. */
export interface FanOutSubscriber {
  /** Lowercase letters, digits and '-' (1..40), unique; construct ids derive from it. */
  readonly name: string;
  /** Filter on message attributes. @default - every message */
  readonly filterPolicy?: { [attribute: string]: sns.SubscriptionFilter };
  /** Filter on the message body (exclusive with filterPolicy). @default - every message */
  readonly filterPolicyWithMessageBody?: { [attribute: string]: sns.FilterOrPolicy };
  /** Deliver the message itself instead of the SNS envelope. @default false */
  readonly rawMessageDelivery?: boolean;
  /** The consumer; without one the queue is for an external system. @default - queue only */
  readonly consumer?: FanOutConsumer;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** Age of the oldest message (seconds) above which an alarm fires. @default Duration.minutes(15) */
  readonly oldestMessageAgeThreshold?: Duration;
}

export interface FanOutProps extends PatternTableProps, PatternOperationsProps, PatternEncryptionProps {
  /** Use this topic instead of creating one. Set `fifo` to match it. @default - a new KMS-encrypted, TLS-only topic */
  readonly existingTopic?: sns.ITopic;
  /** Overrides of the created topic. @default - none */
  readonly topicProps?: sns.TopicProps;
  /** FIFO topic and queues (ordering per message group, content-based deduplication). @default false */
  readonly fifo?: boolean;
  /** The subscribers, at least one. */
  readonly subscribers: FanOutSubscriber[];
  /** Deploy the reference order-event publisher (validates, publishes with filter attributes). @default true */
  readonly publisher?: boolean;
}

/** What was created for one subscriber. */
export interface FanOutSubscription {
  readonly name: string;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** Messages SNS could not deliver to the queue. */
  readonly subscriptionDeadLetterQueue: sqs.IQueue;
  readonly subscription: sns.Subscription;
  readonly consumer?: lambda.IFunction;
  /** The consumer's CodeDeploy deployment when its `deployment` is set. */
  readonly deployment?: CanaryDeployment;
}

const NAME = 'FanOut';
const SUBSCRIBER_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const DEFAULT_CONSUMER_TIMEOUT = Duration.seconds(30);
/** AWS's guidance for a queue read by Lambda: six times the function timeout, plus the batching window. */
const VISIBILITY_TIMEOUT_FACTOR = 6;

/**
 * SNS topic -> filtered SQS queues (each with a DLQ and a subscription DLQ) -> Lambda consumers
 * reporting partial batch failures, plus a publisher and a redrive function for the DLQs.
 */
export class FanOut extends Construct {
  public readonly topic: sns.ITopic;
  public readonly fifo: boolean;
  public readonly subscriptions: FanOutSubscription[];
  public readonly table?: dynamodb.ITable;
  public readonly publisher?: lambda.IFunction;
  /** Moves a subscriber's DLQ back to its queue: invoke with `{ "subscriber": "<name>" }`. */
  public readonly redrive: lambda.IFunction;
  /** The customer-managed key of the pattern's log groups and secrets. */
  public readonly encryptionKey: kms.IKey;
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The key of the created topic; undefined with `existingTopic`. */
  private readonly topicKey?: kms.IKey;
  private readonly rollbacks: DeploymentRollback[] = [];

  constructor(scope: Construct, id: string, props: FanOutProps) {
    super(scope, id);
    this.encryptionKey = usePatternKey(this, props.encryptionKey);
    this.fifo = props.fifo ?? false;
    validate(props, this.fifo);

    if (props.existingTopic) {
      this.topic = props.existingTopic;
    } else {
      const created = createEncryptedTopic(this, 'Topic', 'order events', mergeProps<sns.TopicProps>({}, props.topicProps, {
        fifo: this.fifo || undefined,
        contentBasedDeduplication: this.fifo || undefined,
      }));
      this.topic = created.topic;
      this.topicKey = created.key;
    }

    const needsTable = props.subscribers.some((s) => s.consumer !== undefined);
    if (needsTable) {
      this.table = props.existingTable ?? createLibraryTable(this, 'Table', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        tableProps: props.tableProps,
        enforceKeySchema: props.subscribers.some((s) => s.consumer?.code.tableActions !== undefined),
        constructName: NAME,
      });
    }

    const alarms = new AlarmFactory(this, props.alarmTopic);
    this.subscriptions = props.subscribers.map((subscriber) => this.addSubscriber(subscriber, alarms, props));

    if (props.publisher ?? true) {
      const publisher = createLibraryFunction(this, 'Publisher', {
        code: referenceHandlerCode('fan-out/publisher'),
        serviceName: 'order-publisher',
        description: `${this.node.path}: validates order events and publishes them with filter attributes`,
        runsOnlyWhen: 'when a producer calls it (producers may publish to the topic directly with grantPublish instead)',
        environment: { TOPIC_ARN: this.topic.topicArn, FIFO: String(this.fifo) },
      });
      this.grantPublish(publisher.function);
      acknowledgeNagFindings(publisher.function, synchronousFunctionFindings('Callers invoke the publisher synchronously and get its answer'));
      this.publisher = publisher.function;
    }

    const redrive = createLibraryFunction(this, 'Redrive', {
      code: referenceHandlerCode('fan-out/redrive'),
      serviceName: 'redrive',
      description: `${this.node.path}: moves a subscriber's dead-letter queue back to its queue`,
      runsOnlyWhen: 'when an operator redrives a dead-letter queue',
      environment: {
        REDRIVE_TARGETS: Stack.of(this).toJsonString(Object.fromEntries(this.subscriptions.map((s) => [
          s.name, { deadLetterQueueArn: s.deadLetterQueue.queueArn, sourceQueueArn: s.queue.queueArn },
        ]))),
      },
    });
    for (const s of this.subscriptions) {
      // The permissions SQS requires of whoever starts a message move task.
      redrive.function.addToRolePolicy(new iam.PolicyStatement({
        actions: ['sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:CancelMessageMoveTask', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        resources: [s.deadLetterQueue.queueArn],
      }));
      s.queue.grantSendMessages(redrive.function);
    }
    acknowledgeNagFindings(redrive.function, synchronousFunctionFindings('An operator invokes the redrive function synchronously and reads its answer'));
    this.redrive = redrive.function;

    ({ alarms: this.alarms, dashboard: this.dashboard } = completeOperations(this, props, alarms.alarms, this.rollbacks));
  }

  /** Lets `grantee` publish to the topic (and use its key, when the topic was created here). */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    if (!this.topicKey) return this.topic.grantPublish(grantee);
    // What Topic.grantPublish does, without its `kms:GenerateDataKey*` wildcard.
    const publish = iam.Grant.addToPrincipalOrResource({ grantee, actions: ['sns:Publish'], resourceArns: [this.topic.topicArn], resource: this.topic });
    this.topicKey.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
    return publish;
  }

  private addSubscriber(subscriber: FanOutSubscriber, alarms: AlarmFactory, props: FanOutProps): FanOutSubscription {
    const id = pascalCase(subscriber.name);
    const fifoProps: Partial<sqs.QueueProps> = this.fifo ? { fifo: true, contentBasedDeduplication: true } : {};
    const deadLetterQueue = createTerminalQueue(this, `${id}DeadLetterQueue`, `messages the ${subscriber.name} consumer failed ${subscriber.maxReceiveCount ?? 5} times`, fifoProps);
    const subscriptionDeadLetterQueue = createTerminalQueue(this, `${id}SubscriptionDeadLetterQueue`, `messages SNS could not deliver to the ${subscriber.name} queue`, fifoProps);
    const consumerTimeout = subscriber.consumer?.functionProps?.timeout ?? DEFAULT_CONSUMER_TIMEOUT;
    const batchingWindow = subscriber.consumer?.maxBatchingWindow ?? Duration.seconds(0);
    const queue = new sqs.Queue(this, `${id}Queue`, {
      ...QUEUE_DEFAULTS,
      ...fifoProps,
      visibilityTimeout: Duration.seconds(consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR + batchingWindow.toSeconds()),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: subscriber.maxReceiveCount ?? 5 },
    });
    // SqsSubscription also lets this topic, and only this topic, send to the queue.
    const subscription = this.topic.addSubscription(new subscriptions.SqsSubscription(queue, {
      rawMessageDelivery: subscriber.rawMessageDelivery ?? false,
      filterPolicy: subscriber.filterPolicy,
      filterPolicyWithMessageBody: subscriber.filterPolicyWithMessageBody,
      deadLetterQueue: subscriptionDeadLetterQueue,
    }));

    let consumer: lambda.IFunction | undefined;
    let deployment: CanaryDeployment | undefined;
    if (subscriber.consumer && this.table) {
      const spec = subscriber.consumer;
      const created = createLibraryFunction(this, `${id}Consumer`, {
        code: spec.code.code,
        handler: spec.code.handler,
        serviceName: subscriber.name,
        description: `${this.node.path}: consumer of the ${subscriber.name} queue`,
        environment: { TABLE_NAME: this.table.tableName, FIFO: String(this.fifo) },
        functionProps: mergeProps<lambda.FunctionOptions>({ timeout: DEFAULT_CONSUMER_TIMEOUT }, spec.functionProps),
      });
      consumer = created.function;
      if (spec.code.tableActions) {
        this.table.grant(consumer, ...spec.code.tableActions);
      } else {
        this.table.grantReadWriteData(consumer);
      }
      const applied = patternDeployment(this, NAME, created.function, props.alarmTopic, spec.deployment ?? props.deployment, `${id}ConsumerDeployment`);
      deployment = applied.deployment;
      applied.invokeTarget.addEventSource(new sources.SqsEventSource(queue, {
        batchSize: spec.batchSize ?? 10,
        maxBatchingWindow: spec.maxBatchingWindow,
        maxConcurrency: spec.maxConcurrency ?? 5,
        reportBatchItemFailures: true,
      }));
      acknowledgeNagFindings(created.function, [
        ...ruleAcknowledgements('LambdaDLQ', 'Invoked by an SQS event source mapping, never asynchronously: failed messages return to the queue and move to its DLQ after maxReceiveCount.'),
        { id: 'Serverless-LambdaAsyncFailureDestination', reason: 'Invoked by an SQS event source mapping, never asynchronously: the queue\'s redrive policy is the failure path.' },
      ]);
      // The mapping belongs to what it invokes: the function, or its alias with a deployment.
      acknowledgeNagFindings(applied.invokeTarget, [
        { id: 'Serverless-LambdaEventSourceMappingDestination', reason: 'SQS event source mappings take no on-failure destination; the queue\'s DLQ receives failed messages.' },
      ]);
      alarms.add(`${id}ConsumerErrorsAlarm`, {
        metric: LambdaMetrics.errorCount(consumer),
        threshold: 1,
        description: `The ${subscriber.name} consumer failed whole batches in the last 5 minutes.`,
      });
    }

    alarms.add(`${id}DeadLetterQueueAlarm`, {
      metric: SqsMetrics.visibleMessageCount(deadLetterQueue),
      threshold: 1,
      description: `Messages of ${subscriber.name} failed ${subscriber.maxReceiveCount ?? 5} times and wait in its DLQ; fix the cause, then redrive them (invoke the redrive function with {"subscriber": "${subscriber.name}"}).`,
    });
    alarms.add(`${id}SubscriptionDeadLetterQueueAlarm`, {
      metric: SqsMetrics.visibleMessageCount(subscriptionDeadLetterQueue),
      threshold: 1,
      description: `SNS could not deliver messages to the ${subscriber.name} queue (queue policy or encryption); they wait in the subscription DLQ.`,
    });
    const maxAge = subscriber.oldestMessageAgeThreshold ?? Duration.minutes(15);
    const oldestMessage = alarms.add(`${id}OldestMessageAlarm`, {
      metric: SqsMetrics.oldestMessageAgeInSeconds(queue),
      threshold: maxAge.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      description: `The oldest message of the ${subscriber.name} queue is older than ${maxAge.toHumanString()} for 15 minutes: the consumer falls behind or is stuck.`,
    });
    // Only this subscriber's queue says whether this consumer's new version fails.
    this.rollbacks.push({ deployment, rollbackAlarms: [oldestMessage] });
    return { name: subscriber.name, queue, deadLetterQueue, subscriptionDeadLetterQueue, subscription, consumer, deployment };
  }
}

function synchronousFunctionFindings(who: string): NagAcknowledgement[] {
  return [
    ...ruleAcknowledgements('LambdaDLQ', `${who}: there is no asynchronous event to dead-letter.`),
    { id: 'Serverless-LambdaAsyncFailureDestination', reason: `${who}: there is no asynchronous invocation to send to a failure destination.` },
  ];
}

function pascalCase(name: string): string {
  return name.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}

function validate(props: FanOutProps, fifo: boolean): void {
  assertExclusive(NAME, props, 'existingTopic', 'topicProps');
  assertExclusive(NAME, props, 'existingTable', 'tableProps');
  if (props.subscribers.length === 0) {
    throw new InvalidPropsError(NAME, 'subscribers must name at least one subscriber, got none');
  }
  if (props.existingTopic instanceof sns.Topic && props.existingTopic.fifo !== fifo) {
    throw new InvalidPropsError(NAME, `fifo is ${fifo} but existingTopic is ${props.existingTopic.fifo ? 'a FIFO' : 'a standard'} topic; SNS only delivers a FIFO topic to FIFO queues and a standard topic to standard queues`);
  }
  if (props.topicProps?.fifo !== undefined && props.topicProps.fifo !== fifo) {
    throw new InvalidPropsError(NAME, `topicProps.fifo (${props.topicProps.fifo}) contradicts fifo (${fifo}); set fifo only`);
  }
  const names = new Set<string>();
  for (const s of props.subscribers) {
    if (!SUBSCRIBER_NAME.test(s.name)) {
      throw new InvalidPropsError(NAME, `subscriber names must be 1..40 lowercase letters, digits or '-', starting with a letter, got '${s.name}'`);
    }
    if (names.has(s.name)) throw new InvalidPropsError(NAME, `subscriber names must be unique, got '${s.name}' twice`);
    names.add(s.name);
    if (s.filterPolicy && s.filterPolicyWithMessageBody) {
      throw new InvalidPropsError(NAME, `subscriber '${s.name}': filterPolicy and filterPolicyWithMessageBody are mutually exclusive (SNS applies one filter scope)`);
    }
    assertIntegerInRange(NAME, `subscriber '${s.name}' maxReceiveCount`, s.maxReceiveCount, 1, 1000);
    const c = s.consumer;
    if (!c) continue;
    assertIntegerInRange(NAME, `subscriber '${s.name}' consumer.batchSize`, c.batchSize, 1, fifo ? 10 : 10_000);
    assertIntegerInRange(NAME, `subscriber '${s.name}' consumer.maxConcurrency`, c.maxConcurrency, 2, 1000);
    if (fifo && c.maxBatchingWindow !== undefined) {
      throw new InvalidPropsError(NAME, `subscriber '${s.name}': FIFO queues take no maxBatchingWindow`);
    }
    if (!fifo && (c.batchSize ?? 10) > 10 && c.maxBatchingWindow === undefined) {
      throw new InvalidPropsError(NAME, `subscriber '${s.name}': a batchSize above 10 (got ${c.batchSize}) needs maxBatchingWindow`);
    }
  }
}
