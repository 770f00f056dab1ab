import { Size, Token } from 'aws-cdk-lib';
import { ApiAuthorizationKind } from './api-authorization';
import { InvalidPropsError, assertIntegerInRange } from './errors';
import { jsonSchemaProblems } from './json-schema';

/**
 * Paging and optimistic concurrency of an HTTP collection (the items of the resource API, the
 * files of the file API): the same names, meanings and defaults on every pattern.
 */
export interface CollectionApiProps {
  /** Answer 428 to a replace or delete of an existing entry without `If-Match`. @default true */
  readonly requireIfMatch?: boolean;
  /** Page size of a list request without `limit`. @default 25 */
  readonly defaultPageSize?: number;
  /** Largest `limit` a client may ask for (400 above); at most 1000. @default 100 */
  readonly maxPageSize?: number;
}

/**
 * The resource API contract the REST, RDS Proxy and web application patterns share (`/{resourceName}` and
 * `/{resourceName}/{id}`: create, list with cursor pagination, get, replace with `If-Match`, delete),
 * whatever stores the items.
 */
export interface ResourceApiProps extends CollectionApiProps {
  /**
   * The collection the API serves: routes `/{resourceName}` and `/{resourceName}/{id}`.
   * @default 'items'
   */
  readonly resourceName?: string;
  /** Largest request body the handler accepts (413 above). @default Size.kibibytes(64) */
  readonly maxBodySize?: Size;
  /**
   * A JSON Schema (draft-07, or 2020-12 when `$schema` says so) every item body must satisfy;
   * passed to the handler in `ITEM_SCHEMA` (Lambda's 4 KB environment limit applies).
   * @default - any JSON object without server-owned fields
   */
  readonly itemSchema?: { [key: string]: any };
  /**
   * Items belong to callers: the handler scopes every read and write to this claim of the API
   * authorizer (`requestContext.authorizer.claims[claim]` for Cognito, the Lambda authorizer's
   * context key otherwise), passed in `ITEM_OWNER_CLAIM`; a request without it is a 401. Needs
   * `ApiAuthorization.cognito` or a Lambda authorizer.
   * @default - one collection shared by every caller
   */
  readonly itemOwnerClaim?: string;
}

const RESOURCE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** Claim names as API Gateway passes them (`sub`, `cognito:username`, `custom:tenant`); the handler checks the same rule. */
const OWNER_CLAIM_PATTERN = /^[A-Za-z0-9_:.-]{1,128}$/;
/** Authorizers that put the caller's claims in the request context. */
const CLAIM_AUTHORIZERS: readonly ApiAuthorizationKind[] = [
  ApiAuthorizationKind.COGNITO,
  ApiAuthorizationKind.LAMBDA_TOKEN,
  ApiAuthorizationKind.LAMBDA_REQUEST,
];
const MAX_BODY_BYTES_LIMIT = 256 * 1024;
/** What the handler echoes in Access-Control-Allow-Origin; it checks the same rule. */
const CORS_ORIGIN_PATTERN = /^https?:\/\/[a-z0-9.-]+(?::\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](?::\d{1,5})?$/i;
const MAX_PAGE_SIZE_LIMIT = 1000;
const DEFAULT_MAX_PAGE_SIZE = 100;
/** Lambda rejects a function whose environment variables exceed 4 KB in total. */
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

export function validateCollectionApiProps(construct: string, props: CollectionApiProps): void {
  assertIntegerInRange(construct, 'maxPageSize', props.maxPageSize, 1, MAX_PAGE_SIZE_LIMIT);
  assertIntegerInRange(construct, 'defaultPageSize', props.defaultPageSize, 1, props.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE);
}

/** The handler variables of `CollectionApiProps`; a page size left out takes the handler's default, which is the same. */
export function collectionApiEnvironment(props: CollectionApiProps): Record<string, string> {
  const env: Record<string, string> = { REQUIRE_IF_MATCH: String(props.requireIfMatch ?? true) };
  if (props.defaultPageSize !== undefined) env.DEFAULT_PAGE_SIZE = String(props.defaultPageSize);
  if (props.maxPageSize !== undefined) env.MAX_PAGE_SIZE = String(props.maxPageSize);
  return env;
}

/** `authorizationKind`: the API's `ApiAuthorization.kind` (IAM when none is given). */
export function validateResourceApiProps(construct: string, props: ResourceApiProps, authorizationKind: ApiAuthorizationKind): void {
  if (props.itemOwnerClaim !== undefined) {
    if (!OWNER_CLAIM_PATTERN.test(props.itemOwnerClaim)) {
      throw new InvalidPropsError(construct, `itemOwnerClaim must be a claim name (letters, digits, '_', ':', '.', '-'; at most 128), got '${props.itemOwnerClaim}'`);
    }
    if (!CLAIM_AUTHORIZERS.includes(authorizationKind)) {
      throw new InvalidPropsError(construct, `itemOwnerClaim needs an authorizer that supplies claims (ApiAuthorization.cognito or a Lambda authorizer), got '${authorizationKind}' authorization`);
    }
  }
  if (props.resourceName !== undefined && !RESOURCE_NAME_PATTERN.test(props.resourceName)) {
    throw new InvalidPropsError(construct, `resourceName must be lowercase letters, digits and '-', starting with a letter, at most 63 characters (a URL path segment), got '${props.resourceName}'`);
  }
  if (props.maxBodySize !== undefined) {
    const bytes = props.maxBodySize.toBytes();
    if (!Token.isUnresolved(bytes) && (bytes < 1 || bytes > MAX_BODY_BYTES_LIMIT)) {
      throw new InvalidPropsError(construct, `maxBodySize must be 1 byte..256 KiB (a DynamoDB item holds 400 KB including system fields), got ${bytes} bytes`);
    }
  }
  validateCollectionApiProps(construct, props);
  if (props.itemSchema !== undefined) {
    if (typeof props.itemSchema !== 'object' || props.itemSchema === null || Array.isArray(props.itemSchema)) {
      throw new InvalidPropsError(construct, `itemSchema must be a JSON Schema object, got ${JSON.stringify(props.itemSchema)}`);
    }
    const problems = jsonSchemaProblems(props.itemSchema);
    if (problems.length > 0) {
      throw new InvalidPropsError(construct, `itemSchema would not compile in the handler: ${problems.join('; ')}`);
    }
  }
}

/**
 * The handler environment of the contract (documented in the REST pattern's README), plus the
 * store's own variables; fails when the literal values would not fit Lambda's 4 KB.
 */
export function resourceApiEnvironment(
  construct: string, props: ResourceApiProps, storeEnvironment: Record<string, string>, corsOrigins?: string[],
): Record<string, string> {
  const env: Record<string, string> = {
    ...storeEnvironment,
    RESOURCE_NAME: props.resourceName ?? 'items',
    ...collectionApiEnvironment(props),
    MAX_BODY_BYTES: String((props.maxBodySize ?? Size.kibibytes(64)).toBytes()),
  };
  if (props.itemSchema) env.ITEM_SCHEMA = JSON.stringify(props.itemSchema);
  if (props.itemOwnerClaim !== undefined) env.ITEM_OWNER_CLAIM = props.itemOwnerClaim;
  if (corsOrigins) {
    const bad = corsOrigins.filter((o) => !Token.isUnresolved(o) && o !== '*' && !CORS_ORIGIN_PATTERN.test(o));
    if (bad.length > 0) {
      throw new InvalidPropsError(construct, `apiProps.cors.allowOrigins must be '*' or origins (scheme://host[:port], no path or wildcard), got ${bad.map((o) => `'${o}'`).join(', ')}`);
    }
    env.CORS_ALLOW_ORIGINS = corsOrigins.join(',');
  }

  const literalSize = Object.entries(env)
    .filter(([, v]) => !Token.isUnresolved(v))
    .reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (literalSize > LAMBDA_ENVIRONMENT_LIMIT_BYTES - 512) {
    throw new InvalidPropsError(construct, `the handler environment would take ${literalSize} bytes (Lambda allows 4 KB in total); shorten itemSchema`);
  }
  return env;
}
