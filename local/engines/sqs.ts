/**
 * A local SQS engine (for the local runner and handler tests): a `node:http` server on 127.0.0.1
 * that speaks SQS's AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Operation>`) to the real
 * `@aws-sdk/client-sqs`, and the same queues in process, for the runner's event source mappings and
 * SNS deliveries. No npm package speaks SDK v3's SQS protocol (DESIGN.md section 6), hence this one.
 *
 * - Operations: SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch),
 *   ChangeMessageVisibility(Batch), GetQueueUrl, GetQueueAttributes, ListQueues, PurgeQueue,
 *   StartMessageMoveTask and ListMessageMoveTasks. Other SQS operations answer
 *   `UnsupportedOperation`; queues are created in process (`createQueue`), from the stack.
 * - Message semantics (visibility, receipts, redrive, delay, retention, FIFO) live in
 *   local/engines/sqs-queue.ts; checks and MD5 digests in local/engines/sqs-messages.ts; errors,
 *   answered so that the SDK throws SQS's exception by name, in local/engines/sqs-errors.ts.
 * - Time: every timing decision reads `clock` (ms since the epoch), so tests move time forward
 *   instead of sleeping. Only a long poll's own length runs on the wall clock.
 * - Move tasks run to completion when started: every message of the dead-letter queue that is
 *   neither in flight nor delayed moves, in order, to `DestinationArn` or to the queue it came from.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LOCAL_ACCOUNT, LOCAL_REGION, readBody, sendJson, sendJsonError } from './aws-protocol';
import { closeServer, listenOnLoopback } from './loopback';
import { SqsError, invalidParameter, missingParameter } from './sqs-errors';
import { MAX_MESSAGE_BYTES, md5OfMessageAttributes, messageSize, checkMessageAttributes, type MessageAttributeValue } from './sqs-messages';
import { Queue, resolveQueueSettings, type LocalQueue, type QueueDefinition, type ReceivedMessage, type SendInput } from './sqs-queue';

export { SqsError, type SqsErrorCode } from './sqs-errors';
export { md5OfMessageAttributes, MAX_MESSAGE_BYTES, type MessageAttributeValue } from './sqs-messages';
export type {
  LocalQueue, MessageState, QueueDefinition, QueueSettings, ReceiveOptions, ReceivedMessage, RedrivePolicy, SendInput, SendResult, StoredMessage,
} from './sqs-queue';
export { LOCAL_ACCOUNT, LOCAL_REGION };

export interface LocalSqsOptions {
  /** Milliseconds since the epoch; every timing decision reads it. @default Date.now */
  readonly clock?: () => number;
}

export type MoveTaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';

/** A message move task, as ListMessageMoveTasks reports it. */
export interface MoveTask {
  readonly taskHandle: string;
  readonly status: MoveTaskStatus;
  readonly sourceArn: string;
  readonly destinationArn?: string;
  readonly maxNumberOfMessagesPerSecond?: number;
  readonly approximateNumberOfMessagesMoved: number;
  readonly approximateNumberOfMessagesToMove: number;
  readonly failureReason?: string;
  readonly startedTimestamp: number;
}

export interface LocalSqs {
  /** `http://127.0.0.1:<port>`; queue URLs are `<endpoint>/<account>/<name>`. */
  readonly endpoint: string;
  /** Creates a queue; the same definition again returns the same queue (CreateQueue is idempotent). */
  createQueue(def: QueueDefinition): LocalQueue;
  queueByName(name: string): LocalQueue | undefined;
  queueByArn(arn: string): LocalQueue | undefined;
  queueByUrl(url: string): LocalQueue | undefined;
  queues(): readonly LocalQueue[];
  /** StartMessageMoveTask in process: moves a dead-letter queue's messages back (or to `destinationArn`). */
  startMessageMoveTask(input: { sourceArn: string; destinationArn?: string; maxNumberOfMessagesPerSecond?: number }): MoveTask;
  /** Move tasks of a source queue, newest first. */
  moveTasks(sourceArn: string): readonly MoveTask[];
  /** Ends long polls and closes the server. */
  stop(): Promise<void>;
}

const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_BATCH_ENTRIES = 10;
const QUEUE_ATTRIBUTE_NAMES = new Set([
  'All', 'Policy', 'VisibilityTimeout', 'MaximumMessageSize', 'MessageRetentionPeriod', 'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible', 'CreatedTimestamp', 'LastModifiedTimestamp', 'QueueArn', 'ApproximateNumberOfMessagesDelayed',
  'DelaySeconds', 'ReceiveMessageWaitTimeSeconds', 'RedrivePolicy', 'FifoQueue', 'ContentBasedDeduplication', 'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds', 'DeduplicationScope', 'FifoThroughputLimit', 'RedriveAllowPolicy', 'SqsManagedSseEnabled',
]);
const SUPPORTED_ELSEWHERE = new Set([
  'AddPermission', 'CancelMessageMoveTask', 'CreateQueue', 'DeleteQueue', 'ListDeadLetterSourceQueues', 'ListQueueTags', 'RemovePermission',
  'SetQueueAttributes', 'TagQueue', 'UntagQueue',
]);

/** Reads a JSON request's fields, answering SQS's errors for a missing or mistyped one. */
class Input {
  constructor(private readonly raw: Record<string, unknown>) {}

  string(name: string): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw invalidParameter(name, v, 'Must be a string.');
    return v;
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === '') throw missingParameter(name);
    return v;
  }

  integer(name: string): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidParameter(name, v, 'Must be an integer.');
    return v;
  }

  strings(name: string): string[] | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw invalidParameter(name, v, 'Must be a list of strings.');
    return v as string[];
  }

  object(name: string): Record<string, unknown> | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw invalidParameter(name, v, 'Must be a map.');
    return v as Record<string, unknown>;
  }

  entries(name: string): Input[] {
    const v = this.raw[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((e) => e === null || typeof e !== 'object' || Array.isArray(e))) throw invalidParameter(name, v, 'Must be a list of entries.');
    return (v as Array<Record<string, unknown>>).map((e) => new Input(e));
  }
}

/** Message attributes from the wire: Binary values are base64 in JSON. */
function wireAttributes(raw: Record<string, unknown> | undefined, field: string): Record<string, MessageAttributeValue> | undefined {
  if (raw === undefined) return undefined;
  const decoded: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === null || typeof value !== 'object') throw invalidParameter(`${field}.${name}`, value, 'Must be a message attribute value.');
    const v = value as Record<string, unknown>;
    if (v.BinaryValue !== undefined && v.BinaryValue !== null) {
      if (typeof v.BinaryValue !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v.BinaryValue)) {
        throw invalidParameter(`${field}.${name}.BinaryValue`, v.BinaryValue, 'Must be base64.');
      }
      decoded[name] = { ...v, BinaryValue: new Uint8Array(Buffer.from(v.BinaryValue, 'base64')) };
    } else {
      decoded[name] = v;
    }
  }
  return decoded as Record<string, MessageAttributeValue>;
}

type WireAttribute = { DataType: string; StringValue?: string; BinaryValue?: string };

function attributesToWire(attributes: Readonly<Record<string, MessageAttributeValue>>): Record<string, WireAttribute> {
  const wire: Record<string, WireAttribute> = {};
  for (const [name, a] of Object.entries(attributes)) {
    wire[name] = a.BinaryValue !== undefined
      ? { DataType: a.DataType, BinaryValue: Buffer.from(a.BinaryValue).toString('base64') }
      : { DataType: a.DataType, StringValue: a.StringValue };
  }
  return wire;
}

/** SendMessage's fields (also a SendMessageBatch entry's) as the queue's send input. */
function sendInputOf(input: Input, senderId: string): SendInput {
  const systemAttributes = wireAttributes(input.object('MessageSystemAttributes'), 'MessageSystemAttributes');
  let awsTraceHeader: string | undefined;
  for (const [name, value] of Object.entries(systemAttributes ?? {})) {
    if (name !== 'AWSTraceHeader' || value.DataType !== 'String') {
      throw invalidParameter('MessageSystemAttributes', name, 'The only supported message system attribute is AWSTraceHeader, of type String.');
    }
    awsTraceHeader = value.StringValue;
  }
  const body = input.string('MessageBody');
  if (body === undefined) throw missingParameter('MessageBody');
  return {
    body,
    messageAttributes: wireAttributes(input.object('MessageAttributes'), 'MessageAttributes'),
    messageGroupId: input.string('MessageGroupId'),
    messageDeduplicationId: input.string('MessageDeduplicationId'),
    delaySeconds: input.integer('DelaySeconds'),
    awsTraceHeader,
    senderId,
  };
}

/** `All` and `.*` select every attribute; `prefix.*` those whose name starts with `prefix.`; other names select themselves. */
function selectAttributes<T>(all: Readonly<Record<string, T>>, names: readonly string[]): Record<string, T> {
  const selected: Record<string, T> = {};
  for (const [name, value] of Object.entries(all)) {
    const wanted = names.some((n) => n === 'All' || n === '.*' || n === name || (n.endsWith('.*') && name.startsWith(n.slice(0, -1))));
    if (wanted) selected[name] = value;
  }
  return selected;
}

/** The caller's access key id (from SigV4's `Credential=`), standing in for the IAM identity SQS reports as `SenderId`. */
function senderIdOf(req: IncomingMessage): string {
  const match = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''));
  return match?.[1] ?? LOCAL_ACCOUNT;
}

/** Batch request rules SQS checks before any entry: 1..10 entries with distinct, well-formed ids. */
function checkBatch(entries: Input[]): string[] {
  if (entries.length === 0) throw new SqsError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
  if (entries.length > MAX_BATCH_ENTRIES) {
    throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`);
  }
  const ids = entries.map((e) => e.requiredString('Id'));
  for (const id of ids) {
    if (!BATCH_ENTRY_ID.test(id)) {
      throw new SqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
  }
  if (new Set(ids).size !== ids.length) throw new SqsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
  return ids;
}

function failedEntry(id: string, err: unknown): { Id: string; SenderFault: boolean; Code: string; Message: string } {
  if (err instanceof SqsError) return { Id: id, SenderFault: err.status < 500, Code: err.queryCode, Message: err.message };
  return { Id: id, SenderFault: false, Code: 'InternalError', Message: String(err) };
}

/** A batch operation's answer: each entry applied on its own, a failure reported for that entry only. */
function eachEntry(entries: Input[], ids: string[], apply: (entry: Input) => Record<string, string>): {
  Successful: Array<Record<string, string>>;
  Failed: Array<ReturnType<typeof failedEntry>>;
} {
  const Successful: Array<Record<string, string>> = [];
  const Failed: Array<ReturnType<typeof failedEntry>> = [];
  entries.forEach((entry, i) => {
    try {
      Successful.push({ Id: ids[i]!, ...apply(entry) });
    } catch (err) {
      Failed.push(failedEntry(ids[i]!, err));
    }
  });
  return { Successful, Failed };
}

export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  const clock = options.clock ?? Date.now;
  const queues = new Map<string, Queue>();
  const tasks: Array<MoveTask & { readonly sequence: number }> = [];
  let sequence = 0n;
  let endpoint = '';

  const byName = (name: string): Queue | undefined => queues.get(name);
  const byArn = (arn: string): Queue | undefined => {
    const prefix = `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:`;
    return typeof arn === 'string' && arn.startsWith(prefix) ? queues.get(arn.slice(prefix.length)) : undefined;
  };
  /** Any host: only the path (`/<account>/<name>`) names a queue, as SQS accepts its legacy hosts too. */
  const byUrl = (url: string): Queue | undefined => {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      return undefined;
    }
    const [, account, name, ...rest] = path.split('/');
    return account === LOCAL_ACCOUNT && rest.length === 0 && name !== undefined ? queues.get(name) : undefined;
  };

  const context = {
    clock,
    get endpoint() {
      return endpoint;
    },
    account: LOCAL_ACCOUNT,
    region: LOCAL_REGION,
    // 20 digits like SQS's, increasing over the engine, so they order as text too.
    nextSequenceNumber: () => String(++sequence).padStart(20, '0'),
    queueByArn: byArn,
  };

  const createQueue = (def: QueueDefinition): LocalQueue => {
    const settings = resolveQueueSettings(def);
    const existing = queues.get(settings.name);
    if (existing !== undefined) {
      if (JSON.stringify(existing.settings) === JSON.stringify(settings)) return existing;
      throw new SqsError('QueueNameExists', `A queue already exists with the same name and a different value for an attribute: ${settings.name}`);
    }
    if (settings.redrivePolicy !== undefined) {
      const dlq = byArn(settings.redrivePolicy.deadLetterTargetArn);
      if (dlq === undefined) throw new SqsError('InvalidParameterValue', `Value ${settings.redrivePolicy.deadLetterTargetArn} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`);
      if (dlq.fifo !== settings.fifo) throw new SqsError('InvalidParameterValue', 'Value for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be of the same type as the source queue.');
    }
    const queue = new Queue(settings, context);
    queues.set(settings.name, queue);
    return queue;
  };

  const startMessageMoveTask = (input: { sourceArn: string; destinationArn?: string; maxNumberOfMessagesPerSecond?: number }): MoveTask => {
    const source = byArn(input.sourceArn);
    if (source === undefined) throw new SqsError('ResourceNotFoundException', `The resource that you specified for the SourceArn parameter doesn't exist: ${input.sourceArn}`);
    const isDeadLetterQueue = [...queues.values()].some((q) => q.settings.redrivePolicy?.deadLetterTargetArn === source.arn);
    if (!isDeadLetterQueue) throw invalidParameter('SourceArn', input.sourceArn, 'Source queue must be configured as a Dead Letter Queue.');
    const destination = input.destinationArn === undefined ? undefined : byArn(input.destinationArn);
    if (input.destinationArn !== undefined) {
      if (destination === undefined) throw new SqsError('ResourceNotFoundException', `The resource that you specified for the DestinationArn parameter doesn't exist: ${input.destinationArn}`);
      if (destination.fifo !== source.fifo) throw invalidParameter('DestinationArn', input.destinationArn, 'The destination queue must be of the same type as the source queue.');
    }
    const rate = input.maxNumberOfMessagesPerSecond;
    if (rate !== undefined && (!Number.isInteger(rate) || rate < 1 || rate > 500)) throw invalidParameter('MaxNumberOfMessagesPerSecond', rate, 'Must be between 1 and 500.');
    const toMove = source.size;
    let moved = 0;
    let stranded = 0;
    for (const message of source.movableMessages()) {
      const target = destination ?? (message.deadLetterQueueSourceArn === undefined ? undefined : byArn(message.deadLetterQueueSourceArn));
      if (target === undefined) {
        stranded++;
        continue;
      }
      source.remove(message);
      target.acceptRedriven(message);
      moved++;
    }
    const task = {
      sequence: tasks.length,
      taskHandle: Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn: source.arn }), 'utf8').toString('base64'),
      status: 'COMPLETED' as const,
      sourceArn: source.arn,
      ...(input.destinationArn !== undefined ? { destinationArn: input.destinationArn } : {}),
      ...(rate !== undefined ? { maxNumberOfMessagesPerSecond: rate } : {}),
      approximateNumberOfMessagesMoved: moved,
      approximateNumberOfMessagesToMove: toMove,
      ...(stranded > 0 ? { failureReason: `${stranded} message(s) have no source queue to return to; give a DestinationArn.` } : {}),
      startedTimestamp: clock(),
    };
    tasks.push(task);
    return task;
  };

  const moveTasks = (sourceArn: string): MoveTask[] => tasks.filter((t) => t.sourceArn === sourceArn).reverse();

  const queueOf = (input: Input): Queue => {
    const url = input.requiredString('QueueUrl');
    const queue = byUrl(url);
    if (queue !== undefined) return queue;
    if (!URL.canParse(url)) throw new SqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
    throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
  };

  const receiveMessage = async (input: Input, signal: AbortSignal): Promise<unknown> => {
    const queue = queueOf(input);
    const maxMessages = input.integer('MaxNumberOfMessages');
    if (maxMessages !== undefined && (maxMessages < 1 || maxMessages > 10)) throw invalidParameter('MaxNumberOfMessages', maxMessages, 'Must be between 1 and 10, if provided.');
    const visibilityTimeoutSeconds = input.integer('VisibilityTimeout');
    const waitTimeSeconds = input.integer('WaitTimeSeconds');
    if (waitTimeSeconds !== undefined && (waitTimeSeconds < 0 || waitTimeSeconds > 20)) throw invalidParameter('WaitTimeSeconds', waitTimeSeconds, 'Must be >= 0 and <= 20, if provided.');
    // The legacy AttributeNames and MessageSystemAttributeNames both select system attributes.
    const systemNames = [...input.strings('AttributeNames') ?? [], ...input.strings('MessageSystemAttributeNames') ?? []];
    const attributeNames = input.strings('MessageAttributeNames') ?? [];
    input.string('ReceiveRequestAttemptId');
    const messages = await queue.receive({ maxMessages, visibilityTimeoutSeconds, waitTimeSeconds, signal });
    if (messages.length === 0) return {};
    return { Messages: messages.map((m) => wireMessage(m, systemNames, attributeNames)) };
  };

  const wireMessage = (m: ReceivedMessage, systemNames: string[], attributeNames: string[]): Record<string, unknown> => {
    const system = selectAttributes(m.attributes, systemNames);
    const attributes = selectAttributes(m.messageAttributes, attributeNames);
    // The digest covers the attributes answered, as the SDKs that check it compute it.
    const md5 = md5OfMessageAttributes(attributes);
    return {
      MessageId: m.messageId,
      ReceiptHandle: m.receiptHandle,
      MD5OfBody: m.md5OfBody,
      Body: m.body,
      ...(Object.keys(system).length > 0 ? { Attributes: system } : {}),
      ...(md5 !== undefined ? { MD5OfMessageAttributes: md5, MessageAttributes: attributesToWire(attributes) } : {}),
    };
  };

  const sendResultToWire = (r: ReturnType<LocalQueue['send']>): Record<string, string> => ({
    MessageId: r.messageId,
    MD5OfMessageBody: r.md5OfMessageBody,
    ...(r.md5OfMessageAttributes !== undefined ? { MD5OfMessageAttributes: r.md5OfMessageAttributes } : {}),
    ...(r.md5OfMessageSystemAttributes !== undefined ? { MD5OfMessageSystemAttributes: r.md5OfMessageSystemAttributes } : {}),
    ...(r.sequenceNumber !== undefined ? { SequenceNumber: r.sequenceNumber } : {}),
  });

  const operations: Record<string, (input: Input, req: IncomingMessage, signal: AbortSignal) => unknown> = {
    SendMessage: (input, req) => sendResultToWire(queueOf(input).send(sendInputOf(input, senderIdOf(req)))),
    SendMessageBatch: (input, req) => {
      const queue = queueOf(input);
      const entries = input.entries('Entries');
      const ids = checkBatch(entries);
      const total = entries.reduce((sum, e) => {
        const body = e.string('MessageBody') ?? '';
        try {
          return sum + messageSize(body, checkMessageAttributes(wireAttributes(e.object('MessageAttributes'), 'MessageAttributes')));
        } catch {
          return sum + Buffer.byteLength(body, 'utf8');
        }
      }, 0);
      if (total > MAX_MESSAGE_BYTES) {
        throw new SqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes. You have sent ${total} bytes.`);
      }
      return eachEntry(entries, ids, (entry) => sendResultToWire(queue.send(sendInputOf(entry, senderIdOf(req)))));
    },
    ReceiveMessage: (input, _req, signal) => receiveMessage(input, signal),
    DeleteMessage: (input) => {
      queueOf(input).deleteByHandle(input.requiredString('ReceiptHandle'));
      return {};
    },
    DeleteMessageBatch: (input) => {
      const queue = queueOf(input);
      const entries = input.entries('Entries');
      const ids = checkBatch(entries);
      return eachEntry(entries, ids, (entry) => {
        queue.deleteByHandle(entry.requiredString('ReceiptHandle'));
        return {};
      });
    },
    ChangeMessageVisibility: (input) => {
      const queue = queueOf(input);
      const timeout = input.integer('VisibilityTimeout');
      if (timeout === undefined) throw missingParameter('VisibilityTimeout');
      queue.changeVisibility(input.requiredString('ReceiptHandle'), timeout);
      return {};
    },
    ChangeMessageVisibilityBatch: (input) => {
      const queue = queueOf(input);
      const entries = input.entries('Entries');
      const ids = checkBatch(entries);
      return eachEntry(entries, ids, (entry) => {
        const timeout = entry.integer('VisibilityTimeout');
        if (timeout === undefined) throw missingParameter('VisibilityTimeout');
        queue.changeVisibility(entry.requiredString('ReceiptHandle'), timeout);
        return {};
      });
    },
    GetQueueUrl: (input) => {
      const name = input.requiredString('QueueName');
      const owner = input.string('QueueOwnerAWSAccountId');
      const queue = owner === undefined || owner === LOCAL_ACCOUNT ? byName(name) : undefined;
      if (queue === undefined) throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
      return { QueueUrl: queue.url };
    },
    GetQueueAttributes: (input) => {
      const queue = queueOf(input);
      const names = input.strings('AttributeNames') ?? [];
      const unknown = names.find((n) => !QUEUE_ATTRIBUTE_NAMES.has(n));
      if (unknown !== undefined) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${unknown}.`);
      const all = queue.attributes();
      const selected = names.includes('All') ? all : Object.fromEntries(Object.entries(all).filter(([n]) => names.includes(n)));
      return Object.keys(selected).length > 0 ? { Attributes: selected } : {};
    },
    ListQueues: (input) => {
      const prefix = input.string('QueueNamePrefix') ?? '';
      const maxResults = input.integer('MaxResults');
      if (maxResults !== undefined && (maxResults < 1 || maxResults > 1000)) throw invalidParameter('MaxResults', maxResults, 'Must be between 1 and 1000.');
      const token = input.string('NextToken');
      const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64').toString('utf8'));
      if (!Number.isInteger(start) || start < 0) throw invalidParameter('NextToken', token, 'Invalid token.');
      const urls = [...queues.values()].filter((q) => q.name.startsWith(prefix)).map((q) => q.url);
      const page = urls.slice(start, start + (maxResults ?? 1000));
      const next = maxResults !== undefined && start + page.length < urls.length ? Buffer.from(String(start + page.length), 'utf8').toString('base64') : undefined;
      return { ...(page.length > 0 ? { QueueUrls: page } : {}), ...(next !== undefined ? { NextToken: next } : {}) };
    },
    PurgeQueue: (input) => {
      queueOf(input).purgeOnce();
      return {};
    },
    StartMessageMoveTask: (input) => {
      const task = startMessageMoveTask({
        sourceArn: input.requiredString('SourceArn'),
        destinationArn: input.string('DestinationArn'),
        maxNumberOfMessagesPerSecond: input.integer('MaxNumberOfMessagesPerSecond'),
      });
      return { TaskHandle: task.taskHandle };
    },
    ListMessageMoveTasks: (input) => {
      const sourceArn = input.requiredString('SourceArn');
      if (byArn(sourceArn) === undefined) throw new SqsError('ResourceNotFoundException', `The resource that you specified for the SourceArn parameter doesn't exist: ${sourceArn}`);
      const maxResults = input.integer('MaxResults') ?? 1;
      if (maxResults < 1 || maxResults > 10) throw invalidParameter('MaxResults', maxResults, 'Must be between 1 and 10.');
      return {
        Results: moveTasks(sourceArn).slice(0, maxResults).map((t) => ({
          // SQS gives the handle of running tasks only; these are finished when listed.
          ...(t.status === 'RUNNING' ? { TaskHandle: t.taskHandle } : {}),
          Status: t.status,
          SourceArn: t.sourceArn,
          ...(t.destinationArn !== undefined ? { DestinationArn: t.destinationArn } : {}),
          ...(t.maxNumberOfMessagesPerSecond !== undefined ? { MaxNumberOfMessagesPerSecond: t.maxNumberOfMessagesPerSecond } : {}),
          ApproximateNumberOfMessagesMoved: t.approximateNumberOfMessagesMoved,
          ApproximateNumberOfMessagesToMove: t.approximateNumberOfMessagesToMove,
          ...(t.failureReason !== undefined ? { FailureReason: t.failureReason } : {}),
          StartedTimestamp: t.startedTimestamp,
        })),
      };
    },
  };

  const answerError = (res: ServerResponse, err: SqsError): void => {
    res.setHeader('x-amzn-query-error', `${err.queryCode};Sender`);
    sendJsonError(res, err.errorType, err.message, err.status, '1.0');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // A long poll whose caller has gone must not take messages: they would stay invisible for nothing.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
    let parsed: unknown;
    try {
      parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      return sendJsonError(res, 'com.amazon.coral.service#SerializationException', 'The request body is not valid JSON.', 400, '1.0');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return sendJsonError(res, 'com.amazon.coral.service#SerializationException', 'The request body must be a JSON object.', 400, '1.0');
    }
    const run = Object.prototype.hasOwnProperty.call(operations, operation) ? operations[operation] : undefined;
    if (run === undefined) {
      if (SUPPORTED_ELSEWHERE.has(operation)) return answerError(res, new SqsError('UnsupportedOperation', `${operation} is not supported by the local SQS engine.`));
      return sendJsonError(res, 'com.amazon.coral.service#UnknownOperationException', `Unknown operation ${target}.`, 400, '1.0');
    }
    try {
      const result = await run(new Input(parsed as Record<string, unknown>), req, gone.signal);
      if (!res.writableEnded && !res.destroyed) sendJson(res, 200, result, undefined, '1.0');
    } catch (err) {
      if (!(err instanceof SqsError)) throw err;
      if (!res.writableEnded && !res.destroyed) answerError(res, err);
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      sendJsonError(res, 'com.amazonaws.sqs#InternalError', `The local SQS engine failed: ${String(err)}`, 500, '1.0');
    });
  });
  endpoint = await listenOnLoopback(server);

  return {
    endpoint,
    createQueue,
    queueByName: byName,
    queueByArn: byArn,
    queueByUrl: byUrl,
    queues: () => [...queues.values()],
    startMessageMoveTask,
    moveTasks,
    async stop() {
      for (const queue of queues.values()) queue.close();
      await closeServer(server);
    },
  };
}
