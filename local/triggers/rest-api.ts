/**
 * API Gateway REST APIs over local HTTP: each `AWS::ApiGateway::RestApi` of the template is served
 * on its own port under its stage's name (`http://127.0.0.1:3000/prod/items`, as the deployed
 * invoke URL has `/prod`), with its resources, methods, stage variables, Lambda proxy
 * integrations (payload format 1.0), mock integrations and binary media types.
 *
 * Nothing is authenticated locally. A method with an authorizer takes the caller from the
 * `x-local-identity` header instead (see `LOCAL_IDENTITY_HEADER`); without it the call is refused
 * as API Gateway refuses an unauthenticated one. Not emulated: request validators and models,
 * API keys and usage plans, throttling, WAF, gateway responses, non-proxy AWS/HTTP integrations.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { InvokeOutcome } from '../functions';
import type { LocalTemplate } from '../template';

/**
 * The header that stands in for an authorizer's result. Its value is JSON:
 * - Cognito user pool authorizer: the token's claims, e.g. `{"sub":"alice","email":"a@example.com"}`
 *   (given to the function as `requestContext.authorizer.claims`);
 * - Lambda authorizer: the authorizer's context, e.g. `{"principalId":"alice","tenant":"t1"}`
 *   (given as `requestContext.authorizer`);
 * - AWS IAM: the caller, e.g. `{"userArn":"arn:aws:iam::123456789012:user/alice"}` or just that ARN
 *   (given as `requestContext.identity`).
 */
export const LOCAL_IDENTITY_HEADER = 'x-local-identity';

/** API Gateway's own limit on a request's payload. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** API Gateway's default integration timeout. */
const DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000;

export interface RestMethod {
  readonly logicalId: string;
  readonly httpMethod: string;
  readonly authorizationType: string;
  readonly integration: {
    readonly type: string;
    /** The Lambda function ARN for AWS_PROXY (may hold `${stageVariables.x}`). */
    readonly functionArn?: string;
    readonly timeoutMs: number;
    readonly mockResponse?: { readonly statusCode: number; readonly headers: Record<string, string>; readonly body: string };
  };
}

export interface RestResource {
  readonly id: string;
  /** The resource path template, e.g. `/items/{id}`. */
  readonly path: string;
  readonly methods: RestMethod[];
}

export interface RestApiModel {
  readonly logicalId: string;
  readonly apiId: string;
  readonly name: string;
  readonly stageName: string;
  readonly stageVariables: Record<string, string>;
  readonly binaryMediaTypes: string[];
  readonly resources: RestResource[];
}

const LAMBDA_PATH = ':lambda:path/2015-03-31/functions/';

/** The REST APIs of a template, with every resource's full path and its methods. */
export function restApisOf(template: LocalTemplate): RestApiModel[] {
  const models: RestApiModel[] = [];
  for (const [apiLogicalId] of template.resources('AWS::ApiGateway::RestApi')) {
    const apiId = template.ref(apiLogicalId);
    const rootId = String(template.getAtt(apiLogicalId, 'RootResourceId'));
    const api = template.properties(apiLogicalId);
    const paths = new Map<string, string>([[rootId, '/']]);
    const pending = template.resources('AWS::ApiGateway::Resource').filter(([id]) => template.properties(id).RestApiId === apiId);
    // Parents first: resolve paths until every resource has one.
    for (let progress = true; progress;) {
      progress = false;
      for (const [logicalId] of pending) {
        const id = template.ref(logicalId);
        if (paths.has(id)) continue;
        const props = template.properties(logicalId);
        const parent = paths.get(String(props.ParentId));
        if (parent === undefined) continue;
        paths.set(id, `${parent === '/' ? '' : parent}/${String(props.PathPart)}`);
        progress = true;
      }
    }
    const resources = new Map<string, RestResource>([...paths].map(([id, path]) => [id, { id, path, methods: [] }]));
    for (const [logicalId] of template.resources('AWS::ApiGateway::Method')) {
      const props = template.properties(logicalId);
      if (props.RestApiId !== apiId) continue;
      const resource = resources.get(String(props.ResourceId));
      if (resource === undefined) continue;
      resource.methods.push(methodOf(logicalId, props));
    }
    const stage = template.resources('AWS::ApiGateway::Stage').map(([id]) => template.properties(id)).find((s) => s.RestApiId === apiId);
    models.push({
      logicalId: apiLogicalId,
      apiId,
      name: String(api.Name ?? apiLogicalId),
      stageName: String(stage?.StageName ?? 'prod'),
      stageVariables: (stage?.Variables ?? {}) as Record<string, string>,
      binaryMediaTypes: (api.BinaryMediaTypes ?? []) as string[],
      resources: [...resources.values()],
    });
  }
  return models;
}

function methodOf(logicalId: string, props: Record<string, unknown>): RestMethod {
  const integration = (props.Integration ?? {}) as Record<string, unknown>;
  const type = String(integration.Type ?? 'MOCK');
  const uri = typeof integration.Uri === 'string' ? integration.Uri : '';
  let functionArn: string | undefined;
  if (type === 'AWS_PROXY' && uri.includes(LAMBDA_PATH)) {
    functionArn = uri.slice(uri.indexOf(LAMBDA_PATH) + LAMBDA_PATH.length).replace(/\/invocations$/, '');
  }
  let mockResponse: RestMethod['integration']['mockResponse'];
  if (type === 'MOCK') {
    const first = ((integration.IntegrationResponses ?? []) as Array<Record<string, unknown>>)[0] ?? {};
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries((first.ResponseParameters ?? {}) as Record<string, string>)) {
      const prefix = 'method.response.header.';
      if (key.startsWith(prefix)) headers[key.slice(prefix.length)] = String(value).replace(/^'(.*)'$/s, '$1');
    }
    const templates = (first.ResponseTemplates ?? {}) as Record<string, string>;
    mockResponse = { statusCode: Number(first.StatusCode ?? 200), headers, body: templates['application/json'] ?? '' };
  }
  return {
    logicalId,
    httpMethod: String(props.HttpMethod ?? 'ANY').toUpperCase(),
    authorizationType: String(props.AuthorizationType ?? 'NONE'),
    integration: { type, functionArn, timeoutMs: Number(integration.TimeoutInMillis ?? DEFAULT_INTEGRATION_TIMEOUT_MS), mockResponse },
  };
}

/** A Lambda proxy integration's answer, as the function returned it (unchecked). */
interface ProxyResult {
  readonly statusCode?: unknown;
  readonly headers?: Record<string, unknown>;
  readonly multiValueHeaders?: Record<string, unknown[]>;
  readonly body?: unknown;
  readonly isBase64Encoded?: unknown;
}

interface RouteMatch {
  readonly resource: RestResource;
  readonly method: RestMethod;
  readonly pathParameters: Record<string, string> | null;
}

/** The resource a path matches, preferring literal segments over `{param}` over `{proxy+}`, as API Gateway does. */
export function matchRoute(model: RestApiModel, path: string, httpMethod: string): RouteMatch | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  let best: { score: number[]; match: RouteMatch } | undefined;
  for (const resource of model.resources) {
    const template = resource.path.split('/').filter((s) => s !== '');
    const params: Record<string, string> = {};
    const score: number[] = [];
    let ok = true;
    for (let i = 0; i < template.length && ok; i++) {
      const part = template[i]!;
      const greedy = /^\{(.+)\+\}$/.exec(part);
      if (greedy !== null) {
        if (i !== template.length - 1 || segments.length <= i) {ok = false;} else {
          params[greedy[1]!] = segments.slice(i).map(decodeURIComponent).join('/');
          score.push(0);
        }
        break;
      }
      const segment = segments[i];
      if (segment === undefined) {ok = false;} else if (/^\{.+\}$/.test(part)) {
        params[part.slice(1, -1)] = decodeURIComponent(segment);
        score.push(1);
      } else if (part === segment) {score.push(2);} else {ok = false;}
    }
    const greedyEnd = template.length > 0 && /^\{.+\+\}$/.test(template[template.length - 1]!);
    if (!ok || (!greedyEnd && template.length !== segments.length)) continue;
    const method = resource.methods.find((m) => m.httpMethod === httpMethod) ?? resource.methods.find((m) => m.httpMethod === 'ANY');
    if (method === undefined) continue;
    const better = best === undefined || compareScores(score, best.score) > 0;
    if (better) best = { score, match: { resource, method, pathParameters: Object.keys(params).length > 0 ? params : null } };
  }
  return best?.match;
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? -1) - (b[i] ?? -1);
    if (diff !== 0) return diff;
  }
  return 0;
}

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers, 'x-amzn-requestid': randomUUID() });
  res.end(body);
}

const message = (text: string): string => JSON.stringify({ message: text });

/** `requestContext.identity` of a caller no authorizer or IAM signature identified. */
export function anonymousIdentity(sourceIp: string, userAgent: string | null): APIGatewayProxyEvent['requestContext']['identity'] {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent,
    userArn: null,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.requestTime` as API Gateway writes it: CLF, `04/Dec/2026:04:50:01 +0000`. */
export function commonLogFormat(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

function readLimited(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_PAYLOAD_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isBinary(model: RestApiModel, contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return model.binaryMediaTypes.some((pattern) => {
    const p = pattern.toLowerCase();
    if (p === '*/*') return true;
    if (p.endsWith('/*')) return type.startsWith(p.slice(0, -1));
    return p === type;
  });
}

/** Who the caller is, from the local identity header; `undefined` when the method needs one and none was sent. */
function authorizerContext(method: RestMethod, header: string | undefined):
  { authorizer: Record<string, unknown> | null; identity: Record<string, string | null> } | 'missing' | 'invalid' {
  if (method.authorizationType === 'NONE') return { authorizer: null, identity: {} };
  if (header === undefined || header === '') return 'missing';
  let value: unknown = header;
  if (header.trim().startsWith('{')) {
    try {
      value = JSON.parse(header);
    } catch {
      return 'invalid';
    }
  }
  if (method.authorizationType === 'AWS_IAM') {
    const fields = typeof value === 'string' ? { userArn: value } : (value as Record<string, unknown>);
    const userArn = String(fields.userArn ?? '');
    return {
      authorizer: null,
      identity: {
        userArn,
        user: String(fields.user ?? userArn.split('/').pop() ?? ''),
        caller: String(fields.caller ?? userArn.split('/').pop() ?? ''),
        accountId: String(fields.accountId ?? userArn.split(':')[4] ?? ''),
        accessKey: 'ASIALOCALRUNNER00000',
      },
    };
  }
  if (typeof value !== 'object' || value === null) return 'invalid';
  // API Gateway hands a Cognito authorizer's claims and a Lambda authorizer's context over as strings.
  const strings = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  if (method.authorizationType === 'COGNITO_USER_POOLS') return { authorizer: { claims: strings }, identity: {} };
  return { authorizer: { principalId: strings.principalId ?? 'local', ...strings }, identity: {} };
}

export interface ServeRestApiOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Invokes a function by (possibly qualified) ARN; `undefined` when the stack has no such function. */
  readonly invoke: (functionArn: string, event: APIGatewayProxyEvent) => Promise<InvokeOutcome> | undefined;
  readonly log: (line: string) => void;
}

export interface ServedRestApi {
  readonly model: RestApiModel;
  /** The base URL, stage included, e.g. `http://127.0.0.1:3000/prod`. */
  readonly url: string;
  stop(): Promise<void>;
}

export async function serveRestApi(model: RestApiModel, options: ServeRestApiOptions): Promise<ServedRestApi> {
  const server: Server = createServer((req, res) => {
    void handle(model, options, req, res).catch((error: unknown) => {
      options.log(`${model.name}: ${String(error)}`);
      if (!res.headersSent) send(res, 500, message('Internal server error'));
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    model,
    url: `http://${host}:${port}/${model.stageName}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function handle(model: RestApiModel, options: ServeRestApiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const stagePrefix = `/${model.stageName}`;
  if (url.pathname !== stagePrefix && !url.pathname.startsWith(`${stagePrefix}/`)) {
    return send(res, 403, message(`Missing Authentication Token (the local API is served under ${stagePrefix}/)`));
  }
  const path = url.pathname.slice(stagePrefix.length) || '/';
  const httpMethod = (req.method ?? 'GET').toUpperCase();
  const route = matchRoute(model, path, httpMethod);
  if (route === undefined) return send(res, 403, message('Missing Authentication Token'));
  const body = await readLimited(req);
  if (body === undefined) return send(res, 413, message('Request Too Long'));

  const identityHeader = req.headers[LOCAL_IDENTITY_HEADER];
  const auth = authorizerContext(route.method, Array.isArray(identityHeader) ? identityHeader[0] : identityHeader);
  if (auth === 'missing' || auth === 'invalid') {
    const status = route.method.authorizationType === 'AWS_IAM' ? 403 : 401;
    const reason = auth === 'missing' ? `send the ${LOCAL_IDENTITY_HEADER} header: nothing is authenticated locally` : `${LOCAL_IDENTITY_HEADER} is not valid JSON`;
    return send(res, status, message(status === 403 ? 'Missing Authentication Token' : 'Unauthorized'), { 'x-local-runner': reason });
  }

  const integration = route.method.integration;
  if (integration.type === 'MOCK') {
    const mock = integration.mockResponse!;
    return send(res, mock.statusCode, mock.body, mock.headers);
  }
  if (integration.functionArn === undefined) {
    return send(res, 500, message(`Internal server error (the local runner does not emulate ${integration.type} integrations)`));
  }
  const functionArn = integration.functionArn.replace(/\$\{stageVariables\.([^}]+)\}/g, (_, name: string) => model.stageVariables[name] ?? '');

  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.toLowerCase() === LOCAL_IDENTITY_HEADER) continue;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const binary = isBinary(model, req.headers['content-type']);
  const now = new Date();
  const requestId = randomUUID();
  const event: APIGatewayProxyEvent = {
    resource: route.resource.path,
    path,
    httpMethod,
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length > 0 ? multiQuery : null,
    pathParameters: route.pathParameters,
    stageVariables: Object.keys(model.stageVariables).length > 0 ? model.stageVariables : null,
    body: body.length === 0 ? null : binary ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: binary && body.length > 0,
    requestContext: {
      accountId: '123456789012',
      apiId: model.apiId,
      authorizer: auth.authorizer,
      domainName: req.headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      extendedRequestId: requestId,
      httpMethod,
      identity: {
        ...anonymousIdentity(req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', req.headers['user-agent'] ?? null),
        ...auth.identity,
      },
      path: url.pathname,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTime: commonLogFormat(now),
      requestTimeEpoch: now.getTime(),
      resourceId: route.resource.id,
      resourcePath: route.resource.path,
      stage: model.stageName,
    },
  };

  const invocation = options.invoke(functionArn, event);
  if (invocation === undefined) return send(res, 500, message(`Internal server error (no function ${functionArn} in the stack)`));
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    invocation,
    new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), integration.timeoutMs); }),
  ]);
  clearTimeout(timer);
  if (outcome === 'timeout') return send(res, 504, message('Endpoint request timed out'));
  if (!outcome.ok) {
    options.log(`${model.name} ${httpMethod} ${path}: the function failed (${outcome.errorType}: ${outcome.errorMessage})`);
    return send(res, 502, message('Internal server error'));
  }
  const result = outcome.payload as ProxyResult | null;
  if (result === null || typeof result !== 'object' || typeof result.statusCode !== 'number') {
    options.log(`${model.name} ${httpMethod} ${path}: malformed Lambda proxy response (no numeric statusCode)`);
    return send(res, 502, message('Internal server error'));
  }
  if (result.body !== undefined && result.body !== null && typeof result.body !== 'string') {
    options.log(`${model.name} ${httpMethod} ${path}: malformed Lambda proxy response (the body is a ${typeof result.body}, not a string)`);
    return send(res, 502, message('Internal server error'));
  }
  // API Gateway merges `headers` into `multiValueHeaders`; a pair given in both appears once.
  const responseHeaders: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) responseHeaders[name] = values.map(String);
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    const values = (responseHeaders[name] ??= []);
    if (!values.includes(String(value))) values.push(String(value));
  }
  const responseBody = typeof result.body === 'string'
    ? (result.isBase64Encoded === true ? Buffer.from(result.body, 'base64') : result.body)
    : '';
  res.writeHead(result.statusCode, { 'x-amzn-requestid': requestId, ...responseHeaders });
  res.end(responseBody);
}
