/**
 * The local SQS engine (local/engines/sqs.ts) on the wire, driven by the real `SQSClient` with its
 * MD5 validation on: send/receive/delete, message attributes and their MD5, batches and their
 * errors, the errors the SDK throws by name, queue-level operations, long polling and hostile
 * requests. Time-driven semantics (visibility, redrive, FIFO, delay, retention, move tasks) are in
 * sqs-engine.semantics.test.ts.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  BatchEntryIdsNotDistinct, BatchRequestTooLong, ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, DeleteMessageCommand, EmptyBatchRequest,
  GetQueueAttributesCommand, GetQueueUrlCommand, InvalidAttributeName, InvalidBatchEntryId, InvalidMessageContents, ListQueuesCommand,
  PurgeQueueCommand, PurgeQueueInProgress, QueueDoesNotExist, ReceiptHandleIsInvalid, ReceiveMessageCommand, SendMessageBatchCommand,
  SendMessageCommand, SQSClient, TooManyEntriesInBatchRequest, UnsupportedOperation, CreateQueueCommand, type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import * as fc from 'fast-check';
import { listenOnLoopback } from '../../local/engines/loopback';
import { md5OfMessageAttributes, startLocalSqs, LOCAL_ACCOUNT, type LocalQueue, type LocalSqs, type QueueDefinition } from '../../local/engines/sqs';

let now = Date.UTC(2026, 0, 1, 12);
let sqs: LocalSqs;
let client: SQSClient;
let queueCount = 0;

const sqsClient = (endpoint: string): SQSClient => new SQSClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'secret' },
  maxAttempts: 1,
});

beforeAll(async () => {
  sqs = await startLocalSqs({ clock: () => now });
  client = sqsClient(sqs.endpoint);
});

afterAll(async () => {
  client.destroy();
  await sqs.stop();
});

/** A fresh queue per test, so tests share the engine but no messages. */
const newQueue = (def: Partial<QueueDefinition> = {}): LocalQueue => sqs.createQueue({ name: `wire-${++queueCount}`, ...def });

/** Waits (no time limit but jest's) until the engine is in the state a test needs, e.g. a long poll waiting. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

/** An independent encoder of SQS's documented MD5OfMessageAttributes input, written apart from the engine's. */
function referenceAttributesMd5(attributes: Record<string, MessageAttributeValue>): string {
  const bytes: number[] = [];
  const put = (chunk: Uint8Array): void => {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, chunk.length);
    length.forEach((b) => bytes.push(b));
    chunk.forEach((b) => bytes.push(b));
  };
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  for (const name of Object.keys(attributes).sort()) {
    const { DataType, StringValue, BinaryValue } = attributes[name];
    put(utf8(name));
    put(utf8(DataType as string));
    if ((DataType as string).startsWith('Binary')) {
      bytes.push(2);
      put(BinaryValue as Uint8Array);
    } else {
      bytes.push(1);
      put(utf8(StringValue as string));
    }
  }
  return createHash('md5').update(Uint8Array.from(bytes)).digest('hex');
}

describe('messages', () => {
  test('sends, receives and deletes a message; the SDK validates the body MD5 of every answer', async () => {
    expect(typeof client.config.md5).toBe('function');
    const queue = newQueue();

    const sent = await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"order":1}' }));
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MessageSystemAttributeNames: ['All'] }));

    expect(sent.MD5OfMessageBody).toBe(md5('{"order":1}'));
    expect(sent.MD5OfMessageAttributes).toBeUndefined();
    expect(received.Messages).toHaveLength(1);
    const [message] = received.Messages ?? [];
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: '{"order":1}', MD5OfBody: md5('{"order":1}') });
    expect(message.Attributes).toEqual({
      SenderId: 'AKIDLOCALTEST',
      SentTimestamp: String(now),
      ApproximateReceiveCount: '1',
      ApproximateFirstReceiveTimestamp: String(now),
    });
    expect(message.MessageAttributes).toBeUndefined();
    // The legacy AttributeNames selects system attributes too.
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    const legacy = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, AttributeNames: ['All'], VisibilityTimeout: 0 }));
    const selected = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    expect(legacy.Messages?.[0].Attributes).toMatchObject({ ApproximateReceiveCount: '2', SenderId: 'AKIDLOCALTEST' });
    expect(selected.Messages?.[0].Attributes).toEqual({ ApproximateReceiveCount: '3' });
    // A standard queue deletes with the first receive's handle too.
    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
    expect(queue.messages()).toEqual([]);
  });

  test("the SDK's MD5 check is live: an answer with a wrong MD5OfMessageBody fails the call", async () => {
    const queue = newQueue();
    // A proxy that forwards to the engine and corrupts the digest it answers.
    const proxy: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const answer = await fetch(`${sqs.endpoint}${req.url}`, {
            method: 'POST',
            headers: { 'content-type': String(req.headers['content-type']), 'x-amz-target': String(req.headers['x-amz-target']) },
            body: Buffer.concat(chunks),
          });
          const text = (await answer.text()).replace(/"MD5OfMessageBody":"[0-9a-f]+"/, `"MD5OfMessageBody":"${md5('something else')}"`);
          res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(text);
        })();
      });
    });
    const proxied = sqsClient(await listenOnLoopback(proxy));
    try {
      await expect(proxied.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'hello' }))).rejects.toThrow('InvalidChecksumError');
    } finally {
      proxied.destroy();
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  test('message attributes round trip (String, Number, Binary, custom labels) with SQS\'s MD5OfMessageAttributes', async () => {
    const queue = newQueue();
    const attributes: Record<string, MessageAttributeValue> = {
      'order.id': { DataType: 'String', StringValue: 'o-1 ünïcode ✓' },
      'order.total': { DataType: 'Number.decimal', StringValue: '12.50' },
      'thumbnail': { DataType: 'Binary.png', BinaryValue: Uint8Array.from([0, 1, 2, 254, 255]) },
      'count': { DataType: 'Number', StringValue: '-3e5' },
    };

    const sent = await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'with attributes', MessageAttributes: attributes }));
    const all = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }));
    const some = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MessageAttributeNames: ['order.*', 'count'], VisibilityTimeout: 0 }));
    const everything = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MessageAttributeNames: ['.*'], VisibilityTimeout: 0 }));
    const none = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url }));

    expect(sent.MD5OfMessageAttributes).toBe(referenceAttributesMd5(attributes));
    const [first] = all.Messages ?? [];
    expect(first.MessageAttributes).toEqual(attributes);
    expect(first.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    // A receive that selects some attributes answers the digest of those it answers.
    const [second] = some.Messages ?? [];
    expect(Object.keys(second.MessageAttributes ?? {}).sort()).toEqual(['count', 'order.id', 'order.total']);
    expect(second.MD5OfMessageAttributes).toBe(referenceAttributesMd5({ 'count': attributes.count, 'order.id': attributes['order.id'], 'order.total': attributes['order.total'] }));
    expect(everything.Messages?.[0].MessageAttributes).toEqual(attributes);
    const [third] = none.Messages ?? [];
    expect(third.MessageAttributes).toBeUndefined();
    expect(third.MD5OfMessageAttributes).toBeUndefined();
  });

  test('MD5OfMessageAttributes equals the digests SQS publishes and other implementations check', () => {
    const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
    // The AWS SDKs' own samples and values checked against SQS by other local engines.
    expect(md5OfMessageAttributes({
      test_attribute_name_2: { DataType: 'String', StringValue: 'test_attribute_value_2' },
      test_attribute_name_1: { DataType: 'String', StringValue: 'test_attribute_value_1' },
    })).toBe('d53f3b558fe951154770f25cb63dbba9');
    expect(md5OfMessageAttributes({ test_attribute_name: { DataType: 'Binary', BinaryValue: utf8('test_attribute_value') } })).toBe('23f6bd27ea87aab7dfeadcc9aebee495');
    expect(md5OfMessageAttributes({ timestamp: { DataType: 'Number', StringValue: '1493147359900' } })).toBe('235c5c510d26fb653d073faed50ae77c');
    expect(md5OfMessageAttributes({ SellerName: { DataType: 'String', StringValue: 'Example Store' } })).toBe('cd28f3b68aeee4b2eac9c66f2f694b58');
    expect(md5OfMessageAttributes({})).toBeUndefined();
  });

  test('property: the engine\'s MD5OfMessageAttributes equals an independent encoding for any attributes', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
    const value = fc.oneof(
      fc.string({ minLength: 1, maxLength: 20 }).map((s): MessageAttributeValue => ({ DataType: 'String', StringValue: s })),
      fc.integer().map((n): MessageAttributeValue => ({ DataType: 'Number.int', StringValue: String(n) })),
      fc.uint8Array({ minLength: 1, maxLength: 20 }).map((b): MessageAttributeValue => ({ DataType: 'Binary', BinaryValue: b })),
    );
    fc.assert(fc.property(fc.dictionary(name, value, { minKeys: 1, maxKeys: 10 }), (attributes) => {
      expect(md5OfMessageAttributes(attributes as never)).toBe(referenceAttributesMd5(attributes));
    }));
  });

  test('property: any body of valid characters round-trips with the MD5 the SDK accepts', async () => {
    const queue = newQueue();
    const validCodePoint = fc.oneof(
      fc.constantFrom(0x9, 0xa, 0xd),
      fc.integer({ min: 0x20, max: 0xd7ff }),
      fc.integer({ min: 0xe000, max: 0xfffd }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    ).map((c) => String.fromCodePoint(c));
    await fc.assert(fc.asyncProperty(fc.array(validCodePoint, { minLength: 1, maxLength: 200 }).map((cs) => cs.join('')), async (body) => {
      const sent = await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
      const got = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url }));
      const [message] = got.Messages ?? [];
      expect(message.Body).toBe(body);
      expect(message.MD5OfBody).toBe(sent.MD5OfMessageBody);
      expect(message.MD5OfBody).toBe(md5(body));
      await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
    }), { numRuns: 40 });
  });

  test('property: a body with any character outside SQS\'s set is refused (InvalidMessageContents) and nothing is stored', async () => {
    const queue = newQueue();
    const invalid = fc.oneof(
      fc.integer({ min: 0, max: 0x8 }),
      fc.constantFrom(0xb, 0xc, 0xfffe, 0xffff),
      fc.integer({ min: 0xe, max: 0x1f }),
      fc.integer({ min: 0xd800, max: 0xdfff }),
    );
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 10 }), invalid, fc.string({ maxLength: 10 }), async (before, bad, after) => {
      const body = `${before}${String.fromCharCode(bad)}${after}`;
      await expect(client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }))).rejects.toBeInstanceOf(InvalidMessageContents);
    }), { numRuns: 30 });
    expect(queue.messages()).toEqual([]);
  });

  test('the message size limit is 1 MiB (body plus attributes) by default, and the queue\'s MaximumMessageSize when smaller', async () => {
    const queue = newQueue();
    const small = newQueue({ maximumMessageSize: 1024 });

    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'x'.repeat(1_048_576) }));
    await expect(client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'x'.repeat(1_048_577) }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    // 1016 + 'a' + 'String' + 'y' = 1024 bytes: at the limit; one more byte of name is over it.
    await client.send(new SendMessageCommand({ QueueUrl: small.url, MessageBody: 'x'.repeat(1016), MessageAttributes: { a: { DataType: 'String', StringValue: 'y' } } }));
    await expect(client.send(new SendMessageCommand({
      QueueUrl: small.url, MessageBody: 'x'.repeat(1016), MessageAttributes: { ab: { DataType: 'String', StringValue: 'y' } },
    }))).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('shorter than 1024 bytes') });
    expect(queue.messages()).toHaveLength(1);
    expect(small.messages()).toHaveLength(1);
  });

  test('invalid message attributes and parameters are refused with InvalidParameterValue', async () => {
    const queue = newQueue();
    const send = (extra: Partial<ConstructorParameters<typeof SendMessageCommand>[0]>): Promise<unknown> =>
      client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'b', ...extra }));

    await expect(send({ MessageAttributes: { 'AWS.reserved': { DataType: 'String', StringValue: 'x' } } })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(send({ MessageAttributes: { n: { DataType: 'Number', StringValue: 'twelve' } } })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(send({ MessageAttributes: { t: { DataType: 'Text', StringValue: 'x' } } })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(send({ MessageAttributes: { s: { DataType: 'String', StringValue: '' } } })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(send({ MessageAttributes: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }])) }))
      .rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(send({ DelaySeconds: 901 })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(send({ MessageDeduplicationId: 'd' })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 11 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 21 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, VisibilityTimeout: 43_201 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(send({ MessageBody: '' })).rejects.toMatchObject({ name: 'MissingParameter' });
    expect(queue.messages()).toEqual([]);
  });

  test('an X-Ray trace header is kept as the AWSTraceHeader system attribute, with its MD5OfMessageSystemAttributes', async () => {
    const queue = newQueue();
    const header = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

    const sent = await client.send(new SendMessageCommand({
      QueueUrl: queue.url, MessageBody: 'traced', MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: header } },
    }));
    const got = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MessageSystemAttributeNames: ['AWSTraceHeader'] }));

    expect(sent.MD5OfMessageSystemAttributes).toBe(referenceAttributesMd5({ AWSTraceHeader: { DataType: 'String', StringValue: header } }));
    expect(got.Messages?.[0].Attributes).toEqual({ AWSTraceHeader: header });
  });
});

describe('batches', () => {
  test('SendMessageBatch answers each entry: successes with their MD5s, failures with SQS\'s codes', async () => {
    const queue = newQueue();

    const out = await client.send(new SendMessageBatchCommand({
      QueueUrl: queue.url,
      Entries: [
        { Id: 'ok-1', MessageBody: 'one', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } },
        { Id: 'bad_chars', MessageBody: 'nul \u0000 inside' },
        { Id: 'ok-2', MessageBody: 'two', DelaySeconds: 5 },
        { Id: 'fifo_only', MessageBody: 'three', MessageDeduplicationId: 'd-1' },
      ],
    }));

    expect(out.Successful?.map((e) => e.Id)).toEqual(['ok-1', 'ok-2']);
    expect(out.Successful?.[0]).toMatchObject({ MD5OfMessageBody: md5('one'), MD5OfMessageAttributes: referenceAttributesMd5({ k: { DataType: 'String', StringValue: 'v' } }) });
    expect(out.Failed).toEqual([
      { Id: 'bad_chars', SenderFault: true, Code: 'InvalidMessageContents', Message: expect.stringContaining('Invalid characters') },
      { Id: 'fifo_only', SenderFault: true, Code: 'InvalidParameterValue', Message: expect.stringContaining('MessageDeduplicationId') },
    ]);
    expect(queue.messages().map((m) => [m.body, m.state])).toEqual([['one', 'visible'], ['two', 'delayed']]);
  });

  test('batch requests are refused as a whole: empty, more than 10 entries, repeated or malformed ids, more than 1 MiB in all', async () => {
    const queue = newQueue();
    const batch = (Entries: Array<{ Id: string; MessageBody: string }>): Promise<unknown> =>
      client.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries }));
    const entry = (Id: string, MessageBody = 'b'): { Id: string; MessageBody: string } => ({ Id, MessageBody });

    await expect(batch([])).rejects.toBeInstanceOf(EmptyBatchRequest);
    await expect(batch(Array.from({ length: 11 }, (_, i) => entry(`e${i}`)))).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
    await expect(batch([entry('same'), entry('same')])).rejects.toBeInstanceOf(BatchEntryIdsNotDistinct);
    await expect(batch([entry('not valid!')])).rejects.toBeInstanceOf(InvalidBatchEntryId);
    await expect(batch([entry('a', 'x'.repeat(600_000)), entry('b', 'y'.repeat(600_000))])).rejects.toBeInstanceOf(BatchRequestTooLong);
    await expect(client.send(new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: [] }))).rejects.toBeInstanceOf(EmptyBatchRequest);
    expect(queue.messages()).toEqual([]);
  });

  test('DeleteMessageBatch deletes what it can and reports invalid receipt handles per entry', async () => {
    const queue = newQueue();
    await client.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: [{ Id: 'a', MessageBody: 'a' }, { Id: 'b', MessageBody: 'b' }] }));
    const got = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10 }));
    const [a, b] = got.Messages ?? [];

    const out = await client.send(new DeleteMessageBatchCommand({
      QueueUrl: queue.url,
      Entries: [{ Id: 'a', ReceiptHandle: a.ReceiptHandle }, { Id: 'junk', ReceiptHandle: 'not-a-handle' }, { Id: 'b', ReceiptHandle: b.ReceiptHandle }],
    }));

    expect(out.Successful?.map((e) => e.Id)).toEqual(['a', 'b']);
    expect(out.Failed).toEqual([{ Id: 'junk', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: expect.any(String) }]);
    expect(queue.messages()).toEqual([]);
  });
});

describe('errors by name', () => {
  test('an unknown queue is QueueDoesNotExist on every operation that names one', async () => {
    const url = `${sqs.endpoint}/${LOCAL_ACCOUNT}/no-such-queue`;

    await expect(client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(client.send(new ReceiveMessageCommand({ QueueUrl: url }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(client.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist', Code: 'AWS.SimpleQueueService.NonExistentQueue', $metadata: { httpStatusCode: 400 },
    });
    await expect(client.send(new SendMessageCommand({ QueueUrl: `${sqs.endpoint}/999999999999/${newQueue().name}`, MessageBody: 'x' })))
      .rejects.toBeInstanceOf(QueueDoesNotExist);
  });

  test('a receipt handle that is not one, or is another queue\'s, is ReceiptHandleIsInvalid (404)', async () => {
    const queue = newQueue();
    const other = newQueue();
    await client.send(new SendMessageCommand({ QueueUrl: other.url, MessageBody: 'x' }));
    const [message] = (await client.send(new ReceiveMessageCommand({ QueueUrl: other.url }))).Messages ?? [];

    await expect(client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: 'garbage' }))).rejects.toMatchObject({
      name: 'ReceiptHandleIsInvalid', $metadata: { httpStatusCode: 404 },
    });
    await expect(client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle })))
      .rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
    await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: 'AAAA', VisibilityTimeout: 5 })))
      .rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
    expect(other.messages()).toHaveLength(1);
  });

  test('an unknown queue attribute is InvalidAttributeName; an operation the engine leaves to the stack is UnsupportedOperation', async () => {
    const queue = newQueue();

    await expect(client.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['Colour' as never] }))).rejects.toBeInstanceOf(InvalidAttributeName);
    await expect(client.send(new CreateQueueCommand({ QueueName: 'from-a-handler' }))).rejects.toBeInstanceOf(UnsupportedOperation);
  });
});

describe('queues', () => {
  test('GetQueueUrl and ListQueues (prefix, pages) answer the queue URLs', async () => {
    const names = ['listed-a', 'listed-b', 'listed-c'];
    names.forEach((name) => sqs.createQueue({ name }));

    const url = await client.send(new GetQueueUrlCommand({ QueueName: 'listed-b', QueueOwnerAWSAccountId: LOCAL_ACCOUNT }));
    const all = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'listed-' }));
    const page1 = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'listed-', MaxResults: 2 }));
    const page2 = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'listed-', MaxResults: 2, NextToken: page1.NextToken }));
    const none = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'nothing-' }));

    expect(url.QueueUrl).toBe(`${sqs.endpoint}/${LOCAL_ACCOUNT}/listed-b`);
    expect(all.QueueUrls).toEqual(names.map((n) => `${sqs.endpoint}/${LOCAL_ACCOUNT}/${n}`));
    expect(all.NextToken).toBeUndefined();
    expect([...page1.QueueUrls ?? [], ...page2.QueueUrls ?? []]).toEqual(all.QueueUrls);
    expect(page2.NextToken).toBeUndefined();
    expect(none.QueueUrls).toBeUndefined();
  });

  test('PurgeQueue deletes every message, visible or in flight; a second purge within 60 seconds is PurgeQueueInProgress', async () => {
    const queue = newQueue();
    queue.send({ body: 'a' });
    queue.send({ body: 'b' });
    await queue.receive();

    await client.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
    expect(queue.messages()).toEqual([]);
    await expect(client.send(new PurgeQueueCommand({ QueueUrl: queue.url }))).rejects.toBeInstanceOf(PurgeQueueInProgress);
    now += 60_000;
    await client.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
  });
});

describe('long polling', () => {
  test('a ReceiveMessage that waits returns the message as soon as one is sent', async () => {
    const queue = newQueue();

    const polling = client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 20 }));
    await until(() => queue.waitingReceives === 1);
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'late' }));
    const got = await polling;

    expect(got.Messages?.map((m) => m.Body)).toEqual(['late']);
  });

  test('the queue\'s ReceiveMessageWaitTimeSeconds makes every receive a long poll; an in-process send wakes it', async () => {
    const queue = newQueue({ receiveMessageWaitTimeSeconds: 20 });

    const polling = client.send(new ReceiveMessageCommand({ QueueUrl: queue.url }));
    await until(() => queue.waitingReceives === 1);
    queue.send({ body: 'in process' });

    expect((await polling).Messages?.map((m) => m.Body)).toEqual(['in process']);
  });

  test('an abandoned long poll takes no message; stop() ends the polls still waiting', async () => {
    const engine = await startLocalSqs({ clock: () => now });
    const queue = engine.createQueue({ name: 'abandoned' });
    const abort = new AbortController();
    const local = sqsClient(engine.endpoint);

    const abandoned = local.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 20 }), { abortSignal: abort.signal });
    await until(() => queue.waitingReceives === 1);
    abort.abort();
    await expect(abandoned).rejects.toThrow();
    await until(() => queue.waitingReceives === 0);
    queue.send({ body: 'kept' });
    const waiting = queue.receive({ waitTimeSeconds: 20 });
    const empty = engine.createQueue({ name: 'empty' });
    const stillWaiting = empty.receive({ waitTimeSeconds: 20 });
    const stillPolling = local.send(new ReceiveMessageCommand({ QueueUrl: empty.url, WaitTimeSeconds: 20 }));

    expect((await waiting).map((m) => m.body)).toEqual(['kept']);
    await until(() => empty.waitingReceives === 2);
    await engine.stop();
    await expect(stillWaiting).resolves.toEqual([]);
    await expect(stillPolling).rejects.toThrow();
    local.destroy();
  });
});

describe('hostile requests', () => {
  const post = async (target: string, body: string): Promise<{ status: number; json: Record<string, unknown>; queryError: string | null }> => {
    const res = await fetch(`${sqs.endpoint}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target }, body });
    return { status: res.status, json: await res.json() as Record<string, unknown>, queryError: res.headers.get('x-amzn-query-error') };
  };

  test('a body that is not JSON, an unknown operation and mistyped fields get JSON errors', async () => {
    const queue = newQueue();

    expect(await post('AmazonSQS.SendMessage', '{not json')).toMatchObject({ status: 400, json: { __type: expect.stringContaining('SerializationException') } });
    expect(await post('AmazonSQS.Explode', '{}')).toMatchObject({ status: 400, json: { __type: expect.stringContaining('UnknownOperationException') } });
    expect(await post('AmazonSQS.ReceiveMessage', JSON.stringify({ QueueUrl: queue.url, MaxNumberOfMessages: 'ten' }))).toEqual({
      status: 400, json: { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: expect.any(String) }, queryError: 'InvalidParameterValue;Sender',
    });
    expect(await post('AmazonSQS.SendMessage', JSON.stringify({ QueueUrl: queue.url, MessageBody: 'x', MessageAttributes: { b: { DataType: 'Binary', BinaryValue: '%%%' } } })))
      .toMatchObject({ status: 400, queryError: 'InvalidParameterValue;Sender' });
    expect(await post('AmazonSQS.GetQueueUrl', '{}')).toMatchObject({ status: 400, queryError: 'MissingParameter;Sender' });
  });

  test('property: any JSON body for any operation gets an SQS answer, never a crash, and the engine keeps serving', async () => {
    const queue = newQueue();
    queue.send({ body: 'survivor' });
    const operations = ['SendMessage', 'SendMessageBatch', 'ReceiveMessage', 'DeleteMessage', 'DeleteMessageBatch', 'ChangeMessageVisibility',
      'ChangeMessageVisibilityBatch', 'GetQueueUrl', 'GetQueueAttributes', 'ListQueues', 'StartMessageMoveTask', 'ListMessageMoveTasks'];
    const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(queue.url), fc.constant(queue.arn), fc.constant('All'));
    const body = fc.dictionary(
      fc.constantFrom('QueueUrl', 'QueueName', 'MessageBody', 'Entries', 'ReceiptHandle', 'MaxNumberOfMessages', 'AttributeNames', 'MessageAttributes',
        'MessageAttributeNames', 'VisibilityTimeout', 'SourceArn', 'DestinationArn', 'MaxResults', 'NextToken', 'DelaySeconds', 'Id'),
      field,
    );
    await fc.assert(fc.asyncProperty(fc.constantFrom(...operations), body, async (operation, request) => {
      const { status, json } = await post(`AmazonSQS.${operation}`, JSON.stringify(request));
      expect([200, 400, 403, 404]).toContain(status);
      if (status !== 200) expect(json).toEqual({ __type: expect.any(String), message: expect.any(String) });
    }), { numRuns: 150 });
    const out = await client.send(new GetQueueUrlCommand({ QueueName: queue.name }));
    expect(out.QueueUrl).toBe(queue.url);
  });
});
