/**
 * REST API handler: DynamoDB failures that a local engine cannot produce, injected with
 * aws-sdk-client-mock on the handler's own DocumentClient class (the handler is loaded in an
 * isolated module registry, so the class comes from that registry). Also checks what is logged.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { collectionEvent, itemEvent, jsonBody, lambdaContext, responseHeader } from '../helpers/api-gateway-events';
import { loadRestApi, type Invoke, type LoadedRestApi } from '../helpers/load-handler';

const ID = '0b6f3c1e-8d2a-4c55-9e0f-1a2b3c4d5e6f';
const SECRET_DETAIL = 'arn:aws:dynamodb:us-east-1:123456789012:table/internal-table-name';

function awsError(name: string, fault: 'client' | 'server'): Error {
  return Object.assign(new Error(`${name}: request failed for ${SECRET_DETAIL}`), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: fault === 'server' ? 500 : 400, requestId: 'DDB-REQ-1', attempts: 3 },
  });
}

let api: LoadedRestApi;
let invoke: Invoke;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let ddb: AwsStub<any, any, any>;
let logged: string[];
let writeSpies: jest.SpyInstance[];

beforeAll(() => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  api = loadRestApi({ TABLE_NAME: 'internal-table-name', POWERTOOLS_LOG_LEVEL: 'INFO' });
  invoke = api.invoke;
  ddb = mockClient(api.libDynamodb.DynamoDBDocumentClient);
});

beforeEach(() => {
  ddb.reset();
  logged = [];
  // Powertools writes INFO to stdout and ERROR to stderr.
  writeSpies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    }));
});

afterEach(() => {
  for (const spy of writeSpies) spy.mockRestore();
});

afterAll(() => {
  ddb.restore();
});

function expectNoInternals(response: APIGatewayProxyResult): void {
  expect(response.body).not.toContain('internal-table-name');
  expect(response.body).not.toContain('DDB-REQ-1');
  expect(response.body).not.toMatch(/Exception|stack|at /);
}

function logLines(): Array<Record<string, unknown>> {
  return logged.join('').split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('throttling is a retryable 503 ServiceUnavailable with the request id and no internals', async () => {
  // Prepare
  ddb.onAnyCommand().rejects(awsError('ProvisionedThroughputExceededException', 'client'));
  const event = collectionEvent('GET', 'items');

  // Act
  const response = await invoke(event);

  // Assess
  expect(response.statusCode).toBe(503);
  expect(responseHeader(response, 'retry-after')).toBe('1');
  expect(responseHeader(response, 'content-type')).toBe('application/json');
  expect(jsonBody(response)).toEqual({
    error: 'ServiceUnavailable',
    message: 'Service temporarily unavailable, retry later',
    requestId: event.requestContext.requestId,
  });
  expectNoInternals(response);
  const errorLog = logLines().find((l) => l.level === 'ERROR');
  expect(errorLog).toMatchObject({ message: 'request failed', apigw_request_id: event.requestContext.requestId, service: 'items' });
  expect(JSON.stringify(errorLog)).toContain('ProvisionedThroughputExceededException');
});

test('a client-level request timeout (after the SDK retries) is a 503', async () => {
  ddb.onAnyCommand().rejects(Object.assign(new Error('@smithy/node-http-handler - the request socket timed out after 3000 ms'), { name: 'TimeoutError' }));

  const response = await invoke(itemEvent('GET', 'items', ID));

  expect(response.statusCode).toBe(503);
  expect(responseHeader(response, 'retry-after')).toBe('1');
  expectNoInternals(response);
});

test.each([
  ['a DynamoDB server error', awsError('InternalServerError', 'server')],
  ['a DynamoDB validation error', awsError('ValidationException', 'client')],
  ['a non-AWS failure', new TypeError("Cannot read properties of undefined (reading 'internal-table-name')")],
])('%s is a 500 InternalError with the request id and no internals', async (_name, error) => {
  // Prepare
  ddb.onAnyCommand().rejects(error);
  const event = itemEvent('PUT', 'items', ID, { json: { a: 1 }, headers: { 'If-Match': '"1"' } });

  // Act
  const response = await invoke(event);

  // Assess
  expect(response.statusCode).toBe(500);
  expect(jsonBody(response)).toEqual({ error: 'InternalError', message: 'Internal server error', requestId: event.requestContext.requestId });
  expectNoInternals(response);
  expect(logLines().filter((l) => l.level === 'ERROR')).toHaveLength(1);
});

test.each([
  ['GET list', () => collectionEvent('GET', 'items')],
  ['POST', () => collectionEvent('POST', 'items', { json: { a: 1 }, headers: { 'Idempotency-Key': 'k' } })],
  ['GET item', () => itemEvent('GET', 'items', ID)],
  ['DELETE', () => itemEvent('DELETE', 'items', ID, { headers: { 'If-Match': '"1"' } })],
])('a service error on %s is a 500 InternalError', async (_name, event) => {
  ddb.onAnyCommand().rejects(awsError('InternalServerError', 'server'));

  const response = await invoke(event());

  expect(response.statusCode).toBe(500);
  expect(jsonBody(response)).toMatchObject({ error: 'InternalError', message: 'Internal server error' });
  expectNoInternals(response);
});

test('a failure while resolving a failed condition is still a 5xx, never a wrong 404/412', async () => {
  ddb.on(api.libDynamodb.UpdateCommand).rejects(awsError('ConditionalCheckFailedException', 'client'));
  ddb.on(api.libDynamodb.GetCommand).rejects(awsError('ThrottlingException', 'client'));

  const response = await invoke(itemEvent('PUT', 'items', ID, { json: { a: 1 }, headers: { 'If-Match': '"1"' } }));

  expect(response.statusCode).toBe(503);
});

test('a UUID collision on create (another request\'s item) is a 409 Conflict, not a 500', async () => {
  ddb.on(api.libDynamodb.PutCommand).rejects(awsError('ConditionalCheckFailedException', 'client'));
  ddb.on(api.libDynamodb.GetCommand).resolves({ Item: { id: ID, version: 1, createdAt: '2020-01-01T00:00:00.000Z', updatedAt: '2020-01-01T00:00:00.000Z', data: {} } });

  const response = await invoke(collectionEvent('POST', 'items', { json: { a: 1 } }));

  expect(response.statusCode).toBe(409);
  expect(jsonBody(response)).toMatchObject({ error: 'Conflict' });
});

test('the DynamoDB requests use only expression placeholders and the configured table', async () => {
  ddb.on(api.libDynamodb.UpdateCommand).resolves({ Attributes: { id: ID, version: 4, createdAt: 'c', updatedAt: 'u', data: { a: 1 } } });

  const response = await invoke(itemEvent('PUT', 'items', ID, { json: { a: 1 }, headers: { 'If-Match': '"3", "2"' } }));

  expect(response.statusCode).toBe(200);
  expect(ddb.commandCalls(api.libDynamodb.UpdateCommand)[0].args[0].input).toEqual({
    TableName: 'internal-table-name',
    Key: { pk: 'items', sk: ID },
    UpdateExpression: 'SET #data = :data, #updatedAt = :now, #version = #version + :one',
    // A tombstone (the deleted item of an Idempotency-Key) is never replaced.
    ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#deletedAt) AND #version IN (:v0, :v1)',
    ExpressionAttributeNames: { '#pk': 'pk', '#deletedAt': 'deletedAt', '#version': 'version', '#data': 'data', '#updatedAt': 'updatedAt' },
    ExpressionAttributeValues: { ':v0': 3, ':v1': 2, ':data': new Map([['a', 1]]), ':now': expect.any(String), ':one': 1 },
    ReturnValues: 'ALL_NEW',
  });
});

test('client errors are logged at INFO without the request body', async () => {
  const event = collectionEvent('POST', 'items', { body: '{"secret":"do-not-log", "id": 1}', headers: { 'content-type': 'application/json', 'x-correlation-id': 'corr-123' } });

  const response = await invoke(event);

  expect(response.statusCode).toBe(400);
  expect(ddb.calls()).toHaveLength(0);
  const lines = logLines();
  expect(lines).toContainEqual(expect.objectContaining({
    level: 'INFO',
    message: 'request rejected',
    statusCode: 400,
    error: 'BadRequest',
    correlation_id: 'corr-123',
    apigw_request_id: event.requestContext.requestId,
  }));
  expect(logged.join('')).not.toContain('do-not-log');
});

describe('invocation deadline', () => {
  let server: Server;
  let savedEndpoint: string | undefined;

  beforeAll(async () => {
    // A DynamoDB endpoint on loopback that accepts connections and never answers.
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    savedEndpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    else process.env.AWS_ENDPOINT_URL_DYNAMODB = savedEndpoint;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a hanging DynamoDB call is aborted before the Lambda timeout: 503, not a killed invocation', async () => {
    // Prepare: an unmocked handler (own registry) whose client talks to the silent endpoint
    const hung = loadRestApi({ TABLE_NAME: 'internal-table-name' });
    const context = lambdaContext({ getRemainingTimeInMillis: () => 1_200 });

    // Act
    const started = Date.now();
    const response = await hung.invoke(itemEvent('GET', 'items', ID), context);
    const elapsed = Date.now() - started;

    // Assess: aborted at remaining time - 500 ms margin
    expect(response.statusCode).toBe(503);
    expect(jsonBody(response)).toMatchObject({ error: 'ServiceUnavailable', requestId: expect.any(String) });
    // The 503 shows the handler answered instead of hanging on the silent endpoint; no upper bound
    // on the time, which a loaded machine can stretch.
    expect(elapsed).toBeGreaterThanOrEqual(600);
  });
});
