import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AlarmFactory } from '../core/alarms';
import { CanaryDeployment } from '../core/canary-deployment';
import { PatternEncryptionProps, usePatternKey } from '../core/encryption';
import { assertExclusive, assertIntegerInRange } from '../core/errors';
import { mergeProps } from '../core/merge';
import { ALARM_PERIOD, DynamoDbMetrics, LambdaMetrics, SqsMetrics } from '../core/metrics';
import { ruleAcknowledgements } from '../core/nag';
import { completeOperations, PatternOperationsProps, patternDeployment } from '../core/operations';
import { grantPatternTable, patternHandler, PatternHandlerProps, patternTable, PatternTableProps, validatePatternProps } from '../core/pattern-props';
import { createTerminalQueue } from '../core/queue';
import { StreamEventSourceOptions, streamEventSourceProps, validateStreamEventSource } from '../core/stream-event-source';

export interface StreamProcessorProps extends PatternHandlerProps, PatternTableProps, PatternOperationsProps, PatternEncryptionProps {
  /** Use this stream instead of creating one. @default - a new stream */
  readonly existingStream?: kinesis.IStream;
  /** Overrides of the created stream (e.g. `streamMode: PROVISIONED, shardCount`, `retentionPeriod`). @default - on-demand, encrypted with the AWS-managed key, 24 h retention */
  readonly streamProps?: kinesis.StreamProps;
  /** Read through a dedicated enhanced fan-out consumer (own 2 MB/s per shard, lower latency; billed per consumer-shard hour). @default false */
  readonly enhancedFanOut?: boolean;


  /** How Lambda reads the stream. @default - see StreamEventSourceOptions */
  readonly eventSource?: StreamEventSourceOptions;
  /** Where Lambda sends the metadata of batches it gives up on. @default - a new encrypted, TLS-only SQS queue */
  readonly onFailure?: lambda.IEventSourceDlq;
  /** Overrides of the queue that receives records the handler can never process (bad JSON, schema). @default - encrypted, TLS-only, 14 days */
  readonly rejectedQueueProps?: sqs.QueueProps;
  /** DynamoDB writes the reference handler keeps in flight (1..100). @default 10 */
  readonly maxParallelWrites?: number;

  /** Iterator age (stream and Lambda) above which an alarm fires. @default Duration.minutes(1) */
  readonly iteratorAgeThreshold?: Duration;
}

const NAME = 'StreamProcessor';
/** Exactly what the reference handler calls. */
const REFERENCE_HANDLER_TABLE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'];
const REFERENCE_HANDLER_OPERATIONS = [dynamodb.Operation.PUT_ITEM, dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.GET_ITEM];

/**
 * Kinesis Data Stream -> Lambda -> DynamoDB. The reference handler keeps the latest event per
 * source and exact per-minute counts under retries, bisection and replays; records that can never
 * succeed go to a rejected-records queue at once, so they never block a shard; batches Lambda gives
 * up on go to an on-failure destination.
 */
export class StreamProcessor extends Construct {
  public readonly stream: kinesis.IStream;
  /** The enhanced fan-out consumer, when `enhancedFanOut` is set. */
  public readonly consumer?: kinesis.IStreamConsumer;
  public readonly table: dynamodb.ITable;
  public readonly handler: lambda.IFunction;
  /** The handler's log group; undefined for an `existingFunction`. */
  public readonly logGroup?: logs.ILogGroup;
  /** Receives the records the handler can never process, with the reason. */
  public readonly rejectedRecordsQueue: sqs.IQueue;
  /** The on-failure queue created when no `onFailure` is given. */
  public readonly failureQueue?: sqs.IQueue;
  public readonly eventSourceMappingId: string;
  /** The customer-managed key of the pattern's log groups and secrets. */
  public readonly encryptionKey: kms.IKey;
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The CodeDeploy deployment of the handler when `deployment` is set. */
  public readonly deployment?: CanaryDeployment;

  constructor(scope: Construct, id: string, props: StreamProcessorProps = {}) {
    super(scope, id);
    this.encryptionKey = usePatternKey(this, props.encryptionKey);
    validate(props);

    this.stream = props.existingStream ?? new kinesis.Stream(this, 'Stream', mergeProps<kinesis.StreamProps>(
      { streamMode: kinesis.StreamMode.ON_DEMAND, encryption: kinesis.StreamEncryption.MANAGED, retentionPeriod: Duration.hours(24) },
      props.streamProps,
    ));
    this.table = patternTable(this, NAME, props);
    this.rejectedRecordsQueue = createTerminalQueue(this, 'RejectedRecordsQueue', 'records the handler can never process', props.rejectedQueueProps);

    const environment: Record<string, string> = {
      TABLE_NAME: this.table.tableName,
      REJECTED_QUEUE_URL: this.rejectedRecordsQueue.queueUrl,
      MAX_PARALLEL_WRITES: String(props.maxParallelWrites ?? 10),
    };
    const invokedByMapping = 'Invoked by a Kinesis event source mapping, never asynchronously: failed batches go to the mapping\'s on-failure destination.';
    ({ handler: this.handler, logGroup: this.logGroup } = patternHandler(this, props, {
      referenceAsset: 'stream-processing/processor',
      serviceName: 'stream-processor',
      description: `${this.node.path}: Kinesis stream consumer`,
      environment,
      functionDefaults: { timeout: Duration.seconds(60) },
      nagAcknowledgements: [
        ...ruleAcknowledgements('LambdaDLQ', invokedByMapping),
        { id: 'Serverless-LambdaAsyncFailureDestination', reason: invokedByMapping },
      ],
    }));
    grantPatternTable(this.table, this.handler, props, REFERENCE_HANDLER_TABLE_ACTIONS);
    this.rejectedRecordsQueue.grantSendMessages(this.handler);

    let onFailure = props.onFailure;
    if (!onFailure) {
      this.failureQueue = createTerminalQueue(this, 'FailureQueue', 'metadata of stream batches Lambda gave up on');
      onFailure = new sources.SqsDlq(this.failureQueue);
    }
    const eventSourceOptions: sources.KinesisEventSourceProps = streamEventSourceProps(props.eventSource, onFailure);
    let eventSource: sources.KinesisEventSource | sources.KinesisConsumerEventSource;
    if (props.enhancedFanOut) {
      this.consumer = new kinesis.StreamConsumer(this, 'Consumer', {
        stream: this.stream,
        streamConsumerName: `${this.node.addr}-consumer`,
      });
      eventSource = new sources.KinesisConsumerEventSource(this.consumer, eventSourceOptions);
    } else {
      eventSource = new sources.KinesisEventSource(this.stream, eventSourceOptions);
    }
    const { deployment, invokeTarget } = patternDeployment(this, NAME, this.handler, props.alarmTopic, props.deployment);
    this.deployment = deployment;
    invokeTarget.addEventSource(eventSource);
    this.eventSourceMappingId = eventSource.eventSourceMappingId;

    const iteratorAge = props.iteratorAgeThreshold ?? Duration.minutes(1);
    const alarms = new AlarmFactory(this, props.alarmTopic);
    alarms.add('StreamIteratorAgeAlarm', {
      metric: this.consumer
        ? new cloudwatch.Metric({
          namespace: 'AWS/Kinesis',
          metricName: 'SubscribeToShardEvent.MillisBehindLatest',
          dimensionsMap: { StreamName: this.stream.streamName, ConsumerName: this.consumer.streamConsumerName },
          period: ALARM_PERIOD,
          statistic: cloudwatch.Stats.MAXIMUM,
        })
        : this.stream.metricGetRecordsIteratorAgeMilliseconds({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: iteratorAge.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      description: `Records of ${this.node.path} wait more than ${iteratorAge.toHumanString()} in the stream for 15 minutes: consumers fall behind and records near the retention period will be lost.`,
    });
    alarms.add('HandlerIteratorAgeAlarm', {
      metric: LambdaMetrics.iteratorAgeMaxInMillis(this.handler),
      threshold: iteratorAge.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      // Partial batch failures are not Lambda errors: a version that fails records shows here first.
      rollsBackDeployment: true,
      description: `The handler of ${this.node.path} receives records older than ${iteratorAge.toHumanString()} for 15 minutes (a blocked shard or too little parallelism).`,
    });
    alarms.add('HandlerErrorsAlarm', {
      metric: LambdaMetrics.errorCount(this.handler),
      threshold: 1,
      description: `The handler of ${this.node.path} failed whole batches in the last 5 minutes; failing shards are blocked until the retries or the record age run out.`,
    });
    alarms.add('HandlerThrottlesAlarm', {
      metric: LambdaMetrics.throttleCount(this.handler),
      threshold: 1,
      description: `The handler of ${this.node.path} was throttled in the last 5 minutes; the stream falls behind.`,
    });
    if (this.failureQueue) {
      alarms.add('FailureQueueDepthAlarm', {
        metric: SqsMetrics.visibleMessageCount(this.failureQueue),
        threshold: 1,
        description: `Lambda gave up on stream batches of ${this.node.path}; their metadata is in the failure queue. Replay them from the stream (see the README) before retention expires.`,
      });
    }
    alarms.add('RejectedRecordsAlarm', {
      metric: SqsMetrics.visibleMessageCount(this.rejectedRecordsQueue),
      threshold: 1,
      description: `Records of ${this.node.path} were rejected (not JSON or not valid events); they wait in the rejected-records queue with the reason.`,
    });
    alarms.add('TableThrottlesAlarm', {
      metric: DynamoDbMetrics.throttledRequestCount(this.table, REFERENCE_HANDLER_OPERATIONS),
      threshold: 1,
      description: `DynamoDB throttled writes of ${this.node.path} in the last 5 minutes; affected records are retried.`,
    });
    ({ alarms: this.alarms, dashboard: this.dashboard } = completeOperations(this, props, alarms.alarms, [
      { deployment, rollbackAlarms: alarms.rollbackAlarms },
    ]));
  }
}

function validate(props: StreamProcessorProps): void {
  assertExclusive(NAME, props, 'existingStream', 'streamProps');
  validatePatternProps(NAME, props);
  validateStreamEventSource(NAME, 'eventSource', props.eventSource);
  assertIntegerInRange(NAME, 'maxParallelWrites', props.maxParallelWrites, 1, 100);
}
