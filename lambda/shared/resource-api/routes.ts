/**
 * The resource API contract, independent of storage: routing by `event.resource` and
 * `event.httpMethod`, input validation, preconditions, idempotent creation, paging and the
 * responses. A back end supplies an `ItemStore` (single-item conditional writes, a consistent
 * read, keyset pages in id order) and its own storability rules.
 *
 * Routes: `/<name>` GET (list: `limit`, opaque `nextToken`) and POST (create, optional
 * `Idempotency-Key`, 201 + Location + ETag; 410 when the key's item was deleted less than
 * `IDEMPOTENCY_KEY_RETENTION_SECONDS` ago); `/<name>/{id}` GET (ETag, If-None-Match -> 304),
 * PUT (replace the client fields; If-Match strong, 412 on mismatch, 428 when required and absent;
 * never creates: 404) and DELETE (same preconditions, 204).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ResourceApiSettings } from './config';
import { formatEtag, noneMatchHits, parseEntityTagCondition, strongVersions, type EntityTagCondition } from './etag';
import { idFromIdempotencyKey, isIdempotencyKeyId, newItemId, parseIdempotencyKey, parseItemId, requestHash } from './ids';
import { assertNoServerOwnedFields, toRepresentation, type ItemRecord } from './item';
import { decodePageToken, encodePageToken } from './page-token';
import { canonicalJson } from '../canonical-json';
import { emptyResponse, getHeader, getSingleHeader, getSingleQueryParameter, parsePageLimit, jsonResponse, parseJsonBody } from '../http';
import {
  ConflictError,
  HttpError,
  HttpStatus,
  MethodNotAllowedError,
  NotFoundError,
  OutcomeUnknownError,
  PreconditionFailedError,
  PreconditionRequiredError,
  UnprocessableEntityError,
  ValidationError,
} from '../http-errors';

/**
 * How long an Idempotency-Key is remembered after its item is deleted (as long as the item exists,
 * it is the key's record): a retry of the creating POST within this time is answered 410 instead of
 * creating the item again. 24 hours covers every client retry schedule (the SDKs' and queues').
 */
export const IDEMPOTENCY_KEY_RETENTION_SECONDS = 24 * 60 * 60;

/** 410: the item this request's Idempotency-Key created has been deleted since; nothing was written. */
export class IdempotencyKeyItemDeletedError extends HttpError {
  constructor() {
    super(410, 'Gone', 'The item this Idempotency-Key created has been deleted since; send a new key to create another');
  }
}

/**
 * What a deleted item created with an Idempotency-Key leaves behind until `keyExpiresAt`, so that a
 * retry of its POST does not create it again: its creating request's hash and nothing of its data.
 * No read, list, replace or delete sees it.
 */
export interface Tombstone {
  readonly deletedAt: string;
  /** ISO 8601; after it the key may create an item again. */
  readonly keyExpiresAt: string;
  readonly requestHash?: string;
}

/** One page of items in id order; `lastId` is set when more items may follow it. */
export interface ItemPage {
  readonly items: readonly ItemRecord[];
  readonly lastId?: string;
}

/**
 * What became of a conditional write.
 * - `applied`: it applied, with this result.
 * - `refused`: its condition was not met. `retried`: the store sent it more than once (an earlier
 *   attempt's response was lost), so the condition may have failed on that attempt's own effect.
 * - `unknown`: the connection was lost after the write was sent; it may or may not have applied.
 * The routes settle `retried` and `unknown` by reading the item: this request's own write is
 * recognised by what it wrote (its clock reading and fields), so a lost response never turns a
 * successful write into an error.
 */
export type WriteOutcome<T> =
  | { readonly status: 'applied'; readonly result: T }
  | { readonly status: 'refused'; readonly retried: boolean }
  | { readonly status: 'unknown' };

/**
 * Storage of one resource's items. `versions`: the write applies only when the item exists and
 * its version is one of them; `undefined` means any existing version. Each method is one atomic
 * operation; failures other than those `WriteOutcome` names are thrown.
 */
export interface ItemStore {
  /**
   * Stores a new item unless its id holds an item, or a tombstone whose `keyExpiresAt` is after
   * `now` (`refused`); an expired tombstone is replaced.
   */
  insert(item: ItemRecord, now: string): Promise<WriteOutcome<ItemRecord>>;
  /** A strongly consistent read; never a tombstone. */
  get(id: string): Promise<ItemRecord | undefined>;
  /** The tombstone of a deleted item (strongly consistent), expired or not. */
  getTombstone(id: string): Promise<Tombstone | undefined>;
  /** Up to `limit` items with ids greater than `afterId` (all when `undefined`), in id order. */
  list(afterId: string | undefined, limit: number): Promise<ItemPage>;
  /** Replaces the client fields, sets `updatedAt` and increments the version. */
  replace(id: string, data: Record<string, unknown>, updatedAt: string, versions: readonly number[] | undefined): Promise<WriteOutcome<ItemRecord>>;
  /** Deletes the item; with `tombstone`, leaves that tombstone (the item's `requestHash` and nothing else) in its place. */
  delete(id: string, versions: readonly number[] | undefined, tombstone?: Omit<Tombstone, 'requestHash'>): Promise<WriteOutcome<void>>;
}

export interface ResourceRouteDeps {
  readonly settings: ResourceApiSettings;
  readonly store: ItemStore;
  /** The back end's storage rules for client fields: throws a 4xx `HttpError` for a body it cannot store. */
  readonly assertStorable: (fields: Record<string, unknown>) => void;
  /** Clock, for tests. @default () => new Date() */
  readonly now?: () => Date;
}

/** The request parts the routes read. */
export type ResourceRequest = Pick<
  APIGatewayProxyEvent,
  'resource' | 'httpMethod' | 'path' | 'pathParameters' | 'headers' | 'multiValueHeaders' | 'queryStringParameters' | 'multiValueQueryStringParameters' | 'body' | 'isBase64Encoded'
> & { readonly requestContext?: Partial<APIGatewayProxyEvent['requestContext']> | null };

export const COLLECTION_METHODS = ['GET', 'POST'] as const;
export const ITEM_METHODS = ['GET', 'PUT', 'DELETE'] as const;

/** Routes one request; throws `HttpError`s for client mistakes and anything else for failures. */
export async function routeResourceRequest(event: ResourceRequest, deps: ResourceRouteDeps): Promise<APIGatewayProxyResult> {
  const name = deps.settings.resourceName;
  const method = typeof event.httpMethod === 'string' ? event.httpMethod.toUpperCase() : '';
  if (event.resource === `/${name}`) {
    if (method === 'GET') return listItems(event, deps);
    if (method === 'POST') return createItem(event, deps);
    throw new MethodNotAllowedError(method, COLLECTION_METHODS);
  }
  if (event.resource === `/${name}/{id}`) {
    if (method === 'GET') return getItem(event, deps);
    if (method === 'PUT') return replaceItem(event, deps);
    if (method === 'DELETE') return deleteItem(event, deps);
    throw new MethodNotAllowedError(method, ITEM_METHODS);
  }
  throw new NotFoundError('No such resource');
}

// ---------------------------------------------------------------- routes

async function createItem(event: ResourceRequest, deps: ResourceRouteDeps): Promise<APIGatewayProxyResult> {
  const { settings, store } = deps;
  const keyHeader = getSingleHeader(event, 'idempotency-key');
  const idempotencyKey = keyHeader === undefined ? undefined : parseIdempotencyKey(keyHeader);
  const data = readClientFields(event, deps);

  const id = idempotencyKey === undefined ? newItemId() : idFromIdempotencyKey(settings.resourceName, idempotencyKey);
  const hash = idempotencyKey === undefined ? undefined : requestHash(data);
  const now = timestamp(deps);
  const item: ItemRecord = { id, version: 1, createdAt: now, updatedAt: now, data, ...(hash !== undefined ? { requestHash: hash } : {}) };
  const outcome = await store.insert(item, now);
  if (outcome.status === 'applied') return createdResponse(event, item, false);

  const existing = await store.get(id);
  // After an attempt whose answer was lost, an item with this request's clock reading and fields
  // is that attempt's: answer as the one write it was. A generated id (no key) can only be held
  // by this request's own attempt, whatever the store saw.
  const settle = outcome.status === 'unknown' || outcome.retried || hash === undefined;
  if (settle && existing !== undefined && isOwnWrite(existing, item.createdAt, data)) return createdResponse(event, existing, false);
  if (outcome.status === 'unknown') throw new OutcomeUnknownError();
  if (hash === undefined) {
    // The id was generated for this request (a random UUID): only a collision gets here.
    throw new ConflictError('An item with the generated id already exists; retry the request');
  }
  if (existing === undefined) {
    // The key's item was deleted: within the key's retention its retry must not create it again.
    const tombstone = await store.getTombstone(id);
    if (tombstone === undefined || tombstone.keyExpiresAt <= now) {
      throw new ConflictError('The item of this Idempotency-Key changed concurrently; retry the request');
    }
    if (tombstone.requestHash !== hash) throw new UnprocessableEntityError('The Idempotency-Key was already used with a different request body');
    throw new IdempotencyKeyItemDeletedError();
  }
  if (existing.requestHash !== hash) {
    throw new UnprocessableEntityError('The Idempotency-Key was already used with a different request body');
  }
  return createdResponse(event, existing, true);
}

async function listItems(event: ResourceRequest, deps: ResourceRouteDeps): Promise<APIGatewayProxyResult> {
  const limit = parsePageLimit(getSingleQueryParameter(event, 'limit'), deps.settings);
  const token = getSingleQueryParameter(event, 'nextToken');
  const afterId = token === undefined ? undefined : decodePageToken(token);
  const page = await deps.store.list(afterId, limit);
  return jsonResponse(HttpStatus.OK, {
    items: page.items.map(toRepresentation),
    ...(page.lastId !== undefined ? { nextToken: encodePageToken(page.lastId) } : {}),
  });
}

async function getItem(event: ResourceRequest, deps: ResourceRouteDeps): Promise<APIGatewayProxyResult> {
  const id = parseItemId(event.pathParameters?.id ?? undefined);
  const noneMatchHeader = getHeader(event, 'if-none-match');
  const noneMatch = noneMatchHeader === undefined ? undefined : parseEntityTagCondition(noneMatchHeader, 'If-None-Match');
  const item = await deps.store.get(id);
  if (item === undefined) throw new NotFoundError('Item not found');
  const etag = formatEtag(item.version);
  if (noneMatch !== undefined && noneMatchHits(noneMatch, item.version)) {
    return emptyResponse(HttpStatus.NotModified, { etag });
  }
  return jsonResponse(HttpStatus.OK, toRepresentation(item), { etag });
}

async function replaceItem(event: ResourceRequest, deps: ResourceRouteDeps): Promise<APIGatewayProxyResult> {
  const id = parseItemId(event.pathParameters?.id ?? undefined);
  const ifMatch = readIfMatch(event, deps.settings);
  const data = readClientFields(event, deps);
  const versions = matchableVersions(ifMatch);
  if (versions !== undefined && versions.length === 0) return preconditionOutcome(id, deps);

  const updatedAt = timestamp(deps);
  const outcome = await deps.store.replace(id, data, updatedAt, versions);
  let item = outcome.status === 'applied' ? outcome.result : undefined;
  if (outcome.status === 'unknown' || (outcome.status === 'refused' && outcome.retried)) {
    const current = await deps.store.get(id);
    // This request's own replacement: its clock reading and fields, one version above one If-Match allowed.
    const own = current !== undefined && isOwnWrite(current, updatedAt, data) && (versions === undefined || versions.includes(current.version - 1));
    if (own) item = current;
    else if (outcome.status === 'unknown') throw new OutcomeUnknownError();
  }
  if (item === undefined) return preconditionOutcome(id, deps);
  return jsonResponse(HttpStatus.OK, toRepresentation(item), { etag: formatEtag(item.version) });
}

async function deleteItem(event: ResourceRequest, deps: ResourceRouteDeps): Promise<APIGatewayProxyResult> {
  const id = parseItemId(event.pathParameters?.id ?? undefined);
  const ifMatch = readIfMatch(event, deps.settings);
  const versions = matchableVersions(ifMatch);
  if (versions !== undefined && versions.length === 0) return preconditionOutcome(id, deps);

  // An item created with an Idempotency-Key leaves a tombstone, so that a late retry of its POST
  // answers 410 instead of creating it again; other items are deleted outright.
  const deletedAt = timestamp(deps);
  const tombstone = isIdempotencyKeyId(id)
    ? { deletedAt, keyExpiresAt: new Date(Date.parse(deletedAt) + IDEMPOTENCY_KEY_RETENTION_SECONDS * 1000).toISOString() }
    : undefined;
  const outcome = await deps.store.delete(id, versions, tombstone);
  if (outcome.status !== 'applied') {
    const settle = outcome.status === 'unknown' || outcome.retried;
    // After an attempt whose answer was lost, an item that is gone was removed by that attempt (or
    // by another delete): either way it is gone, as this request asked.
    if (!(settle && (await deps.store.get(id)) === undefined)) {
      if (outcome.status === 'unknown') throw new OutcomeUnknownError();
      return preconditionOutcome(id, deps);
    }
  }
  return emptyResponse(HttpStatus.NoContent);
}

// ---------------------------------------------------------------- helpers

/** Body -> client fields: JSON object (415/413/400), no server-owned fields, storable, schema. */
function readClientFields(event: ResourceRequest, deps: ResourceRouteDeps): Record<string, unknown> {
  const body = parseJsonBody(event, { maxBytes: deps.settings.maxBodyBytes });
  assertNoServerOwnedFields(body);
  deps.assertStorable(body);
  if (deps.settings.validateItem) {
    const details = deps.settings.validateItem(body);
    if (details.length > 0) throw new ValidationError('The item does not match the resource schema', details);
  }
  return body;
}

/** `If-Match` for PUT/DELETE: 428 when required and absent, 400 when unparseable. */
function readIfMatch(event: ResourceRequest, settings: ResourceApiSettings): EntityTagCondition | undefined {
  const header = getHeader(event, 'if-match');
  if (header === undefined) {
    if (settings.requireIfMatch) throw new PreconditionRequiredError('This request requires an If-Match header with the item\'s ETag');
    return undefined;
  }
  return parseEntityTagCondition(header, 'If-Match');
}

/** The versions a write may replace: `undefined` for any existing version, empty when none can match. */
function matchableVersions(ifMatch: EntityTagCondition | undefined): readonly number[] | undefined {
  if (ifMatch === undefined || ifMatch.kind === 'any') return undefined;
  return strongVersions(ifMatch);
}

/** After a failed condition: 404 when the item does not exist, else 412. */
async function preconditionOutcome(id: string, deps: ResourceRouteDeps): Promise<never> {
  const current = await deps.store.get(id);
  if (current === undefined) throw new NotFoundError('Item not found');
  throw new PreconditionFailedError('The item has changed: its ETag does not match If-Match');
}

/** A path prefix a proxy in front removed (`X-Forwarded-Prefix`): path segments only. */
const FORWARDED_PREFIX = /^(?:\/[A-Za-z0-9._~-]+)+$/;

/**
 * `Location` is the path the client used: behind a proxy that removed a prefix (the web
 * application's CloudFront sends `/api/items` to the stage as `/items`) the prefix and the
 * resource path, else the stage path API Gateway saw (`/prod/items`).
 */
function collectionPath(event: ResourceRequest): string {
  const prefix = getHeader(event, 'x-forwarded-prefix');
  if (prefix !== undefined && FORWARDED_PREFIX.test(prefix) && typeof event.path === 'string') return `${prefix}${event.path}`;
  return typeof event.requestContext?.path === 'string' && event.requestContext.path !== '' ? event.requestContext.path : event.path ?? '';
}

function createdResponse(event: ResourceRequest, item: ItemRecord, replayed: boolean): APIGatewayProxyResult {
  const base = collectionPath(event).replace(/\/+$/, '');
  return jsonResponse(HttpStatus.Created, toRepresentation(item), {
    location: `${base}/${item.id}`,
    etag: formatEtag(item.version),
    ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
  });
}


/** An item this request wrote: its clock reading (unique to the request) and the fields it sent. */
function isOwnWrite(item: ItemRecord, writtenAt: string, data: Record<string, unknown>): boolean {
  return item.updatedAt === writtenAt && canonicalJson(item.data) === canonicalJson(data);
}

function timestamp(deps: ResourceRouteDeps): string {
  return (deps.now ?? (() => new Date()))().toISOString();
}
