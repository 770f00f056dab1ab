/**
 * The local SQS engine's time-driven semantics, driven by the real `SQSClient` and by the
 * in-process API, with an injected clock that the tests move forward (nothing waits on the wall
 * clock): visibility timeout and receipt handles, ChangeMessageVisibility, redrive to the
 * dead-letter queue and StartMessageMoveTask back, FIFO ordering and deduplication, delay,
 * retention, queue attributes and the queue definitions the engine accepts.
 */
import {
  ChangeMessageVisibilityBatchCommand, ChangeMessageVisibilityCommand, DeleteMessageCommand, GetQueueAttributesCommand, ListMessageMoveTasksCommand,
  MessageNotInflight, ReceiveMessageCommand, ResourceNotFoundException, SendMessageBatchCommand, SendMessageCommand, SQSClient,
  StartMessageMoveTaskCommand, type Message,
} from '@aws-sdk/client-sqs';
import * as fc from 'fast-check';
import { startLocalSqs, SqsError, LOCAL_ACCOUNT, LOCAL_REGION, type LocalQueue, type LocalSqs, type QueueDefinition, type ReceivedMessage } from '../../local/engines/sqs';

let now = Date.UTC(2026, 5, 1, 8);
const advance = (seconds: number): void => {
  now += seconds * 1000;
};
let sqs: LocalSqs;
let client: SQSClient;
let queueCount = 0;

beforeAll(async () => {
  sqs = await startLocalSqs({ clock: () => now });
  client = new SQSClient({
    endpoint: sqs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await sqs.stop();
});

const newQueue = (def: Partial<QueueDefinition> = {}, suffix = ''): LocalQueue => sqs.createQueue({ name: `sem-${++queueCount}${suffix}`, ...def });
const newFifo = (def: Partial<QueueDefinition> = {}): LocalQueue => newQueue({ fifo: true, ...def }, '.fifo');

async function receive(queue: LocalQueue, extra: Partial<ConstructorParameters<typeof ReceiveMessageCommand>[0]> = {}): Promise<Message[]> {
  const out = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], ...extra }));
  return out.Messages ?? [];
}

const bodies = (messages: Message[]): Array<string | undefined> => messages.map((m) => m.Body);

async function counts(queue: LocalQueue): Promise<Record<string, string>> {
  const out = await client.send(new GetQueueAttributesCommand({
    QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
  }));
  return out.Attributes ?? {};
}

describe('visibility timeout and receipt handles', () => {
  test('a received message is invisible for the visibility timeout, then received again with a new handle and a higher count', async () => {
    const queue = newQueue({ visibilityTimeoutSeconds: 30 });
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'work' }));
    const firstReceive = now;

    const [first] = await receive(queue);
    advance(29);
    const during = await receive(queue);
    advance(1);
    const [second] = await receive(queue, { VisibilityTimeout: 5 });
    advance(4);
    const stillHidden = await receive(queue);
    advance(1);
    const [third] = await receive(queue);

    expect(first.Attributes).toMatchObject({ ApproximateReceiveCount: '1', ApproximateFirstReceiveTimestamp: String(firstReceive) });
    expect(during).toEqual([]);
    expect(second.MessageId).toBe(first.MessageId);
    expect(second.ReceiptHandle).not.toBe(first.ReceiptHandle);
    expect(second.Attributes).toMatchObject({ ApproximateReceiveCount: '2', ApproximateFirstReceiveTimestamp: String(firstReceive) });
    expect(stillHidden).toEqual([]);
    expect(third.Attributes?.ApproximateReceiveCount).toBe('3');
  });

  test('standard queue: an older receipt handle still deletes the message, and deleting twice succeeds (as SQS does)', async () => {
    const queue = newQueue({ visibilityTimeoutSeconds: 10 });
    queue.send({ body: 'twice received' });
    const [first] = await receive(queue);
    advance(10);
    const [second] = await receive(queue);

    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: first.ReceiptHandle }));
    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: second.ReceiptHandle }));
    expect(queue.messages()).toEqual([]);
  });

  test('FIFO queue: a handle whose visibility timeout has passed has expired (InvalidParameterValue); the message stays', async () => {
    const queue = newFifo({ visibilityTimeoutSeconds: 10, contentBasedDeduplication: true });
    queue.send({ body: 'ordered', messageGroupId: 'g' });
    const [first] = await receive(queue);
    advance(10);

    await expect(client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: first.ReceiptHandle }))).rejects.toMatchObject({
      name: 'InvalidParameterValue', message: expect.stringContaining('The receipt handle has expired'),
    });
    const [second] = await receive(queue);
    await expect(client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: first.ReceiptHandle }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: second.ReceiptHandle }));
    expect(queue.messages()).toEqual([]);
  });

  test('ChangeMessageVisibility extends or ends the timeout from the time of the call', async () => {
    const queue = newQueue({ visibilityTimeoutSeconds: 30 });
    queue.send({ body: 'slow' });
    const [message] = await receive(queue);

    advance(20);
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 60 }));
    advance(59);
    const extended = await receive(queue);
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    const released = await receive(queue);

    expect(extended).toEqual([]);
    expect(bodies(released)).toEqual(['slow']);
    expect(released[0].Attributes?.ApproximateReceiveCount).toBe('2');
  });

  test('ChangeMessageVisibility errors: not in flight, gone, an older handle, past 12 hours in all', async () => {
    const queue = newQueue({ visibilityTimeoutSeconds: 30 });
    queue.send({ body: 'a' });
    const [first] = await receive(queue);
    const change = (handle: string | undefined, seconds: number): Promise<unknown> =>
      client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: handle, VisibilityTimeout: seconds }));

    advance(29);
    // 29 s since the receive + 43172 s from now is one second past the 12 hours.
    await expect(change(first.ReceiptHandle, 43_172)).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('43200') });
    advance(1);
    await expect(change(first.ReceiptHandle, 10)).rejects.toBeInstanceOf(MessageNotInflight);
    const [second] = await receive(queue);
    await expect(change(first.ReceiptHandle, 10)).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('expired') });
    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: second.ReceiptHandle }));
    await expect(change(second.ReceiptHandle, 10)).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('does not exist') });
  });

  test('ChangeMessageVisibilityBatch changes each entry and reports the ones it cannot', async () => {
    const queue = newQueue({ visibilityTimeoutSeconds: 30 });
    queue.send({ body: 'a' });
    queue.send({ body: 'b' });
    const [a, b] = await receive(queue);

    const out = await client.send(new ChangeMessageVisibilityBatchCommand({
      QueueUrl: queue.url,
      Entries: [
        { Id: 'a', ReceiptHandle: a.ReceiptHandle, VisibilityTimeout: 0 },
        { Id: 'b', ReceiptHandle: b.ReceiptHandle, VisibilityTimeout: 100_000 },
        { Id: 'junk', ReceiptHandle: 'junk', VisibilityTimeout: 0 },
      ],
    }));

    expect(out.Successful).toEqual([{ Id: 'a' }]);
    expect(out.Failed?.map((f) => [f.Id, f.Code])).toEqual([['b', 'InvalidParameterValue'], ['junk', 'ReceiptHandleIsInvalid']]);
    expect(queue.messages().map((m) => [m.body, m.state])).toEqual([['a', 'visible'], ['b', 'inFlight']]);
  });

  test('GetQueueAttributes counts visible, in-flight and delayed messages', async () => {
    const queue = newQueue({ visibilityTimeoutSeconds: 30 });
    queue.send({ body: 'will be received' });
    queue.send({ body: 'delayed', delaySeconds: 60 });
    await receive(queue);
    queue.send({ body: 'visible 1' });
    queue.send({ body: 'visible 2' });

    expect(await counts(queue)).toEqual({ ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '1', ApproximateNumberOfMessagesDelayed: '1' });
    advance(60);
    expect(await counts(queue)).toEqual({ ApproximateNumberOfMessages: '4', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '0' });
  });
});

describe('redrive', () => {
  const withDeadLetterQueue = (maxReceiveCount: number, fifo = false): { source: LocalQueue; dlq: LocalQueue } => {
    const dlq = fifo ? newFifo() : newQueue();
    const source = (fifo ? newFifo : newQueue)({
      visibilityTimeoutSeconds: 10,
      redrivePolicy: { deadLetterTargetArn: dlq.arn, maxReceiveCount },
      contentBasedDeduplication: fifo,
    });
    return { source, dlq };
  };

  test('a message received more than maxReceiveCount times moves to the dead-letter queue with its id, body, attributes and SentTimestamp', async () => {
    const { source, dlq } = withDeadLetterQueue(2);
    const sentAt = now;
    const sent = await client.send(new SendMessageCommand({
      QueueUrl: source.url, MessageBody: 'poison', MessageAttributes: { kind: { DataType: 'String', StringValue: 'order' } },
    }));

    expect(bodies(await receive(source))).toEqual(['poison']);
    advance(10);
    expect(bodies(await receive(source))).toEqual(['poison']);
    advance(10);
    expect(await receive(source)).toEqual([]);
    const [dead] = await receive(dlq, { MessageAttributeNames: ['All'] });

    expect(dead).toMatchObject({ MessageId: sent.MessageId, Body: 'poison', MessageAttributes: { kind: { DataType: 'String', StringValue: 'order' } } });
    expect(dead.Attributes).toMatchObject({ SentTimestamp: String(sentAt), DeadLetterQueueSourceArn: source.arn, ApproximateReceiveCount: '3' });
    expect(source.messages()).toEqual([]);
    expect((await counts(dlq)).ApproximateNumberOfMessagesNotVisible).toBe('1');
  });

  test('a standard dead-letter queue keeps the original enqueue time for retention', async () => {
    const dlq = newQueue({ messageRetentionPeriodSeconds: 120 });
    const source = newQueue({ visibilityTimeoutSeconds: 30, redrivePolicy: { deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 } });
    source.send({ body: 'old' });
    await source.receive();
    advance(100);
    await source.receive();

    expect(dlq.messages().map((m) => m.body)).toEqual(['old']);
    advance(20);
    expect(dlq.messages()).toEqual([]);
  });

  test('StartMessageMoveTask moves the dead letters back to their source queue as new messages; ListMessageMoveTasks reports it', async () => {
    const { source, dlq } = withDeadLetterQueue(1);
    source.send({ body: 'retry me', messageAttributes: { n: { DataType: 'Number', StringValue: '7' } } });
    source.send({ body: 'me too' });
    const [first] = await source.receive({ maxMessages: 10 });
    advance(10);
    expect(await source.receive({ maxMessages: 10 })).toEqual([]);
    expect(dlq.messages().map((m) => m.body)).toEqual(['retry me', 'me too']);
    advance(1);

    const started = await client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, MaxNumberOfMessagesPerSecond: 10 }));
    const listed = await client.send(new ListMessageMoveTasksCommand({ SourceArn: dlq.arn, MaxResults: 10 }));
    const back = await receive(source, { MessageAttributeNames: ['All'] });

    expect(started.TaskHandle).toEqual(expect.any(String));
    expect(listed.Results).toEqual([{
      Status: 'COMPLETED',
      SourceArn: dlq.arn,
      MaxNumberOfMessagesPerSecond: 10,
      ApproximateNumberOfMessagesMoved: 2,
      ApproximateNumberOfMessagesToMove: 2,
      StartedTimestamp: now,
    }]);
    expect(dlq.messages()).toEqual([]);
    expect(bodies(back)).toEqual(['retry me', 'me too']);
    expect(back[0].MessageId).not.toBe(first.messageId);
    expect(back[0].MessageAttributes).toEqual({ n: { DataType: 'Number', StringValue: '7' } });
    expect(back[0].Attributes).toMatchObject({ ApproximateReceiveCount: '1', SentTimestamp: String(now) });
    expect(back[0].Attributes?.DeadLetterQueueSourceArn).toBeUndefined();
  });

  test('StartMessageMoveTask with a DestinationArn moves there; its errors name what is wrong', async () => {
    const { source, dlq } = withDeadLetterQueue(1);
    const elsewhere = newQueue();
    source.send({ body: 'elsewhere' });
    await source.receive();
    advance(10);
    await source.receive();

    await client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: elsewhere.arn }));
    expect(elsewhere.messages().map((m) => m.body)).toEqual(['elsewhere']);
    expect(source.messages()).toEqual([]);
    await expect(client.send(new StartMessageMoveTaskCommand({ SourceArn: source.arn }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(client.send(new StartMessageMoveTaskCommand({ SourceArn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:nope` }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: newFifo().arn }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, MaxNumberOfMessagesPerSecond: 501 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    expect(sqs.moveTasks(dlq.arn)).toHaveLength(1);
  });

  test('FIFO: the dead letter keeps its group; its deduplication id becomes its message id', async () => {
    const { source, dlq } = withDeadLetterQueue(1, true);
    const sent = source.send({ body: 'fifo poison', messageGroupId: 'g1' });
    await source.receive();
    advance(10);
    expect(await source.receive()).toEqual([]);

    const [dead] = await receive(dlq);
    expect(dead.Attributes).toMatchObject({ MessageGroupId: 'g1', MessageDeduplicationId: sent.messageId, DeadLetterQueueSourceArn: source.arn });
    expect(BigInt(dead.Attributes?.SequenceNumber ?? '0')).toBeGreaterThan(BigInt(sent.sequenceNumber ?? '0'));
  });
});

describe('FIFO', () => {
  test('a group with a message in flight delivers nothing more; groups deliver in send order; other groups go on', async () => {
    const queue = newFifo({ visibilityTimeoutSeconds: 30 });
    const send = (body: string, group: string): Promise<unknown> =>
      client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: body }));
    await send('a1', 'a');
    await send('a2', 'a');
    await send('b1', 'b');
    await send('a3', 'a');

    const first = await receive(queue, { MaxNumberOfMessages: 1 });
    const second = await receive(queue);
    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: second[0].ReceiptHandle }));
    const third = await receive(queue);
    advance(30);
    const afterTimeout = await receive(queue, { MaxNumberOfMessages: 1 });
    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: afterTimeout[0].ReceiptHandle }));
    const rest = await receive(queue);

    expect(bodies(first)).toEqual(['a1']);
    expect(bodies(second)).toEqual(['b1']);
    expect(third).toEqual([]);
    expect(bodies(afterTimeout)).toEqual(['a1']);
    expect(bodies(rest)).toEqual(['a2', 'a3']);
    const sequence = [...first, ...second, ...rest].map((m) => BigInt(m.Attributes?.SequenceNumber ?? '0'));
    expect(sequence[0] < sequence[2] && sequence[2] < sequence[3]).toBe(true);
    expect(rest[0].Attributes).toMatchObject({ MessageGroupId: 'a', MessageDeduplicationId: 'a2' });
  });

  test('deduplication by MessageDeduplicationId: a duplicate within 5 minutes answers the original id and is not enqueued, even after a delete', async () => {
    const queue = newFifo();
    const send = (body: string, id: string): Promise<{ MessageId?: string; SequenceNumber?: string }> =>
      client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body, MessageGroupId: 'g', MessageDeduplicationId: id }));

    const original = await send('first', 'order-1');
    const duplicate = await send('another body, same id', 'order-1');
    const [message] = await receive(queue);
    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
    advance(299);
    const stillDuplicate = await send('first', 'order-1');
    advance(1);
    const fresh = await send('first', 'order-1');

    expect(duplicate).toMatchObject({ MessageId: original.MessageId, SequenceNumber: original.SequenceNumber });
    expect(stillDuplicate.MessageId).toBe(original.MessageId);
    expect(fresh.MessageId).not.toBe(original.MessageId);
    expect(queue.messages().map((m) => m.body)).toEqual(['first']);
  });

  test('content-based deduplication uses the SHA-256 of the body; an explicit id overrides it', async () => {
    const queue = newFifo({ contentBasedDeduplication: true });

    const [a, b, c, d] = await Promise.all([
      queue.send({ body: 'same', messageGroupId: 'g' }),
      queue.send({ body: 'same', messageGroupId: 'other-group' }),
      queue.send({ body: 'different', messageGroupId: 'g' }),
      queue.send({ body: 'same', messageGroupId: 'g', messageDeduplicationId: 'explicit' }),
    ]);

    expect([b.messageId, b.duplicate]).toEqual([a.messageId, true]);
    expect(new Set([a.messageId, c.messageId, d.messageId]).size).toBe(3);
    expect(queue.messages().map((m) => m.messageDeduplicationId)).toEqual([
      '0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5', expect.stringMatching(/^[0-9a-f]{64}$/), 'explicit',
    ]);
  });

  test('FIFO rules: MessageGroupId required, a deduplication id or content-based deduplication required, no per-message delay', async () => {
    const queue = newFifo();
    const send = (extra: Partial<ConstructorParameters<typeof SendMessageCommand>[0]>): Promise<unknown> =>
      client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'x', MessageGroupId: 'g', MessageDeduplicationId: 'd', ...extra }));

    await expect(send({ MessageGroupId: undefined })).rejects.toMatchObject({ name: 'MissingParameter' });
    await expect(send({ MessageDeduplicationId: undefined })).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('ContentBasedDeduplication') });
    await expect(send({ DelaySeconds: 5 })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(send({ MessageGroupId: 'has space' })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    const batch = await client.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: [{ Id: 'ok', MessageBody: 'x', MessageGroupId: 'g', MessageDeduplicationId: 'e' }, { Id: 'no_group', MessageBody: 'y' }] }));
    expect(batch.Successful?.[0].SequenceNumber).toMatch(/^\d{20}$/);
    expect(batch.Failed?.map((f) => [f.Id, f.Code])).toEqual([['no_group', 'MissingParameter']]);
  });

  test('property: however groups interleave and however many a consumer takes, a group in flight delivers nothing and each group arrives once, in order', async () => {
    const queue = newFifo({ contentBasedDeduplication: true, visibilityTimeoutSeconds: 30 });
    const groupOf = (m: ReceivedMessage): string => m.attributes.MessageGroupId;
    await fc.assert(fc.asyncProperty(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 10 }), async (groups, max) => {
      const sent = groups.map((group, i) => ({ group, body: `${group}-${i}-${now}` }));
      for (const s of sent) queue.send({ body: s.body, messageGroupId: s.group });
      const received: Array<{ group: string; body: string }> = [];
      while (received.length < sent.length) {
        const batch = await queue.receive({ maxMessages: max });
        expect(batch.length).toBeGreaterThan(0);
        // A second consumer, while the first holds its batch: nothing of the groups in flight.
        const inFlight = new Set(batch.map(groupOf));
        const meanwhile = await queue.receive({ maxMessages: 10 });
        expect(meanwhile.filter((m) => inFlight.has(groupOf(m)))).toEqual([]);
        for (const m of [...batch, ...meanwhile]) {
          received.push({ group: groupOf(m), body: m.body });
          expect(queue.deleteMessage(m.receiptHandle)).toBe(true);
        }
      }
      for (const group of ['a', 'b', 'c']) {
        expect(received.filter((r) => r.group === group).map((r) => r.body)).toEqual(sent.filter((s) => s.group === group).map((s) => s.body));
      }
      advance(1);
    }), { numRuns: 40 });
  });
});

describe('delay and retention', () => {
  test('queue delay and per-message delay hide a message until they pass', async () => {
    const queue = newQueue({ delaySeconds: 10 });
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'queue delay' }));
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'no delay', DelaySeconds: 0 }));
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'longer', DelaySeconds: 20 }));

    expect(bodies(await receive(queue, { VisibilityTimeout: 0 }))).toEqual(['no delay']);
    advance(10);
    expect(bodies(await receive(queue, { VisibilityTimeout: 0 }))).toEqual(['queue delay', 'no delay']);
    advance(10);
    expect(bodies(await receive(queue, { VisibilityTimeout: 0 }))).toEqual(['queue delay', 'no delay', 'longer']);
  });

  test('a message older than the retention period is gone, in flight or not', async () => {
    const queue = newQueue({ messageRetentionPeriodSeconds: 60, visibilityTimeoutSeconds: 600 });
    queue.send({ body: 'in flight' });
    await queue.receive();
    advance(30);
    queue.send({ body: 'younger' });
    advance(30);

    expect(queue.messages().map((m) => m.body)).toEqual(['younger']);
    expect(await counts(queue)).toEqual({ ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '0' });
  });

  test('a long poll also returns a message that the clock alone makes visible', async () => {
    const queue = newQueue();
    queue.send({ body: 'delayed', delaySeconds: 30 });

    const polling = queue.receive({ waitTimeSeconds: 20 });
    advance(30);

    expect((await polling).map((m) => m.body)).toEqual(['delayed']);
  });
});

describe('queues and the in-process API', () => {
  test('GetQueueAttributes All answers the definition, the ARN and the redrive policy', async () => {
    const dlq = newFifo();
    const queue = newFifo({
      visibilityTimeoutSeconds: 45,
      contentBasedDeduplication: true,
      redrivePolicy: { deadLetterTargetArn: dlq.arn, maxReceiveCount: 4 },
    });

    const out = await client.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['All'] }));

    expect(out.Attributes).toEqual({
      QueueArn: `arn:aws:sqs:us-east-1:${LOCAL_ACCOUNT}:${queue.name}`,
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
      CreatedTimestamp: String(Math.floor(now / 1000)),
      LastModifiedTimestamp: String(Math.floor(now / 1000)),
      VisibilityTimeout: '45',
      MaximumMessageSize: '1048576',
      MessageRetentionPeriod: '345600',
      DelaySeconds: '0',
      ReceiveMessageWaitTimeSeconds: '0',
      SqsManagedSseEnabled: 'true',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 4 }),
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      DeduplicationScope: 'queue',
      FifoThroughputLimit: 'perQueue',
    });
    const some = await client.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['VisibilityTimeout', 'Policy'] }));
    expect(some.Attributes).toEqual({ VisibilityTimeout: '45' });
  });

  test('the in-process API: lookups, send, receive with every system attribute, changeVisibility, deleteMessage, messages, purge', async () => {
    const queue = newQueue();
    // A Node Buffer (another realm under jest) is accepted as Binary bytes.
    const sent = queue.send({ body: 'from SNS', messageAttributes: { b: { DataType: 'Binary', BinaryValue: Buffer.from([9]) } }, senderId: 'AIDASNS' });

    expect(sqs.queueByName(queue.name)).toBe(queue);
    expect(sqs.queueByArn(queue.arn)).toBe(queue);
    expect(sqs.queueByUrl(queue.url)).toBe(queue);
    expect(sqs.queueByUrl(`https://sqs.us-east-1.amazonaws.com/${LOCAL_ACCOUNT}/${queue.name}`)).toBe(queue);
    expect([sqs.queueByName('nope'), sqs.queueByArn('arn:aws:sqs:eu-west-1:1:x'), sqs.queueByUrl('not a url')]).toEqual([undefined, undefined, undefined]);
    expect(queue.url).toBe(`${sqs.endpoint}/${LOCAL_ACCOUNT}/${queue.name}`);

    const [message] = await queue.receive({ visibilityTimeoutSeconds: 5 });
    expect(message).toEqual({
      messageId: sent.messageId,
      receiptHandle: expect.any(String),
      body: 'from SNS',
      md5OfBody: sent.md5OfMessageBody,
      attributes: { SenderId: 'AIDASNS', SentTimestamp: String(now), ApproximateReceiveCount: '1', ApproximateFirstReceiveTimestamp: String(now) },
      messageAttributes: { b: { DataType: 'Binary', BinaryValue: Uint8Array.from([9]) } },
      md5OfMessageAttributes: sent.md5OfMessageAttributes,
    });
    expect(queue.messages()).toEqual([expect.objectContaining({ messageId: sent.messageId, state: 'inFlight', receiveCount: 1, visibleAt: now + 5000 })]);
    queue.changeVisibility(message.receiptHandle, 0);
    expect(() => queue.changeVisibility(message.receiptHandle, 10)).toThrow(expect.objectContaining({ code: 'MessageNotInflight' }));
    expect(() => queue.changeVisibility('junk', 10)).toThrow(SqsError);
    expect(queue.deleteMessage('junk')).toBe(false);
    expect(queue.deleteMessage(message.receiptHandle)).toBe(true);
    expect(queue.deleteMessage(message.receiptHandle)).toBe(false);
    queue.send({ body: 'x' });
    queue.purge();
    expect(queue.messages()).toEqual([]);
    expect(() => queue.send({ body: '' })).toThrow(expect.objectContaining({ code: 'MissingParameter' }));
  });

  test('createQueue applies SQS\'s rules: same definition is the same queue; a conflict, a bad name or value, a missing or mismatched DLQ are refused', () => {
    const queue = sqs.createQueue({ name: 'defined' });
    expect(sqs.createQueue({ name: 'defined', visibilityTimeoutSeconds: 30 })).toBe(queue);
    expect(queue.settings).toEqual({
      name: 'defined',
      fifo: false,
      contentBasedDeduplication: false,
      visibilityTimeoutSeconds: 30,
      delaySeconds: 0,
      messageRetentionPeriodSeconds: 345_600,
      receiveMessageWaitTimeSeconds: 0,
      maximumMessageSize: 1_048_576,
    });
    const refused = (def: QueueDefinition, code: string): void => expect(() => sqs.createQueue(def)).toThrow(expect.objectContaining({ code }));

    refused({ name: 'defined', visibilityTimeoutSeconds: 31 }, 'QueueNameExists');
    refused({ name: 'bad name' }, 'InvalidParameterValue');
    refused({ name: 'x'.repeat(81) }, 'InvalidParameterValue');
    refused({ name: 'no-suffix', fifo: true }, 'InvalidParameterValue');
    refused({ name: 'suffix.fifo', fifo: false }, 'InvalidParameterValue');
    refused({ name: 'standard', contentBasedDeduplication: true }, 'InvalidAttributeName');
    refused({ name: 'slow', visibilityTimeoutSeconds: 43_201 }, 'InvalidAttributeValue');
    refused({ name: 'big', maximumMessageSize: 1_048_577 }, 'InvalidAttributeValue');
    refused({ name: 'short', messageRetentionPeriodSeconds: 59 }, 'InvalidAttributeValue');
    refused({ name: 'orphan', redrivePolicy: { deadLetterTargetArn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:missing`, maxReceiveCount: 3 } }, 'InvalidParameterValue');
    refused({ name: 'mixed', redrivePolicy: { deadLetterTargetArn: newFifo().arn, maxReceiveCount: 3 } }, 'InvalidParameterValue');
    refused({ name: 'zero', redrivePolicy: { deadLetterTargetArn: queue.arn, maxReceiveCount: 0 } }, 'InvalidAttributeValue');
    expect(sqs.queueByName('orphan')).toBeUndefined();
    expect(sqs.createQueue({ name: 'ordered.fifo' }).fifo).toBe(true);
  });
});
