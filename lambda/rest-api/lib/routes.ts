/**
 * Per-request logic of the REST resource service: routing by `event.resource` and
 * `event.httpMethod`, input validation, and the DynamoDB calls. Every expression uses
 * ExpressionAttributeNames/Values; no user input is ever concatenated into one.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { RestApiConfig } from './config';
import { formatEtag, noneMatchHits, parseEntityTagCondition, strongVersions, type EntityTagCondition } from './etag';
import { idFromIdempotencyKey, newItemId, parseIdempotencyKey, parseItemId, requestHash } from './ids';
import { assertNoServerOwnedFields, toRepresentation, type StoredItem } from './item';
import { decodePageToken, encodePageToken } from './page-token';
import { isConditionalCheckFailed, jsonToMarshallable } from '../../shared/dynamodb';
import { emptyResponse, getHeader, getSingleHeader, getSingleQueryParameter, jsonResponse, parseJsonBody } from '../../shared/http';
import {
  BadRequestError,
  ConflictError,
  HttpStatus,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  PreconditionRequiredError,
  UnprocessableEntityError,
  ValidationError,
} from '../../shared/http-errors';
import { assertDynamoStorable } from '../../shared/validate';

export interface RouteDeps {
  readonly config: RestApiConfig;
  /** The DocumentClient, created on first use. */
  readonly db: () => DynamoDBDocumentClient;
  /** Clock, for tests. @default () => new Date() */
  readonly now?: () => Date;
  /** Aborts the DynamoDB calls of this request (the invocation deadline). */
  readonly abortSignal?: AbortSignal;
}

/** The request parts the routes read. */
export type RestRequest = Pick<
  APIGatewayProxyEvent,
  'resource' | 'httpMethod' | 'path' | 'pathParameters' | 'headers' | 'multiValueHeaders' | 'queryStringParameters' | 'multiValueQueryStringParameters' | 'body' | 'isBase64Encoded'
> & { readonly requestContext?: Partial<APIGatewayProxyEvent['requestContext']> | null };

export const COLLECTION_METHODS = ['GET', 'POST'] as const;
export const ITEM_METHODS = ['GET', 'PUT', 'DELETE'] as const;

/**
 * Limit on the estimated DynamoDB size of the client fields: an item is at most 400 KB
 * (409,600 bytes) and the key and system attributes need a few hundred bytes. Only reachable
 * with MAX_BODY_BYTES above ~250 KB and number-dense bodies such as `[-1,-1,...]`.
 */
export const MAX_STORED_DATA_BYTES = 400_000;

/** Routes one request; throws `HttpError`s for client mistakes and anything else for failures. */
export async function route(event: RestRequest, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const name = deps.config.resourceName;
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

async function createItem(event: RestRequest, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  const keyHeader = getSingleHeader(event, 'idempotency-key');
  const idempotencyKey = keyHeader === undefined ? undefined : parseIdempotencyKey(keyHeader);
  const data = readClientFields(event, config);

  const id = idempotencyKey === undefined ? newItemId() : idFromIdempotencyKey(config.resourceName, idempotencyKey);
  const hash = idempotencyKey === undefined ? undefined : requestHash(data);
  const now = timestamp(deps);
  const item: StoredItem = {
    pk: config.resourceName,
    sk: id,
    id,
    version: 1,
    createdAt: now,
    updatedAt: now,
    data,
    ...(hash !== undefined ? { requestHash: hash } : {}),
  };
  try {
    await deps.db().send(new PutCommand({
      TableName: config.tableName,
      Item: { ...item, data: jsonToMarshallable(data) },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'pk' },
    }), sendOptions(deps));
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    if (hash === undefined) throw new ConflictError('An item with the generated id already exists; retry the request');
    const existing = await readItem(id, deps);
    if (existing === undefined) throw new ConflictError('The item of this Idempotency-Key changed concurrently; retry the request');
    if (existing.requestHash !== hash) {
      throw new UnprocessableEntityError('The Idempotency-Key was already used with a different request body');
    }
    return createdResponse(event, existing, true);
  }
  return createdResponse(event, item, false);
}

async function listItems(event: RestRequest, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  const limit = parseLimit(getSingleQueryParameter(event, 'limit'), config);
  const token = getSingleQueryParameter(event, 'nextToken');
  const startId = token === undefined ? undefined : decodePageToken(token);
  const page = await deps.db().send(new QueryCommand({
    TableName: config.tableName,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': 'pk' },
    ExpressionAttributeValues: { ':pk': config.resourceName },
    Limit: limit,
    // The partition always comes from the server; the token only names the last id.
    ...(startId !== undefined ? { ExclusiveStartKey: { pk: config.resourceName, sk: startId } } : {}),
  }), sendOptions(deps));
  const items = (page.Items ?? []).map(toRepresentation);
  const lastId = page.LastEvaluatedKey?.sk;
  return jsonResponse(HttpStatus.OK, {
    items,
    ...(typeof lastId === 'string' ? { nextToken: encodePageToken(lastId) } : {}),
  });
}

async function getItem(event: RestRequest, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const id = parseItemId(event.pathParameters?.id ?? undefined);
  const noneMatchHeader = getHeader(event, 'if-none-match');
  const noneMatch = noneMatchHeader === undefined ? undefined : parseEntityTagCondition(noneMatchHeader, 'If-None-Match');
  const item = await readItem(id, deps);
  if (item === undefined) throw new NotFoundError('Item not found');
  const etag = formatEtag(item.version);
  if (noneMatch !== undefined && noneMatchHits(noneMatch, item.version)) {
    return emptyResponse(HttpStatus.NotModified, { etag });
  }
  return jsonResponse(HttpStatus.OK, toRepresentation(item as unknown as Record<string, unknown>), { etag });
}

async function replaceItem(event: RestRequest, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  const id = parseItemId(event.pathParameters?.id ?? undefined);
  const ifMatch = readIfMatch(event, config);
  const data = readClientFields(event, config);
  const condition = buildCondition(ifMatch);
  if (condition === undefined) return preconditionOutcome(id, deps);

  try {
    const result = await deps.db().send(new UpdateCommand({
      TableName: config.tableName,
      Key: { pk: config.resourceName, sk: id },
      UpdateExpression: 'SET #data = :data, #updatedAt = :now, #version = #version + :one',
      ConditionExpression: condition.expression,
      ExpressionAttributeNames: { ...condition.names, '#data': 'data', '#updatedAt': 'updatedAt', '#version': 'version' },
      ExpressionAttributeValues: { ...condition.values, ':data': jsonToMarshallable(data), ':now': timestamp(deps), ':one': 1 },
      ReturnValues: 'ALL_NEW',
    }), sendOptions(deps));
    const item = (result.Attributes ?? {}) as unknown as StoredItem;
    return jsonResponse(HttpStatus.OK, toRepresentation(item as unknown as Record<string, unknown>), { etag: formatEtag(item.version) });
  } catch (err) {
    if (isConditionalCheckFailed(err)) return preconditionOutcome(id, deps);
    throw err;
  }
}

async function deleteItem(event: RestRequest, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  const id = parseItemId(event.pathParameters?.id ?? undefined);
  const ifMatch = readIfMatch(event, config);
  const condition = buildCondition(ifMatch);
  if (condition === undefined) return preconditionOutcome(id, deps);

  try {
    await deps.db().send(new DeleteCommand({
      TableName: config.tableName,
      Key: { pk: config.resourceName, sk: id },
      ConditionExpression: condition.expression,
      ExpressionAttributeNames: condition.names,
      ...(Object.keys(condition.values).length > 0 ? { ExpressionAttributeValues: condition.values } : {}),
    }), sendOptions(deps));
  } catch (err) {
    if (isConditionalCheckFailed(err)) return preconditionOutcome(id, deps);
    throw err;
  }
  return emptyResponse(HttpStatus.NoContent);
}

// ---------------------------------------------------------------- helpers

/** Body -> client fields: JSON object (415/413/400), no server-owned fields, storable, schema. */
function readClientFields(event: RestRequest, config: RestApiConfig): Record<string, unknown> {
  const body = parseJsonBody(event, { maxBytes: config.maxBodyBytes });
  assertNoServerOwnedFields(body);
  const size = assertDynamoStorable(body);
  if (size > MAX_STORED_DATA_BYTES) {
    throw new PayloadTooLargeError(`The item would exceed DynamoDB's item size (about ${size} bytes stored)`);
  }
  if (config.validateItem) {
    const details = config.validateItem(body);
    if (details.length > 0) throw new ValidationError('The item does not match the resource schema', details);
  }
  return body;
}

/** `If-Match` for PUT/DELETE: 428 when required and absent, 400 when unparseable. */
function readIfMatch(event: RestRequest, config: RestApiConfig): EntityTagCondition | undefined {
  const header = getHeader(event, 'if-match');
  if (header === undefined) {
    if (config.requireIfMatch) throw new PreconditionRequiredError('This request requires an If-Match header with the item\'s ETag');
    return undefined;
  }
  return parseEntityTagCondition(header, 'If-Match');
}

interface WriteCondition {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, number>;
}

/** The write condition, or `undefined` when the If-Match list can match no version at all. */
function buildCondition(ifMatch: EntityTagCondition | undefined): WriteCondition | undefined {
  if (ifMatch === undefined || ifMatch.kind === 'any') {
    return { expression: 'attribute_exists(#pk)', names: { '#pk': 'pk' }, values: {} };
  }
  const versions = strongVersions(ifMatch);
  if (versions.length === 0) return undefined;
  const values: Record<string, number> = {};
  versions.forEach((v, i) => {
    values[`:v${i}`] = v;
  });
  return {
    expression: `attribute_exists(#pk) AND #version IN (${Object.keys(values).join(', ')})`,
    names: { '#pk': 'pk', '#version': 'version' },
    values,
  };
}

/** After a failed condition: 404 when the item does not exist, else 412. */
async function preconditionOutcome(id: string, deps: RouteDeps): Promise<never> {
  const current = await readItem(id, deps);
  if (current === undefined) throw new NotFoundError('Item not found');
  throw new PreconditionFailedError('The item has changed: its ETag does not match If-Match');
}

/** Strongly consistent read of one item. */
async function readItem(id: string, deps: RouteDeps): Promise<StoredItem | undefined> {
  const result = await deps.db().send(new GetCommand({
    TableName: deps.config.tableName,
    Key: { pk: deps.config.resourceName, sk: id },
    ConsistentRead: true,
  }), sendOptions(deps));
  return result.Item as StoredItem | undefined;
}

function createdResponse(event: RestRequest, item: StoredItem, replayed: boolean): APIGatewayProxyResult {
  const base = (typeof event.requestContext?.path === 'string' && event.requestContext.path !== '' ? event.requestContext.path : event.path ?? '').replace(/\/+$/, '');
  return jsonResponse(HttpStatus.Created, toRepresentation(item as unknown as Record<string, unknown>), {
    location: `${base}/${item.id}`,
    etag: formatEtag(item.version),
    ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
  });
}

const LIMIT = /^[0-9]{1,7}$/;

function parseLimit(value: string | undefined, config: RestApiConfig): number {
  if (value === undefined) return config.defaultPageSize;
  const n = LIMIT.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > config.maxPageSize) {
    throw new BadRequestError(`limit must be an integer in 1..${config.maxPageSize}`);
  }
  return n;
}

function sendOptions(deps: RouteDeps): { abortSignal?: AbortSignal } {
  return deps.abortSignal ? { abortSignal: deps.abortSignal } : {};
}

function timestamp(deps: RouteDeps): string {
  return (deps.now ?? (() => new Date()))().toISOString();
}
