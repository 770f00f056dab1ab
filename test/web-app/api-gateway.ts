/**
 * API Gateway (REST API, stage `prod`, Lambda proxy integration) with a Cognito user pool
 * authorizer, in front of the real handler bundle, as CloudFront's `/api/*` origin reaches it:
 * - the path (already stripped of `/api` by the edge function) must be `/<resource>` or
 *   `/<resource>/{id}`; anything else gets API Gateway's 403 `Missing Authentication Token`;
 * - the authorizer: `Authorization` carries an access token (raw or `Bearer <token>`) whose
 *   signature (the provider's JWKS), issuer and expiry are valid - else 401
 *   `{"message":"Unauthorized"}` - and whose `scope` holds the method's scope - else 403;
 * - the handler gets a real `APIGatewayProxyEvent` (resource, pathParameters, headers and
 *   multiValueHeaders, query parameters, body, `requestContext.path` with the stage and
 *   `requestContext.authorizer.claims` with every claim as a string).
 * Test controls: `expireAccessTokensSeenSoFar()` (the next call with such a token gets 401, as
 * after expiry) and `failNextRequest(status)` (one injected failure, answered before the handler).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyHandler, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiGatewayEvent, lambdaContext } from '../helpers/api-gateway-events';

export interface ApiRequest {
  readonly method: string;
  /** The path after CloudFront's `/api` strip function, e.g. `/items/5f0c...`. */
  readonly path: string;
  /** The raw query string without `?`. */
  readonly query: string;
  /** Header names as the client sent them (from `rawHeaders`), with every value. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  readonly sourceIp: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: string | Buffer;
}

export interface ApiGatewayOptions {
  readonly handler: APIGatewayProxyHandler;
  readonly resourceName: string;
  /** The issuer the authorizer trusts (the user pool). */
  readonly issuer: string;
  readonly jwksUri: string;
  /** The method's authorization scope (`api/items`). */
  readonly requiredScope: string;
  readonly stage?: string;
}

/** The API Gateway resource a path matches, e.g. `/items/{id}` with `{ id }`. */
interface ApiRoute {
  readonly resource: string;
  readonly pathParameters: Record<string, string> | null;
}

// jose is ESM-only; this CommonJS file only names its types.
type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });

export class ApiGateway {
  /** jose is ESM-only: loaded here, in the tsx child process. */
  static async create(options: ApiGatewayOptions): Promise<ApiGateway> {
    return new ApiGateway(options, await import('jose'));
  }

  private readonly options: ApiGatewayOptions;
  private readonly jose: Jose;
  private readonly jwks: ReturnType<Jose['createRemoteJWKSet']>;
  /** Token ids (`jti`) the authorizer has accepted, and those it now treats as expired. */
  private readonly seenTokenIds = new Set<string>();
  private readonly expiredTokenIds = new Set<string>();
  private injectedFailure?: number;

  private constructor(options: ApiGatewayOptions, jose: Jose) {
    this.options = options;
    this.jose = jose;
    this.jwks = jose.createRemoteJWKSet(new URL(options.jwksUri));
  }

  /** From now on every access token used so far is refused with 401, as once it has expired. */
  expireAccessTokensSeenSoFar(): number {
    for (const id of this.seenTokenIds) this.expiredTokenIds.add(id);
    return this.seenTokenIds.size;
  }

  /** The next request (after authorization) gets `status` instead of reaching the handler. */
  failNextRequest(status: number): void {
    this.injectedFailure = status;
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const route = this.route(request.path);
    if (route === undefined) return gatewayError(403, 'Missing Authentication Token');

    const authorization = lastHeader(request.headers, 'authorization');
    const token = authorization?.replace(/^Bearer\s+/i, '');
    if (token === undefined || token === '') return gatewayError(401, 'Unauthorized');
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await this.jose.jwtVerify(token, this.jwks, { issuer: this.options.issuer, algorithms: ['RS256'] }));
    } catch {
      return gatewayError(401, 'Unauthorized');
    }
    const tokenId = typeof claims.jti === 'string' ? claims.jti : token;
    if (this.expiredTokenIds.has(tokenId)) return gatewayError(401, 'Unauthorized');
    this.seenTokenIds.add(tokenId);
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.includes(this.options.requiredScope)) return gatewayError(403, 'Forbidden');

    if (this.injectedFailure !== undefined) {
      const status = this.injectedFailure;
      this.injectedFailure = undefined;
      // Shaped like the handler's own 503 (DynamoDB throttled or timed out).
      const body = { error: 'ServiceUnavailable', message: 'The service is temporarily unavailable; retry shortly', requestId: 'injected-failure' };
      return json(status, body, { 'retry-after': '1' });
    }

    const event = this.event(request, route, claims);
    const result = await this.options.handler(event, this.context(), () => undefined);
    if (result === undefined) return gatewayError(502, 'Internal server error');
    return fromProxyResult(result, event.requestContext.requestId);
  }

  private route(path: string): ApiRoute | undefined {
    const name = this.options.resourceName;
    if (path === `/${name}`) return { resource: `/${name}`, pathParameters: null };
    const match = new RegExp(`^/${name}/([^/]+)$`).exec(path);
    if (match === null) return undefined;
    let id: string;
    try {
      id = decodeURIComponent(match[1]);
    } catch {
      return undefined;
    }
    return { resource: `/${name}/{id}`, pathParameters: { id } };
  }

  private event(request: ApiRequest, route: ApiRoute, claims: Record<string, unknown>): APIGatewayProxyEvent {
    // Header names as sent; the origin (API Gateway) sees CloudFront's Host, not the viewer's.
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [name, value] of request.headers) {
      if (/^(host|connection|keep-alive)$/i.test(name)) continue;
      headers[name] = value;
      (multiValueHeaders[name] ??= []).push(value);
    }
    const apiHost = 'abc123defg.execute-api.us-east-1.amazonaws.com';
    Object.assign(headers, { 'Host': apiHost, 'X-Forwarded-For': request.sourceIp, 'X-Forwarded-Proto': 'https' });
    Object.assign(multiValueHeaders, { 'Host': [apiHost], 'X-Forwarded-For': [request.sourceIp], 'X-Forwarded-Proto': ['https'] });

    const query: Record<string, string[]> = {};
    for (const [name, value] of new URLSearchParams(request.query)) (query[name] ??= []).push(value);

    const event = apiGatewayEvent({
      method: request.method,
      resource: route.resource,
      path: request.path,
      pathParameters: route.pathParameters,
      query,
      body: request.body.length === 0 ? null : request.body.toString('utf8'),
      stage: this.options.stage ?? 'prod',
      overrides: { headers, multiValueHeaders },
    });
    const userAgent = headers['user-agent'] ?? headers['User-Agent'] ?? null;
    return {
      ...event,
      requestContext: {
        ...event.requestContext,
        identity: { ...event.requestContext.identity, sourceIp: request.sourceIp, userAgent: userAgent ?? '' },
        // The Cognito authorizer hands every claim to the integration as a string.
        authorizer: { claims: Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, Array.isArray(v) ? v.join(' ') : String(v)])) },
      },
    };
  }

  private context(): Context {
    return lambdaContext({ functionName: 'web-app-items-api', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:web-app-items-api' });
  }
}

function lastHeader(headers: ApiRequest['headers'], name: string): string | undefined {
  let found: string | undefined;
  for (const [key, value] of headers) if (key.toLowerCase() === name) found = value;
  return found;
}

/** API Gateway's own answers (authorizer, unknown route): `{"message": ...}`. */
function gatewayError(status: number, message: string): ApiResponse {
  return json(status, { message }, { 'x-amzn-errortype': status === 401 ? 'UnauthorizedException' : status === 403 ? 'AccessDeniedException' : 'InternalServerErrorException' });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function fromProxyResult(result: APIGatewayProxyResult, requestId: string): ApiResponse {
  const headers: Record<string, string | string[]> = { 'x-amzn-requestid': requestId };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name.toLowerCase()] = values.map(String);
  headers['content-type'] ??= 'application/json';
  const body = result.isBase64Encoded === true ? Buffer.from(result.body, 'base64') : result.body;
  return { status: result.statusCode, headers, body };
}

/** Headers as node received them, name by name, for `ApiRequest.headers`. */
export function rawHeaderPairs(rawHeaders: readonly string[]): Array<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i], rawHeaders[i + 1]]);
  return pairs;
}
