/**
 * DynamoDB Streams for tests on dynalite, which has no Streams: `StreamCapture` makes real writes
 * to a dynalite table and records each change as DynamoDB Streams would (view type
 * NEW_AND_OLD_IMAGES): the old image is what the write returned (`ReturnValues: ALL_OLD`, atomic),
 * the new image a strongly consistent read right after it (so numbers are in their stored form).
 * A write that changes nothing (or deletes a missing item) makes no record, as in DynamoDB.
 * Records have increasing 21-digit sequence numbers, a 32-hex `eventID`, `Keys`, `SizeBytes`,
 * `ApproximateCreationDateTime` (epoch seconds) and the stream ARN of the table; `batch()` turns
 * records into the `DynamoDBStreamEvent` Lambda would deliver.
 *
 * One capture per table, one writer at a time (the old-image read and the new-image read are not
 * one atomic step). `StreamLog` is the record-making part the local runner's DynamoDB engine shares.
 */
import { createHash } from 'node:crypto';
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export type Item = Record<string, AttributeValue>;

export interface StreamCaptureOptions {
  /** Key attribute names. @default ['pk', 'sk'] */
  readonly keyAttributes?: readonly string[];
  readonly region?: string;
  readonly account?: string;
  /** @default '2026-01-01T00:00:00.000' */
  readonly streamLabel?: string;
  /** First sequence number. @default 100000000000000000000 (21 digits, like DynamoDB's) */
  readonly firstSequenceNumber?: bigint;
  /** Epoch seconds of each record. @default the wall clock, whole seconds */
  readonly clock?: () => number;
}

/** An attribute value in the JSON form Lambda delivers (B as base64 text). */
export function toLambdaAttribute(value: AttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttribute) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  const { $unknown, ...rest } = value as AttributeValue & { $unknown?: unknown };
  return rest as LambdaAttributeValue;
}

export function toLambdaImage(item: Item): Record<string, LambdaAttributeValue> {
  const out: Record<string, LambdaAttributeValue> = {};
  for (const [name, value] of Object.entries(item)) {
    Object.defineProperty(out, name, { value: toLambdaAttribute(value), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Approximate DynamoDB size of an attribute value (names and values in UTF-8, numbers by digits). */
function attributeSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/[^0-9]/g, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((s, v) => s + Buffer.byteLength(v), 0);
  if (value.NS !== undefined) return value.NS.reduce((s, v) => s + Math.ceil(v.length / 2) + 1, 0);
  if (value.BS !== undefined) return value.BS.reduce((s, v) => s + v.length, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((s, v) => s + 1 + attributeSize(v), 0);
  if (value.M !== undefined) return 3 + itemSize(value.M) + Object.keys(value.M).length;
  return 0;
}

export function itemSize(item: Item): number {
  return Object.entries(item).reduce((s, [name, v]) => s + Buffer.byteLength(name) + attributeSize(v), 0);
}

export interface TtlIdentity {
  readonly type: 'Service';
  readonly principalId: 'dynamodb.amazonaws.com';
}

/** A stream record, or `undefined` for a write that changed nothing. */
export type ChangeRecord = DynamoDBRecord | undefined;

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

/**
 * The records of one table's stream, as DynamoDB Streams writes them: `record` turns a change
 * (key, new and old image) into a record with the next sequence number, keeping the images the
 * stream's view type keeps; a change that changes nothing makes no record.
 */
export class StreamLog {
  public readonly records: DynamoDBRecord[] = [];
  public readonly streamArn: string;
  protected readonly region: string;
  private nextSequence: bigint;
  private readonly clock: () => number;
  private readonly listeners: Array<(record: DynamoDBRecord) => void> = [];
  private drained = 0;

  constructor(
    public readonly tableName: string,
    options: StreamCaptureOptions = {},
    public readonly viewType: StreamViewType = 'NEW_AND_OLD_IMAGES',
  ) {
    this.region = options.region ?? 'us-east-1';
    this.streamArn = `arn:aws:dynamodb:${this.region}:${options.account ?? '123456789012'}:table/${tableName}/stream/${options.streamLabel ?? '2026-01-01T00:00:00.000'}`;
    this.nextSequence = options.firstSequenceNumber ?? 100_000_000_000_000_000_000n;
    this.clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Calls `listener` with every record made from now on. */
  public onRecord(listener: (record: DynamoDBRecord) => void): void {
    this.listeners.push(listener);
  }

  /** The records since the last `drain()`. */
  public drain(): DynamoDBRecord[] {
    const fresh = this.records.slice(this.drained);
    this.drained = this.records.length;
    return fresh;
  }

  /** Records a change; `undefined` when it changed nothing (same images, or a delete of nothing). */
  public recordChange(key: Item, newImage: Item | undefined, oldImage: Item | undefined, options: { ttl?: boolean } = {}): ChangeRecord {
    if (newImage === undefined && oldImage === undefined) return undefined;
    if (newImage !== undefined && oldImage !== undefined && sameItem(oldImage, newImage)) return undefined;
    const eventName = newImage === undefined ? 'REMOVE' : oldImage === undefined ? 'INSERT' : 'MODIFY';
    return this.push(eventName, key, newImage, oldImage, options.ttl === true);
  }

  private push(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', key: Item, newImage: Item | undefined, oldImage: Item | undefined, ttl: boolean): DynamoDBRecord {
    const sequenceNumber = this.nextSequence.toString();
    this.nextSequence += 1_000_000n + BigInt(this.records.length % 7);
    const keepNew = newImage !== undefined && (this.viewType === 'NEW_IMAGE' || this.viewType === 'NEW_AND_OLD_IMAGES');
    const keepOld = oldImage !== undefined && (this.viewType === 'OLD_IMAGE' || this.viewType === 'NEW_AND_OLD_IMAGES');
    const record: DynamoDBRecord = {
      eventID: createHash('md5').update(`${this.streamArn}#${sequenceNumber}`).digest('hex'),
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: this.region,
      dynamodb: {
        ApproximateCreationDateTime: this.clock(),
        Keys: toLambdaImage(key),
        ...(keepNew ? { NewImage: toLambdaImage(newImage) } : {}),
        ...(keepOld ? { OldImage: toLambdaImage(oldImage) } : {}),
        SequenceNumber: sequenceNumber,
        SizeBytes: itemSize(key) + (keepNew ? itemSize(newImage) : 0) + (keepOld ? itemSize(oldImage) : 0),
        StreamViewType: this.viewType,
      },
      eventSourceARN: this.streamArn,
      ...(ttl ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } satisfies TtlIdentity } : {}),
    };
    this.records.push(record);
    for (const listener of this.listeners) listener(record);
    return record;
  }
}

/**
 * A table's stream for tests: real writes to a dynalite table through this class, each recorded
 * (the old image is what the write returned, `ReturnValues: ALL_OLD`, atomic; the new image a
 * strongly consistent read right after it, so numbers are in their stored form).
 */
export class StreamCapture extends StreamLog {
  private readonly keyAttributes: readonly string[];

  constructor(private readonly client: DynamoDBClient, tableName: string, options: StreamCaptureOptions = {}) {
    super(tableName, options, 'NEW_AND_OLD_IMAGES');
    this.keyAttributes = options.keyAttributes ?? ['pk', 'sk'];
  }

  public keyOf(item: Item): Item {
    const key: Item = {};
    for (const name of this.keyAttributes) {
      if (item[name] === undefined) throw new Error(`the item has no key attribute ${name}`);
      key[name] = item[name];
    }
    return key;
  }

  /** PutItem; records INSERT or MODIFY. */
  public async put(item: Item): Promise<DynamoDBRecord | undefined> {
    const out = await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item, ReturnValues: 'ALL_OLD' }));
    return this.readAndRecord(this.keyOf(item), out.Attributes);
  }

  /** UpdateItem (`Key` and `TableName` are filled in); records INSERT or MODIFY. */
  public async update(key: Item, input: Omit<UpdateItemCommandInput, 'TableName' | 'Key' | 'ReturnValues'>): Promise<DynamoDBRecord | undefined> {
    const out = await this.client.send(new UpdateItemCommand({ ...input, TableName: this.tableName, Key: key, ReturnValues: 'ALL_OLD' }));
    return this.readAndRecord(key, out.Attributes && Object.keys(out.Attributes).length > 0 ? out.Attributes : undefined);
  }

  /** DeleteItem; records REMOVE (by DynamoDB's TTL process when `ttl` is true). */
  public async delete(key: Item, options: { ttl?: boolean } = {}): Promise<DynamoDBRecord | undefined> {
    const out = await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key, ReturnValues: 'ALL_OLD' }));
    if (out.Attributes === undefined || Object.keys(out.Attributes).length === 0) return undefined;
    return this.recordChange(key, undefined, out.Attributes, options);
  }

  private async readAndRecord(key: Item, oldImage: Item | undefined): Promise<DynamoDBRecord | undefined> {
    const read = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    if (read.Item === undefined) throw new Error('the item written is not there');
    return this.recordChange(key, read.Item, oldImage);
  }
}

/** Item equality as DynamoDB sees it: numbers by value, sets without order, maps without key order. */
export function sameItem(a: Item, b: Item): boolean {
  return canonicalItem(a) === canonicalItem(b);
}

/** A canonical text of an item: for comparing items across tables and engines. */
export function canonicalItem(item: Item): string {
  const canon = (v: AttributeValue): unknown => {
    if (v.S !== undefined) return { S: v.S };
    if (v.N !== undefined) return { N: canonicalNumber(v.N) };
    if (v.B !== undefined) return { B: Buffer.from(v.B).toString('base64') };
    if (v.BOOL !== undefined) return { BOOL: v.BOOL };
    if (v.NULL !== undefined) return { NULL: true };
    if (v.SS !== undefined) return { SS: [...v.SS].sort() };
    if (v.NS !== undefined) return { NS: v.NS.map(canonicalNumber).sort() };
    if (v.BS !== undefined) return { BS: v.BS.map((b) => Buffer.from(b).toString('base64')).sort() };
    if (v.L !== undefined) return { L: v.L.map(canon) };
    if (v.M !== undefined) return { M: JSON.parse(canonicalItem(v.M)) };
    throw new Error('unknown attribute value');
  };
  const names = Object.keys(item).sort();
  return JSON.stringify(names.map((n) => [n, canon(item[n])]));
}

/** A decimal string in plain notation without redundant zeros (`1.50` -> `1.5`, `1E+2` -> `100`). */
export function canonicalNumber(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a number: ${text}`);
  const [, sign, int = '', frac = '', exp = '0'] = m;
  let digits = `${int}${frac}`.replace(/^0+/, '');
  let exponent = Number(exp) - frac.length;
  if (digits === '') return '0';
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  let body: string;
  if (exponent >= 0) {body = digits + '0'.repeat(exponent);} else {
    const point = digits.length + exponent;
    body = point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${'0'.repeat(-point)}${digits}`;
  }
  return sign === '-' ? `-${body}` : body;
}

/** The stream event Lambda delivers for `records`. */
export function streamEvent(records: readonly DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records.map((r) => JSON.parse(JSON.stringify(r)) as DynamoDBRecord) };
}

export interface MappingRun {
  /** Invocations made, retries included. */
  readonly invocations: number;
}

/**
 * Feeds `records` to a stream handler as a DynamoDB event source mapping with
 * `ReportBatchItemFailures` does: batches of `batchSize` in order; when the answer names a record
 * (`batchItemFailures[0].itemIdentifier`, its SequenceNumber) the next batch starts at that
 * record; a record failing `maxRetries` times in a row throws (a real mapping would send the batch
 * to its on-failure destination and move on). A thrown invocation is retried the same way.
 */
export async function runStreamMapping(
  records: readonly DynamoDBRecord[],
  invoke: (event: DynamoDBStreamEvent) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> } | void>,
  options: { batchSize?: number; maxRetries?: number } = {},
): Promise<MappingRun> {
  const batchSize = options.batchSize ?? 100;
  const maxRetries = options.maxRetries ?? 10;
  let position = 0;
  let invocations = 0;
  let retriesHere = 0;
  while (position < records.length) {
    const batch = records.slice(position, position + batchSize);
    invocations++;
    let failedAt: number | undefined;
    try {
      const response = await invoke(streamEvent(batch));
      const identifier = response?.batchItemFailures?.[0]?.itemIdentifier;
      if (identifier !== undefined) {
        failedAt = batch.findIndex((r) => r.dynamodb?.SequenceNumber === identifier);
        if (failedAt < 0) throw new Error(`the handler reported ${identifier}, which is not in the batch`);
      }
    } catch (err) {
      if (retriesHere >= maxRetries) throw err;
      failedAt = 0;
    }
    if (failedAt === undefined) {
      position += batch.length;
      retriesHere = 0;
    } else {
      if (failedAt === 0 && ++retriesHere > maxRetries) throw new Error(`record ${position} failed ${maxRetries} retries`);
      if (failedAt > 0) retriesHere = 0;
      position += failedAt;
    }
  }
  return { invocations };
}
