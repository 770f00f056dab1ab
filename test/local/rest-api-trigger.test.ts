/**
 * The REST API trigger (local/triggers/rest-api.ts) over a hand-written template, served on
 * 127.0.0.1 and called with `fetch`, against the API Gateway developer guide: resource and
 * method selection ("Set up a proxy integration with a proxy resource"), the Lambda proxy
 * integration's input and output formats (payload 1.0: multi-value headers and query strings,
 * binary media types, `isBase64Encoded`, a malformed response is 502), integration timeouts
 * (504), mock integrations, stage variables, the 10 MB payload quota, and the caller's identity
 * per authorization type, which the local runner takes from the `x-local-identity` header.
 *
 * The function is the test's own `invoke` callback: it records the event and answers.
 */
import { request } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AssemblyStack, CfnResource } from '../../local/assembly';
import type { InvokeOutcome } from '../../local/functions';
import { LocalTemplate } from '../../local/template';
import { LOCAL_IDENTITY_HEADER, matchRoute, restApisOf, serveRestApi, type RestApiModel, type ServedRestApi } from '../../local/triggers/rest-api';

const ITEMS_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:shop-items';
const OTHER_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:shop-other';

/** An AWS_PROXY integration URI for a function ARN (an intrinsic or a string with stage variables). */
const lambdaUri = (functionArn: unknown): unknown => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:', { Ref: 'AWS::Region' }, ':lambda:path/2015-03-31/functions/', functionArn, '/invocations']],
});

function resource(parent: string | null, pathPart: string): CfnResource {
  return {
    Type: 'AWS::ApiGateway::Resource',
    Properties: {
      RestApiId: { Ref: 'Api' },
      ParentId: parent === null ? { 'Fn::GetAtt': ['Api', 'RootResourceId'] } : { Ref: parent },
      PathPart: pathPart,
    },
  };
}

function method(resourceId: string | null, httpMethod: string, integration: Record<string, unknown>, authorizationType = 'NONE'): CfnResource {
  return {
    Type: 'AWS::ApiGateway::Method',
    Properties: {
      RestApiId: { Ref: 'Api' },
      ResourceId: resourceId === null ? { 'Fn::GetAtt': ['Api', 'RootResourceId'] } : { Ref: resourceId },
      HttpMethod: httpMethod,
      AuthorizationType: authorizationType,
      Integration: integration,
    },
  };
}

const proxyTo = (fn: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST', Uri: lambdaUri({ 'Fn::GetAtt': [fn, 'Arn'] }), ...extra });

const STACK: AssemblyStack = {
  id: 'Shop',
  stackName: 'Shop',
  assemblyDir: '/nowhere',
  assetPathOfObjectKey: () => undefined,
  template: {
    Resources: {
      ItemsFunction: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'shop-items' } },
      OtherFunction: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'shop-other' } },
      Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'shop-api', BinaryMediaTypes: ['image/png', 'application/octet-stream'] } },
      Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { RestApiId: { Ref: 'Api' }, StageName: 'v1', Variables: { itemsFunction: 'shop-items' } } },

      Items: resource(null, 'items'),
      Item: resource('Items', '{id}'),
      Special: resource('Items', 'special'),
      Proxy: resource(null, '{proxy+}'),
      Health: resource(null, 'health'),
      Staged: resource(null, 'staged'),
      Slow: resource(null, 'slow'),
      Iam: resource(null, 'iam'),
      Cognito: resource(null, 'cognito'),
      Custom: resource(null, 'custom'),

      ItemsGet: method('Items', 'GET', proxyTo('ItemsFunction')),
      ItemsAny: method('Items', 'ANY', proxyTo('OtherFunction')),
      ItemGet: method('Item', 'GET', proxyTo('ItemsFunction')),
      SpecialGet: method('Special', 'GET', proxyTo('ItemsFunction')),
      ProxyAny: method('Proxy', 'ANY', proxyTo('OtherFunction')),
      HealthGet: method('Health', 'GET', {
        Type: 'MOCK',
        RequestTemplates: { 'application/json': '{"statusCode": 202}' },
        IntegrationResponses: [{
          StatusCode: '202',
          ResponseParameters: {
            'method.response.header.X-Mock': "'yes'",
            'method.response.header.Access-Control-Allow-Origin': "'*'",
          },
          ResponseTemplates: { 'application/json': '{"status":"ok"}' },
        }],
      }),
      StagedGet: method('Staged', 'GET', {
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        Uri: lambdaUri({ 'Fn::Sub': 'arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:${!stageVariables.itemsFunction}' }),
      }),
      SlowGet: method('Slow', 'GET', proxyTo('ItemsFunction', { TimeoutInMillis: 50 })),
      IamGet: method('Iam', 'GET', proxyTo('ItemsFunction'), 'AWS_IAM'),
      CognitoGet: method('Cognito', 'GET', proxyTo('ItemsFunction'), 'COGNITO_USER_POOLS'),
      CustomGet: method('Custom', 'GET', proxyTo('ItemsFunction'), 'CUSTOM'),
    },
  },
};

interface Call {
  readonly arn: string;
  readonly event: APIGatewayProxyEvent;
}

const ok = (payload: unknown): InvokeOutcome => ({ ok: true, payload });

let model: RestApiModel;
let served: ServedRestApi;
let base: string;
const calls: Call[] = [];
const logged: string[] = [];
/** What the function answers; each test may replace it. */
let answer: (call: Call) => Promise<InvokeOutcome> | undefined;
const defaultAnswer = (call: Call): Promise<InvokeOutcome> => Promise.resolve(ok({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ arn: call.arn, resource: call.event.resource, pathParameters: call.event.pathParameters }),
}));

beforeAll(async () => {
  [model] = restApisOf(new LocalTemplate(STACK));
  served = await serveRestApi(model!, {
    port: 0,
    log: (line) => logged.push(line),
    invoke: (arn, event) => {
      const call = { arn, event };
      calls.push(call);
      return answer(call);
    },
  });
  base = served.url;
});

beforeEach(() => {
  calls.length = 0;
  logged.length = 0;
  answer = defaultAnswer;
});

afterAll(async () => {
  await served.stop();
});

async function routed(path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, init);
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

const lastEvent = (): APIGatewayProxyEvent => calls[calls.length - 1]!.event;

describe('restApisOf', () => {
  test('reads the API, its stage, binary media types and every resource\'s full path', () => {
    expect(model).toMatchObject({ logicalId: 'Api', name: 'shop-api', stageName: 'v1', stageVariables: { itemsFunction: 'shop-items' } });
    expect(model.binaryMediaTypes).toEqual(['image/png', 'application/octet-stream']);
    expect(model.resources.map((r) => r.path).sort()).toEqual([
      '/', '/cognito', '/custom', '/health', '/iam', '/items', '/items/special', '/items/{id}', '/slow', '/staged', '/{proxy+}',
    ]);
    const items = model.resources.find((r) => r.path === '/items')!;
    expect(items.methods.map((m) => [m.httpMethod, m.integration.type, m.integration.functionArn])).toEqual([
      ['GET', 'AWS_PROXY', ITEMS_ARN],
      ['ANY', 'AWS_PROXY', OTHER_ARN],
    ]);
    expect(model.resources.find((r) => r.path === '/slow')!.methods[0]!.integration.timeoutMs).toBe(50);
    expect(model.resources.find((r) => r.path === '/items/{id}')!.methods[0]!.integration.timeoutMs).toBe(29_000);
  });
});

describe('routing', () => {
  test('a literal segment beats {param}, which beats {proxy+}', async () => {
    expect((await routed('/items/special')).body).toMatchObject({ resource: '/items/special', pathParameters: null });
    expect((await routed('/items/42')).body).toMatchObject({ resource: '/items/{id}', pathParameters: { id: '42' } });
    expect((await routed('/items/42/reviews')).body).toMatchObject({ resource: '/{proxy+}', pathParameters: { proxy: 'items/42/reviews' } });
    expect((await routed('/anything')).body).toMatchObject({ resource: '/{proxy+}', pathParameters: { proxy: 'anything' } });
  });

  test('an exact verb beats ANY on the same resource', async () => {
    expect((await routed('/items')).body).toMatchObject({ arn: ITEMS_ARN, resource: '/items' });
    expect((await routed('/items', { method: 'DELETE' })).body).toMatchObject({ arn: OTHER_ARN, resource: '/items' });
    expect(lastEvent().httpMethod).toBe('DELETE');
  });

  test('path parameters are decoded', async () => {
    expect((await routed('/items/a%20b%2Fc')).body).toMatchObject({ pathParameters: { id: 'a b/c' } });
    expect((await routed('/x/%C3%A9t%C3%A9/y')).body).toMatchObject({ pathParameters: { proxy: 'x/été/y' } });
    expect(lastEvent().path).toBe('/x/%C3%A9t%C3%A9/y');
  });

  test('the API is served under its stage: event.path leaves it out, requestContext.path keeps it', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    await routed('/items/7');
    expect(lastEvent()).toMatchObject({ path: '/items/7', resource: '/items/{id}', requestContext: { path: '/v1/items/7', stage: 'v1', resourcePath: '/items/{id}' } });

    const outside = await fetch(base.replace(/\/v1$/, '/items/7'));
    expect(outside.status).toBe(403);
    expect(await outside.json()).toEqual({ message: expect.stringMatching(/^Missing Authentication Token .*\/v1\//) });
  });

  test('an unknown route is 403 "Missing Authentication Token"', async () => {
    expect(await routed('/')).toEqual({ status: 403, body: { message: 'Missing Authentication Token' } });
    expect(calls).toHaveLength(0);
  });

  test('matchRoute: {proxy+} needs at least one segment; a method the resource lacks matches nothing', () => {
    expect(matchRoute(model, '/', 'GET')).toBeUndefined();
    expect(matchRoute(model, '/a', 'PATCH')?.resource.path).toBe('/{proxy+}');
    expect(matchRoute(model, '/items/1', 'GET')?.pathParameters).toEqual({ id: '1' });
    const withoutProxy = { ...model, resources: model.resources.filter((r) => r.path !== '/{proxy+}') };
    expect(matchRoute(withoutProxy, '/health', 'POST')).toBeUndefined();
    expect(matchRoute(withoutProxy, '/items/1/more', 'GET')).toBeUndefined();
  });
});

describe('integrations', () => {
  test('stage variables are substituted into the integration URI, and given to the function', async () => {
    expect((await routed('/staged')).body).toMatchObject({ arn: ITEMS_ARN });
    expect(calls[0]!.arn).toBe(ITEMS_ARN);
    expect(lastEvent().stageVariables).toEqual({ itemsFunction: 'shop-items' });
  });

  test('a MOCK integration answers its integration response: status, headers without their quotes, template', async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(202);
    expect(response.headers.get('x-mock')).toBe('yes');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.text()).toBe('{"status":"ok"}');
    expect(calls).toHaveLength(0);
  });

  test('an integration that outlives its TimeoutInMillis is 504', async () => {
    answer = () => new Promise<InvokeOutcome>(() => {});
    expect(await routed('/slow')).toEqual({ status: 504, body: { message: 'Endpoint request timed out' } });
  });

  test('a function the stack does not have is 500', async () => {
    answer = () => undefined;
    expect((await routed('/items/1')).status).toBe(500);
  });
});

describe('the Lambda proxy event', () => {
  test('multi-value query strings and headers: the single-value maps keep the last value', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(`${base}/items/1?tag=a&tag=b&q=x%20y`, { method: 'GET' }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.setHeader('X-Multi', ['first', 'second']);
      req.on('error', reject);
      req.end();
    });
    const event = lastEvent();
    expect(event.queryStringParameters).toEqual({ tag: 'b', q: 'x y' });
    expect(event.multiValueQueryStringParameters).toEqual({ tag: ['a', 'b'], q: ['x y'] });
    expect(event.headers['X-Multi']).toBe('second');
    expect(event.multiValueHeaders['X-Multi']).toEqual(['first', 'second']);
  });

  test('no query string is null, not an empty map', async () => {
    await routed('/items/1');
    expect(lastEvent()).toMatchObject({ queryStringParameters: null, multiValueQueryStringParameters: null, body: null, isBase64Encoded: false });
  });

  test('a binary media type arrives base64-encoded with isBase64Encoded; text arrives as text', async () => {
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    await routed('/upload', { method: 'POST', headers: { 'content-type': 'image/png' }, body: bytes });
    expect(lastEvent()).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });

    await routed('/upload', { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"a":"é"}' });
    expect(lastEvent()).toMatchObject({ body: '{"a":"é"}', isBase64Encoded: false });
  });

  test('a request over 10 MB is 413 and never reaches the function', async () => {
    const response = await fetch(`${base}/items`, { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1, 'a') });
    expect(response.status).toBe(413);
    expect(calls).toHaveLength(0);
  });
});

describe('the Lambda proxy response', () => {
  test('an isBase64Encoded body is decoded for the client', async () => {
    const bytes = Buffer.from([137, 80, 78, 71, 0, 255]);
    answer = () => Promise.resolve(ok({ statusCode: 200, headers: { 'content-type': 'image/png' }, body: bytes.toString('base64'), isBase64Encoded: true }));
    const response = await fetch(`${base}/items/1`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
    expect(response.headers.get('content-type')).toBe('image/png');
  });

  test('status, headers and multiValueHeaders reach the client; a header in both maps is merged', async () => {
    answer = () => Promise.resolve(ok({
      statusCode: 201,
      headers: { 'x-single': '1', 'x-both': 'from-headers', 'x-same': 'v' },
      multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'], 'x-both': ['from-multi'], 'x-same': ['v'] },
      body: 'created',
    }));
    const response = await fetch(`${base}/items/1`);
    expect(response.status).toBe(201);
    expect(await response.text()).toBe('created');
    expect(response.headers.get('x-single')).toBe('1');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(response.headers.get('x-both')).toBe('from-multi, from-headers');
    expect(response.headers.get('x-same')).toBe('v');
  });

  test('a malformed proxy response, or a function error, is 502', async () => {
    const malformed: unknown[] = [null, 'text', { body: 'no status' }, { statusCode: '200', body: 'x' }, { statusCode: 200, body: { not: 'a string' } }];
    for (const payload of malformed) {
      answer = () => Promise.resolve(ok(payload));
      expect(await routed('/items/1')).toEqual({ status: 502, body: { message: 'Internal server error' } });
    }
    answer = () => Promise.resolve({ ok: false, errorType: 'TypeError', errorMessage: 'boom' });
    expect(await routed('/items/1')).toEqual({ status: 502, body: { message: 'Internal server error' } });
    expect(logged.join('\n')).toMatch(/TypeError: boom/);
  });

  test('a body that is null or absent is an empty response', async () => {
    answer = () => Promise.resolve(ok({ statusCode: 204 }));
    const response = await fetch(`${base}/items/1`);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });
});

describe('the caller\'s identity', () => {
  const identity = (value: string): RequestInit => ({ headers: { [LOCAL_IDENTITY_HEADER]: value } });

  test('NONE: no authorizer, the caller\'s address; the identity header is not passed on', async () => {
    await routed('/items/1', identity('ignored'));
    const event = lastEvent();
    expect(event.requestContext.authorizer).toBeNull();
    expect(event.requestContext.identity).toMatchObject({ sourceIp: '127.0.0.1', userArn: null });
    const names = [...Object.keys(event.headers), ...Object.keys(event.multiValueHeaders)].map((n) => n.toLowerCase());
    expect(names).not.toContain(LOCAL_IDENTITY_HEADER);
  });

  test('AWS_IAM: the caller as an ARN or as JSON becomes requestContext.identity', async () => {
    await routed('/iam', identity('arn:aws:iam::123456789012:user/alice'));
    expect(lastEvent().requestContext.identity).toMatchObject({
      userArn: 'arn:aws:iam::123456789012:user/alice',
      user: 'alice',
      caller: 'alice',
      accountId: '123456789012',
    });
    expect(lastEvent().requestContext.authorizer).toBeNull();

    await routed('/iam', identity(JSON.stringify({ userArn: 'arn:aws:sts::210987654321:assumed-role/ops/bob', caller: 'AROAEXAMPLE:bob' })));
    expect(lastEvent().requestContext.identity).toMatchObject({
      userArn: 'arn:aws:sts::210987654321:assumed-role/ops/bob',
      caller: 'AROAEXAMPLE:bob',
      accountId: '210987654321',
    });
    expect(Object.keys(lastEvent().headers).map((n) => n.toLowerCase())).not.toContain(LOCAL_IDENTITY_HEADER);
  });

  test('COGNITO_USER_POOLS: the claims, every value a string, as requestContext.authorizer.claims', async () => {
    await routed('/cognito', identity(JSON.stringify({ 'sub': 'alice', 'email_verified': true, 'cognito:groups': ['admin'], 'exp': 1700000000 })));
    expect(lastEvent().requestContext.authorizer).toEqual({
      claims: { 'sub': 'alice', 'email_verified': 'true', 'cognito:groups': '["admin"]', 'exp': '1700000000' },
    });
  });

  test('CUSTOM: the Lambda authorizer\'s context, as strings, with a principalId', async () => {
    await routed('/custom', identity(JSON.stringify({ principalId: 'alice', tenant: 't1', quota: 5 })));
    expect(lastEvent().requestContext.authorizer).toEqual({ principalId: 'alice', tenant: 't1', quota: '5' });
    await routed('/custom', identity(JSON.stringify({ tenant: 't2' })));
    expect(lastEvent().requestContext.authorizer).toEqual({ principalId: 'local', tenant: 't2' });
  });

  test('without the header: AWS_IAM is 403, a token authorizer 401, each with a hint; the function is not called', async () => {
    for (const [path, status, text] of [['/iam', 403, 'Missing Authentication Token'], ['/cognito', 401, 'Unauthorized'], ['/custom', 401, 'Unauthorized']] as const) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ message: text });
      expect(response.headers.get('x-local-runner')).toMatch(/send the x-local-identity header/);
    }
    expect(calls).toHaveLength(0);
  });

  test('a header that is not valid JSON is refused, saying so', async () => {
    const response = await fetch(`${base}/cognito`, identity('{not json'));
    expect(response.status).toBe(401);
    expect(response.headers.get('x-local-runner')).toMatch(/not valid JSON/);
    expect((await fetch(`${base}/custom`, identity('just-a-string'))).status).toBe(401);
    expect(calls).toHaveLength(0);
  });
});
