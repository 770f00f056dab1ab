/**
 * What SQS checks and computes per message, apart from any queue: the characters it accepts, the
 * rules for message attributes, the size it counts, and the MD5 digests it answers with
 * (`MD5OfMessageBody`, `MD5OfMessageAttributes`, `MD5OfMessageSystemAttributes`), byte for byte as
 * the SQS developer guide ("Calculating the MD5 message digest for message attributes") documents.
 */
import { createHash } from 'node:crypto';
import { SqsError, invalidParameter } from './sqs-errors';

/** A message attribute as the SDK models it (list values are reserved by SQS and refused). */
export interface MessageAttributeValue {
  /** `String`, `Number` or `Binary`, optionally with a custom label: `Number.int`, `Binary.gif`. */
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

export type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

/** 1 MiB: the largest message (body plus attributes) and the largest batch, since SQS raised both from 256 KiB in 2025. */
export const MAX_MESSAGE_BYTES = 1_048_576;
/** SQS allows at most 10 message attributes per message. */
export const MAX_MESSAGE_ATTRIBUTES = 10;

export const md5Hex = (data: string | Uint8Array): string => createHash('md5').update(data).digest('hex');
export const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');

/** The transport type SQS encodes: 1 for String and Number (text), 2 for Binary. */
function isBinaryType(dataType: string): boolean {
  return dataType === 'Binary' || dataType.startsWith('Binary.');
}

/**
 * MD5 of message attributes (or of system attributes: same encoding): for each attribute, sorted
 * by name, the name, the data type, one transport byte and the value, each of the three as a
 * 4-byte big-endian length followed by the UTF-8 (or binary) bytes. `undefined` for no attributes,
 * as SQS then leaves the field out.
 */
export function md5OfMessageAttributes(attributes: MessageAttributes | undefined): string | undefined {
  const names = Object.keys(attributes ?? {}).sort();
  if (attributes === undefined || names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const field = (bytes: Buffer): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of names) {
    const attribute = attributes[name];
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(attribute.DataType, 'utf8'));
    if (isBinaryType(attribute.DataType)) {
      parts.push(Buffer.of(2));
      field(Buffer.from(attribute.BinaryValue ?? new Uint8Array()));
    } else {
      parts.push(Buffer.of(1));
      field(Buffer.from(attribute.StringValue ?? '', 'utf8'));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

/**
 * Whether SQS accepts every character: `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
 * #x10000-#x10FFFF` (XML's character set). Iterating a string yields code points, so a lone
 * surrogate shows as D800-DFFF and is refused, as SQS refuses it.
 */
export function hasOnlyValidCharacters(text: string): boolean {
  for (const char of text) {
    const c = char.codePointAt(0) as number;
    const valid = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd)
      || (c >= 0x10000 && c <= 0x10ffff);
    if (!valid) return false;
  }
  return true;
}

const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
/** Up to 38 significant digits, as SQS's Number type (and DynamoDB's) allows. */
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function isSqsNumber(text: string): boolean {
  if (!NUMBER.test(text)) return false;
  const mantissa = text.replace(/^[+-]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return mantissa.length <= 38;
}

/**
 * Checks message attributes as SQS does (names, types, values, at most 10) and returns them in
 * canonical form (values copied, Binary values as `Uint8Array`).
 */
export function checkMessageAttributes(attributes: Readonly<Record<string, unknown>> | undefined): Record<string, MessageAttributeValue> {
  const checked: Record<string, MessageAttributeValue> = {};
  if (attributes === undefined) return checked;
  const names = Object.keys(attributes);
  if (names.length > MAX_MESSAGE_ATTRIBUTES) {
    throw new SqsError('InvalidParameterValue', `Number of message attributes [${names.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`);
  }
  for (const name of names) {
    if (!ATTRIBUTE_NAME.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..') || /^(aws\.|amazon\.)/i.test(name)) {
      throw new SqsError('InvalidParameterValue', `Message (user) attribute name '${name}' is invalid: use 1 to 256 of A-Z a-z 0-9 _ - ., `
        + 'no leading, trailing or double period, and no AWS. or Amazon. prefix.');
    }
    checked[name] = checkAttributeValue(name, attributes[name]);
  }
  return checked;
}

function checkAttributeValue(name: string, raw: unknown): MessageAttributeValue {
  if (raw === null || typeof raw !== 'object') throw new SqsError('InvalidParameterValue', `The message attribute '${name}' must be an object.`);
  const value = raw as { DataType?: unknown; StringValue?: unknown; BinaryValue?: unknown; StringListValues?: unknown; BinaryListValues?: unknown };
  const dataType = value.DataType;
  if (typeof dataType !== 'string' || dataType === '') throw new SqsError('InvalidParameterValue', `The message attribute '${name}' must contain a non-empty attribute type.`);
  if (!/^(String|Number|Binary)(\..+)?$/.test(dataType) || dataType.length > 256 || !hasOnlyValidCharacters(dataType)) {
    throw new SqsError('InvalidParameterValue', `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`);
  }
  if (value.StringListValues !== undefined || value.BinaryListValues !== undefined) {
    throw new SqsError('InvalidParameterValue', `Message attribute list values in SendMessage operation are not supported (attribute '${name}').`);
  }
  if (isBinaryType(dataType)) {
    if (value.StringValue !== undefined) throw new SqsError('InvalidParameterValue', `The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
    const bytes = value.BinaryValue;
    // `ArrayBuffer.isView`, not `instanceof Uint8Array`: a Buffer from another realm (a VM context, jest) is bytes too.
    if (!ArrayBuffer.isView(bytes) || bytes.byteLength === 0) {
      throw new SqsError('InvalidParameterValue', `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
    }
    return { DataType: dataType, BinaryValue: new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
  }
  const text = value.StringValue;
  if (value.BinaryValue !== undefined) throw new SqsError('InvalidParameterValue', `The message attribute '${name}' with type '${dataType}' must use field 'String'.`);
  if (typeof text !== 'string' || text === '') throw new SqsError('InvalidParameterValue', `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
  if (!hasOnlyValidCharacters(text)) throw new SqsError('InvalidParameterValue', `The message attribute '${name}' contains invalid characters.`);
  if (dataType.startsWith('Number') && !isSqsNumber(text)) throw new SqsError('InvalidParameterValue', `Could not cast message attribute '${name}' value to number.`);
  return { DataType: dataType, StringValue: text };
}

/** The size SQS counts against the limit: the body plus every attribute's name, type and value, in bytes. */
export function messageSize(body: string, attributes: MessageAttributes): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, a] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(a.DataType, 'utf8');
    size += a.BinaryValue !== undefined ? a.BinaryValue.length : Buffer.byteLength(a.StringValue ?? '', 'utf8');
  }
  return size;
}

/** The message body: present, one character at least, of valid characters only. */
export function checkBody(body: unknown): string {
  if (typeof body !== 'string' || body === '') throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
  if (!hasOnlyValidCharacters(body)) {
    throw new SqsError('InvalidMessageContents', 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF');
  }
  return body;
}

/** MessageGroupId and MessageDeduplicationId: 1 to 128 of printable ASCII without space. */
export function checkFifoToken(name: 'MessageGroupId' | 'MessageDeduplicationId', value: unknown): string {
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(value)) {
    throw invalidParameter(name, value, `${name} can only include alphanumeric and punctuation characters. 1 to 128 in length.`);
  }
  return value;
}
