/**
 * Realistic API Gateway REST API (v1 payload, Lambda proxy integration) events and Lambda contexts.
 * Headers appear in both `headers` (last value per name, as sent) and `multiValueHeaders`, like
 * API Gateway does; pass `headers: null` style overrides through `overrides` when a test needs them.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { anonymousIdentity } from '../../local/triggers/rest-api';

export type HeaderInput = Record<string, string | readonly string[]>;
export type QueryInput = Record<string, string | readonly string[]>;

export interface RestEventInput {
  readonly method: string;
  /** The API Gateway resource template, e.g. `/items/{id}`. */
  readonly resource: string;
  /** The request path, e.g. `/items/5f0c...`. */
  readonly path: string;
  readonly pathParameters?: Record<string, string> | null;
  readonly headers?: HeaderInput;
  readonly query?: QueryInput;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  /** @default 'prod' */
  readonly stage?: string;
  /** Fields replaced after the event is built (e.g. `{ headers: null }`). */
  readonly overrides?: Partial<APIGatewayProxyEvent>;
}

const DEFAULT_HEADERS: Record<string, string> = {
  'Accept': 'application/json',
  'Host': 'abc123defg.execute-api.us-east-1.amazonaws.com',
  'User-Agent': 'handler-tests/1.0',
  'X-Amzn-Trace-Id': 'Root=1-67891233-abcdef012345678912345678',
  'X-Forwarded-For': '203.0.113.10',
  'X-Forwarded-Port': '443',
  'X-Forwarded-Proto': 'https',
};

export function apiGatewayEvent(input: RestEventInput): APIGatewayProxyEvent {
  const stage = input.stage ?? 'prod';
  const headerEntries = Object.entries({ ...DEFAULT_HEADERS, ...(input.headers ?? {}) });
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of headerEntries) {
    const values = typeof value === 'string' ? [value] : [...value];
    if (values.length === 0) continue;
    headers[name] = values[values.length - 1];
    multiValueHeaders[name] = values;
  }
  let queryStringParameters: Record<string, string> | null = null;
  let multiValueQueryStringParameters: Record<string, string[]> | null = null;
  if (input.query && Object.keys(input.query).length > 0) {
    queryStringParameters = {};
    multiValueQueryStringParameters = {};
    for (const [name, value] of Object.entries(input.query)) {
      const values = typeof value === 'string' ? [value] : [...value];
      queryStringParameters[name] = values[values.length - 1];
      multiValueQueryStringParameters[name] = values;
    }
  }
  const requestId = randomUUID();
  const now = Date.now();
  const event: APIGatewayProxyEvent = {
    resource: input.resource,
    path: input.path,
    httpMethod: input.method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: input.pathParameters ?? null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123defg',
      authorizer: null,
      domainName: 'abc123defg.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123defg',
      extendedRequestId: 'Ab1CdEfGhIjKlM=',
      httpMethod: input.method,
      identity: anonymousIdentity('203.0.113.10', 'handler-tests/1.0'),
      path: `/${stage}${input.path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: new Date(now).toUTCString(),
      requestTimeEpoch: now,
      resourceId: 'a1b2c3',
      resourcePath: input.resource,
      stage,
    },
    body: input.body ?? null,
    isBase64Encoded: input.isBase64Encoded ?? false,
  };
  return { ...event, ...(input.overrides ?? {}) };
}

/** Options shared by the resource request builders. */
export interface ResourceRequestOptions {
  readonly headers?: HeaderInput;
  readonly query?: QueryInput;
  /** A value is sent as JSON with `content-type: application/json` (unless headers say otherwise); a string as is. */
  readonly json?: unknown;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly overrides?: Partial<APIGatewayProxyEvent>;
}

function bodyParts(options: ResourceRequestOptions): Pick<RestEventInput, 'body' | 'headers'> {
  if (options.json !== undefined) {
    return {
      body: JSON.stringify(options.json),
      headers: { 'Content-Type': 'application/json', ...(options.headers ?? {}) },
    };
  }
  return { body: options.body ?? null, headers: options.headers };
}

/** A request on the collection `/<resource>`. */
export function collectionEvent(method: string, resourceName: string, options: ResourceRequestOptions = {}): APIGatewayProxyEvent {
  return apiGatewayEvent({
    method,
    resource: `/${resourceName}`,
    path: `/${resourceName}`,
    query: options.query,
    isBase64Encoded: options.isBase64Encoded,
    overrides: options.overrides,
    ...bodyParts(options),
  });
}

/** Percent-encodes a path segment; a string with lone surrogates is kept as it is. */
function encodePathSegment(segment: string): string {
  try {
    return encodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A request on one item `/<resource>/{id}`. */
export function itemEvent(method: string, resourceName: string, id: string, options: ResourceRequestOptions = {}): APIGatewayProxyEvent {
  return apiGatewayEvent({
    method,
    resource: `/${resourceName}/{id}`,
    path: `/${resourceName}/${encodePathSegment(id)}`,
    pathParameters: { id },
    query: options.query,
    isBase64Encoded: options.isBase64Encoded,
    overrides: options.overrides,
    ...bodyParts(options),
  });
}

export function lambdaContext(overrides: Partial<Context> = {}): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'rest-api-handler',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rest-api-handler',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/rest-api-handler',
    logStreamName: '2025/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides,
  };
}

/** A response header, case-insensitively. */
export function responseHeader(response: APIGatewayProxyResult, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(response.headers ?? {})) {
    if (key.toLowerCase() === wanted) return String(value);
  }
  return undefined;
}

/** The JSON body of a response (fails the test when it is not JSON). */
export function jsonBody<T = Record<string, unknown>>(response: APIGatewayProxyResult): T {
  return JSON.parse(response.body) as T;
}

/**
 * The event as API Gateway's Cognito user pool authorizer passes it: the caller's claims (all
 * strings) under `requestContext.authorizer.claims`; no claims at all when `sub` is undefined.
 */
export function asCaller(sub: string | undefined, event: APIGatewayProxyEvent): APIGatewayProxyEvent {
  const claims = sub === undefined ? {} : { 'sub': sub, 'cognito:username': `user-${sub.slice(-4)}`, 'token_use': 'access' };
  return { ...event, requestContext: { ...event.requestContext, authorizer: { claims } } };
}
