import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArnFormat, Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AlarmFactory } from '../core/alarms';
import { referenceHandlerCode } from '../core/assets';
import { CanaryDeployment } from '../core/canary-deployment';
import { stackUuid } from '../core/deployment-names';
import { encryptedLogGroup, PatternEncryptionProps, usePatternKey } from '../core/encryption';
import { assertExclusive, assertIntegerInRange, InvalidPropsError } from '../core/errors';
import { createLibraryFunction } from '../core/function';
import { LOG_RETENTION_DEFAULT } from '../core/lambda-defaults';
import { mergeProps } from '../core/merge';
import { ALARM_PERIOD, LambdaMetrics, SqsMetrics } from '../core/metrics';
import { acknowledgeNagFindings, ruleAcknowledgements } from '../core/nag';
import { completeOperations, DeploymentRollback, PatternOperationsProps, patternDeployment } from '../core/operations';
import { patternHandler, PatternHandlerProps, PatternTableProps, validatePatternProps } from '../core/pattern-props';
import { createTerminalQueue } from '../core/queue';
import { QUEUE_DEFAULTS } from '../core/sqs-defaults';
import { StreamEventSourceOptions, streamEventSourceProps, validateStreamEventSource } from '../core/stream-event-source';
import { createLibraryTable } from '../core/table';

/** Where the catch-all audit rule sends every event of the bus. */
export enum EventAuditDestination {
  /** A log group (`/aws/events/...`), encrypted with the pattern's key, with the library's retention; search it with Logs Insights. */
  LOG_GROUP = 'LOG_GROUP',
  /** An SQS queue (14 days), for a system that ingests the audit trail. */
  QUEUE = 'QUEUE',
  /** No audit rule; the archive still keeps every event. */
  NONE = 'NONE',
}

/**
 * What a subscriber's rule invokes: the reference projection consumer, an SQS queue, or your
 * function. Every target gets its own dead-letter queue and retry policy from the subscriber.
 */
export class EventSubscriberTarget {
  /**
   * The reference consumer: keeps a projection of every item in the pattern's projection table,
   * idempotent per event id and safe under reordering (by the item's version).
   */
  public static projection(functionProps?: lambda.FunctionOptions): EventSubscriberTarget {
    return new EventSubscriberTarget('projection', { functionProps });
  }

  /** An SQS queue: `queue`, or a new encrypted queue with its own DLQ for the system that reads it. */
  public static queue(queue?: sqs.IQueue): EventSubscriberTarget {
    return new EventSubscriberTarget('queue', { queue });
  }

  /**
   * Your function, invoked asynchronously by the rule. Configure its own asynchronous failure
   * destination: the subscriber's DLQ receives only the events EventBridge could not deliver.
   */
  public static function(fn: lambda.IFunction): EventSubscriberTarget {
    return new EventSubscriberTarget('function', { fn });
  }

  private constructor(
    /** @internal */ public readonly _kind: 'projection' | 'queue' | 'function',
    /** @internal */ public readonly _options: { functionProps?: lambda.FunctionOptions; queue?: sqs.IQueue; fn?: lambda.IFunction },
  ) {}
}

/** One subscriber of the pattern's events: a rule with a content filter, and its target. */
export interface EventSubscriber {
  /** Lowercase letters, digits and '-' (1..40), unique; construct ids derive from it. */
  readonly name: string;
  /**
   * Content filter over the pattern's events (prefix, numeric ranges, exists, anything-but, ...),
   * e.g. `{ detailType: ['item.updated.v1'], detail: { changedFields: ['status'] } }`. The rule
   * always matches this pattern's `source` only, so the pattern must not set `source`.
   * @default - every event the pattern publishes
   */
  readonly eventPattern?: events.EventPattern;
  readonly target: EventSubscriberTarget;
  /** Times EventBridge retries a delivery that failed (0..185). @default 185 */
  readonly retryAttempts?: number;
  /** Age after which EventBridge stops retrying and sends the event to the DLQ (1 minute..24 hours). @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
  /**
   * What the target receives instead of the event (input transformation). Not with the
   * projection target, which needs the whole event.
   * @default - the whole event
   */
  readonly input?: events.RuleTargetInput;
}

export interface EventDrivenMicroserviceProps extends PatternHandlerProps, PatternTableProps, PatternOperationsProps, PatternEncryptionProps {
  /**
   * Use this bus instead of creating one. The archive and the audit rule then cover this pattern's
   * events only (whoever owns the bus audits the rest).
   * @default - a new bus encrypted with the pattern's key
   */
  readonly existingEventBus?: events.IEventBus;
  /** Overrides of the created bus. @default - encrypted with the pattern's key */
  readonly eventBusProps?: events.EventBusProps;
  /** The `source` of every event the publisher puts on the bus; must not start with `aws.`. @default `app.${entityName}` */
  readonly source?: string;
  /**
   * What the table holds, in the events' detail types: `<entityName>.created.v1`,
   * `<entityName>.updated.v1`, `<entityName>.deleted.v1`. Lowercase letters, digits and '-'.
   * @default 'item'
   */
  readonly entityName?: string;

  /** How Lambda reads the table's stream. @default - see StreamEventSourceOptions (maxRecordAge 24 hours, the stream's retention) */
  readonly eventSource?: StreamEventSourceOptions;
  /** Where Lambda sends the metadata of stream batches it gives up on. @default - a new encrypted, TLS-only SQS queue */
  readonly onFailure?: lambda.IEventSourceDlq;

  /** Keep every event in an archive, to replay. @default true */
  readonly archive?: boolean;
  /** How long the archive keeps events; `Duration.days(0)` keeps them forever. @default Duration.days(30) */
  readonly archiveRetention?: Duration;
  /** @default EventAuditDestination.LOG_GROUP */
  readonly audit?: EventAuditDestination;
  /** Register the JSON Schema of each event (draft 4) in an EventBridge schema registry. @default true */
  readonly schemaRegistry?: boolean;

  /** The subscribers. @default - one subscriber, 'projection', with the reference projection consumer on every event */
  readonly subscribers?: EventSubscriber[];
  /**
   * The projection subscriber's table instead of a new one: key `pk` (S) + `sk` (S), with TTL on
   * `expiresAt` (deleted items' tombstones expire by it).
   * @default - a new table
   */
  readonly existingProjectionTable?: dynamodb.ITable;
  /** Overrides of the projection table, when a subscriber uses the projection target. @default - the library's table defaults, TTL on `expiresAt` */
  readonly projectionTableProps?: dynamodb.TablePropsV2;
  /** Iterator age of the publisher above which an alarm fires. @default Duration.minutes(1) */
  readonly iteratorAgeThreshold?: Duration;
}

/** What was created for one subscriber. */
export interface EventSubscription {
  readonly name: string;
  readonly rule: events.Rule;
  /** Events EventBridge could not deliver to the target after its retries. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The target queue, for a queue target. */
  readonly queue?: sqs.IQueue;
  /** Messages the reader of a created target queue failed 5 times. */
  readonly queueDeadLetterQueue?: sqs.IQueue;
  /** The consumer, for a projection or function target. */
  readonly consumer?: lambda.IFunction;
  /** Events the projection consumer failed after Lambda's asynchronous retries. */
  readonly consumerFailureQueue?: sqs.IQueue;
  /** The projection consumer's CodeDeploy deployment when the pattern's `deployment` is set. */
  readonly deployment?: CanaryDeployment;
}

const NAME = 'EventDrivenMicroservice';
const LOWER_NAME = /^[a-z][a-z0-9-]{0,39}$/;
/** An event `source`: `aws.` is reserved for AWS services. */
const EVENT_SOURCE = /^(?!aws\.)[\x21-\x7e]{1,256}$/;
/** The detail types of the events, the files of their schemas (`schemas/`), in publishing order. */
const CHANGES = ['created', 'updated', 'deleted'] as const;
/** DynamoDB keeps stream records 24 hours: a longer record age would never apply. */
const STREAM_RETENTION = Duration.hours(24);
/** Exactly what the reference projection consumer calls. */
const PROJECTION_TABLE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem'];
/** The publisher's metrics (namespace `ServerlessReferenceArchitectures`, dimension `EventBusName`). */
const PUBLISHER_METRICS = { failedEntries: 'FailedPutEventsEntries', unpublished: 'UnpublishedChanges', truncated: 'TruncatedEvents' } as const;
/** How long a deleted item's tombstone stays in a projection without an archive to replay. */
const TOMBSTONE_RETENTION_DAYS = 30;
/** A tombstone that expires blocks nothing: 10 years, the consumer's maximum, stands in for "never". */
const TOMBSTONE_RETENTION_MAX_DAYS = 3650;

/**
 * Change data capture as domain events: a DynamoDB table's stream -> a publisher Lambda that turns
 * each item change into a versioned `Created`/`Updated`/`Deleted` event -> an EventBridge bus
 * (encrypted, archived, audited, its schemas registered) -> one rule per subscriber, with content
 * filtering, a retry policy and a DLQ per target, and an idempotent projection consumer.
 */
export class EventDrivenMicroservice extends Construct {
  /** Namespace of the publisher's metrics. */
  public static readonly METRICS_NAMESPACE = 'ServerlessReferenceArchitectures';

  /** The table whose changes become events. */
  public readonly table: dynamodb.ITable;
  public readonly eventBus: events.IEventBus;
  /** Events the created bus could not encrypt or decrypt with its key. */
  public readonly eventBusDeadLetterQueue?: sqs.IQueue;
  /** The `source` of the published events. */
  public readonly source: string;
  /** The detail types the publisher uses, by change: created, updated, deleted. */
  public readonly detailTypes: string[];
  /** Reads the table's stream and publishes the events. */
  public readonly publisher: lambda.IFunction;
  /** The publisher's log group; undefined for an `existingFunction`. */
  public readonly logGroup?: logs.ILogGroup;
  /** The on-failure queue of the stream mapping, created when no `onFailure` is given. */
  public readonly failureQueue?: sqs.IQueue;
  public readonly archive?: events.Archive;
  public readonly auditRule?: events.Rule;
  public readonly auditLogGroup?: logs.LogGroup;
  /** Events EventBridge could not deliver to the audit log group or queue. */
  public readonly auditDeadLetterQueue?: sqs.IQueue;
  public readonly auditQueue?: sqs.IQueue;
  public readonly schemaRegistry?: eventschemas.CfnRegistry;
  /** The projection consumers' table, when a subscriber uses the projection target. */
  public readonly projectionTable?: dynamodb.ITable;
  public readonly subscriptions: EventSubscription[];
  /** The customer-managed key of the bus, the archive and the pattern's log groups. */
  public readonly encryptionKey: kms.IKey;
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The publisher's CodeDeploy deployment when `deployment` is set. */
  public readonly deployment?: CanaryDeployment;
  private readonly rollbacks: DeploymentRollback[] = [];

  constructor(scope: Construct, id: string, props: EventDrivenMicroserviceProps = {}) {
    super(scope, id);
    this.encryptionKey = usePatternKey(this, props.encryptionKey);
    validate(props);
    const entityName = props.entityName ?? 'item';
    this.source = props.source ?? `app.${entityName}`;
    this.detailTypes = CHANGES.map((change) => `${entityName}.${change}.v1`);

    this.table = props.existingTable ?? createLibraryTable(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      // The publisher reads any key schema from the stream records.
      enforceKeySchema: false,
      tableProps: props.tableProps,
      patternDefaults: { dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES },
      constructName: NAME,
    });

    const ownBus = props.existingEventBus === undefined;
    const eventBusName = props.eventBusProps?.eventBusName ?? Names.uniqueResourceName(this, { maxLength: 256, separator: '-' });
    const eventBusArn = Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: eventBusName });
    if (ownBus) {
      // Events the bus cannot encrypt or decrypt with its key (a key disabled or its policy
      // changed) go here instead of being dropped. CDK gives a bus's DLQ no policy: EventBridge
      // may send to it for this bus only.
      this.eventBusDeadLetterQueue = props.eventBusProps?.deadLetterQueue
        ?? createTerminalQueue(this, 'EventBusDeadLetterQueue', 'events the bus could not encrypt or decrypt with its key');
      this.eventBusDeadLetterQueue.addToResourcePolicy(new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.eventBusDeadLetterQueue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': eventBusArn } },
      }));
    }
    this.eventBus = props.existingEventBus ?? new events.EventBus(this, 'EventBus', mergeProps<events.EventBusProps>(
      {
        deadLetterQueue: this.eventBusDeadLetterQueue,
        // A name known at synth: the key policy names the bus's ARN, and a generated name would
        // make the key and the bus depend on each other.
        eventBusName,
        kmsKey: this.encryptionKey,
        description: `Domain events of ${this.node.path}`,
      },
      props.eventBusProps,
    ));
    // A bus of its own is audited and archived whole; a shared bus only for this pattern's events.
    const everyEvent: events.EventPattern = ownBus ? { account: [Stack.of(this).account] } : { source: [this.source] };

    if (props.archive ?? true) {
      this.archive = new events.Archive(this, 'Archive', {
        // The archive adds a statement naming the bus's ARN to the key's policy: built from the
        // name, not the bus's attribute, so that the key does not depend on the bus it encrypts.
        sourceEventBus: ownBus
          ? events.EventBus.fromEventBusArn(this, 'ArchivedEventBus', eventBusArn)
          : this.eventBus,
        eventPattern: everyEvent,
        retention: props.archiveRetention ?? Duration.days(30),
        kmsKey: this.encryptionKey,
        description: `Every event of ${this.node.path}, to replay`,
      });
      this.archive.node.addDependency(this.eventBus);
    }
    const audit = props.audit ?? EventAuditDestination.LOG_GROUP;
    if (audit !== EventAuditDestination.NONE) {
      this.auditRule = new events.Rule(this, 'AuditRule', {
        eventBus: this.eventBus,
        eventPattern: everyEvent,
        description: `Catch-all audit of ${this.node.path}`,
      });
      this.auditDeadLetterQueue = createTerminalQueue(this, 'AuditDeadLetterQueue', 'events EventBridge could not deliver to the audit trail');
      const delivery = { deadLetterQueue: this.auditDeadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) };
      if (audit === EventAuditDestination.LOG_GROUP) {
        this.auditLogGroup = encryptedLogGroup(this, 'AuditLogGroup', {
          // EventBridge delivers only to log groups whose names begin with /aws/events/. The
          // stack's UUID keeps the retained group's name new in each deployment.
          logGroupName: `/aws/events/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}-${stackUuid(this)}`,
          retention: LOG_RETENTION_DEFAULT,
          removalPolicy: RemovalPolicy.RETAIN,
        });
        this.auditRule.addTarget(new AuditLogGroupTarget(this.auditLogGroup, delivery));
      } else {
        this.auditQueue = createTerminalQueue(this, 'AuditQueue', 'the audit trail of every event, for a system that ingests it');
        this.auditRule.addTarget(new targets.SqsQueue(this.auditQueue, delivery));
      }
    }
    if (props.schemaRegistry ?? true) this.schemaRegistry = this.registerSchemas();

    // ---- the publisher
    const environment = {
      EVENT_BUS_NAME: this.eventBus.eventBusName,
      EVENT_SOURCE: this.source,
      ENTITY_NAME: entityName,
      POWERTOOLS_METRICS_NAMESPACE: EventDrivenMicroservice.METRICS_NAMESPACE,
    };
    const invokedByMapping = 'Invoked by a DynamoDB Streams event source mapping, never asynchronously: failed batches go to the mapping\'s on-failure destination.';
    ({ handler: this.publisher, logGroup: this.logGroup } = patternHandler(this, props, {
      referenceAsset: 'event-driven/publisher',
      serviceName: `${entityName}-publisher`,
      description: `${this.node.path}: publishes the table's changes as events`,
      environment,
      functionDefaults: { timeout: Duration.seconds(60) },
      nagAcknowledgements: [
        ...ruleAcknowledgements('LambdaDLQ', invokedByMapping),
        { id: 'Serverless-LambdaAsyncFailureDestination', reason: invokedByMapping },
      ],
    }));
    this.eventBus.grantPutEventsTo(this.publisher);
    let onFailure = props.onFailure;
    if (!onFailure) {
      this.failureQueue = createTerminalQueue(this, 'FailureQueue', 'metadata of stream batches Lambda gave up on');
      onFailure = new sources.SqsDlq(this.failureQueue);
    }
    const { deployment, invokeTarget } = patternDeployment(this, NAME, this.publisher, props.alarmTopic, props.deployment);
    this.deployment = deployment;
    invokeTarget.addEventSource(new sources.DynamoEventSource(this.table, {
      ...streamEventSourceProps({ maxRecordAge: STREAM_RETENTION, ...props.eventSource }, onFailure),
    }));

    const alarms = new AlarmFactory(this, props.alarmTopic);
    this.addPublisherAlarms(alarms, props);
    if (this.eventBusDeadLetterQueue) {
      alarms.add('EventBusDeadLetterQueueAlarm', {
        metric: SqsMetrics.visibleMessageCount(this.eventBusDeadLetterQueue),
        threshold: 1,
        description: `The bus of ${this.node.path} could not encrypt or decrypt events with its key (key disabled, or its policy changed); they wait in the bus's DLQ and reached no rule.`,
      });
    }
    if (this.auditDeadLetterQueue) {
      alarms.add('AuditDeadLetterQueueAlarm', {
        metric: SqsMetrics.visibleMessageCount(this.auditDeadLetterQueue),
        threshold: 1,
        description: `Events of ${this.node.path} are missing from the audit trail: EventBridge could not deliver them (resource policy, key, quota) and they wait in the audit DLQ.`,
      });
    }

    // ---- the subscribers
    const subscribers = props.subscribers ?? [{ name: 'projection', target: EventSubscriberTarget.projection() }];
    if (subscribers.some((s) => s.target._kind === 'projection')) {
      this.projectionTable = props.existingProjectionTable ?? createLibraryTable(this, 'ProjectionTable', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        enforceKeySchema: true,
        tableProps: props.projectionTableProps,
        patternDefaults: { timeToLiveAttribute: 'expiresAt' },
        constructName: NAME,
      });
    }
    this.subscriptions = subscribers.map((subscriber) => this.addSubscriber(subscriber, alarms, props));

    this.rollbacks.push({ deployment, rollbackAlarms: alarms.rollbackAlarms });
    ({ alarms: this.alarms, dashboard: this.dashboard } = completeOperations(this, props, alarms.alarms, this.rollbacks));
  }

  /** Lets `grantee` put events on the bus (e.g. a service that publishes events of its own). */
  public grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    return this.eventBus.grantPutEventsTo(grantee);
  }

  /** The publisher's count of `PutEvents` entries EventBridge rejected (each retried), per period. */
  public metricFailedPutEventsEntries(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.publisherMetric(PUBLISHER_METRICS.failedEntries, props);
  }

  /** Stream records the publisher handed back to Lambda unpublished (retried from that record on), per period. */
  public metricUnpublishedChanges(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.publisherMetric(PUBLISHER_METRICS.unpublished, props);
  }

  /** Events published without their images (over 254 KB), per period: content filters on `item` miss them. */
  public metricTruncatedEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.publisherMetric(PUBLISHER_METRICS.truncated, props);
  }

  private publisherMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: EventDrivenMicroservice.METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { EventBusName: this.eventBus.eventBusName },
      period: ALARM_PERIOD,
      statistic: cloudwatch.Stats.SUM,
      ...props,
    });
  }

  private addPublisherAlarms(alarms: AlarmFactory, props: EventDrivenMicroserviceProps): void {
    const iteratorAge = props.iteratorAgeThreshold ?? Duration.minutes(1);
    alarms.add('PublisherIteratorAgeAlarm', {
      metric: LambdaMetrics.iteratorAgeMaxInMillis(this.publisher),
      threshold: iteratorAge.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      // Unpublished records are not Lambda errors: a version that fails to publish shows here first.
      rollsBackDeployment: true,
      description: `The publisher of ${this.node.path} receives changes older than ${iteratorAge.toHumanString()} for 15 minutes: events are late, and changes near the stream's 24-hour retention will be lost.`,
    });
    alarms.add('PublisherErrorsAlarm', {
      metric: LambdaMetrics.errorCount(this.publisher),
      threshold: 1,
      description: `The publisher of ${this.node.path} failed whole batches in the last 5 minutes; the stream shard is retried from the failed record.`,
    });
    alarms.add('PublisherThrottlesAlarm', {
      metric: LambdaMetrics.throttleCount(this.publisher),
      threshold: 1,
      description: `The publisher of ${this.node.path} was throttled in the last 5 minutes; events are late.`,
    });
    alarms.add('FailedPutEventsEntriesAlarm', {
      metric: this.metricFailedPutEventsEntries(),
      threshold: 1,
      description: `EventBridge rejected PutEvents entries of ${this.node.path} in the last 5 minutes (throttling, or the bus's key); the publisher retries them and hands unpublished changes back to the stream.`,
    });
    alarms.add('UnpublishedChangesAlarm', {
      metric: this.metricUnpublishedChanges(),
      threshold: 1,
      description: `Changes of ${this.node.path} could not be published after the publisher's retries; the stream retries them, then the on-failure destination receives their batches.`,
    });
    if (this.failureQueue) {
      alarms.add('FailureQueueDepthAlarm', {
        metric: SqsMetrics.visibleMessageCount(this.failureQueue),
        threshold: 1,
        description: `Lambda gave up on stream batches of ${this.node.path}; their metadata is in the failure queue. Republish them before the stream's 24-hour retention ends (see the README).`,
      });
    }
  }

  private addSubscriber(subscriber: EventSubscriber, alarms: AlarmFactory, props: EventDrivenMicroserviceProps): EventSubscription {
    const id = pascalCase(subscriber.name);
    const rule = new events.Rule(this, `${id}Rule`, {
      eventBus: this.eventBus,
      eventPattern: { ...subscriber.eventPattern, source: [this.source] },
      description: `Subscriber ${subscriber.name} of ${this.node.path}`,
    });
    const deadLetterQueue = createTerminalQueue(this, `${id}DeadLetterQueue`, `events EventBridge could not deliver to the ${subscriber.name} subscriber`);
    const delivery: targets.TargetBaseProps = {
      deadLetterQueue,
      retryAttempts: subscriber.retryAttempts ?? 185,
      maxEventAge: subscriber.maxEventAge ?? Duration.hours(24),
    };
    const { _kind: kind, _options: options } = subscriber.target;
    let queue: sqs.IQueue | undefined;
    let queueDeadLetterQueue: sqs.IQueue | undefined;
    let consumer: lambda.IFunction | undefined;
    let consumerFailureQueue: sqs.IQueue | undefined;
    let deployment: CanaryDeployment | undefined;

    if (kind === 'queue') {
      if (!options.queue) {
        queueDeadLetterQueue = createTerminalQueue(this, `${id}QueueDeadLetterQueue`, `messages the ${subscriber.name} queue's reader failed 5 times`);
        alarms.add(`${id}QueueDeadLetterQueueAlarm`, {
          metric: SqsMetrics.visibleMessageCount(queueDeadLetterQueue),
          threshold: 1,
          description: `The reader of the ${subscriber.name} queue failed messages 5 times; they wait in the queue's DLQ.`,
        });
      }
      queue = options.queue ?? new sqs.Queue(this, `${id}Queue`, {
        ...QUEUE_DEFAULTS,
        deadLetterQueue: { queue: queueDeadLetterQueue!, maxReceiveCount: 5 },
      });
      rule.addTarget(new targets.SqsQueue(queue, { ...delivery, message: subscriber.input }));
    } else if (kind === 'function') {
      consumer = options.fn!;
      rule.addTarget(new targets.LambdaFunction(consumer, { ...delivery, event: subscriber.input }));
    } else {
      consumerFailureQueue = createTerminalQueue(this, `${id}ConsumerFailureQueue`, `events the ${subscriber.name} consumer failed after Lambda's retries`);
      const created = createLibraryFunction(this, `${id}Consumer`, {
        code: referenceHandlerCode('event-driven/projection-consumer'),
        serviceName: subscriber.name,
        description: `${this.node.path}: projection consumer ${subscriber.name}`,
        environment: { TABLE_NAME: this.projectionTable!.tableName, TOMBSTONE_RETENTION_DAYS: String(tombstoneRetentionDays(props)) },
        functionProps: mergeProps<lambda.FunctionOptions>({ timeout: Duration.seconds(30) }, options.functionProps),
      });
      consumer = created.function;
      this.projectionTable!.grant(consumer, ...PROJECTION_TABLE_ACTIONS);
      acknowledgeNagFindings(created.function, ruleAcknowledgements('LambdaDLQ',
        'Events it failed after Lambda\'s asynchronous retries go to an on-failure destination (its failure queue), which carries the error and the event, unlike a DLQ.'));
      const applied = patternDeployment(this, NAME, created.function, props.alarmTopic, props.deployment, `${id}ConsumerDeployment`);
      deployment = applied.deployment;
      // Asynchronous invoke settings apply per qualifier: they belong on what the rule invokes.
      applied.invokeTarget.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
        onFailure: new destinations.SqsDestination(consumerFailureQueue),
      });
      rule.addTarget(new targets.LambdaFunction(applied.invokeTarget, delivery));
      alarms.add(`${id}ConsumerErrorsAlarm`, {
        metric: LambdaMetrics.errorCount(consumer),
        threshold: 1,
        description: `The ${subscriber.name} consumer failed events in the last 5 minutes; Lambda retries each twice, then sends it to the consumer's failure queue.`,
      });
      alarms.add(`${id}ConsumerFailureQueueAlarm`, {
        metric: SqsMetrics.visibleMessageCount(consumerFailureQueue),
        threshold: 1,
        description: `Events of ${subscriber.name} failed in its consumer three times and wait in its failure queue with the error; fix the cause, then replay them from the archive (see the README).`,
      });
      this.rollbacks.push({ deployment, rollbackAlarms: [] });
    }

    alarms.add(`${id}FailedInvocationsAlarm`, {
      metric: this.ruleMetric(rule, 'FailedInvocations'),
      threshold: 1,
      description: `EventBridge failed to deliver events of ${subscriber.name} to its target in the last 5 minutes, after its retries.`,
    });
    alarms.add(`${id}ThrottledRuleAlarm`, {
      metric: this.ruleMetric(rule, 'ThrottledRules'),
      threshold: 1,
      description: `EventBridge throttled the ${subscriber.name} rule's deliveries in the last 5 minutes (the target's or the account's invocation quota); they are retried for up to ${(subscriber.maxEventAge ?? Duration.hours(24)).toHumanString()}.`,
    });
    alarms.add(`${id}DeadLetterQueueAlarm`, {
      metric: SqsMetrics.visibleMessageCount(deadLetterQueue),
      threshold: 1,
      description: `Events of ${subscriber.name} could not be delivered to its target and wait in its DLQ with the error attributes; fix the target, then send them again or replay them from the archive.`,
    });
    return { name: subscriber.name, rule, deadLetterQueue, queue, queueDeadLetterQueue, consumer, consumerFailureQueue, deployment };
  }

  /** A rule's metric; a custom bus's rules carry the bus name as a second dimension. */
  private ruleMetric(rule: events.Rule, metricName: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName,
      // A rule on a custom bus is referenced as `<bus name>|<rule name>`; its metrics carry the rule name alone.
      dimensionsMap: { EventBusName: this.eventBus.eventBusName, RuleName: Fn.select(1, Fn.split('|', rule.ruleName)) },
      period: ALARM_PERIOD,
      statistic: cloudwatch.Stats.SUM,
    });
  }

  /** The JSON Schema of each detail type, in a registry of its own (schemas are not retained: they are the code's). */
  private registerSchemas(): eventschemas.CfnRegistry {
    const registry = new eventschemas.CfnRegistry(this, 'SchemaRegistry', {
      description: `Event contract of ${this.node.path}`,
    });
    CHANGES.forEach((change, i) => {
      new eventschemas.CfnSchema(this, `${pascalCase(change)}Schema`, {
        registryName: registry.attrRegistryName,
        type: 'JSONSchemaDraft4',
        description: `The detail of ${this.detailTypes[i]} events from ${this.source}`,
        content: readFileSync(join(__dirname, 'schemas', `entity-${change}.v1.json`), 'utf8'),
      });
    });
    return registry;
  }
}

/**
 * The audit log group as a rule target. CDK's own CloudWatchLogGroup target writes the log
 * group's resource policy through a custom resource (a Lambda function with a role of its own);
 * this writes it with CloudFormation, limited to this one log group and this one rule.
 */
class AuditLogGroupTarget implements events.IRuleTarget {
  constructor(private readonly logGroup: logs.ILogGroup, private readonly delivery: targets.TargetBaseProps & { deadLetterQueue: sqs.IQueue }) {}

  public bind(rule: events.IRule): events.RuleTargetConfig {
    const stack = Stack.of(this.logGroup);
    new logs.ResourcePolicy(this.logGroup, 'EventsPolicy', {
      policyStatements: [new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com'), new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      })],
    });
    targets.addToDeadLetterQueueResourcePolicy(rule, this.delivery.deadLetterQueue);
    return {
      ...targets.bindBaseTargetConfig(this.delivery),
      arn: stack.formatArn({ service: 'logs', resource: 'log-group', arnFormat: ArnFormat.COLON_RESOURCE_NAME, resourceName: this.logGroup.logGroupName }),
      targetResource: this.logGroup,
    };
  }
}

function pascalCase(name: string): string {
  return name.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}

function validate(props: EventDrivenMicroserviceProps): void {
  validatePatternProps(NAME, props);
  assertExclusive(NAME, props, 'existingEventBus', 'eventBusProps');
  validateStreamEventSource(NAME, 'eventSource', props.eventSource);
  if (props.entityName !== undefined && !LOWER_NAME.test(props.entityName)) {
    throw new InvalidPropsError(NAME, `entityName must be 1..40 lowercase letters, digits or '-', starting with a letter, got '${props.entityName}'`);
  }
  if (props.source !== undefined && !Token.isUnresolved(props.source) && !EVENT_SOURCE.test(props.source)) {
    throw new InvalidPropsError(NAME, `source must be 1..256 printable ASCII characters without spaces, not starting with 'aws.' (reserved for AWS services), got '${props.source}'`);
  }
  if (props.tableProps?.dynamoStream !== undefined && props.tableProps.dynamoStream !== dynamodb.StreamViewType.NEW_AND_OLD_IMAGES) {
    throw new InvalidPropsError(NAME, `tableProps.dynamoStream must be NEW_AND_OLD_IMAGES (the publisher needs both images to find the changed fields), got ${props.tableProps.dynamoStream}`);
  }
  if (props.existingTable && props.existingTable.tableStreamArn === undefined) {
    throw new InvalidPropsError(NAME, 'existingTable has no stream: enable a NEW_AND_OLD_IMAGES stream on it and import it with its tableStreamArn (Table.fromTableAttributes)');
  }
  if (props.archive === false && props.archiveRetention !== undefined) {
    throw new InvalidPropsError(NAME, 'archiveRetention applies to the archive, which archive: false turns off; pass one of them');
  }
  if (props.archiveRetention !== undefined && !Token.isUnresolved(props.archiveRetention.toSeconds())) {
    const seconds = props.archiveRetention.toSeconds();
    if (seconds % 86_400 !== 0) throw new InvalidPropsError(NAME, `archiveRetention must be whole days (0 keeps events forever), got ${props.archiveRetention.toHumanString()}`);
  }
  const subscribers = props.subscribers ?? [];
  if (props.subscribers !== undefined && !subscribers.some((s) => s.target._kind === 'projection')
    && (props.projectionTableProps !== undefined || props.existingProjectionTable !== undefined)) {
    throw new InvalidPropsError(NAME, 'projectionTableProps and existingProjectionTable are the table of the projection subscriber, and no subscriber uses EventSubscriberTarget.projection()');
  }
  assertExclusive(NAME, props, 'existingProjectionTable', 'projectionTableProps');
  if (subscribers.filter((s) => s.target._kind === 'projection').length > 1) {
    throw new InvalidPropsError(NAME, 'at most one subscriber may use EventSubscriberTarget.projection(): projections are keyed by the item, so a second one would write the first one\'s items');
  }
  const names = new Set<string>();
  for (const s of subscribers) {
    if (!LOWER_NAME.test(s.name)) {
      throw new InvalidPropsError(NAME, `subscriber names must be 1..40 lowercase letters, digits or '-', starting with a letter, got '${s.name}'`);
    }
    if (names.has(s.name)) throw new InvalidPropsError(NAME, `subscriber names must be unique, got '${s.name}' twice`);
    names.add(s.name);
    if (s.eventPattern?.source !== undefined) {
      throw new InvalidPropsError(NAME, `subscriber '${s.name}': eventPattern must not set source; the rule matches this pattern's source only (add a Rule of your own for other sources)`);
    }
    assertIntegerInRange(NAME, `subscriber '${s.name}' retryAttempts`, s.retryAttempts, 0, 185);
    const age = s.maxEventAge?.toSeconds();
    if (age !== undefined && !Token.isUnresolved(age) && (age < 60 || age > 86_400)) {
      throw new InvalidPropsError(NAME, `subscriber '${s.name}' maxEventAge must be 1 minute..24 hours, got ${age} seconds`);
    }
    if (s.target._options.queue?.fifo) {
      throw new InvalidPropsError(NAME, `subscriber '${s.name}': the target queue is a FIFO queue; EventBridge needs a message group id for it, which this construct does not set (use a standard queue)`);
    }
    if (s.target._kind === 'projection' && s.input !== undefined) {
      throw new InvalidPropsError(NAME, `subscriber '${s.name}': the projection consumer needs the whole event; input transformation is for queue and function targets`);
    }
  }
}

/**
 * A replayed update older than a deletion must find the deleted item's tombstone: tombstones
 * outlive the archive's retention by a day (TTL deletes a day or two late, never early).
 */
function tombstoneRetentionDays(props: EventDrivenMicroserviceProps): number {
  if (props.archive === false) return TOMBSTONE_RETENTION_DAYS;
  const retention = props.archiveRetention ?? Duration.days(30);
  if (Token.isUnresolved(retention.toSeconds())) return TOMBSTONE_RETENTION_MAX_DAYS;
  const days = retention.toDays();
  return days === 0 ? TOMBSTONE_RETENTION_MAX_DAYS : Math.min(TOMBSTONE_RETENTION_MAX_DAYS, Math.max(TOMBSTONE_RETENTION_DAYS, days + 1));
}
