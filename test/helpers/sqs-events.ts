/**
 * Lambda SQS events carrying SNS messages, in the shapes Lambda delivers for an SNS -> SQS
 * subscription: the SNS notification JSON envelope as the body (default delivery), or the raw
 * message with the SNS message attributes as SQS `messageAttributes` (RawMessageDelivery).
 * Plus a model of SQS redelivery after a partial batch response.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

export const TEST_REGION = 'us-east-1';
export const TEST_ACCOUNT = '123456789012';
export const TOPIC_ARN = `arn:aws:sns:${TEST_REGION}:${TEST_ACCOUNT}:order-events`;

export function queueArn(name: string): string {
  return `arn:aws:sqs:${TEST_REGION}:${TEST_ACCOUNT}:${name}`;
}

/** An SNS message attribute as a publisher sets it (`MessageAttributeValue`). */
export interface PublishedAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

export interface SnsPublish {
  readonly message: string;
  readonly attributes?: Readonly<Record<string, PublishedAttribute>>;
  readonly snsMessageId?: string;
  readonly topicArn?: string;
  readonly subject?: string;
}

export interface RecordOptions {
  readonly queue?: string;
  /** SQS message id (a fresh UUID by default). */
  readonly messageId?: string;
  /** FIFO queues: the message group (set as the `MessageGroupId` attribute). */
  readonly messageGroupId?: string;
  readonly receiveCount?: number;
}

let sequence = 18_800_000_000_000_000_000n;

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** The SNS notification JSON that SNS delivers to an SQS queue without raw message delivery. */
export function snsEnvelope(publish: SnsPublish): Record<string, unknown> {
  const attributes = Object.fromEntries(Object.entries(publish.attributes ?? {}).map(([name, a]) => [
    name,
    { Type: a.DataType, Value: a.StringValue ?? a.BinaryValue ?? '' },
  ]));
  return {
    Type: 'Notification',
    MessageId: publish.snsMessageId ?? randomUUID(),
    TopicArn: publish.topicArn ?? TOPIC_ARN,
    ...(publish.subject !== undefined ? { Subject: publish.subject } : {}),
    Message: publish.message,
    Timestamp: '2025-01-31T12:00:00.123Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
    UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC_ARN}:0b6f3c1e-8d2a-4c55-9e0f-1a2b3c4d5e6f`,
    ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
  };
}

/** An SQS record with `body` as it is (no SNS shape applied). */
export function sqsRecord(body: string, options: RecordOptions = {}, messageAttributes: SQSMessageAttributes = {}): SQSRecord {
  sequence += 1n;
  const queue = options.queue ?? 'order-events-consumer';
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: `AQEB${Buffer.from(randomUUID()).toString('base64')}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: '1738324800123',
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: '1738324800456',
      ...(options.messageGroupId !== undefined
        ? { MessageGroupId: options.messageGroupId, MessageDeduplicationId: md5(body), SequenceNumber: sequence.toString() }
        : {}),
    },
    messageAttributes,
    md5OfBody: md5(body),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn(queue),
    awsRegion: TEST_REGION,
  };
}

/** SNS -> SQS without raw delivery: the body is the SNS notification JSON. */
export function envelopeRecord(publish: SnsPublish, options: RecordOptions = {}): SQSRecord {
  return sqsRecord(JSON.stringify(snsEnvelope(publish)), options);
}

/** SNS -> SQS with raw message delivery: the body is the message, attributes are SQS attributes. */
export function rawRecord(publish: SnsPublish, options: RecordOptions = {}): SQSRecord {
  const attributes: SQSMessageAttributes = Object.fromEntries(Object.entries(publish.attributes ?? {}).map(([name, a]) => [
    name,
    {
      dataType: a.DataType,
      ...(a.BinaryValue !== undefined ? { binaryValue: a.BinaryValue } : { stringValue: a.StringValue }),
      stringListValues: [],
      binaryListValues: [],
    },
  ]));
  return sqsRecord(publish.message, options, attributes);
}

export function sqsEvent(records: readonly SQSRecord[]): SQSEvent {
  return { Records: [...records] };
}

/** The records SQS delivers again after `response`: the failed ones (same message ids, receive count + 1). */
export function redeliveryOf(event: SQSEvent, response: SQSBatchResponse | void): SQSEvent {
  const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  return {
    Records: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
      ...r,
      attributes: { ...r.attributes, ApproximateReceiveCount: String(Number(r.attributes.ApproximateReceiveCount) + 1) },
    })),
  };
}

/** The same records delivered again (e.g. after a visibility timeout): same ids, receive count + 1. */
export function redelivered(event: SQSEvent): SQSEvent {
  return redeliveryOf(event, { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) });
}
