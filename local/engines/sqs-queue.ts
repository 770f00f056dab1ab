/**
 * One local SQS queue: what SQS does with a message from SendMessage to DeleteMessage, per the SQS
 * developer guide, every timing decision read from the engine's injected clock.
 *
 * - A message is `delayed` (queue or message delay), `visible`, or `inFlight` (received, its
 *   visibility timeout running). Receiving it makes it in flight for the visibility timeout and
 *   issues a new receipt handle; the receive count and first-receive time are kept.
 * - Receipt handles name the queue, the message and the receive they come from. Standard queues
 *   delete with any handle of the message ("Amazon SQS can delete a message ... even if a
 *   visibility timeout setting causes the message to be locked by another consumer"), and deleting
 *   a message that is gone succeeds; FIFO queues refuse a handle whose receive is over
 *   (`InvalidParameterValue`: "The receipt handle has expired").
 * - Redrive: a message about to be received more than `maxReceiveCount` times moves to the
 *   dead-letter queue instead, with its id, body, attributes, `SentTimestamp` and receive count,
 *   plus `DeadLetterQueueSourceArn`; its retention keeps counting from the original enqueue on a
 *   standard queue and restarts on a FIFO one (where its deduplication id becomes its message id).
 * - Retention: a message older than the retention period is gone, whatever its state.
 * - FIFO: `MessageGroupId` required; a group with a message in flight delivers nothing more, and a
 *   group delivers in send order; deduplication for 5 minutes by `MessageDeduplicationId` or, with
 *   content-based deduplication, the SHA-256 of the body: a duplicate answers the original
 *   `MessageId` and is not enqueued. Every message gets an increasing `SequenceNumber`.
 * - Long polling waits (wall-clock seconds, as the client's connection does) until a message can be
 *   delivered: woken at once by a send, a visibility change or a move, and rechecked every
 *   `LONG_POLL_RECHECK_MS` for what the clock alone makes visible (an expired delay or timeout).
 */
import { randomUUID } from 'node:crypto';
import { SqsError, invalidParameter, missingParameter } from './sqs-errors';
import {
  checkBody, checkFifoToken, checkMessageAttributes, md5Hex, md5OfMessageAttributes, messageSize, sha256Hex, MAX_MESSAGE_BYTES,
  type MessageAttributes, type MessageAttributeValue,
} from './sqs-messages';

export const LIMITS = {
  maxVisibilityTimeoutSeconds: 43_200,
  maxDelaySeconds: 900,
  minRetentionSeconds: 60,
  maxRetentionSeconds: 1_209_600,
  maxWaitTimeSeconds: 20,
  minMessageBytes: 1_024,
  maxReceiveCount: 1_000,
  maxMessagesPerReceive: 10,
  deduplicationWindowMs: 5 * 60 * 1000,
} as const;

/** How often a long poll looks again for messages that the clock alone has made visible. */
export const LONG_POLL_RECHECK_MS = 50;

export interface RedrivePolicy {
  /** ARN of the dead-letter queue: it must already exist in the engine and be of the same type. */
  readonly deadLetterTargetArn: string;
  /** 1..1000 */
  readonly maxReceiveCount: number;
}

export interface QueueDefinition {
  /** 1 to 80 of A-Z a-z 0-9 - _, with the `.fifo` suffix for FIFO queues. */
  readonly name: string;
  /** @default true when the name ends in `.fifo` */
  readonly fifo?: boolean;
  /** FIFO only. @default false */
  readonly contentBasedDeduplication?: boolean;
  /** @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** @default 0 */
  readonly delaySeconds?: number;
  /** @default 345600 (4 days) */
  readonly messageRetentionPeriodSeconds?: number;
  /** @default 0 */
  readonly receiveMessageWaitTimeSeconds?: number;
  /** 1024..1048576. @default 1048576 (1 MiB) */
  readonly maximumMessageSize?: number;
  readonly redrivePolicy?: RedrivePolicy;
}

/** A definition with every default applied. */
export interface QueueSettings {
  readonly name: string;
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  readonly visibilityTimeoutSeconds: number;
  readonly delaySeconds: number;
  readonly messageRetentionPeriodSeconds: number;
  readonly receiveMessageWaitTimeSeconds: number;
  readonly maximumMessageSize: number;
  readonly redrivePolicy?: RedrivePolicy;
}

export interface SendInput {
  readonly body: string;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
  /** Required on FIFO queues; on standard queues it only labels the message (fair queues). */
  readonly messageGroupId?: string;
  /** FIFO only. */
  readonly messageDeduplicationId?: string;
  /** Standard queues only: 0..900. @default the queue's delay */
  readonly delaySeconds?: number;
  /** The X-Ray trace header, kept as the `AWSTraceHeader` system attribute. */
  readonly awsTraceHeader?: string;
  /** The `SenderId` attribute. @default the local account id */
  readonly senderId?: string;
}

export interface SendResult {
  readonly messageId: string;
  /** FIFO only. */
  readonly sequenceNumber?: string;
  readonly md5OfMessageBody: string;
  readonly md5OfMessageAttributes?: string;
  readonly md5OfMessageSystemAttributes?: string;
  /** A FIFO duplicate within the deduplication window: answered, not enqueued. */
  readonly duplicate: boolean;
}

export interface ReceiveOptions {
  /** 1..10. @default 1 */
  readonly maxMessages?: number;
  /** 0..43200. @default the queue's visibility timeout */
  readonly visibilityTimeoutSeconds?: number;
  /** 0..20; waits for the first message up to that long. @default the queue's receive wait time */
  readonly waitTimeSeconds?: number;
  /** Ends a long poll with no messages (e.g. the caller went away). */
  readonly signal?: AbortSignal;
}

export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly md5OfBody: string;
  /** Every system attribute the message has (`SentTimestamp`, `ApproximateReceiveCount`, ...), as strings. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly md5OfMessageAttributes?: string;
}

export type MessageState = 'visible' | 'delayed' | 'inFlight';

/** A snapshot of a message the queue holds, for inspection. */
export interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly state: MessageState;
  /** When the message is (or was) receivable again, ms since the epoch. */
  readonly visibleAt: number;
  readonly sentTimestamp: number;
  readonly senderId: string;
  readonly receiveCount: number;
  readonly firstReceiveTimestamp?: number;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  readonly sequenceNumber?: string;
  readonly awsTraceHeader?: string;
  readonly deadLetterQueueSourceArn?: string;
}

export interface LocalQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly fifo: boolean;
  readonly settings: QueueSettings;
  /** Long polls waiting on this queue now (for inspection, and for tests to know a poll is waiting). */
  readonly waitingReceives: number;
  send(input: SendInput): SendResult;
  receive(options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** `true` when the handle deleted a message; `false` when the handle is invalid or expired, or the message is gone. */
  deleteMessage(receiptHandle: string): boolean;
  /** Throws the `SqsError` SQS answers (`ReceiptHandleIsInvalid`, `MessageNotInflight`, `InvalidParameterValue`). */
  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): void;
  /** Everything the queue holds, visible, delayed or in flight, in send order. */
  messages(): readonly StoredMessage[];
  purge(): void;
  /** The queue attributes GetQueueAttributes answers for `All`. */
  attributes(): Record<string, string>;
}

/** What a queue needs from the engine around it. */
export interface QueueContext {
  readonly clock: () => number;
  readonly endpoint: string;
  readonly account: string;
  readonly region: string;
  readonly nextSequenceNumber: () => string;
  readonly queueByArn: (arn: string) => Queue | undefined;
}

/** A stored message; mutable fields change as it is received, delayed and moved. */
export interface Message {
  readonly id: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: MessageAttributes;
  readonly awsTraceHeader?: string;
  readonly senderId: string;
  readonly sentTimestamp: number;
  readonly groupId?: string;
  readonly deduplicationId?: string;
  readonly sequenceNumber?: string;
  readonly deadLetterQueueSourceArn?: string;
  /** Start of the retention period. */
  readonly enqueuedAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** The current receive: its number (= the receive count then) and time. */
  receipt?: { readonly number: number; readonly receivedAt: number };
}

interface Waiter {
  readonly retry: () => void;
  readonly cancel: () => void;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(name, value, `Must be an integer between ${min} and ${max}.`);
  }
  return value;
}

function attributeIn(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}: ${v} (must be ${min}..${max}).`);
  return v;
}

/** Applies SQS's defaults and rules to a queue definition (CreateQueue's checks). */
export function resolveQueueSettings(def: QueueDefinition): QueueSettings {
  const suffixed = def.name.endsWith('.fifo');
  const fifo = def.fifo ?? suffixed;
  const base = suffixed ? def.name.slice(0, -'.fifo'.length) : def.name;
  if (!QUEUE_NAME.test(base) || def.name.length > 80) {
    throw new SqsError('InvalidParameterValue', `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length: '${def.name}'.`);
  }
  if (fifo !== suffixed) throw new SqsError('InvalidParameterValue', `The name of a FIFO queue can only end with the .fifo suffix, and must (queue '${def.name}').`);
  if (def.contentBasedDeduplication === true && !fifo) throw new SqsError('InvalidAttributeName', 'Unknown Attribute ContentBasedDeduplication (a FIFO attribute).');
  const settings: QueueSettings = {
    name: def.name,
    fifo,
    contentBasedDeduplication: def.contentBasedDeduplication ?? false,
    visibilityTimeoutSeconds: attributeIn('VisibilityTimeout', def.visibilityTimeoutSeconds, 30, 0, LIMITS.maxVisibilityTimeoutSeconds),
    delaySeconds: attributeIn('DelaySeconds', def.delaySeconds, 0, 0, LIMITS.maxDelaySeconds),
    messageRetentionPeriodSeconds: attributeIn('MessageRetentionPeriod', def.messageRetentionPeriodSeconds, 345_600, LIMITS.minRetentionSeconds, LIMITS.maxRetentionSeconds),
    receiveMessageWaitTimeSeconds: attributeIn('ReceiveMessageWaitTimeSeconds', def.receiveMessageWaitTimeSeconds, 0, 0, LIMITS.maxWaitTimeSeconds),
    maximumMessageSize: attributeIn('MaximumMessageSize', def.maximumMessageSize, MAX_MESSAGE_BYTES, LIMITS.minMessageBytes, MAX_MESSAGE_BYTES),
  };
  if (def.redrivePolicy === undefined) return settings;
  const { deadLetterTargetArn, maxReceiveCount } = def.redrivePolicy;
  attributeIn('RedrivePolicy.maxReceiveCount', maxReceiveCount, 0, 1, LIMITS.maxReceiveCount);
  return { ...settings, redrivePolicy: { deadLetterTargetArn, maxReceiveCount } };
}

const HANDLE_SEPARATOR = '|';

/** A receipt handle: opaque to callers, it names the queue, the message and the receive. */
function encodeReceiptHandle(queueArn: string, messageId: string, receiveNumber: number): string {
  return Buffer.from([queueArn, messageId, String(receiveNumber), randomUUID()].join(HANDLE_SEPARATOR), 'utf8').toString('base64');
}

function decodeReceiptHandle(handle: string, queueArn: string): { messageId: string; number: number } | undefined {
  const text = Buffer.from(handle, 'base64').toString('utf8');
  // Base64 decoding skips what it cannot read: only a handle that encodes back to itself is ours.
  if (Buffer.from(text, 'utf8').toString('base64') !== handle) return undefined;
  const [arn, messageId, number, nonce, ...rest] = text.split(HANDLE_SEPARATOR);
  if (rest.length > 0 || arn !== queueArn || messageId === undefined || nonce === undefined || !/^[1-9]\d*$/.test(number ?? '')) return undefined;
  return { messageId, number: Number(number) };
}

export class Queue implements LocalQueue {
  public readonly name: string;
  public readonly url: string;
  public readonly arn: string;
  public readonly fifo: boolean;
  public readonly createdAt: number;
  private readonly messagesInOrder: Message[] = [];
  private readonly byId = new Map<string, Message>();
  /** FIFO: deduplication id -> the message it was first sent as, and when. */
  private readonly deduplication = new Map<string, { messageId: string; sequenceNumber?: string; at: number }>();
  private readonly waiters = new Set<Waiter>();
  private lastPurge: number | undefined;
  private closed = false;

  constructor(public readonly settings: QueueSettings, private readonly context: QueueContext) {
    this.name = settings.name;
    this.fifo = settings.fifo;
    this.url = `${context.endpoint}/${context.account}/${settings.name}`;
    this.arn = `arn:aws:sqs:${context.region}:${context.account}:${settings.name}`;
    this.createdAt = context.clock();
  }

  send(input: SendInput): SendResult {
    const now = this.context.clock();
    this.sweep(now);
    const body = checkBody(input.body);
    const attributes = checkMessageAttributes(input.messageAttributes);
    const size = messageSize(body, attributes);
    if (size > this.settings.maximumMessageSize) {
      throw new SqsError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${this.settings.maximumMessageSize} bytes.`);
    }
    const traceHeader = input.awsTraceHeader;
    if (traceHeader !== undefined && (typeof traceHeader !== 'string' || traceHeader === '' || !/^[\x20-\x7e]+$/.test(traceHeader))) {
      throw invalidParameter('AWSTraceHeader', traceHeader, 'The AWSTraceHeader system attribute must be an X-Ray trace header string.');
    }
    const groupId = input.messageGroupId === undefined ? undefined : checkFifoToken('MessageGroupId', input.messageGroupId);
    let deduplicationId: string | undefined;
    let delaySeconds = this.settings.delaySeconds;
    if (this.fifo) {
      if (groupId === undefined) throw missingParameter('MessageGroupId');
      if (input.delaySeconds !== undefined) {
        throw invalidParameter('DelaySeconds', input.delaySeconds, 'The request include parameter that is not valid for this queue type.');
      }
      if (input.messageDeduplicationId !== undefined) deduplicationId = checkFifoToken('MessageDeduplicationId', input.messageDeduplicationId);
      else if (this.settings.contentBasedDeduplication) deduplicationId = sha256Hex(body);
      else throw new SqsError('InvalidParameterValue', 'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
    } else {
      if (input.messageDeduplicationId !== undefined) {
        throw invalidParameter('MessageDeduplicationId', input.messageDeduplicationId, 'The request include parameter that is not valid for this queue type.');
      }
      if (input.delaySeconds !== undefined) delaySeconds = integerIn('DelaySeconds', input.delaySeconds, 0, LIMITS.maxDelaySeconds);
    }
    const systemAttributes = traceHeader === undefined ? undefined : { AWSTraceHeader: { DataType: 'String', StringValue: traceHeader } };
    const digests = {
      md5OfMessageBody: md5Hex(body),
      md5OfMessageAttributes: md5OfMessageAttributes(attributes),
      md5OfMessageSystemAttributes: md5OfMessageAttributes(systemAttributes),
    };
    if (deduplicationId !== undefined) {
      const first = this.deduplication.get(deduplicationId);
      if (first !== undefined) return { ...digests, messageId: first.messageId, sequenceNumber: first.sequenceNumber, duplicate: true };
    }
    const message: Message = {
      id: randomUUID(),
      body,
      md5OfBody: digests.md5OfMessageBody,
      attributes,
      awsTraceHeader: traceHeader,
      senderId: input.senderId ?? this.context.account,
      sentTimestamp: now,
      groupId,
      deduplicationId,
      sequenceNumber: this.fifo ? this.context.nextSequenceNumber() : undefined,
      enqueuedAt: now,
      visibleAt: now + delaySeconds * 1000,
      receiveCount: 0,
    };
    if (deduplicationId !== undefined) {
      this.deduplication.set(deduplicationId, { messageId: message.id, sequenceNumber: message.sequenceNumber, at: now });
    }
    this.append(message);
    return { ...digests, messageId: message.id, sequenceNumber: message.sequenceNumber, duplicate: false };
  }

  async receive(options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const max = integerIn('MaxNumberOfMessages', options.maxMessages ?? 1, 1, LIMITS.maxMessagesPerReceive);
    const visibility = integerIn('VisibilityTimeout', options.visibilityTimeoutSeconds ?? this.settings.visibilityTimeoutSeconds,
      0, LIMITS.maxVisibilityTimeoutSeconds);
    const wait = integerIn('WaitTimeSeconds', options.waitTimeSeconds ?? this.settings.receiveMessageWaitTimeSeconds, 0, LIMITS.maxWaitTimeSeconds);
    const { signal } = options;
    const attempt = (): ReceivedMessage[] => {
      if (signal?.aborted === true) return [];
      const now = this.context.clock();
      this.sweep(now);
      return this.take(max, visibility * 1000, now);
    };
    const first = attempt();
    if (first.length > 0 || wait === 0 || this.closed || signal?.aborted === true) return first;
    return new Promise<ReceivedMessage[]>((resolve) => {
      const finish = (messages: ReceivedMessage[]): void => {
        clearTimeout(timer);
        clearInterval(recheck);
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', cancel);
        resolve(messages);
      };
      const cancel = (): void => finish([]);
      const retry = (): void => {
        const got = attempt();
        if (got.length > 0 || signal?.aborted === true) finish(got);
      };
      const waiter: Waiter = { retry, cancel };
      const timer = setTimeout(() => finish(attempt()), wait * 1000);
      const recheck = setInterval(retry, LONG_POLL_RECHECK_MS);
      this.waiters.add(waiter);
      signal?.addEventListener('abort', cancel);
    });
  }

  deleteMessage(receiptHandle: string): boolean {
    try {
      return this.deleteByHandle(receiptHandle) === 'deleted';
    } catch (err) {
      if (err instanceof SqsError) return false;
      throw err;
    }
  }

  /** DeleteMessage's outcome: `deleted`, or `gone` (SQS answers success); throws what SQS answers for a bad handle. */
  deleteByHandle(receiptHandle: string): 'deleted' | 'gone' {
    const now = this.context.clock();
    this.sweep(now);
    const ref = this.parseHandle(receiptHandle);
    const message = this.byId.get(ref.messageId);
    if (message === undefined) return 'gone';
    if (this.fifo && (ref.number !== message.receiveCount || !this.isInFlight(message, now))) {
      throw invalidParameter('ReceiptHandle', receiptHandle, 'The receipt handle has expired.');
    }
    this.remove(message);
    return 'deleted';
  }

  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): void {
    const now = this.context.clock();
    this.sweep(now);
    const seconds = integerIn('VisibilityTimeout', visibilityTimeoutSeconds, 0, LIMITS.maxVisibilityTimeoutSeconds);
    const ref = this.parseHandle(receiptHandle);
    const message = this.byId.get(ref.messageId);
    if (message === undefined) {
      throw invalidParameter('ReceiptHandle', receiptHandle, 'Message does not exist or is not available for visibility timeout change.');
    }
    if (!this.isInFlight(message, now) || message.receipt === undefined) {
      throw new SqsError('MessageNotInflight', 'The message referred to is not in flight.');
    }
    if (ref.number !== message.receiveCount) throw invalidParameter('ReceiptHandle', receiptHandle, 'The receipt handle has expired.');
    // The 12 hours count from the receive, not from this call.
    if (now + seconds * 1000 - message.receipt.receivedAt > LIMITS.maxVisibilityTimeoutSeconds * 1000) {
      throw invalidParameter('VisibilityTimeout', seconds, `Total VisibilityTimeout for the message is beyond the limit [${LIMITS.maxVisibilityTimeoutSeconds} seconds]`);
    }
    message.visibleAt = now + seconds * 1000;
    if (seconds === 0) this.notify();
  }

  messages(): readonly StoredMessage[] {
    const now = this.context.clock();
    this.sweep(now);
    return this.messagesInOrder.map((m) => ({
      messageId: m.id,
      body: m.body,
      messageAttributes: copyAttributes(m.attributes),
      state: this.stateOf(m, now),
      visibleAt: m.visibleAt,
      sentTimestamp: m.sentTimestamp,
      senderId: m.senderId,
      receiveCount: m.receiveCount,
      ...(m.firstReceiveTimestamp !== undefined ? { firstReceiveTimestamp: m.firstReceiveTimestamp } : {}),
      ...(m.groupId !== undefined ? { messageGroupId: m.groupId } : {}),
      ...(m.deduplicationId !== undefined ? { messageDeduplicationId: m.deduplicationId } : {}),
      ...(m.sequenceNumber !== undefined ? { sequenceNumber: m.sequenceNumber } : {}),
      ...(m.awsTraceHeader !== undefined ? { awsTraceHeader: m.awsTraceHeader } : {}),
      ...(m.deadLetterQueueSourceArn !== undefined ? { deadLetterQueueSourceArn: m.deadLetterQueueSourceArn } : {}),
    }));
  }

  purge(): void {
    this.messagesInOrder.length = 0;
    this.byId.clear();
  }

  /** PurgeQueue on the wire: SQS allows one purge per 60 seconds. */
  purgeOnce(): void {
    const now = this.context.clock();
    if (this.lastPurge !== undefined && now - this.lastPurge < 60_000) {
      throw new SqsError('PurgeQueueInProgress', `Only one PurgeQueue operation on ${this.name} is allowed every 60 seconds.`);
    }
    this.lastPurge = now;
    this.purge();
  }

  attributes(): Record<string, string> {
    const now = this.context.clock();
    this.sweep(now);
    const counts = { visible: 0, delayed: 0, inFlight: 0 };
    for (const m of this.messagesInOrder) counts[this.stateOf(m, now)]++;
    const seconds = String(Math.floor(this.createdAt / 1000));
    const s = this.settings;
    return {
      QueueArn: this.arn,
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: seconds,
      LastModifiedTimestamp: seconds,
      VisibilityTimeout: String(s.visibilityTimeoutSeconds),
      MaximumMessageSize: String(s.maximumMessageSize),
      MessageRetentionPeriod: String(s.messageRetentionPeriodSeconds),
      DelaySeconds: String(s.delaySeconds),
      ReceiveMessageWaitTimeSeconds: String(s.receiveMessageWaitTimeSeconds),
      SqsManagedSseEnabled: 'true',
      ...(s.redrivePolicy !== undefined ? { RedrivePolicy: JSON.stringify(s.redrivePolicy) } : {}),
      ...(s.fifo ? {
        FifoQueue: 'true',
        ContentBasedDeduplication: String(s.contentBasedDeduplication),
        DeduplicationScope: 'queue',
        FifoThroughputLimit: 'perQueue',
      } : {}),
    };
  }

  /** Messages a move task may take now (neither in flight nor delayed), in send order. */
  movableMessages(): Message[] {
    const now = this.context.clock();
    this.sweep(now);
    return this.messagesInOrder.filter((m) => this.stateOf(m, now) === 'visible');
  }

  get waitingReceives(): number {
    return this.waiters.size;
  }

  get size(): number {
    this.sweep(this.context.clock());
    return this.messagesInOrder.length;
  }

  /** Takes a message out of this queue (to move it elsewhere). */
  remove(message: Message): void {
    const index = this.messagesInOrder.indexOf(message);
    if (index >= 0) this.messagesInOrder.splice(index, 1);
    this.byId.delete(message.id);
  }

  /**
   * A message redriven here from its dead-letter queue by a move task: SQS treats it as a new
   * message (new id, new sent and enqueue time, receive count 0), with the same body and attributes.
   */
  acceptRedriven(message: Message): void {
    const now = this.context.clock();
    const id = randomUUID();
    this.append({
      id,
      body: message.body,
      md5OfBody: message.md5OfBody,
      attributes: message.attributes,
      awsTraceHeader: message.awsTraceHeader,
      senderId: message.senderId,
      sentTimestamp: now,
      groupId: message.groupId,
      deduplicationId: this.fifo ? id : undefined,
      sequenceNumber: this.fifo ? this.context.nextSequenceNumber() : undefined,
      enqueuedAt: now,
      visibleAt: now + this.settings.delaySeconds * 1000,
      receiveCount: 0,
    });
  }

  /** Ends every long poll (with no messages) and lets no new one wait. */
  close(): void {
    this.closed = true;
    for (const waiter of [...this.waiters]) waiter.cancel();
  }

  private append(message: Message): void {
    this.messagesInOrder.push(message);
    this.byId.set(message.id, message);
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter.retry();
  }

  private parseHandle(receiptHandle: string): { messageId: string; number: number } {
    const ref = typeof receiptHandle === 'string' ? decodeReceiptHandle(receiptHandle, this.arn) : undefined;
    if (ref === undefined) throw new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${String(receiptHandle)}" is not a valid receipt handle.`);
    return ref;
  }

  private isInFlight(message: Message, now: number): boolean {
    return message.receipt !== undefined && message.visibleAt > now;
  }

  private stateOf(message: Message, now: number): MessageState {
    if (message.visibleAt <= now) return 'visible';
    return message.receipt !== undefined ? 'inFlight' : 'delayed';
  }

  /** Drops messages past the retention period and deduplication ids past their window. */
  private sweep(now: number): void {
    const retentionMs = this.settings.messageRetentionPeriodSeconds * 1000;
    for (const m of this.messagesInOrder.filter((x) => now >= x.enqueuedAt + retentionMs)) this.remove(m);
    for (const [id, entry] of this.deduplication) {
      if (now >= entry.at + LIMITS.deduplicationWindowMs) this.deduplication.delete(id);
    }
  }

  /** One receive: up to `max` deliverable messages, in send order, each made in flight. */
  private take(max: number, visibilityMs: number, now: number): ReceivedMessage[] {
    // FIFO: a group with a message in flight delivers nothing, and a group whose oldest message is
    // not yet visible delivers nothing after it either.
    const blockedGroups = new Set<string>();
    if (this.fifo) {
      for (const m of this.messagesInOrder) if (this.isInFlight(m, now) && m.groupId !== undefined) blockedGroups.add(m.groupId);
    }
    const received: ReceivedMessage[] = [];
    for (const message of [...this.messagesInOrder]) {
      if (received.length >= max) break;
      const group = this.fifo ? message.groupId : undefined;
      if (group !== undefined && blockedGroups.has(group)) continue;
      if (message.visibleAt > now) {
        if (group !== undefined) blockedGroups.add(group);
        continue;
      }
      const redrive = this.settings.redrivePolicy;
      if (redrive !== undefined && message.receiveCount >= redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(message, redrive.deadLetterTargetArn, now);
        continue;
      }
      message.receiveCount++;
      message.firstReceiveTimestamp ??= now;
      message.receipt = { number: message.receiveCount, receivedAt: now };
      message.visibleAt = now + visibilityMs;
      received.push(this.toReceived(message, encodeReceiptHandle(this.arn, message.id, message.receiveCount)));
    }
    return received;
  }

  private moveToDeadLetterQueue(message: Message, deadLetterTargetArn: string, now: number): void {
    const dlq = this.context.queueByArn(deadLetterTargetArn);
    // The engine refuses a redrive policy whose dead-letter queue does not exist, and keeps every queue.
    if (dlq === undefined) throw new Error(`dead-letter queue ${deadLetterTargetArn} of ${this.name} is missing`);
    this.remove(message);
    dlq.append({
      ...message,
      deadLetterQueueSourceArn: this.arn,
      enqueuedAt: dlq.fifo ? now : message.enqueuedAt,
      deduplicationId: dlq.fifo ? message.id : undefined,
      sequenceNumber: dlq.fifo ? this.context.nextSequenceNumber() : undefined,
      visibleAt: now,
      receipt: undefined,
    });
  }

  private toReceived(message: Message, receiptHandle: string): ReceivedMessage {
    const attributes: Record<string, string> = {
      SenderId: message.senderId,
      SentTimestamp: String(message.sentTimestamp),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
    };
    if (message.sequenceNumber !== undefined) attributes.SequenceNumber = message.sequenceNumber;
    if (message.deduplicationId !== undefined) attributes.MessageDeduplicationId = message.deduplicationId;
    if (message.groupId !== undefined) attributes.MessageGroupId = message.groupId;
    if (message.awsTraceHeader !== undefined) attributes.AWSTraceHeader = message.awsTraceHeader;
    if (message.deadLetterQueueSourceArn !== undefined) attributes.DeadLetterQueueSourceArn = message.deadLetterQueueSourceArn;
    const md5OfAttributes = md5OfMessageAttributes(message.attributes);
    return {
      messageId: message.id,
      receiptHandle,
      body: message.body,
      md5OfBody: message.md5OfBody,
      attributes,
      messageAttributes: copyAttributes(message.attributes),
      ...(md5OfAttributes !== undefined ? { md5OfMessageAttributes: md5OfAttributes } : {}),
    };
  }
}

function copyAttributes(attributes: MessageAttributes): Record<string, MessageAttributeValue> {
  const copy: Record<string, MessageAttributeValue> = {};
  for (const [name, a] of Object.entries(attributes)) {
    copy[name] = a.BinaryValue !== undefined
      ? { DataType: a.DataType, BinaryValue: new Uint8Array(a.BinaryValue) }
      : { DataType: a.DataType, StringValue: a.StringValue };
  }
  return copy;
}
