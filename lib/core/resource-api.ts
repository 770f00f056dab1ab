import { Duration, Size, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct, IConstruct } from 'constructs';
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
   *
   * The claim must be one the caller cannot choose or change, or a caller could take over another
   * caller's items. With Cognito, synth fails unless it is `sub`, `cognito:username`/`username`, or
   * an attribute of every user pool of the authorizer that no app client of the pool writes
   * (a client without `writeAttributes` writes every writable attribute, at sign-up too), and that
   * is immutable when it is a standard attribute (an identity provider's attribute mapping writes
   * mutable ones). Clients created outside this app are not seen: give them `writeAttributes`
   * without the claim. A Lambda authorizer's claim cannot be checked: it must come from the
   * authorizer's own verification (a token's subject), never from data the user can edit.
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
/** Claims of a Cognito token that name the user and that nobody can change: the default `sub`, and the username. */
const IMMUTABLE_COGNITO_IDENTITY_CLAIMS = ['sub', 'cognito:username', 'username'];
/** OpenID Connect standard claims, which Cognito keeps as standard attributes (mutable unless declared otherwise). */
const COGNITO_STANDARD_ATTRIBUTES = [
  'address', 'birthdate', 'email', 'family_name', 'gender', 'given_name', 'locale', 'middle_name', 'name',
  'nickname', 'phone_number', 'picture', 'preferred_username', 'profile', 'updated_at', 'website', 'zoneinfo',
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

/** The part of a pattern's `apiProps` (`SecureRestApiProps`) that the resource API contract constrains. */
export interface ResourceApiFrontDoorProps {
  readonly apiProps?: { readonly cacheTtl?: Duration };
}

/**
 * `authorizationKind`: the API's `ApiAuthorization.kind` (IAM when none is given). `props` are the
 * pattern's props: every pattern with the resource API has `apiProps`, checked here too.
 */
export function validateResourceApiProps(
  construct: string, props: ResourceApiProps & ResourceApiFrontDoorProps, authorizationKind: ApiAuthorizationKind,
): void {
  if (props.apiProps?.cacheTtl !== undefined) {
    // Why not a cache keyed on the caller, `limit`, `nextToken` and the id: a stage cache keeps a
    // response for its TTL whatever the writes in between, so it would still answer a GET after a
    // PUT or DELETE with the old item and ETag (the API promises that a read sees every earlier
    // write, and clients replace with If-Match on the ETag they read), and a 304 or a 200 to an
    // If-None-Match that the key does not hold. Clients cache with ETag and If-None-Match instead.
    throw new InvalidPropsError(construct, `apiProps.cacheTtl cannot be used with the resource API, got ${props.apiProps.cacheTtl.toHumanString()}: `
      + 'a stage cache would answer reads with items changed or deleted since '
      + '(the API promises that a read sees every earlier write, and If-Match needs the current ETag) '
      + 'and, with itemOwnerClaim, one caller\'s items to another; its GET setting does not even name the API\'s ANY routes. '
      + 'Let clients cache with ETag and If-None-Match (304) instead');
  }
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

/**
 * Checks at synth, when the whole app is built, that `itemOwnerClaim` is a claim the caller
 * cannot write in any Cognito user pool that authorizes `api` (see `ResourceApiProps.itemOwnerClaim`).
 * A synth-time check rather than a constructor one: app clients may be added to a pool after
 * the pattern is created.
 */
export function checkItemOwnerClaimAtSynth(scope: Construct, construct: string, claim: string | undefined, api: IConstruct): void {
  if (claim === undefined || IMMUTABLE_COGNITO_IDENTITY_CLAIMS.includes(claim)) return;
  scope.node.addValidation({ validate: () => cognitoOwnerClaimProblems(construct, claim, api) });
}

function cognitoOwnerClaimProblems(construct: string, claim: string, api: IConstruct): string[] {
  const providerArns = api.node.findAll()
    .filter((c): c is apigw.CfnAuthorizer => c instanceof apigw.CfnAuthorizer && c.type === 'COGNITO_USER_POOLS')
    .flatMap((authorizer) => authorizer.providerArns ?? []);
  if (providerArns.length === 0) return []; // a Lambda authorizer: documented, not checkable
  const problem = (why: string): string => `${construct}: itemOwnerClaim '${claim}' ${why}; a caller who can set it can read and change another caller's items. Use 'sub' (the default of the web application)`;

  const standard = COGNITO_STANDARD_ATTRIBUTES.includes(claim);
  const custom = /^custom:(.+)$/.exec(claim)?.[1];
  if (!standard && custom === undefined) {
    return [problem('is neither a user pool attribute nor the user\'s sub or username, so nothing shows that the user cannot choose it')];
  }
  const everything = api.node.root.node.findAll();
  const problems: string[] = [];
  for (const arn of providerArns) {
    const pool = everything.find((c): c is cognito.UserPool => c instanceof cognito.UserPool && c.userPoolArn === arn);
    if (pool === undefined) {
      problems.push(problem('cannot be checked on a user pool not defined in this app (imported)'));
      continue;
    }
    const cfnPool = pool.node.defaultChild as cognito.CfnUserPool;
    const declared = Array.isArray(cfnPool.schema)
      ? (cfnPool.schema as cognito.CfnUserPool.SchemaAttributeProperty[]).find((a) => a.name === (custom ?? claim))
      : undefined;
    if (custom !== undefined && declared === undefined) {
      problems.push(problem(`is not a custom attribute of the user pool ${pool.node.path}`));
      continue;
    }
    if (standard && declared?.mutable !== false) {
      problems.push(problem(`is a mutable standard attribute of the user pool ${pool.node.path} (users and identity providers' attribute mappings change it); declare it with mutable: false`));
      continue;
    }
    const writers = everything
      .filter((c): c is cognito.CfnUserPoolClient => c instanceof cognito.CfnUserPoolClient && samePool(c, pool))
      .filter((client) => client.writeAttributes === undefined || client.writeAttributes.includes(claim));
    for (const client of writers) {
      problems.push(problem(`is written by the app client ${client.node.path} of the user pool ${pool.node.path}`
        + (client.writeAttributes === undefined ? ' (it has no writeAttributes, so it writes every writable attribute, also at sign-up)' : ' (in its writeAttributes)')));
    }
  }
  return problems;
}

/** Whether `client` belongs to `pool`: the same token, or the same reference once resolved. */
function samePool(client: cognito.CfnUserPoolClient, pool: cognito.UserPool): boolean {
  if (client.userPoolId === pool.userPoolId) return true;
  const stack = Stack.of(client);
  return JSON.stringify(stack.resolve(client.userPoolId)) === JSON.stringify(stack.resolve(pool.userPoolId));
}
