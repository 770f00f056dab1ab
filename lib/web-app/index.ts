import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { webAppContentSecurityPolicy } from './content-security-policy';
import {
  API_BASE_PATH, createSecurityHeadersPolicy, createSiteDistribution, deploySite, HASHED_ASSETS_PREFIX, WebApplicationCustomDomain,
} from './distribution';
import { API_RESOURCE_SERVER, apiScope, WEB_APP_ITEM_SCHEMA, WebAppRuntimeConfig } from './runtime-config';
import { addWebAppClient, createWebAppUserPool, POST_LOGOUT_PATH, REDIRECT_PATH } from './user-pool';
import { ApiAuthorization } from '../core/api-authorization';
import { referenceAssetDirectory } from '../core/assets';
import { accessLogBucket, logServerAccess, secureBucket } from '../core/bucket';
import { CanaryDeployment } from '../core/canary-deployment';
import { stackUuid } from '../core/deployment-names';
import { PatternEncryptionProps, encryptionKeyOf, usePatternKey } from '../core/encryption';
import { assertIntegerInRange, InvalidPropsError } from '../core/errors';
import { acknowledgeNagFindings, ruleAcknowledgements } from '../core/nag';
import { completeOperations, PatternOperationsProps } from '../core/operations';
import { PatternHandlerProps, PatternTableProps } from '../core/pattern-props';
import { ResourceApiProps } from '../core/resource-api';
import { SecureRestApi, SecureRestApiProps } from '../core/secure-rest-api';
import { assertWebAclArn } from '../core/waf';
import { RestfulMicroservice } from '../rest-api';

export type { WebApplicationCustomDomain } from './distribution';

/**
 * Props of `WebApplication`. The items API takes the same props as `RestfulMicroservice`; here
 * `itemSchema` defaults to the reference SPA's schema and `itemOwnerClaim` to `sub`, so every
 * signed-in user sees only their own items.
 */
export interface WebApplicationProps extends PatternHandlerProps, PatternTableProps, ResourceApiProps, PatternOperationsProps,
  PatternEncryptionProps {
  /**
   * Props of the API building block (throttling, cache, usage plan, WAF...). Its authorization is
   * the user pool with the API scope, and the SPA calls it on its own origin, so `authorization`
   * and `cors` are set by this construct.
   * @default - REGIONAL, Cognito authorization, 100 rps
   */
  readonly apiProps?: SecureRestApiProps;
  /**
   * Let the API answer only requests that come through the distribution, so that none skips
   * CloudFront (and its web ACL, `webAclArn`). CloudFront sends an API key in `x-api-key` to the
   * API origin (overwriting any `x-api-key` a viewer sends) and every method requires it: API
   * Gateway refuses a request without it with 403 before the handler runs. The key is generated
   * by Secrets Manager at deploy time (`apiOriginKeySecret`) and reaches the API key and the
   * distribution through CloudFormation dynamic references, never in the template. It costs one
   * secret (about $0.40 a month); API keys and usage plans are free.
   *
   * Turn it off to call the API on its execute-api URL as well (scripts, other clients): then it
   * is protected by its authorizer and throttling only.
   * @default true
   */
  readonly apiOnlyThroughDistribution?: boolean;
  /**
   * The generation of the API key CloudFront sends: change it (2, 3, ...) to rotate the key. The
   * next deploy generates a new secret and sends it; API Gateway accepts the old key until that
   * deploy has updated the distribution. A new value put into the secret by hand takes no effect:
   * CloudFormation reads the secret only when it creates or updates the API key and the distribution.
   * @default 1
   */
  readonly apiOriginKeyVersion?: number;
  /**
   * Sign-in flows of the user pool API (`InitiateAuth`) that the app client allows, for an app
   * that signs users in without managed login, e.g. `{ userSrp: true }`. The reference SPA signs
   * in through managed login (authorization code + PKCE), which needs none of them.
   * @default - none: the app client allows only token refresh
   */
  readonly authFlows?: cognito.AuthFlow;
  /**
   * A built single-page application to serve instead of the reference one: `index.html` at the
   * top and every other file content-hashed under `assets/` (cached for a year). It reads its
   * settings from `/config.json`, which this construct writes.
   * @default - the reference SPA (web/ in the repository)
   */
  readonly siteDirectory?: string;

  /** Let anyone create an account on the sign-in page. @default false - administrators create users */
  readonly selfSignUpEnabled?: boolean;
  /** Multi-factor authentication (TOTP authenticator apps). @default Mfa.OPTIONAL */
  readonly mfa?: cognito.Mfa;
  /** The user pool's feature plan. @default FeaturePlan.ESSENTIALS */
  readonly featurePlan?: cognito.FeaturePlan;
  /** @default - at least 12 characters with lowercase, uppercase, digits and symbols; temporary passwords valid 3 days */
  readonly passwordPolicy?: cognito.PasswordPolicy;
  /** Further user pool props, merged over the defaults (MFA, feature plan and password policy come from the props above). @default - none */
  readonly userPoolProps?: cognito.UserPoolProps;
  /**
   * The managed login domain prefix: `https://<prefix>.auth.<region>.amazoncognito.com`. Must be
   * unique in the region across every AWS account; lowercase letters, digits and hyphens, without
   * `aws`, `amazon` or `cognito`.
   * @default - unique per deployment: `app-<8 hex of the construct address>-<the stack's UUID>`
   */
  readonly domainPrefix?: string;
  /**
   * More origins allowed as sign-in callbacks and sign-out targets, e.g. `http://localhost:5173`
   * for a local development server.
   * @default - only the distribution's (and the custom domain's) origin
   */
  readonly additionalCallbackOrigins?: string[];

  /** Serve the site on your own domain. @default - the CloudFront domain name */
  readonly customDomain?: WebApplicationCustomDomain;
  /** A WAF web ACL (scope CLOUDFRONT, in us-east-1) attached to the distribution, by ARN. @default - none */
  readonly webAclArn?: string;
  /** @default PriceClass.PRICE_CLASS_100 */
  readonly priceClass?: cloudfront.PriceClass;
  /** How long CloudFront and S3 access logs are kept. @default RetentionDays.THREE_MONTHS */
  readonly accessLogRetention?: logs.RetentionDays;
}

const NAME = 'WebApplication';
const DOMAIN_PREFIX_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A host name of two or more labels (no wildcard: it is also the SPA's callback origin). */
const HOST_NAME_PATTERN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** The region of an ACM certificate ARN. */
const CERTIFICATE_REGION = /^arn:[a-z-]+:acm:([a-z0-9-]+):/;
const RESERVED_DOMAIN_WORDS = ['aws', 'amazon', 'cognito'];

/**
 * A web application: a single-page app in a private S3 bucket behind CloudFront (Origin Access
 * Control, strict security headers, long caching of hashed assets), users in a Cognito user pool
 * signing in through managed login (authorization code + PKCE), and an items API
 * (`RestfulMicroservice`: API Gateway + Lambda + DynamoDB) on the same origin under `/api/*`,
 * where every user sees only their own items.
 */
export class WebApplication extends Construct {
  /** The private bucket holding the site. */
  public readonly bucket: s3.IBucket;
  /** The bucket receiving CloudFront and S3 access logs. */
  public readonly accessLogBucket: s3.IBucket;
  public readonly distribution: cloudfront.Distribution;
  public readonly responseHeadersPolicy: cloudfront.IResponseHeadersPolicy;
  public readonly userPool: cognito.UserPool;
  public readonly userPoolClient: cognito.UserPoolClient;
  public readonly userPoolDomain: cognito.UserPoolDomain;
  /** The items API behind `/api/*`. */
  public readonly api: apigw.RestApi;
  /** The API building block (stage, access logs, authorization, API alarms). */
  public readonly restApi: SecureRestApi;
  /** The items API's function. */
  public readonly handler: lambda.IFunction;
  /** The handler's log group; undefined for an `existingFunction`. */
  public readonly logGroup?: logs.ILogGroup;
  public readonly table: dynamodb.ITable;
  public readonly resourceName: string;
  /** The OAuth scope the API requires, e.g. `api/items`. */
  public readonly apiScope: string;
  /**
   * The secret holding the API key CloudFront sends to the API (`x-api-key`); undefined when
   * `apiOnlyThroughDistribution` is false. Anyone who may read it can call the API directly.
   */
  public readonly apiOriginKeySecret?: secretsmanager.ISecret;
  /** The Content-Security-Policy every response carries. */
  public readonly contentSecurityPolicy: string;
  /** The customer-managed key of the pattern's log groups and secrets. */
  public readonly encryptionKey: kms.IKey;
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The CodeDeploy deployment of the handler when `deployment` is set. */
  public readonly deployment?: CanaryDeployment;
  private readonly customDomainName?: string;

  constructor(scope: Construct, id: string, props: WebApplicationProps = {}) {
    super(scope, id);
    this.encryptionKey = usePatternKey(this, props.encryptionKey);
    validate(props);
    this.customDomainName = props.customDomain?.domainName;
    this.resourceName = props.resourceName ?? 'items';
    this.apiScope = apiScope(this.resourceName);

    // Users
    this.userPool = createWebAppUserPool(this, props);
    const itemsScope = new cognito.ResourceServerScope({ scopeName: this.resourceName, scopeDescription: `Read and write your own ${this.resourceName}` });
    const resourceServer = this.userPool.addResourceServer('ApiResourceServer', {
      identifier: API_RESOURCE_SERVER,
      scopes: [itemsScope],
    });
    const managedLogin = props.featurePlan !== cognito.FeaturePlan.LITE;
    this.userPoolDomain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? defaultDomainPrefix(this) },
      managedLoginVersion: managedLogin ? cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN : cognito.ManagedLoginVersion.CLASSIC_HOSTED_UI,
    });

    // Only CloudFront knows the API key every method requires, so no request skips the distribution.
    const originKey = (props.apiOnlyThroughDistribution ?? true) ? apiOriginKey(this, props.apiOriginKeyVersion ?? 1) : undefined;
    this.apiOriginKeySecret = originKey;

    // The API: the user pool authorizes it; the access token's scope is checked on every method.
    const service = new RestfulMicroservice(this, 'Api', {
      encryptionKey: this.encryptionKey,
      existingFunction: props.existingFunction,
      code: props.code,
      handler: props.handler,
      functionProps: props.functionProps,
      existingTable: props.existingTable,
      tableProps: props.tableProps,
      resourceName: props.resourceName,
      requireIfMatch: props.requireIfMatch,
      maxBodySize: props.maxBodySize,
      defaultPageSize: props.defaultPageSize,
      maxPageSize: props.maxPageSize,
      itemSchema: props.itemSchema ?? WEB_APP_ITEM_SCHEMA,
      itemOwnerClaim: props.itemOwnerClaim ?? 'sub',
      alarmTopic: props.alarmTopic,
      deployment: props.deployment,
      apiProps: {
        ...props.apiProps,
        authorization: ApiAuthorization.cognito({ userPools: [this.userPool], scopes: [this.apiScope] }),
        // A usage plan makes the API create a key and require it on every method.
        usagePlan: originKey ? props.apiProps?.usagePlan ?? {} : undefined,
      },
    });
    const originKeyValue = originKey?.secretValue.unsafeUnwrap();
    if (originKeyValue !== undefined) {
      // The API key takes its value from the secret (a dynamic reference, resolved by CloudFormation), not one of its own.
      (service.restApi.apiKey!.node.defaultChild as apigw.CfnApiKey).value = originKeyValue;
    }
    this.restApi = service.restApi;
    this.api = service.api;
    this.handler = service.handler;
    this.logGroup = service.logGroup;
    this.table = service.table;
    this.deployment = service.deployment;

    // The site
    this.accessLogBucket = accessLogBucket(this, 'AccessLogs', Duration.days(props.accessLogRetention ?? logs.RetentionDays.THREE_MONTHS));
    acknowledgeNagFindings(this.accessLogBucket, [{
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the destination of the site\'s S3 server access logs and CloudFront logs; logging it into itself would loop.',
    }]);
    const siteBucket = secureBucket(this, 'SiteBucket');
    acknowledgeNagFindings(siteBucket, [
      ...ruleAcknowledgements('S3DefaultEncryptionKMS',
        'The bucket holds the built site, which CloudFront serves to anyone; S3-managed encryption (SSE-S3) encrypts it at rest, and a KMS key would add a KMS request to every cache miss without keeping anything confidential.'),
      ...ruleAcknowledgements('S3BucketReplicationEnabled',
        'The bucket holds the built site that this stack deploys from its asset on every deployment, versioned: recovering it is a redeploy, so a replica in another Region would hold nothing that is not in the stack already.'),
    ]);
    logServerAccess(siteBucket, this.accessLogBucket, 's3/site/');
    this.bucket = siteBucket;
    this.contentSecurityPolicy = webAppContentSecurityPolicy(this.userPoolDomain.baseUrl());
    this.responseHeadersPolicy = createSecurityHeadersPolicy(this, this.contentSecurityPolicy);
    this.distribution = createSiteDistribution(this, {
      ...props,
      bucket: this.bucket,
      accessLogBucket: this.accessLogBucket,
      responseHeadersPolicy: this.responseHeadersPolicy,
      api: this.api,
      apiKey: originKeyValue,
    });
    // When apiOriginKeyVersion changes, the new key must be in the usage plan before CloudFront sends it.
    if (service.restApi.usagePlan) this.distribution.node.addDependency(service.restApi.usagePlan);
    if (props.customDomain?.hostedZone) {
      const target = route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(this.distribution));
      new route53.ARecord(this, 'AliasRecord', { zone: props.customDomain.hostedZone, recordName: props.customDomain.domainName, target });
      new route53.AaaaRecord(this, 'AliasRecordIpv6', { zone: props.customDomain.hostedZone, recordName: props.customDomain.domainName, target });
    }

    // The app client points at the distribution; nothing the distribution needs depends on it, so there is no cycle.
    const siteOrigins = [
      `https://${this.distribution.distributionDomainName}`,
      ...(props.customDomain ? [`https://${props.customDomain.domainName}`] : []),
      ...(props.additionalCallbackOrigins ?? []),
    ];
    this.userPoolClient = addWebAppClient(this.userPool, resourceServer, itemsScope, siteOrigins, props.authFlows);
    if (managedLogin) {
      new cognito.CfnManagedLoginBranding(this, 'ManagedLoginBranding', {
        userPoolId: this.userPool.userPoolId,
        clientId: this.userPoolClient.userPoolClientId,
        useCognitoProvidedValues: true,
      });
    }

    deploySite(this, this.bucket, this.distribution, props.siteDirectory ?? referenceAssetDirectory('web-app/site', 'index.html'), this.runtimeConfig());
    // The service already joined its deployment's rollback alarms and alarms.
    ({ alarms: this.alarms, dashboard: this.dashboard } = completeOperations(this, props, service.alarms, []));
  }

  /** The site's URL: the custom domain when there is one, else the CloudFront domain. */
  public get url(): string {
    return `https://${this.customDomainName ?? this.distribution.distributionDomainName}`;
  }

  /** What `/config.json` tells the SPA: the API path and the sign-in endpoints. */
  private runtimeConfig(): WebAppRuntimeConfig {
    const base = this.userPoolDomain.baseUrl();
    const issuer = this.userPool.userPoolProviderUrl;
    return {
      apiBasePath: API_BASE_PATH,
      resourceName: this.resourceName,
      auth: {
        authority: issuer,
        clientId: this.userPoolClient.userPoolClientId,
        scopes: ['openid', 'email', 'profile', this.apiScope],
        redirectPath: REDIRECT_PATH,
        postLogoutRedirectPath: POST_LOGOUT_PATH,
        logoutUriParameter: 'logout_uri',
        metadata: {
          issuer,
          authorization_endpoint: `${base}/oauth2/authorize`,
          token_endpoint: `${base}/oauth2/token`,
          revocation_endpoint: `${base}/oauth2/revoke`,
          userinfo_endpoint: `${base}/oauth2/userInfo`,
          end_session_endpoint: `${base}/logout`,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
        },
      },
    };
  }
}

/**
 * The secret holding the API key CloudFront sends to the API: letters and digits, as API Gateway
 * requires of a key (20 to 128 characters). Each version is a new secret (a new construct id), so
 * that the dynamic references to it change and CloudFormation updates the API key and the
 * distribution; version 1 keeps the id `ApiOriginKey`.
 */
function apiOriginKey(scope: Construct, version: number): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, version === 1 ? 'ApiOriginKey' : `ApiOriginKey${version}`, {
    description: `${scope.node.path}: the API key CloudFront sends to the API (x-api-key); the API refuses requests without it`,
    generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    encryptionKey: encryptionKeyOf(scope),
  });
  const noRotation = 'CloudFormation copies the key into the API key and the distribution when it deploys them, so a rotation Lambda would change only the secret; apiOriginKeyVersion rotates it with a deploy.';
  acknowledgeNagFindings(secret, [{ id: 'AwsSolutions-SMG4', reason: noRotation }, ...ruleAcknowledgements('SecretsManagerRotationEnabled', noRotation)]);
  return secret;
}

/**
 * A prefix unique per deployment: a managed login domain is unique per region across all
 * accounts, so one derived from the construct path alone would clash for the second account that
 * deploys the same app. The stack's UUID (the last part of its stack id, known at deploy time)
 * makes it unique; the construct address tells two web applications of one stack apart.
 */
function defaultDomainPrefix(scope: Construct): string {
  return `app-${scope.node.addr.substring(0, 8)}-${stackUuid(scope)}`;
}

function validate(props: WebApplicationProps): void {
  if (props.apiProps?.authorization !== undefined) {
    throw new InvalidPropsError(NAME, 'apiProps.authorization is set by the web application (its user pool, with the API scope); remove it');
  }
  if (props.apiOnlyThroughDistribution === false) {
    if (props.apiProps?.usagePlan !== undefined) {
      throw new InvalidPropsError(NAME, 'apiProps.usagePlan makes every method require an API key, which only CloudFront sends (apiOnlyThroughDistribution: true); the SPA sends none. Remove apiProps.usagePlan or apiOnlyThroughDistribution: false');
    }
    if (props.apiOriginKeyVersion !== undefined) {
      throw new InvalidPropsError(NAME, `apiOriginKeyVersion applies only with apiOnlyThroughDistribution (the key CloudFront sends), got ${props.apiOriginKeyVersion} with apiOnlyThroughDistribution: false`);
    }
  }
  assertIntegerInRange(NAME, 'apiOriginKeyVersion', props.apiOriginKeyVersion, 1, 1_000_000);
  if (props.apiProps?.cors !== undefined) {
    throw new InvalidPropsError(NAME, 'apiProps.cors is not needed: the SPA calls the API on its own origin under /api');
  }
  if (props.siteDirectory !== undefined && !(existsSync(join(props.siteDirectory, 'index.html')) && existsSync(join(props.siteDirectory, HASHED_ASSETS_PREFIX)))) {
    throw new InvalidPropsError(NAME, `siteDirectory must hold a built SPA: index.html and an ${HASHED_ASSETS_PREFIX} folder of hashed files, got '${props.siteDirectory}'`);
  }
  const prefix = props.domainPrefix;
  if (prefix !== undefined && !Token.isUnresolved(prefix)) {
    if (!DOMAIN_PREFIX_PATTERN.test(prefix) || RESERVED_DOMAIN_WORDS.some((word) => prefix.includes(word))) {
      throw new InvalidPropsError(NAME, `domainPrefix must be 1..63 lowercase letters, digits and hyphens (not at either end) without 'aws', 'amazon' or 'cognito', got '${prefix}'`);
    }
  }
  const domain = props.customDomain;
  if (domain !== undefined) {
    if (!Token.isUnresolved(domain.domainName) && !HOST_NAME_PATTERN.test(domain.domainName)) {
      throw new InvalidPropsError(NAME, `customDomain.domainName must be a lowercase host name such as app.example.com (no wildcard, no trailing dot), got '${domain.domainName}'`);
    }
    const certificateArn = domain.certificate.certificateArn;
    const certificateRegion = Token.isUnresolved(certificateArn) ? undefined : CERTIFICATE_REGION.exec(certificateArn)?.[1];
    if (certificateRegion !== undefined && certificateRegion !== 'us-east-1') {
      throw new InvalidPropsError(NAME, `customDomain.certificate must be an ACM certificate in us-east-1 (CloudFront uses only those), got one in ${certificateRegion}`);
    }
  }
  assertWebAclArn(NAME, 'webAclArn', props.webAclArn, 'CLOUDFRONT');
  for (const origin of props.additionalCallbackOrigins ?? []) {
    if (!Token.isUnresolved(origin) && !/^(https:\/\/[^/\s]+|http:\/\/localhost(:\d+)?)$/.test(origin)) {
      throw new InvalidPropsError(NAME, `additionalCallbackOrigins must be origins (https://host[:port], or http://localhost[:port] for development) without a path, got '${origin}'`);
    }
  }
}
