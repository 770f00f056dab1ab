/**
 * Reads an SNS message out of an SQS record, in both delivery forms of an SNS -> SQS subscription:
 *
 * - **envelope** (default, `RawMessageDelivery: false`): the SQS body is the SNS notification JSON
 *   `{"Type":"Notification","MessageId","TopicArn","Message","Timestamp","MessageAttributes":{name:{"Type","Value"}},...}`;
 * - **raw** (`RawMessageDelivery: true`): the SQS body is the published message itself and the SNS
 *   message attributes arrive as SQS `messageAttributes` (`{dataType, stringValue | binaryValue}`).
 *
 * `mode: 'auto'` (the default) treats a body as an envelope when it is a JSON object whose `Type`
 * is a string (a raw message that is itself such an object would be misread: use the explicit
 * mode when messages can look like that). An envelope must be complete and well-typed, else an
 * `SnsEnvelopeError` is thrown (a poison message). Signatures are not verified: the queue policy
 * (only the topic may send) is the trust boundary.
 */
import type { SQSRecord } from 'aws-lambda';

export const SnsDeliveryMode = {
  Auto: 'auto',
  Envelope: 'envelope',
  Raw: 'raw',
} as const;
export type SnsDeliveryMode = (typeof SnsDeliveryMode)[keyof typeof SnsDeliveryMode];

/** A message attribute with its SNS data type (`String`, `Number`, `Binary`, `String.Array`, ...). */
export interface SnsAttribute {
  readonly type: string;
  /** The value as text (base64 for `Binary`; the JSON array text for `String.Array`). */
  readonly value: string;
}

export interface SnsMessage {
  /** The published message text. */
  readonly message: string;
  readonly attributes: Readonly<Record<string, SnsAttribute>>;
  /** Which form the record had. */
  readonly delivery: 'envelope' | 'raw';
  /** From the envelope only. */
  readonly snsMessageId?: string;
  readonly topicArn?: string;
  readonly subject?: string;
  /** ISO time SNS accepted the message (envelope only). */
  readonly timestamp?: string;
}

export class SnsEnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnsEnvelopeError';
  }
}

export interface SnsEnvelopeOptions {
  /** @default 'auto' */
  readonly mode?: SnsDeliveryMode;
}

const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const ATTRIBUTE_TYPE = /^(String|Number|Binary)(\.[A-Za-z0-9_.-]{1,256})?$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const MAX_ATTRIBUTES = 10;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function checkAttribute(name: string, type: unknown, value: unknown): SnsAttribute {
  if (!ATTRIBUTE_NAME.test(name)) throw new SnsEnvelopeError('message attribute with an invalid name');
  if (typeof type !== 'string' || !ATTRIBUTE_TYPE.test(type)) throw new SnsEnvelopeError(`message attribute ${name} has an invalid type`);
  if (typeof value !== 'string') throw new SnsEnvelopeError(`message attribute ${name} has no string value`);
  return { type, value };
}

function attributeMap(entries: Array<[string, SnsAttribute]>): Record<string, SnsAttribute> {
  if (entries.length > MAX_ATTRIBUTES) throw new SnsEnvelopeError(`more than ${MAX_ATTRIBUTES} message attributes`);
  // A null-prototype object: names such as __proto__ or constructor are plain keys.
  const map = Object.create(null) as Record<string, SnsAttribute>;
  for (const [name, attribute] of entries) map[name] = attribute;
  return map;
}

function fromEnvelope(envelope: Record<string, unknown>): SnsMessage {
  if (envelope.Type !== 'Notification') {
    throw new SnsEnvelopeError(typeof envelope.Type === 'string' ? `unsupported SNS message type ${JSON.stringify(envelope.Type.slice(0, 40))}` : 'SNS envelope without a Type');
  }
  for (const field of ['MessageId', 'TopicArn', 'Message', 'Timestamp'] as const) {
    if (typeof envelope[field] !== 'string') throw new SnsEnvelopeError(`SNS envelope without a string ${field}`);
  }
  if (!TOPIC_ARN.test(envelope.TopicArn as string)) throw new SnsEnvelopeError('SNS envelope with an invalid TopicArn');
  if (envelope.Subject !== undefined && envelope.Subject !== null && typeof envelope.Subject !== 'string') {
    throw new SnsEnvelopeError('SNS envelope with a non-string Subject');
  }
  const raw = envelope.MessageAttributes;
  if (raw !== undefined && !isPlainObject(raw)) throw new SnsEnvelopeError('SNS envelope MessageAttributes is not an object');
  const entries = Object.entries(raw ?? {}).map(([name, attribute]): [string, SnsAttribute] => {
    if (!isPlainObject(attribute)) throw new SnsEnvelopeError(`message attribute ${ATTRIBUTE_NAME.test(name) ? name : '?'} is not an object`);
    return [name, checkAttribute(name, attribute.Type, attribute.Value)];
  });
  return {
    message: envelope.Message as string,
    attributes: attributeMap(entries),
    delivery: 'envelope',
    snsMessageId: envelope.MessageId as string,
    topicArn: envelope.TopicArn as string,
    timestamp: envelope.Timestamp as string,
    ...(typeof envelope.Subject === 'string' ? { subject: envelope.Subject } : {}),
  };
}

function fromRaw(record: SQSRecord): SnsMessage {
  const raw: unknown = record.messageAttributes;
  if (raw !== undefined && raw !== null && !isPlainObject(raw)) throw new SnsEnvelopeError('SQS messageAttributes is not an object');
  const entries = Object.entries((raw ?? {}) as Record<string, unknown>).map(([name, attribute]): [string, SnsAttribute] => {
    if (!isPlainObject(attribute)) throw new SnsEnvelopeError(`message attribute ${ATTRIBUTE_NAME.test(name) ? name : '?'} is not an object`);
    const value = typeof attribute.stringValue === 'string' ? attribute.stringValue : attribute.binaryValue;
    return [name, checkAttribute(name, attribute.dataType, value)];
  });
  return { message: record.body, attributes: attributeMap(entries), delivery: 'raw' };
}

/** The SNS message carried by `record`; throws `SnsEnvelopeError` when the record cannot be one. */
export function parseSnsRecord(record: SQSRecord, options: SnsEnvelopeOptions = {}): SnsMessage {
  const mode = options.mode ?? SnsDeliveryMode.Auto;
  if (record === null || typeof record !== 'object' || typeof record.body !== 'string') {
    throw new SnsEnvelopeError('SQS record without a string body');
  }
  if (mode === SnsDeliveryMode.Raw) return fromRaw(record);
  const parsed = tryParseJson(record.body);
  const looksLikeEnvelope = isPlainObject(parsed) && typeof parsed.Type === 'string';
  if (mode === SnsDeliveryMode.Envelope && !isPlainObject(parsed)) throw new SnsEnvelopeError('SQS body is not an SNS envelope (not a JSON object)');
  if (mode === SnsDeliveryMode.Envelope || looksLikeEnvelope) return fromEnvelope(parsed as Record<string, unknown>);
  return fromRaw(record);
}
