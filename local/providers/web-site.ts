/**
 * The template's CloudFront distributions as local HTTP servers, one port each, serving what the
 * stack deploys:
 * - S3 origins: the files the bucket's `Custom::CDKBucketDeployment`s copy into it (CDK's Python
 *   function does not run locally), read from the assembly's assets (a folder or a zip file), with
 *   their key prefix, deploy-time markers, exclusions, pruning and system metadata;
 * - API Gateway origins: proxied to the local REST API (`RestApiProvider`) of the same API;
 * - cache behaviours by path pattern and method, their viewer-request CloudFront Functions (the
 *   template's code, in a fresh V8 context), the default root object and custom error responses.
 * A web application's `/config.json` (lib/web-app/runtime-config.ts) is rewritten for the local
 * site: the API where the local site serves it, and the sign-in endpoints, which Cognito would
 * serve, pointed at a local page that says sign-in is not emulated.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { inflateRawSync } from 'node:zlib';
import type { WebAppRuntimeConfig } from '../../lib/web-app/runtime-config';
import { closeServer } from '../engines/loopback';
import type { Provider, RunContext } from '../provider';
import type { RestApiProvider } from './rest-api';

const BUCKET_DEPLOYMENT = 'Custom::CDKBucketDeployment';
const DISTRIBUTION = 'AWS::CloudFront::Distribution';
const CLOUDFRONT_FUNCTION = 'AWS::CloudFront::Function';
/** Where the local site answers for the sign-in service of a web application's config.json. */
export const LOCAL_SIGN_IN_PATH = '/local-runner/cognito';
const MARKER = /<<marker:0x[0-9a-f]+:\d+>>/g;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
};

/** One object of a local bucket. */
interface SiteObject {
  readonly headers: Record<string, string>;
  body(): Buffer;
}

/** A CloudFront (or S3 sync) pattern: `*` any characters, `/` included; `?` one. */
function patternRegExp(pattern: string): RegExp {
  const body = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.+()[\]{}|]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}

// ---------------------------------------------------------------- asset contents

/** The files of a zip archive (stored or deflated entries; no ZIP64), by path. */
export function readZip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  const endOfDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOfDirectory < 0) throw new Error(`${file} is not a zip archive`);
  const count = zip.readUInt16LE(endOfDirectory + 10);
  let entry = zip.readUInt32LE(endOfDirectory + 16);
  if (count === 0xffff || entry === 0xffffffff) throw new Error(`${file} is a ZIP64 archive, which the local runner does not read`);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(entry) !== 0x02014b50) throw new Error(`${file}: damaged central directory`);
    const method = zip.readUInt16LE(entry + 10);
    const compressedSize = zip.readUInt32LE(entry + 20);
    const nameLength = zip.readUInt16LE(entry + 28);
    const next = entry + 46 + nameLength + zip.readUInt16LE(entry + 30) + zip.readUInt16LE(entry + 32);
    const name = zip.subarray(entry + 46, entry + 46 + nameLength).toString('utf8');
    const local = zip.readUInt32LE(entry + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressedSize);
    if (!name.endsWith('/')) {
      if (method === 0) files.set(name, Buffer.from(data));
      else if (method === 8) files.set(name, inflateRawSync(data));
      else throw new Error(`${file}: ${name} uses compression method ${method}, which the local runner does not read`);
    }
    entry = next;
  }
  return files;
}

/** The files of an asset folder, by path relative to it (with `/`), read when asked for. */
function readFolder(dir: string, prefix = '', files = new Map<string, () => Buffer>()): Map<string, () => Buffer> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) readFolder(path, `${prefix}${name}/`, files);
    else files.set(`${prefix}${name}`, () => readFileSync(path));
  }
  return files;
}

/** The files of an asset as BucketDeployment unpacks them: a folder's contents, or a zip file's. */
function assetFiles(path: string): Map<string, () => Buffer> {
  if (statSync(path).isDirectory()) return readFolder(path);
  const files = readZip(path);
  return new Map([...files].map(([name, data]) => [name, () => data]));
}

/**
 * What a bucket deployment puts into its bucket, applied to `bucket` as its function does:
 * unpack each source, replace its markers, `aws s3 sync` into the key prefix (Exclude and
 * Include filter both the copy and the pruning), and set the system metadata.
 */
function applyBucketDeployment(
  props: Record<string, unknown>, bucket: Map<string, SiteObject>, assetPath: (objectKey: string) => string | undefined,
): number {
  const prefix = String(props.DestinationBucketKeyPrefix ?? '');
  const excludes = ((props.Exclude ?? []) as string[]).map(patternRegExp);
  const includes = ((props.Include ?? []) as string[]).map(patternRegExp);
  const filtered = (key: string): boolean => excludes.some((e) => e.test(key)) && !includes.some((i) => i.test(key));
  const metadata = (props.SystemMetadata ?? {}) as Record<string, string>;
  const markerSets = (props.SourceMarkers ?? []) as Array<Record<string, unknown>>;
  const markerConfigs = (props.SourceMarkersConfig ?? []) as Array<{ jsonEscape?: unknown }>;
  const copied = new Set<string>();
  ((props.SourceObjectKeys ?? []) as string[]).forEach((objectKey, index) => {
    const path = assetPath(objectKey);
    if (path === undefined || !existsSync(path)) throw new Error(`bucket deployment source ${objectKey} is not an asset of this assembly`);
    const markers = Object.entries(markerSets[index] ?? {}).map(([marker, value]) => {
      const text = String(value);
      const jsonEscape = markerConfigs[index]?.jsonEscape === true || markerConfigs[index]?.jsonEscape === 'true';
      return [marker, jsonEscape ? JSON.stringify(text).slice(1, -1) : text];
    });
    const values = new Map(markers as Array<[string, string]>);
    for (const [name, read] of assetFiles(path)) {
      if (filtered(name)) continue;
      let body = read;
      if (values.size > 0) {
        const data = read();
        const replaced = data.includes('<<marker:') ? Buffer.from(data.toString('utf8').replace(MARKER, (m) => values.get(m) ?? m)) : data;
        body = () => replaced;
      }
      const key = `${prefix}${name}`;
      copied.add(key);
      bucket.set(key, {
        body,
        headers: { 'content-type': metadata['content-type'] ?? CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream', ...lowerKeys(metadata) },
      });
    }
  });
  if (props.Prune !== false && props.Prune !== 'false') {
    for (const key of [...bucket.keys()]) {
      if (key.startsWith(prefix) && !copied.has(key) && !filtered(key.slice(prefix.length))) bucket.delete(key);
    }
  }
  return copied.size;
}

function lowerKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

// ---------------------------------------------------------------- CloudFront functions

interface CloudFrontValue { value: string; multiValue?: Array<{ value: string }> }
interface CloudFrontRequest {
  method: string;
  uri: string;
  querystring: Record<string, CloudFrontValue>;
  headers: Record<string, CloudFrontValue>;
  cookies: Record<string, CloudFrontValue>;
}
interface CloudFrontResponse {
  statusCode: number;
  statusDescription?: string;
  headers?: Record<string, CloudFrontValue>;
  body?: string | { data: string; encoding?: string };
}
type ViewerRequestFunction = (event: unknown) => CloudFrontRequest | CloudFrontResponse | Promise<CloudFrontRequest | CloudFrontResponse>;

function grouped(pairs: Array<[string, string]>): Record<string, CloudFrontValue> {
  const out: Record<string, CloudFrontValue> = {};
  for (const [name, value] of pairs) {
    const existing = out[name];
    if (existing === undefined) out[name] = { value };
    else existing.multiValue = [...(existing.multiValue ?? [{ value: existing.value }]), { value }];
  }
  return out;
}

function flattened(values: Record<string, CloudFrontValue> | undefined): Array<[string, string]> {
  return Object.entries(values ?? {}).flatMap(([name, v]) => (v.multiValue ?? [{ value: v.value }]).map((m): [string, string] => [name, m.value]));
}

/** The viewer's request as a CloudFront Functions event sees it (query values as sent, header names in lower case). */
function cloudFrontRequest(req: IncomingMessage): CloudFrontRequest {
  const raw = req.url ?? '/';
  const question = raw.indexOf('?');
  const query = question < 0 ? '' : raw.slice(question + 1);
  const headers: Array<[string, string]> = [];
  const cookies: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      for (const part of value.split(';')) {
        const eq = part.indexOf('=');
        if (part.trim() !== '') cookies.push([(eq < 0 ? part : part.slice(0, eq)).trim(), eq < 0 ? '' : part.slice(eq + 1).trim()]);
      }
    } else {
      headers.push([name, value]);
    }
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    uri: question < 0 ? raw : raw.slice(0, question),
    querystring: grouped(query === '' ? [] : query.split('&').map((p): [string, string] => {
      const eq = p.indexOf('=');
      return eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
    })),
    headers: grouped(headers),
    cookies: grouped(cookies),
  };
}

// ---------------------------------------------------------------- the distribution

interface Origin {
  readonly id: string;
  readonly kind: 'bucket' | 'api' | 'other';
  readonly bucket?: Map<string, SiteObject>;
  readonly bucketId?: string;
  /** The local REST API's stage URL, for an API Gateway origin. */
  readonly apiUrl?: string;
  readonly apiName?: string;
  readonly path: string;
  readonly headers: Array<[string, string]>;
  readonly domainName: string;
}

interface Behaviour {
  readonly pattern?: RegExp;
  readonly pathPattern: string;
  readonly origin: Origin;
  readonly allowedMethods: readonly string[];
  readonly viewerRequest?: ViewerRequestFunction;
}

interface ErrorResponse { readonly errorCode: number; readonly responseCode: number; readonly pagePath?: string }

export interface ServedSite {
  /** The distribution's logical id. */
  readonly logicalId: string;
  /** e.g. `http://127.0.0.1:8080` (no trailing slash). */
  readonly url: string;
  stop(): Promise<void>;
}

export interface WebSiteProviderOptions {
  /** Where the REST APIs are served: API Gateway origins are proxied to them. */
  readonly restApis: Pick<RestApiProvider, 'apis'>;
  /** The first distribution's port; the next take the ports after it. 0 picks free ports. @default 0 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

export class WebSiteProvider implements Provider {
  public readonly name = 'CloudFront';
  public readonly sites: ServedSite[] = [];

  constructor(private readonly options: WebSiteProviderOptions) {}

  public async connect(context: RunContext): Promise<void> {
    const { template } = context;
    const buckets = this.deployBuckets(context);
    let nextPort = this.options.port ?? 0;
    const served = new Set<string>();
    for (const [logicalId] of template.resources(DISTRIBUTION)) {
      const site = await this.serveDistribution(context, logicalId, buckets, nextPort, served);
      this.sites.push(site);
      context.onStop(() => site.stop());
      if (nextPort !== 0) nextPort++;
    }
    for (const [bucketId] of buckets) {
      if (!served.has(bucketId)) context.notEmulated(`bucket ${template.ref(bucketId)}: its deployed files are not served (no CloudFront distribution has it as an origin)`);
    }
  }

  /** Every bucket's files, as the stack's bucket deployments leave them, by bucket logical id. */
  private deployBuckets(context: RunContext): Map<string, Map<string, SiteObject>> {
    const { template, stack } = context;
    const deployments = template.resources(BUCKET_DEPLOYMENT).map(([id]) => id);
    // A deployment runs after those it depends on (pruning may remove their files otherwise).
    const ordered: string[] = [];
    const visit = (id: string, path: string[] = []): void => {
      if (ordered.includes(id) || path.includes(id)) return;
      const dependsOn = [template.resource(id).DependsOn ?? []].flat();
      for (const dependency of dependsOn) if (deployments.includes(dependency)) visit(dependency, [...path, id]);
      ordered.push(id);
    };
    deployments.forEach((id) => visit(id));
    const buckets = new Map<string, Map<string, SiteObject>>();
    for (const id of ordered) {
      const props = template.properties(id);
      const bucketName = String(props.DestinationBucketName);
      const bucketId = template.logicalIdOf(bucketName);
      if (bucketId === undefined) {
        context.notEmulated(`bucket deployment ${id}: its bucket ${bucketName} is not in the stack`);
        continue;
      }
      if (props.Extract === false || props.Extract === 'false') {
        context.notEmulated(`bucket deployment ${id}: files deployed without extracting (Extract: false) are not served`);
        continue;
      }
      const bucket = buckets.get(bucketId) ?? new Map<string, SiteObject>();
      buckets.set(bucketId, bucket);
      const count = applyBucketDeployment(props, bucket, (key) => stack.assetPathOfObjectKey(key));
      context.report(`files    ${count} from bucket deployment ${id} into bucket ${bucketName} (from the assembly; nothing is uploaded)`);
    }
    return buckets;
  }

  private async serveDistribution(context: RunContext, logicalId: string, buckets: Map<string, Map<string, SiteObject>>, port: number,
    served: Set<string>): Promise<ServedSite> {
    const { template } = context;
    const config = (template.properties(logicalId).DistributionConfig ?? {}) as Record<string, unknown>;
    const origins = new Map<string, Origin>();
    for (const origin of (config.Origins ?? []) as Array<Record<string, unknown>>) {
      const resolved = this.originOf(context, origin, buckets);
      origins.set(resolved.id, resolved);
      if (resolved.bucketId !== undefined) served.add(resolved.bucketId);
    }
    const functions = this.viewerRequestFunctions(context);
    const behaviourOf = (raw: Record<string, unknown>, isDefault: boolean): Behaviour => {
      const origin = origins.get(String(raw.TargetOriginId));
      if (origin === undefined) throw new Error(`distribution ${logicalId}: no origin ${String(raw.TargetOriginId)}`);
      const associations = (raw.FunctionAssociations ?? []) as Array<{ EventType?: string; FunctionARN?: string }>;
      for (const a of associations.filter((f) => f.EventType !== 'viewer-request')) {
        context.notEmulated(`distribution ${logicalId}: its ${String(a.EventType)} function ${String(a.FunctionARN)} does not run`);
      }
      if (((raw.LambdaFunctionAssociations ?? []) as unknown[]).length > 0) {
        context.notEmulated(`distribution ${logicalId}: Lambda@Edge functions do not run`);
      }
      const viewerRequest = associations.find((f) => f.EventType === 'viewer-request');
      const pathPattern = isDefault ? '*' : String(raw.PathPattern);
      return {
        pattern: isDefault ? undefined : patternRegExp(pathPattern.startsWith('/') ? pathPattern : `/${pathPattern}`),
        pathPattern,
        origin,
        allowedMethods: ((raw.AllowedMethods ?? ['GET', 'HEAD']) as string[]).map((m) => m.toUpperCase()),
        viewerRequest: viewerRequest === undefined ? undefined : functions.get(String(viewerRequest.FunctionARN)),
      };
    };
    const behaviours = [
      ...((config.CacheBehaviors ?? []) as Array<Record<string, unknown>>).map((b) => behaviourOf(b, false)),
      behaviourOf((config.DefaultCacheBehavior ?? {}) as Record<string, unknown>, true),
    ];
    const errorResponses: ErrorResponse[] = ((config.CustomErrorResponses ?? []) as Array<Record<string, unknown>>).map((e) => ({
      errorCode: Number(e.ErrorCode),
      responseCode: Number(e.ResponseCode ?? e.ErrorCode),
      pagePath: e.ResponsePagePath === undefined ? undefined : String(e.ResponsePagePath),
    }));
    const site = { logicalId, url: '', behaviours, errorResponses, defaultRootObject: config.DefaultRootObject === undefined ? undefined : String(config.DefaultRootObject) };

    const server: Server = createServer((req, res) => {
      void this.handle(site, req, res).catch((error: unknown) => {
        context.log(`distribution ${logicalId}: ${String(error)}`);
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('502 Bad Gateway (local runner)');
      });
    });
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const url = `http://${host}:${(server.address() as AddressInfo).port}`;
    site.url = url;
    for (const origin of origins.values()) if (origin.bucket !== undefined) this.localizeRuntimeConfig(context, origin, behaviours, url);

    const routes = behaviours.map((b) => `${b.pathPattern} -> ${b.origin.kind === 'bucket' ? `bucket ${template.ref(b.origin.bucketId!)}`
      : b.origin.kind === 'api' ? `REST API ${b.origin.apiName} ${b.origin.apiUrl}` : `${b.origin.domainName} (not emulated)`}`);
    context.report(`site     ${logicalId}: ${url}/  (${routes.join('; ')})`);
    context.notEmulated(`distribution ${logicalId}: caching, HTTPS, its certificate and aliases, WAF, geo restrictions, response headers policies `
      + '(security headers, Content-Security-Policy), origin access control and access logs');
    return {
      logicalId,
      url,
      async stop() {
        await closeServer(server);
      },
    };
  }

  private originOf(context: RunContext, origin: Record<string, unknown>, buckets: Map<string, Map<string, SiteObject>>): Origin {
    const { template } = context;
    const id = String(origin.Id);
    const domainName = String(origin.DomainName ?? '');
    const path = String(origin.OriginPath ?? '');
    const headers: Array<[string, string]> = [];
    for (const header of (origin.OriginCustomHeaders ?? []) as Array<{ HeaderName?: unknown; HeaderValue?: unknown }>) {
      const value = String(header.HeaderValue ?? '');
      if (value.includes('{{resolve:')) {
        context.notEmulated(`origin ${id}: its ${String(header.HeaderName)} header is a dynamic reference (${value.slice(0, 40)}...), which is not resolved locally, `
          + 'so it is not sent (the local REST API checks no API key)');
      } else {
        headers.push([String(header.HeaderName).toLowerCase(), value]);
      }
    }
    for (const [bucketId] of template.resources('AWS::S3::Bucket')) {
      const attributes = template.identity(bucketId).attributes;
      if ([attributes.DomainName, attributes.RegionalDomainName].includes(domainName)) {
        return { id, kind: 'bucket', bucket: buckets.get(bucketId) ?? new Map(), bucketId, path, headers, domainName };
      }
    }
    const apiId = /^([a-z0-9]+)\.execute-api\./.exec(domainName)?.[1];
    const api = this.options.restApis.apis.find((a) => a.model.apiId === apiId);
    if (api !== undefined) return { id, kind: 'api', apiUrl: api.url, apiName: api.model.name, path, headers, domainName };
    context.notEmulated(`origin ${id} (${domainName}): only S3 buckets of the stack and its REST APIs are served locally`);
    return { id, kind: 'other', path, headers, domainName };
  }

  /** The viewer-request code of each CloudFront Function of the template, by the ARN behaviours name it by. */
  private viewerRequestFunctions(context: RunContext): Map<string, ViewerRequestFunction> {
    const { template } = context;
    const functions = new Map<string, ViewerRequestFunction>();
    for (const [id] of template.resources(CLOUDFRONT_FUNCTION)) {
      const props = template.properties(id);
      // A fresh context: the function sees the globals of its own runtime only, not the runner's.
      const handler = runInNewContext(`${String(props.FunctionCode)}\n;typeof handler === 'function' ? handler : undefined`, {}, {
        filename: `cloudfront-function-${id}.js`,
        timeout: 1000,
      }) as ViewerRequestFunction | undefined;
      if (handler === undefined) {
        context.notEmulated(`CloudFront function ${id}: its code defines no handler(event)`);
        continue;
      }
      functions.set(String(template.getAtt(id, 'FunctionARN')), handler);
    }
    return functions;
  }

  /**
   * A web application's config.json (WebAppRuntimeConfig) for the local site: its API base path
   * stays when a behaviour serves it (or becomes the local API's URL when it names a deployed
   * one), and the sign-in endpoints point at the local page that says sign-in is not emulated.
   */
  private localizeRuntimeConfig(context: RunContext, origin: Origin, behaviours: readonly Behaviour[], siteUrl: string): void {
    const key = `${origin.path}/config.json`.replace(/^\/+/, '');
    const object = origin.bucket!.get(key);
    if (object === undefined) return;
    let config: WebAppRuntimeConfig;
    try {
      config = JSON.parse(object.body().toString('utf8')) as WebAppRuntimeConfig;
    } catch {
      return;
    }
    if (typeof config?.apiBasePath !== 'string' || typeof config.auth?.metadata !== 'object' || config.auth.metadata === null) return;
    let apiBasePath = config.apiBasePath;
    const deployedApi = /^https:\/\/([a-z0-9]+)\.execute-api\.[^/]+\/([^/]+)/.exec(apiBasePath);
    const localApi = deployedApi === null ? undefined : this.options.restApis.apis.find((a) => a.model.apiId === deployedApi[1]);
    if (localApi !== undefined) apiBasePath = `${localApi.url}${apiBasePath.slice(deployedApi![0].length)}`;
    const apiBehaviour = behaviours.find((b) => b.pattern?.test(`${apiBasePath.replace(/\/+$/, '')}/${config.resourceName}`) === true);
    const signIn = `${siteUrl}${LOCAL_SIGN_IN_PATH}`;
    const local: WebAppRuntimeConfig = {
      ...config,
      apiBasePath,
      auth: {
        ...config.auth,
        authority: signIn,
        metadata: {
          ...config.auth.metadata,
          issuer: signIn,
          authorization_endpoint: `${signIn}/oauth2/authorize`,
          token_endpoint: `${signIn}/oauth2/token`,
          end_session_endpoint: `${signIn}/logout`,
          ...(config.auth.metadata.revocation_endpoint !== undefined ? { revocation_endpoint: `${signIn}/oauth2/revoke` } : {}),
          ...(config.auth.metadata.userinfo_endpoint !== undefined ? { userinfo_endpoint: `${signIn}/oauth2/userInfo` } : {}),
          ...(config.auth.metadata.jwks_uri !== undefined ? { jwks_uri: `${signIn}/.well-known/jwks.json` } : {}),
        },
      },
    };
    const body = Buffer.from(JSON.stringify(local));
    origin.bucket!.set(key, { body: () => body, headers: object.headers });
    const api = apiBehaviour?.origin.kind === 'api' ? ` (served by ${siteUrl}, proxied to ${apiBehaviour.origin.apiUrl})` : '';
    context.report(`config   ${siteUrl}/${key}: apiBasePath ${apiBasePath}${api}; sign-in endpoints -> ${signIn}/`);
    context.notEmulated(`sign-in (Cognito): the site's config.json points it at ${signIn}/, which answers 501; `
      + 'call the API with an x-local-identity header holding the token\'s claims instead, e.g. {"sub":"alice"}');
  }

  private async handle(site: {
    logicalId: string; url: string; behaviours: readonly Behaviour[]; errorResponses: readonly ErrorResponse[]; defaultRootObject?: string;
  }, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const viewer = cloudFrontRequest(req);
    if (viewer.uri === LOCAL_SIGN_IN_PATH || viewer.uri.startsWith(`${LOCAL_SIGN_IN_PATH}/`)) {
      res.writeHead(501, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Sign-in is not emulated</title><h1>Sign-in is not emulated locally</h1>'
        + '<p>The local runner has no Cognito user pool. Call the API with an <code>x-local-identity</code> header holding the '
        + 'token\'s claims instead, e.g. <code>{"sub":"alice"}</code>.</p>');
      return;
    }
    const behaviour = site.behaviours.find((b) => b.pattern === undefined || b.pattern.test(viewer.uri))!;
    if (!behaviour.allowedMethods.includes(viewer.method)) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end(`403 (this behaviour allows ${behaviour.allowedMethods.join(', ')})`);
      return;
    }
    let forwarded = viewer;
    if (behaviour.viewerRequest !== undefined) {
      const event = {
        version: '1.0',
        context: { distributionDomainName: new URL(site.url).host, distributionId: site.logicalId, eventType: 'viewer-request', requestId: randomUUID() },
        viewer: { ip: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1' },
        request: JSON.parse(JSON.stringify(viewer)) as CloudFrontRequest,
      };
      const result = await behaviour.viewerRequest(event);
      if ('statusCode' in result) return sendFunctionResponse(res, result);
      forwarded = result;
    }
    const origin = behaviour.origin;
    if (origin.kind === 'api') return this.proxy(forwarded, origin, req, res);
    if (origin.kind === 'other') {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`502: origin ${origin.domainName} is not emulated by the local runner`);
      return;
    }
    const uri = forwarded.uri === '/' && site.defaultRootObject !== undefined ? `/${site.defaultRootObject}` : forwarded.uri;
    let status = 200;
    let object = this.objectAt(origin, uri);
    if (object === undefined || !['GET', 'HEAD'].includes(forwarded.method)) {
      // The bucket is private behind origin access control: S3 answers a missing key with 403.
      status = 403;
      const error = site.errorResponses.find((e) => e.errorCode === status);
      const page = error?.pagePath === undefined ? undefined : this.objectAt(origin, error.pagePath);
      if (error !== undefined && page !== undefined) {
        status = error.responseCode;
        object = page;
      } else {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
        return;
      }
    }
    const body = object.body();
    res.writeHead(status, { ...object.headers, 'content-length': String(body.length) });
    res.end(forwarded.method === 'HEAD' ? undefined : body);
  }

  private objectAt(origin: Origin, uri: string): SiteObject | undefined {
    let key: string;
    try {
      key = decodeURIComponent(`${origin.path}${uri}`).replace(/^\/+/, '');
    } catch {
      return undefined;
    }
    return origin.bucket!.get(key);
  }

  /** Passes the request on to the local REST API (the stage is in its URL, and first in an API origin's path). */
  private proxy(forwarded: CloudFrontRequest, origin: Origin, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const base = new URL(origin.apiUrl!);
    const extraPath = origin.path.split('/').filter((s) => s !== '').slice(1).map((s) => `/${s}`).join('');
    const query = flattened(forwarded.querystring).map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join('&');
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of [...flattened(forwarded.headers), ...origin.headers]) {
      if (name === 'host' || name === 'connection') continue;
      const existing = headers[name];
      headers[name] = existing === undefined ? value : [existing, value].flat();
    }
    const cookies = flattened(forwarded.cookies);
    if (cookies.length > 0) headers.cookie = cookies.map(([k, v]) => `${k}=${v}`).join('; ');
    return new Promise<void>((resolve, reject) => {
      const upstream = request({
        host: base.hostname,
        port: base.port,
        method: forwarded.method,
        path: `${base.pathname}${extraPath}${forwarded.uri}${query === '' ? '' : `?${query}`}`,
        headers,
      }, (answer) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && name !== 'connection' && name !== 'transfer-encoding' && name !== 'keep-alive') out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.on('end', () => resolve());
        answer.on('error', reject);
      });
      upstream.on('error', reject);
      req.pipe(upstream);
    });
  }
}

function sendFunctionResponse(res: ServerResponse, response: CloudFrontResponse): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name] = (value.multiValue ?? [value]).map((v) => v.value);
  const body = response.body === undefined ? ''
    : typeof response.body === 'string' ? response.body
      : Buffer.from(response.body.data, response.body.encoding === 'base64' ? 'base64' : 'utf8');
  if (response.statusDescription !== undefined) res.writeHead(response.statusCode, response.statusDescription, headers);
  else res.writeHead(response.statusCode, headers);
  res.end(body);
}
