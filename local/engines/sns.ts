/**
 * A local Amazon SNS engine (for the local runner and handler tests): a `node:http` server on
 * 127.0.0.1 that speaks the AWS Query protocol of `@aws-sdk/client-sns`
 * (local/engines/sns-query-protocol.ts), with topics and subscriptions set up from a template's
 * `AWS::SNS::Topic` and `AWS::SNS::Subscription` (`createTopic`, `subscribe`), and deliveries handed
 * to the runner's `deliver` (its SQS engine, or a Lambda function).
 *
 * - Operations: Publish (`TopicArn` or `TargetArn`), PublishBatch, GetTopicAttributes, ListTopics,
 *   ListSubscriptionsByTopic. Validation as SNS documents it: a non-empty message; 256 KB for the
 *   message and its attributes together (names, types and values); attribute names
 *   (A-Z a-z 0-9 _ - ., no leading, trailing or successive periods, at most 256 characters, no
 *   `AWS.`/`Amazon.` prefix other than SNS's own `AWS.SNS.` attributes), types `String`,
 *   `String.Array`, `Number`, `Binary` (each may carry a custom `.label`), non-empty values, numbers
 *   that are numbers, no characters outside the Basic Multilingual Plane in string values; a subject of
 *   under 100 characters without control characters; `MessageStructure: json` with a string `default`
 *   entry. FIFO topics require `MessageGroupId` and, unless content-based deduplication is on,
 *   `MessageDeduplicationId`; standard topics refuse `MessageDeduplicationId` and take an optional
 *   `MessageGroupId` (fair queues), which they forward to SQS subscriptions only. PublishBatch takes
 *   1..10 entries with distinct ids (up to 80 of A-Z a-z 0-9 - _) and 256 KB in all, and answers each
 *   entry in `Successful` or `Failed` (`InvalidParameter`, `ParameterValueInvalid`, sender's fault).
 * - Delivery, after the Publish answer: every subscription of the topic whose filter policy passes
 *   (local/engines/sns-filter-policy.ts) gets one `deliver` call. SQS: the JSON notification (`Type`,
 *   `MessageId`, `TopicArn`, `Subject` when given, `Message`, `Timestamp`, `SignatureVersion`,
 *   `Signature`, `SigningCertURL`, `UnsubscribeURL`, `MessageAttributes` as `{ Type, Value }`, binary
 *   values in base64; a FIFO topic's carries `SequenceNumber` instead of the signature fields), or with
 *   raw message delivery the message itself with its attributes as SQS message attributes (more than 10
 *   is a client-side error, as SNS documents). Lambda: the `Sns` object of the Lambda event record
 *   (`snsEvent` wraps records), `Number` and `String.Array` attributes typed `String` as SNS documents.
 *   Attributes are not delivered for `MessageStructure: json` messages. FIFO topics: the message group
 *   and deduplication ids (content-based: the SHA-256 of the message) go with the delivery, duplicates
 *   within 5 minutes (by `clock`) are accepted and not delivered, and each subscription gets its messages
 *   one at a time, in order.
 * - Failures: a `deliver` that throws is tried again (`maxDeliveryAttempts`, 3 in all by default; an
 *   `SnsClientSideError` is not retried, as SNS does not retry client-side errors), then the delivery
 *   goes to the subscription's redrive dead-letter queue through `deliver` (the body the subscription
 *   would have received: the JSON notification, or the raw message and its attributes; a Lambda
 *   subscription's is the JSON notification), or, without one or if that fails too, to
 *   `failedDeliveries`. `settled()` waits for every delivery started so far.
 * - Not modelled: other protocols (HTTP/S, email, SMS, mobile push, Firehose) and publishing to phone
 *   numbers or platform endpoints; subscription confirmation and the topic and subscription APIs
 *   (CreateTopic, Subscribe, SetSubscriptionAttributes...: the runner sets them up from the template);
 *   real signatures (`Signature` is a SHA-256 of the signed fields, not an RSA signature, and the
 *   certificate URL points nowhere); delivery policies and retry timing (retries are immediate);
 *   `FifoThroughputScope` (deduplication is topic-wide); KMS, data protection, archiving and replay.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { SNSEvent, SNSEventRecord, SNSMessage, SNSMessageAttributes } from 'aws-lambda';
import { LOCAL_ACCOUNT, LOCAL_REGION, readBody } from './aws-protocol';
import { closeServer, listenOnLoopback } from './loopback';
import { compileFilterPolicy, type FilterPolicyMatcher, type FilterPolicyScope } from './sns-filter-policy';
import {
  SnsError, hasList, readMembers, readMessageAttributes, sendQueryError, sendQueryResult, xmlElement, type QueryMessageAttribute,
} from './sns-query-protocol';
import { createLimiter } from '../../lambda/shared/concurrency';

export { LOCAL_ACCOUNT, LOCAL_REGION, SnsError };

const MAX_MESSAGE_BYTES = 262_144;
const MAX_RAW_SQS_ATTRIBUTES = 10;
const DEDUPLICATION_INTERVAL_MS = 5 * 60 * 1000;
const PAGE_SIZE = 100;

/** A message attribute as SQS takes it (`SendMessage` `MessageAttributes`): raw deliveries carry these. */
export interface SqsMessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

interface SnsDeliveryBase {
  readonly subscriptionArn: string;
  /** The target ARN: an SQS queue, a Lambda function, or (for a dead letter) the dead-letter queue. */
  readonly endpoint: string;
  readonly topicArn: string;
  readonly messageId: string;
  /** SQS: the message body; Lambda: the `Sns` object as JSON. */
  readonly body: string;
  /** Raw SQS deliveries: the message attributes; otherwise empty (they are in the body). */
  readonly messageAttributes: Readonly<Record<string, SqsMessageAttribute>>;
  /** FIFO topics, and standard topics' messages that carry one (SQS subscriptions only). */
  readonly messageGroupId?: string;
  /** FIFO topics. */
  readonly messageDeduplicationId?: string;
  /** Set on a delivery to a redrive dead-letter queue: where the message could not go, and why. */
  readonly deadLetter?: { readonly protocol: 'sqs' | 'lambda'; readonly endpoint: string; readonly error: string };
}

export interface SnsSqsDelivery extends SnsDeliveryBase {
  readonly protocol: 'sqs';
}

export interface SnsLambdaDelivery extends SnsDeliveryBase {
  readonly protocol: 'lambda';
  /** The `Sns` object of the Lambda event record. */
  readonly sns: SNSMessage;
}

export type SnsDelivery = SnsSqsDelivery | SnsLambdaDelivery;

/** Thrown by a `deliver` for a client-side error (say, a queue that does not exist): SNS does not retry those. */
export class SnsClientSideError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnsClientSideError';
  }
}

export interface FailedSnsDelivery {
  readonly delivery: SnsDelivery;
  readonly error: unknown;
  readonly attempts: number;
}

export interface PublishedSnsMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly message: string;
  readonly subject?: string;
  readonly messageStructure?: 'json';
  readonly messageAttributes: Readonly<Record<string, SqsMessageAttribute>>;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  readonly sequenceNumber?: string;
  readonly timestamp: string;
  /** FIFO: accepted as a duplicate of an earlier message within the deduplication interval, so not delivered. */
  readonly duplicate: boolean;
}

export interface SnsTopicOptions {
  /** The topic name; FIFO topic names end in `.fifo`. */
  readonly name: string;
  /** @default false */
  readonly fifo?: boolean;
  /** FIFO topics only. @default false */
  readonly contentBasedDeduplication?: boolean;
}

export interface SnsTopic {
  readonly name: string;
  readonly arn: string;
}

export interface SnsSubscriptionOptions {
  readonly topicArn: string;
  readonly protocol: 'sqs' | 'lambda';
  /** The target ARN: an SQS queue or a Lambda function. */
  readonly endpoint: string;
  /** As `AWS::SNS::Subscription` `FilterPolicy` gives it: an object or its JSON text. @default - every message */
  readonly filterPolicy?: object | string;
  /** @default 'MessageAttributes' */
  readonly filterPolicyScope?: FilterPolicyScope;
  /** SQS subscriptions only. @default false */
  readonly rawMessageDelivery?: boolean | 'true' | 'false';
  /** As `AWS::SNS::Subscription` `RedrivePolicy` gives it: `{ deadLetterTargetArn }` or its JSON text. @default - no dead-letter queue */
  readonly redrivePolicy?: { readonly deadLetterTargetArn: string } | string;
}

export interface LocalSnsOptions {
  /** Hands a delivery to its target (the runner's SQS engine or a Lambda function); a throw is a failed attempt. */
  readonly deliver: (delivery: SnsDelivery) => Promise<void> | void;
  /** Milliseconds since the epoch: message timestamps and the FIFO deduplication interval. @default Date.now */
  readonly clock?: () => number;
  /** Attempts per delivery, the first included. @default 3 */
  readonly maxDeliveryAttempts?: number;
  /** `deliver` calls in flight at once, over all subscriptions. @default 4 */
  readonly maxConcurrentDeliveries?: number;
}

export interface LocalSns {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Every accepted message, in the order published. */
  readonly published: PublishedSnsMessage[];
  /** Every delivery `deliver` accepted, dead letters included, in the order they completed. */
  readonly deliveries: SnsDelivery[];
  /** Deliveries that failed and could not be dead-lettered. */
  readonly failedDeliveries: FailedSnsDelivery[];
  /** Creates a topic (idempotent for the same settings); throws `SnsError` for an invalid name. */
  createTopic(options: SnsTopicOptions): SnsTopic;
  /** Subscribes a target and returns the subscription ARN; throws `SnsError` or `InvalidFilterPolicyError`. */
  subscribe(options: SnsSubscriptionOptions): string;
  /** Waits until every delivery started so far (retries and dead letters included) has finished. */
  settled(): Promise<void>;
  /** Forgets published messages, deliveries, failures and FIFO deduplication (keeps topics and subscriptions). */
  reset(): void;
  stop(): Promise<void>;
}

/** The Lambda event for SNS deliveries to a function: `{ Records: [...] }`. */
export function snsEvent(...deliveries: SnsLambdaDelivery[]): SNSEvent {
  return {
    Records: deliveries.map((d): SNSEventRecord => ({ EventVersion: '1.0', EventSubscriptionArn: d.subscriptionArn, EventSource: 'aws:sns', Sns: d.sns })),
  };
}

interface Subscription {
  readonly arn: string;
  readonly topicArn: string;
  readonly protocol: 'sqs' | 'lambda';
  readonly endpoint: string;
  readonly raw: boolean;
  readonly matcher?: FilterPolicyMatcher;
  readonly scope: FilterPolicyScope;
  readonly deadLetterTargetArn?: string;
  /** The settings, to make a repeated subscribe idempotent. */
  readonly settings: string;
}

interface Topic {
  readonly name: string;
  readonly arn: string;
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  readonly subscriptions: Subscription[];
  sequence: bigint;
}

/** Publish parameters, from Publish or one PublishBatch entry. */
interface PublishInput {
  readonly message?: string;
  readonly subject?: string;
  readonly messageStructure?: string;
  readonly messageAttributes: Record<string, QueryMessageAttribute>;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
}

/** A validated message: the text per protocol and what goes with it. */
interface Prepared {
  readonly input: PublishInput;
  readonly attributes: Record<string, SqsMessageAttribute>;
  readonly contentFor: (protocol: 'sqs' | 'lambda') => string;
  readonly size: number;
}

const invalid = (message: string): SnsError => new SnsError('InvalidParameter', message);
const invalidValue = (message: string): SnsError => new SnsError('ParameterValueInvalid', message);
const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const FIFO_TOPIC_NAME = /^[A-Za-z0-9_-]{1,251}\.fifo$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]+$/;
const ATTRIBUTE_TYPE = /^(String|Number|Binary)(\..+)?$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const GROUP_OR_DEDUP_ID = /^[\x21-\x7e]{1,128}$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const ASTRAL = /[\ud800-\udfff]/;
const ARN = /^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$/;

function validateAttributes(attributes: Record<string, QueryMessageAttribute>): void {
  for (const [name, attribute] of Object.entries(attributes)) {
    if (name === '') throw invalidValue('The message attribute name must not be empty.');
    if (name.length > 256) throw invalidValue('Length of message attribute name must be less than 256 bytes.');
    if (!ATTRIBUTE_NAME.test(name)) {
      throw invalidValue(`Invalid non-alphanumeric character was found in the message attribute name '${name}'. `
        + 'Can only include alphanumeric characters, hyphens, underscores, or dots.');
    }
    if (name.startsWith('.')) throw invalidValue("Invalid message attribute name starting with character '.' was found.");
    if (name.endsWith('.')) throw invalidValue("Invalid message attribute name ending with character '.' was found.");
    if (name.includes('..')) throw invalidValue("Message attribute name can not have successive '.' character.");
    if (/^(aws|amazon)\./i.test(name) && !name.startsWith('AWS.SNS.')) {
      throw invalidValue(`The message attribute name '${name}' is reserved: names starting with AWS. or Amazon. are for AWS.`);
    }
    const type = attribute.DataType;
    if (type === '') throw invalidValue(`The message attribute '${name}' must contain non-empty message attribute type.`);
    if (utf8(type) > 256) throw invalidValue('Message attribute type can not be longer than 256 bytes.');
    if (!ATTRIBUTE_TYPE.test(type)) {
      throw invalidValue(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    const binary = type.startsWith('Binary');
    const empty = binary ? (attribute.BinaryValue?.length ?? 0) === 0 : (attribute.StringValue ?? '') === '';
    if (empty) throw invalidValue(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${type}'.`);
    if (!binary && ASTRAL.test(attribute.StringValue ?? '')) throw invalidValue(`Invalid attribute value was passed in for message attribute ${name}.`);
    if (type.startsWith('Number') && !NUMBER.test((attribute.StringValue ?? '').trim())) {
      throw invalidValue(`Could not cast message attribute '${name}' value to number.`);
    }
  }
}

function attributesSize(attributes: Record<string, QueryMessageAttribute>): number {
  return Object.entries(attributes).reduce(
    (sum, [name, a]) => sum + utf8(name) + utf8(a.DataType) + (a.BinaryValue?.length ?? 0) + utf8(a.StringValue ?? ''), 0);
}

/** Validates what does not depend on the topic; throws `SnsError`. */
function prepare(input: PublishInput): Prepared {
  const message = input.message;
  if (message === undefined || message === '') throw invalid('Invalid parameter: Empty message');
  if (input.subject !== undefined) {
    if (input.subject === '' || input.subject.length >= 100 || CONTROL_CHARACTERS.test(input.subject)) {
      throw invalid('Invalid parameter: Subject Reason: a subject is UTF-8 text with no line breaks or control characters, under 100 characters');
    }
  }
  validateAttributes(input.messageAttributes);
  const size = utf8(message) + attributesSize(input.messageAttributes);
  if (size > MAX_MESSAGE_BYTES) throw invalid(`Invalid parameter: Message too long (${size} bytes, at most ${MAX_MESSAGE_BYTES})`);

  let contentFor: (protocol: 'sqs' | 'lambda') => string = () => message;
  if (input.messageStructure !== undefined) {
    if (input.messageStructure !== 'json') throw invalid(`Invalid parameter: MessageStructure Reason: must be json, got ${input.messageStructure}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      throw invalid('Invalid parameter: Message Structure - JSON message body failed to parse');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('Invalid parameter: Message Structure - JSON message body failed to parse');
    const entries = parsed as Record<string, unknown>;
    const byProtocol = (key: string): string | undefined => (typeof entries[key] === 'string' ? entries[key] : undefined);
    const fallback = byProtocol('default');
    if (fallback === undefined) throw invalid('Invalid parameter: Message Structure - No default entry in JSON message body');
    contentFor = (protocol) => byProtocol(protocol) ?? fallback;
  }
  const attributes: Record<string, SqsMessageAttribute> = {};
  for (const [name, a] of Object.entries(input.messageAttributes)) {
    attributes[name] = a.DataType.startsWith('Binary')
      ? { DataType: a.DataType, BinaryValue: Uint8Array.from(a.BinaryValue ?? []) }
      : { DataType: a.DataType, StringValue: a.StringValue };
  }
  return { input, attributes, contentFor, size };
}

/** Validates the FIFO parameters against the topic; throws `SnsError`. */
function checkGrouping(topic: Topic, input: PublishInput): void {
  if (topic.fifo) {
    if (input.messageGroupId === undefined) throw invalid('Invalid parameter: The MessageGroupId parameter is required for FIFO topics');
    if (input.messageDeduplicationId === undefined && !topic.contentBasedDeduplication) {
      throw invalid('Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
    }
  } else if (input.messageDeduplicationId !== undefined) {
    throw invalid('Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type');
  }
  for (const [field, value] of [['MessageGroupId', input.messageGroupId], ['MessageDeduplicationId', input.messageDeduplicationId]] as const) {
    if (value !== undefined && !GROUP_OR_DEDUP_ID.test(value)) {
      throw invalid(`Invalid parameter: ${field} Reason: up to 128 alphanumeric characters and punctuation`);
    }
  }
}

function parseArn(arn: string): { service: string; region: string; account: string; resource: string } | undefined {
  const m = ARN.exec(arn);
  return m ? { service: m[1], region: m[2], account: m[3], resource: m[4] } : undefined;
}

const bool = (v: boolean | string | undefined): boolean => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');

export async function startLocalSns(options: LocalSnsOptions): Promise<LocalSns> {
  const clock = options.clock ?? Date.now;
  const maxAttempts = options.maxDeliveryAttempts ?? 3;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxDeliveryAttempts must be a positive integer, got ${maxAttempts}`);
  const limit = createLimiter(options.maxConcurrentDeliveries ?? 4);
  const topics = new Map<string, Topic>();
  const published: PublishedSnsMessage[] = [];
  const deliveries: SnsDelivery[] = [];
  const failedDeliveries: FailedSnsDelivery[] = [];
  /** FIFO deduplication: topic ARN + deduplication id -> the accepted message. */
  const seen = new Map<string, { messageId: string; sequenceNumber?: string; at: number }>();
  /** FIFO topics: each subscription's deliveries, one after the other. */
  const chains = new Map<string, Promise<void>>();
  const pending = new Set<Promise<void>>();

  const unsubscribeUrl = (subscriptionArn: string): string =>
    `https://sns.${LOCAL_REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`;
  const signingCertUrl = `https://sns.${LOCAL_REGION}.amazonaws.com/SimpleNotificationService-local.pem`;
  const signature = (fields: Record<string, unknown>): string =>
    createHash('sha256').update(Object.entries(fields).map(([k, v]) => `${k}\n${String(v)}\n`).join('')).digest('base64');

  const envelopeAttributes = (attributes: Readonly<Record<string, SqsMessageAttribute>>, forLambda: boolean): SNSMessageAttributes => {
    const out: SNSMessageAttributes = {};
    for (const [name, a] of Object.entries(attributes)) {
      if (a.BinaryValue !== undefined) {
        out[name] = { Type: a.DataType, Value: Buffer.from(a.BinaryValue).toString('base64') };
      } else {
        // "Amazon SNS message attributes": Number and String.Array reach Lambda typed String.
        const type = forLambda && (a.DataType === 'Number' || a.DataType === 'String.Array') ? 'String' : a.DataType;
        out[name] = { Type: type, Value: a.StringValue ?? '' };
      }
    }
    return out;
  };

  /** The JSON notification an SQS subscription (or a dead-letter queue) receives. */
  const notification = (topic: Topic, sub: Subscription, msg: PublishedSnsMessage, content: string, withAttributes: boolean): string => {
    const n: Record<string, unknown> = { Type: 'Notification', MessageId: msg.messageId };
    if (topic.fifo) n.SequenceNumber = msg.sequenceNumber;
    n.TopicArn = topic.arn;
    if (msg.subject !== undefined) n.Subject = msg.subject;
    n.Message = content;
    n.Timestamp = msg.timestamp;
    if (!topic.fifo) {
      n.SignatureVersion = '1';
      n.Signature = signature(n);
      n.SigningCertURL = signingCertUrl;
    }
    n.UnsubscribeURL = unsubscribeUrl(sub.arn);
    if (withAttributes && Object.keys(msg.messageAttributes).length > 0) {
      n.MessageAttributes = envelopeAttributes(msg.messageAttributes, false);
    }
    return JSON.stringify(n);
  };

  const lambdaMessage = (topic: Topic, sub: Subscription, msg: PublishedSnsMessage, content: string, withAttributes: boolean): SNSMessage => {
    const signed = {
      Type: 'Notification',
      MessageId: msg.messageId,
      TopicArn: topic.arn,
      ...(msg.subject !== undefined ? { Subject: msg.subject } : {}),
      Message: content,
      Timestamp: msg.timestamp,
    };
    return {
      SignatureVersion: '1',
      Timestamp: msg.timestamp,
      Signature: signature(signed),
      SigningCertUrl: signingCertUrl,
      MessageId: msg.messageId,
      Message: content,
      MessageAttributes: withAttributes ? envelopeAttributes(msg.messageAttributes, true) : {},
      Type: 'Notification',
      UnsubscribeUrl: unsubscribeUrl(sub.arn),
      TopicArn: topic.arn,
      ...(msg.subject !== undefined ? { Subject: msg.subject } : {}),
    };
  };

  /** Runs a delivery after the Publish answer; on a FIFO topic, after the subscription's earlier deliveries. */
  const schedule = (attempt: () => Promise<void>, chainKey: string | undefined): void => {
    const previous = chainKey !== undefined ? chains.get(chainKey) : undefined;
    const job = (async () => {
      await previous;
      // Asynchronous to the Publish answer, as SNS: nothing is delivered before the caller is answered.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await attempt();
    })();
    if (chainKey !== undefined) chains.set(chainKey, job);
    pending.add(job);
    void job.finally(() => {
      pending.delete(job);
      if (chainKey !== undefined && chains.get(chainKey) === job) chains.delete(chainKey);
    });
  };

  const call = (delivery: SnsDelivery): Promise<void> => limit(async () => options.deliver(structuredClone(delivery)));

  /**
   * Delivers, retries, then dead-letters. `deadLetterBody` is what the dead-letter queue receives;
   * `clientError` fails the delivery before any attempt (client-side errors are not retried).
   */
  const deliverWithRedrive = (topic: Topic, sub: Subscription, delivery: SnsDelivery, deadLetterBody: string, clientError?: Error): void => {
    schedule(async () => {
      let lastError: unknown = clientError;
      let attempts = 0;
      while (clientError === undefined && attempts < maxAttempts) {
        attempts++;
        try {
          await call(delivery);
          deliveries.push(delivery);
          return;
        } catch (err) {
          lastError = err;
          if (err instanceof SnsClientSideError) break;
        }
      }
      if (sub.deadLetterTargetArn === undefined) {
        failedDeliveries.push({ delivery, error: lastError, attempts });
        return;
      }
      const deadLetter: SnsSqsDelivery = {
        subscriptionArn: sub.arn,
        protocol: 'sqs',
        endpoint: sub.deadLetterTargetArn,
        topicArn: topic.arn,
        messageId: delivery.messageId,
        body: deadLetterBody,
        messageAttributes: delivery.messageAttributes,
        ...(delivery.messageGroupId !== undefined ? { messageGroupId: delivery.messageGroupId } : {}),
        ...(delivery.messageDeduplicationId !== undefined ? { messageDeduplicationId: delivery.messageDeduplicationId } : {}),
        deadLetter: { protocol: sub.protocol, endpoint: sub.endpoint, error: lastError instanceof Error ? lastError.message : String(lastError) },
      };
      try {
        await call(deadLetter);
        deliveries.push(deadLetter);
      } catch (err) {
        failedDeliveries.push({ delivery: deadLetter, error: err, attempts: 1 });
      }
    }, topic.fifo ? sub.arn : undefined);
  };

  /** Fans an accepted message out to the subscriptions whose filter policy passes. */
  const fanOut = (topic: Topic, msg: PublishedSnsMessage, prepared: Prepared): void => {
    const withAttributes = msg.messageStructure === undefined;
    for (const sub of topic.subscriptions) {
      const content = prepared.contentFor(sub.protocol);
      if (sub.matcher && !sub.matcher({ messageAttributes: prepared.input.messageAttributes, body: content })) continue;
      const common = { subscriptionArn: sub.arn, endpoint: sub.endpoint, topicArn: topic.arn, messageId: msg.messageId };
      if (sub.protocol === 'lambda') {
        const sns = lambdaMessage(topic, sub, msg, content, withAttributes);
        const asJson = notification(topic, sub, msg, content, withAttributes);
        deliverWithRedrive(topic, sub, { ...common, protocol: 'lambda', body: JSON.stringify(sns), messageAttributes: {}, sns }, asJson);
        continue;
      }
      const rawAttributes = sub.raw && withAttributes ? msg.messageAttributes : {};
      const delivery: SnsSqsDelivery = {
        ...common,
        protocol: 'sqs',
        body: sub.raw ? content : notification(topic, sub, msg, content, withAttributes),
        messageAttributes: rawAttributes,
        ...(msg.messageGroupId !== undefined ? { messageGroupId: msg.messageGroupId } : {}),
        ...(msg.messageDeduplicationId !== undefined ? { messageDeduplicationId: msg.messageDeduplicationId } : {}),
      };
      // "Amazon SNS message attributes": more than 10 attributes to a raw SQS subscription is a client-side error.
      const tooMany = Object.keys(rawAttributes).length > MAX_RAW_SQS_ATTRIBUTES
        ? new SnsClientSideError(`${Object.keys(rawAttributes).length} message attributes: raw message delivery to SQS sends at most ${MAX_RAW_SQS_ATTRIBUTES}`)
        : undefined;
      deliverWithRedrive(topic, sub, delivery, delivery.body, tooMany);
    }
  };

  /** Accepts a prepared message on a topic (FIFO checks already done); returns its id and sequence number. */
  const accept = (topic: Topic, prepared: Prepared): { messageId: string; sequenceNumber?: string; deliver: () => void } => {
    const { input } = prepared;
    const now = clock();
    const timestamp = new Date(now).toISOString();
    let messageDeduplicationId = input.messageDeduplicationId;
    if (topic.fifo && messageDeduplicationId === undefined) {
      // Content-based deduplication: "a SHA-256 hash ... using the body of the message (but not the attributes)".
      messageDeduplicationId = createHash('sha256').update(input.message ?? '').digest('hex');
    }
    const base = {
      topicArn: topic.arn,
      message: input.message ?? '',
      ...(input.subject !== undefined ? { subject: input.subject } : {}),
      ...(input.messageStructure === 'json' ? { messageStructure: 'json' as const } : {}),
      messageAttributes: prepared.attributes,
      ...(input.messageGroupId !== undefined ? { messageGroupId: input.messageGroupId } : {}),
      ...(messageDeduplicationId !== undefined ? { messageDeduplicationId } : {}),
      timestamp,
    };
    if (topic.fifo && messageDeduplicationId !== undefined) {
      const key = `${topic.arn}\n${messageDeduplicationId}`;
      const earlier = seen.get(key);
      if (earlier !== undefined && now - earlier.at < DEDUPLICATION_INTERVAL_MS) {
        published.push({ ...base, messageId: earlier.messageId, sequenceNumber: earlier.sequenceNumber, duplicate: true });
        return { messageId: earlier.messageId, sequenceNumber: earlier.sequenceNumber, deliver: () => undefined };
      }
      const messageId = randomUUID();
      topic.sequence += 1n;
      const sequenceNumber = (10n ** 19n + topic.sequence).toString();
      seen.set(key, { messageId, sequenceNumber, at: now });
      const msg: PublishedSnsMessage = { ...base, messageId, sequenceNumber, duplicate: false };
      published.push(msg);
      return { messageId, sequenceNumber, deliver: () => fanOut(topic, msg, prepared) };
    }
    const msg: PublishedSnsMessage = { ...base, messageId: randomUUID(), duplicate: false };
    published.push(msg);
    return { messageId: msg.messageId, deliver: () => fanOut(topic, msg, prepared) };
  };

  const topicFor = (arn: string | null | undefined, parameter = 'TopicArn'): Topic => {
    if (arn === null || arn === undefined || arn === '') throw invalid(`Invalid parameter: ${parameter} Reason: no value for required parameter`);
    const parsed = parseArn(arn);
    if (parsed === undefined || parsed.service !== 'sns') throw invalid(`Invalid parameter: ${parameter} Reason: ${arn} is not an SNS topic ARN`);
    const topic = topics.get(arn);
    if (topic === undefined) throw new SnsError('NotFound', 'Topic does not exist', 404);
    return topic;
  };

  const inputFrom = (params: URLSearchParams): PublishInput => ({
    message: params.get('Message') ?? undefined,
    subject: params.get('Subject') ?? undefined,
    messageStructure: params.get('MessageStructure') ?? undefined,
    messageAttributes: readMessageAttributes(params, 'MessageAttributes'),
    messageGroupId: params.get('MessageGroupId') ?? undefined,
    messageDeduplicationId: params.get('MessageDeduplicationId') ?? undefined,
  });

  const publish = (params: URLSearchParams): { xml: string; after: () => void } => {
    if (params.has('PhoneNumber')) throw invalid('Invalid parameter: PhoneNumber Reason: the local engine publishes to topics only');
    const topicArn = params.get('TopicArn');
    const targetArn = params.get('TargetArn');
    if (topicArn !== null && targetArn !== null) throw invalid('Invalid parameter: TopicArn or TargetArn Reason: give only one of them');
    const input = inputFrom(params);
    const prepared = prepare(input);
    const topic = topicFor(topicArn ?? targetArn, topicArn !== null ? 'TopicArn' : 'TargetArn');
    checkGrouping(topic, input);
    const { messageId, sequenceNumber, deliver } = accept(topic, prepared);
    return { xml: xmlElement('MessageId', messageId) + xmlElement('SequenceNumber', sequenceNumber), after: deliver };
  };

  const publishBatch = (params: URLSearchParams): { xml: string; after: () => void } => {
    const topic = topicFor(params.get('TopicArn'));
    const members = readMembers(params, 'PublishBatchRequestEntries');
    if (members.length === 0) {
      if (!hasList(params, 'PublishBatchRequestEntries')) throw invalid('Invalid parameter: PublishBatchRequestEntries Reason: no value for required parameter');
      throw new SnsError('EmptyBatchRequest', "The batch request doesn't contain any entries.");
    }
    if (members.length > 10) throw new SnsError('TooManyEntriesInBatchRequest', 'The batch request contains more entries than permissible.');
    const ids = members.map((m) => m.get('Id') ?? '');
    const bad = ids.find((id) => !BATCH_ENTRY_ID.test(id));
    if (bad !== undefined) throw new SnsError('InvalidBatchEntryId', `The Id of a batch entry in a batch request doesn't abide by the specification: ${JSON.stringify(bad)}`);
    if (new Set(ids).size !== ids.length) throw new SnsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
    const inputs = members.map(inputFrom);
    const total = inputs.reduce((sum, i) => sum + utf8(i.message ?? '') + attributesSize(i.messageAttributes), 0);
    if (total > MAX_MESSAGE_BYTES) throw new SnsError('BatchRequestTooLong', `The length of all the messages put together is more than the limit (${total} bytes).`);

    let successful = '';
    let failed = '';
    const after: Array<() => void> = [];
    inputs.forEach((input, i) => {
      try {
        const prepared = prepare(input);
        checkGrouping(topic, input);
        const accepted = accept(topic, prepared);
        after.push(accepted.deliver);
        successful += `<member>${xmlElement('Id', ids[i])}${xmlElement('MessageId', accepted.messageId)}${xmlElement('SequenceNumber', accepted.sequenceNumber)}</member>`;
      } catch (err) {
        if (!(err instanceof SnsError)) throw err;
        failed += `<member>${xmlElement('Id', ids[i])}${xmlElement('Code', err.code)}${xmlElement('Message', err.message)}<SenderFault>true</SenderFault></member>`;
      }
    });
    return { xml: `<Successful>${successful}</Successful><Failed>${failed}</Failed>`, after: () => after.forEach((f) => f()) };
  };

  const topicAttributes = (topic: Topic): Record<string, string> => ({
    TopicArn: topic.arn,
    Owner: LOCAL_ACCOUNT,
    DisplayName: '',
    SubscriptionsConfirmed: String(topic.subscriptions.length),
    SubscriptionsPending: '0',
    SubscriptionsDeleted: '0',
    Policy: JSON.stringify({
      Version: '2008-10-17',
      Id: '__default_policy_ID',
      Statement: [{
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['SNS:GetTopicAttributes', 'SNS:SetTopicAttributes', 'SNS:AddPermission', 'SNS:RemovePermission', 'SNS:DeleteTopic', 'SNS:Subscribe',
          'SNS:ListSubscriptionsByTopic', 'SNS:Publish'],
        Resource: topic.arn,
        Condition: { StringEquals: { 'AWS:SourceOwner': LOCAL_ACCOUNT } },
      }],
    }),
    EffectiveDeliveryPolicy: JSON.stringify({
      http: {
        defaultHealthyRetryPolicy: { minDelayTarget: 20, maxDelayTarget: 20, numRetries: 3, numMaxDelayRetries: 0, numNoDelayRetries: 0, numMinDelayRetries: 0, backoffFunction: 'linear' },
        disableSubscriptionOverrides: false,
        defaultRequestPolicy: { headerContentType: 'text/plain; charset=UTF-8' },
      },
    }),
    ...(topic.fifo ? { FifoTopic: 'true', ContentBasedDeduplication: String(topic.contentBasedDeduplication) } : {}),
  });

  const page = <T>(items: T[], token: string | null): { items: T[]; next?: string } => {
    const start = token === null ? 0 : Number(Buffer.from(token, 'base64').toString('utf8'));
    if (!Number.isSafeInteger(start) || start < 0 || start > items.length) throw invalid('Invalid parameter: NextToken');
    const end = start + PAGE_SIZE;
    return { items: items.slice(start, end), ...(end < items.length ? { next: Buffer.from(String(end)).toString('base64') } : {}) };
  };

  const handle = (action: string, params: URLSearchParams): { xml: string; after?: () => void } => {
    switch (action) {
      case 'Publish':
        return publish(params);
      case 'PublishBatch':
        return publishBatch(params);
      case 'GetTopicAttributes': {
        const entries = Object.entries(topicAttributes(topicFor(params.get('TopicArn'))));
        return { xml: `<Attributes>${entries.map(([k, v]) => `<entry>${xmlElement('key', k)}${xmlElement('value', v)}</entry>`).join('')}</Attributes>` };
      }
      case 'ListTopics': {
        const { items, next } = page([...topics.values()], params.get('NextToken'));
        return { xml: `<Topics>${items.map((t) => `<member>${xmlElement('TopicArn', t.arn)}</member>`).join('')}</Topics>${xmlElement('NextToken', next)}` };
      }
      case 'ListSubscriptionsByTopic': {
        const topic = topicFor(params.get('TopicArn'));
        const { items, next } = page(topic.subscriptions, params.get('NextToken'));
        const members = items.map((s) => `<member>${xmlElement('TopicArn', s.topicArn)}${xmlElement('Protocol', s.protocol)}${xmlElement('SubscriptionArn', s.arn)}`
          + `${xmlElement('Owner', LOCAL_ACCOUNT)}${xmlElement('Endpoint', s.endpoint)}</member>`);
        return { xml: `<Subscriptions>${members.join('')}</Subscriptions>${xmlElement('NextToken', next)}` };
      }
      default:
        throw new SnsError('InvalidAction', `The action ${action || '(none)'} is not valid for this endpoint.`);
    }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const requestId = randomUUID();
      const params = new URLSearchParams(new URL(req.url ?? '/', 'http://localhost').search);
      for (const [key, value] of new URLSearchParams((await readBody(req)).toString('utf8'))) params.append(key, value);
      const action = params.get('Action') ?? '';
      try {
        const { xml, after } = handle(action, params);
        sendQueryResult(res, action, xml, requestId);
        after?.();
      } catch (err) {
        sendQueryError(res, err instanceof SnsError ? err : new SnsError('InternalError', err instanceof Error ? err.message : String(err), 500), requestId);
      }
    })();
  });
  const endpoint = await listenOnLoopback(server);

  return {
    endpoint,
    published,
    deliveries,
    failedDeliveries,
    createTopic({ name, fifo = false, contentBasedDeduplication = false }) {
      if (fifo ? !FIFO_TOPIC_NAME.test(name) : !TOPIC_NAME.test(name)) {
        throw invalid(fifo
          ? `Invalid parameter: Topic Name Reason: FIFO topic names end with .fifo and are made of A-Z a-z 0-9 _ -, 1 to 256 characters, got ${JSON.stringify(name)}`
          : `Invalid parameter: Topic Name Reason: A-Z a-z 0-9 _ -, 1 to 256 characters, got ${JSON.stringify(name)}`);
      }
      if (!fifo && contentBasedDeduplication) throw invalid('Invalid parameter: Attributes Reason: ContentBasedDeduplication is for FIFO topics only');
      const arn = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
      const existing = topics.get(arn);
      if (existing !== undefined) {
        if (existing.contentBasedDeduplication !== contentBasedDeduplication) throw invalid('Invalid parameter: Attributes Reason: Topic already exists with different attributes');
        return { name, arn };
      }
      topics.set(arn, { name, arn, fifo, contentBasedDeduplication, subscriptions: [], sequence: 0n });
      return { name, arn };
    },
    subscribe(subscription) {
      const topic = topicFor(subscription.topicArn);
      const { protocol, endpoint: target } = subscription;
      if (protocol !== 'sqs' && protocol !== 'lambda') throw invalid(`Invalid parameter: Amazon SNS does not support this protocol string: ${String(protocol)}`);
      const parsed = parseArn(target);
      if (parsed === undefined || parsed.service !== protocol || (protocol === 'lambda' && !parsed.resource.startsWith('function:'))) {
        throw invalid(`Invalid parameter: Endpoint Reason: a ${protocol} subscription needs ${protocol === 'sqs' ? 'a queue' : 'a function'} ARN, got ${target}`);
      }
      if (topic.fifo && protocol !== 'sqs') throw invalid(`Invalid parameter: Endpoint Reason: FIFO topics deliver to SQS queues only, not ${protocol}`);
      if (!topic.fifo && target.endsWith('.fifo')) throw invalid('Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics');
      const raw = bool(subscription.rawMessageDelivery);
      if (raw && protocol !== 'sqs') throw invalid(`Invalid parameter: Attributes Reason: Delivery protocol [${protocol}] does not support raw message delivery.`);
      let redrive = subscription.redrivePolicy;
      if (typeof redrive === 'string') {
        try {
          redrive = JSON.parse(redrive) as { deadLetterTargetArn: string };
        } catch {
          throw invalid('Invalid parameter: RedrivePolicy: failed to parse JSON.');
        }
      }
      const deadLetterTargetArn = redrive?.deadLetterTargetArn;
      if (redrive !== undefined) {
        if (typeof deadLetterTargetArn !== 'string' || parseArn(deadLetterTargetArn)?.service !== 'sqs') {
          throw invalid('Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn');
        }
        if (deadLetterTargetArn.endsWith('.fifo') !== topic.fifo) {
          throw invalid(`Invalid parameter: RedrivePolicy: ${topic.fifo ? 'a FIFO topic needs a FIFO queue' : 'a standard topic needs a standard queue'} as its dead-letter queue`);
        }
      }
      const scope = subscription.filterPolicyScope ?? 'MessageAttributes';
      const policy = subscription.filterPolicy;
      const matcher = policy === undefined ? undefined : compileFilterPolicy(policy, scope);
      const settings = JSON.stringify({ raw, deadLetterTargetArn, scope, policy: typeof policy === 'string' ? JSON.parse(policy) : policy });
      const same = topic.subscriptions.find((s) => s.protocol === protocol && s.endpoint === target);
      if (same !== undefined) {
        if (same.settings !== settings) throw invalid('Invalid parameter: Attributes Reason: Subscription already exists with different attributes');
        return same.arn;
      }
      const arn = `${topic.arn}:${randomUUID()}`;
      topic.subscriptions.push({ arn, topicArn: topic.arn, protocol, endpoint: target, raw, matcher, scope, deadLetterTargetArn, settings });
      return arn;
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    reset() {
      published.length = 0;
      deliveries.length = 0;
      failedDeliveries.length = 0;
      seen.clear();
    },
    async stop() {
      await closeServer(server);
    },
  };
}
