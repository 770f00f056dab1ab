/**
 * The reference consumer's projection: one item per source item, holding the state of its latest
 * change, written by ONE conditional PutItem per event.
 *
 * Key: `pk` = `<entity>#<base64url(sha256(canonical JSON of detail.keys))>`, `sk` = `ITEM`
 * (a hash, because the source keys may be up to 3 KB and binary). Attributes:
 * `entity`, `keys` (M: the source key attributes, as DynamoDB values), `version`, `eventId`,
 * `change`, `occurredAt`, `writeToken`, and
 * - created/updated: `item` (M: the source item, attribute for attribute, as DynamoDB values);
 *   an item nested so deeply that one more level would pass DynamoDB's 32 is kept as `itemJson`
 *   (S: the event's tagged JSON of the item) instead;
 * - deleted: `deleted` = true and `expiresAt` (epoch seconds: max(occurredAt, now) + the
 *   tombstone retention; enable TTL on `expiresAt`) instead of `item`: a tombstone, so that an
 *   older update arriving later cannot bring the item back while the tombstone lives;
 * - a `truncated` event (the item did not fit in an event): `truncated` = true and no `item`;
 *   read the source table by `keys` when you need the content.
 *
 * Order: the condition `attribute_not_exists(pk) OR version < :version` keeps the change with the
 * highest `version` (the zero-padded stream sequence number): a duplicate (same version) or an
 * older event writes nothing, whatever the delivery order. A lost response is recognised by the
 * per-invocation `writeToken` returned with the failed condition (or read back): one write.
 */
import { createHash, randomUUID } from 'node:crypto';
import { GetItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AttributeValueError, decodeAttributeMap, type JsonValue } from './attribute-json';
import { ChangeType, VERSION_WIDTH } from './change-event';
import { ENTITY_NAME_PATTERN } from './config';
import { canonicalJson } from '../../shared/canonical-json';
import { isConditionalCheckFailed, itemOfRefusal } from '../../shared/dynamodb';

export const PROJECTION_SK = 'ITEM';

/**
 * The event is not a valid v1 change event: it can never be applied. The handler throws it, so
 * Lambda's asynchronous retries end in the function's failure destination / DLQ with the event.
 */
export class MalformedEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedEventError';
  }
}

export interface ChangeEvent {
  readonly eventId: string;
  readonly entity: string;
  readonly change: ChangeType;
  readonly keys: Record<string, AttributeValue>;
  /** Canonical JSON of `detail.keys`, hashed into the projection key. */
  readonly keysJson: string;
  readonly version: string;
  readonly occurredAt: string;
  readonly occurredAtMs: number;
  readonly item?: Record<string, AttributeValue>;
  /** `detail.item` as JSON text (tagged JSON), for items nested too deeply to be stored as a map. */
  readonly itemJson?: string;
  readonly truncated: boolean;
  readonly expired: boolean;
}

const DETAIL_TYPE = /^([a-z][a-z0-9-]{0,39})\.(created|updated|deleted)\.v1$/;
const EVENT_ID = /^[\x21-\x7e]{1,128}$/;
const VERSION = new RegExp(`^\\d{${VERSION_WIDTH}}$`);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const DETAIL_FIELDS: ReadonlySet<string> = new Set([
  'eventId', 'entity', 'change', 'keys', 'version', 'occurredAt', 'item', 'changedFields', 'previous', 'truncated', 'expired',
]);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function decodeMap(value: unknown, field: string): Record<string, AttributeValue> {
  if (!isObject(value)) throw new MalformedEventError(`detail.${field} must be an object`);
  try {
    return decodeAttributeMap(value);
  } catch (err) {
    if (err instanceof AttributeValueError) throw new MalformedEventError(`detail.${field}${err.message}`);
    throw err;
  }
}

/** Parses an EventBridge event (envelope + v1 detail); throws `MalformedEventError` naming the first problem. */
export function parseChangeEvent(event: unknown): ChangeEvent {
  if (!isObject(event)) throw new MalformedEventError('the event is not an object');
  const type = event['detail-type'];
  const match = typeof type === 'string' ? DETAIL_TYPE.exec(type) : null;
  if (!match) throw new MalformedEventError('detail-type must be <entity>.created|updated|deleted.v1');
  const [, entity, change] = match as unknown as [string, string, ChangeType];
  const detail = event.detail;
  if (!isObject(detail)) throw new MalformedEventError('detail must be an object');
  const unknownField = Object.keys(detail).find((k) => !DETAIL_FIELDS.has(k));
  if (unknownField !== undefined) throw new MalformedEventError(`detail has an unknown field ${JSON.stringify(unknownField.slice(0, 40))}`);
  if (typeof detail.eventId !== 'string' || !EVENT_ID.test(detail.eventId)) throw new MalformedEventError('detail.eventId must be 1..128 printable characters');
  if (detail.entity !== entity || !ENTITY_NAME_PATTERN.test(entity)) throw new MalformedEventError('detail.entity must match the detail-type');
  if (detail.change !== change) throw new MalformedEventError('detail.change must match the detail-type');
  if (typeof detail.version !== 'string' || !VERSION.test(detail.version)) throw new MalformedEventError(`detail.version must be ${VERSION_WIDTH} digits`);
  const occurredAtMs = typeof detail.occurredAt === 'string' && ISO_TIME.test(detail.occurredAt) ? Date.parse(detail.occurredAt) : Number.NaN;
  if (!Number.isFinite(occurredAtMs)) throw new MalformedEventError('detail.occurredAt must be an ISO-8601 date-time');
  if (detail.truncated !== undefined && detail.truncated !== true) throw new MalformedEventError('detail.truncated must be true when present');
  if (detail.expired !== undefined && (detail.expired !== true || change !== ChangeType.Deleted)) {
    throw new MalformedEventError('detail.expired must be true, on deleted events only');
  }
  const truncated = detail.truncated === true;
  if (detail.changedFields !== undefined) {
    if (!Array.isArray(detail.changedFields) || !detail.changedFields.every((f) => typeof f === 'string')) {
      throw new MalformedEventError('detail.changedFields must be an array of strings');
    }
  } else if (!truncated) {
    throw new MalformedEventError('detail.changedFields is required');
  }
  if (change === ChangeType.Updated && Array.isArray(detail.changedFields) && detail.changedFields.length === 0) {
    throw new MalformedEventError('detail.changedFields of an update must not be empty');
  }
  if (detail.previous !== undefined) {
    if (change !== ChangeType.Updated) throw new MalformedEventError('detail.previous is for updated events only');
    if (truncated) throw new MalformedEventError('detail.previous must be absent from a truncated event');
    decodeMap(detail.previous, 'previous');
  } else if (change === ChangeType.Updated && !truncated) {
    throw new MalformedEventError('detail.previous is required in an update unless truncated');
  }
  const keys = decodeMap(detail.keys, 'keys');
  const keyNames = Object.keys(keys);
  if (keyNames.length < 1 || keyNames.length > 2) throw new MalformedEventError('detail.keys must have 1 or 2 attributes');
  for (const name of keyNames) {
    const v = keys[name];
    if (v.S === undefined && v.N === undefined && v.B === undefined) throw new MalformedEventError(`detail.keys.${name.slice(0, 40)} must be a string, number or binary`);
  }
  let item: Record<string, AttributeValue> | undefined;
  if (detail.item !== undefined) {
    if (truncated) throw new MalformedEventError('detail.item must be absent from a truncated event');
    item = decodeMap(detail.item, 'item');
  } else if (!truncated) {
    throw new MalformedEventError('detail.item is required unless truncated');
  }
  return {
    eventId: detail.eventId,
    entity,
    change,
    keys,
    keysJson: canonicalJson(detail.keys as JsonValue),
    version: detail.version,
    occurredAt: detail.occurredAt as string,
    occurredAtMs,
    ...(item !== undefined ? { item, itemJson: JSON.stringify(detail.item) } : {}),
    truncated,
    expired: detail.expired === true,
  };
}

export function projectionKey(event: Pick<ChangeEvent, 'entity' | 'keysJson'>): { pk: { S: string }; sk: { S: string } } {
  const hash = createHash('sha256').update(event.keysJson, 'utf8').digest('base64url');
  return { pk: { S: `${event.entity}#${hash}` }, sk: { S: PROJECTION_SK } };
}

/** `applied`: this invocation wrote it; `duplicate`: this event was projected before; `stale`: a later change is projected. */
export type ProjectionOutcome = 'applied' | 'duplicate' | 'stale';

export interface ProjectionDeps {
  readonly db: DynamoDBClient;
  readonly tableName: string;
  readonly tombstoneRetentionSeconds: number;
  readonly abortSignal?: AbortSignal;
  /** @default Date.now */
  readonly now?: () => number;
  /** Identifies this write among retries of the same event. @default a random UUID */
  readonly writeToken?: string;
}

export function projectionItem(
  event: ChangeEvent, writeToken: string, tombstoneRetentionSeconds: number, nowMs: number,
): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    ...projectionKey(event),
    entity: { S: event.entity },
    keys: { M: event.keys },
    version: { S: event.version },
    eventId: { S: event.eventId },
    change: { S: event.change },
    occurredAt: { S: event.occurredAt },
    writeToken: { S: writeToken },
  };
  if (event.change === ChangeType.Deleted) {
    item.deleted = { BOOL: true };
    item.expiresAt = { N: String(Math.floor(Math.max(event.occurredAtMs, nowMs) / 1000) + tombstoneRetentionSeconds) };
    if (event.expired) item.expired = { BOOL: true };
  } else if (event.truncated) {
    item.truncated = { BOOL: true };
  } else if (nestingDepth({ M: event.item! }) <= MAX_PROJECTED_DEPTH) {
    item.item = { M: event.item! };
  } else {
    item.itemJson = { S: event.itemJson! };
  }
  return item;
}

/** DynamoDB stores 32 levels of nesting; `item` is one level below the projection's top. */
export const MAX_PROJECTED_DEPTH = 31;

/** Levels of maps and lists, the value itself counting as 1 when it is one. */
export function nestingDepth(value: AttributeValue): number {
  const children = value.M !== undefined ? Object.values(value.M) : value.L !== undefined ? value.L : undefined;
  if (children === undefined) return 0;
  return 1 + children.reduce((max, child) => Math.max(max, nestingDepth(child)), 0);
}

export async function applyChangeEvent(event: ChangeEvent, deps: ProjectionDeps): Promise<ProjectionOutcome> {
  const writeToken = deps.writeToken ?? randomUUID();
  const key = projectionKey(event);
  try {
    await deps.db.send(new PutItemCommand({
      TableName: deps.tableName,
      Item: projectionItem(event, writeToken, deps.tombstoneRetentionSeconds, (deps.now ?? Date.now)()),
      ConditionExpression: 'attribute_not_exists(pk) OR #version < :version',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':version': { S: event.version } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }), { abortSignal: deps.abortSignal });
    return 'applied';
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    let stored = itemOfRefusal(err);
    if (stored === undefined) {
      const out = await deps.db.send(new GetItemCommand({
        TableName: deps.tableName,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: 'eventId, writeToken',
      }), { abortSignal: deps.abortSignal });
      stored = out.Item;
    }
    if (stored?.writeToken?.S === writeToken) return 'applied'; // our own attempt, its answer lost
    return stored?.eventId?.S === event.eventId ? 'duplicate' : 'stale';
  }
}
