import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CfnElement, Duration, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ApiAuthorization } from '../core/api-authorization';
import { referenceAssetDirectory } from '../core/assets';
import { accessLogBucket, logServerAccess, secureBucket } from '../core/bucket';
import { InvalidPropsError } from '../core/errors';
import { mergeProps } from '../core/merge';
import { acknowledgeNagFindings } from '../core/nag';
import { RestfulMicroservice, RestfulMicroserviceProps } from '../rest-api';
import { webAppContentSecurityPolicy } from './content-security-policy';
import { API_PREFIX_STRIP_CODE, SPA_ROUTE_FALLBACK_CODE } from './edge-functions';
import { API_RESOURCE_SERVER, apiScope, WEB_APP_ITEM_SCHEMA, WebAppRuntimeConfig } from './runtime-config';

/** A custom domain for the site, e.g. `app.example.com`. */
export interface WebApplicationCustomDomain {
  /** The site's domain name. */
  readonly domainName: string;
  /** An ACM certificate for `domainName`, in us-east-1 (CloudFront's requirement). */
  readonly certificate: acm.ICertificate;
  /** When given, A and AAAA alias records for `domainName` are created in this zone. @default - no DNS records */
  readonly hostedZone?: route53.IHostedZone;
}

export interface WebApplicationProps {
  /**
   * The API: a `RestfulMicroservice` (table, handler, throttling, alarms...). This construct sets
   * its authorization (the user pool, with the API scope) and scopes items to the signed-in user.
   * @default - the reference items API with the reference SPA's item schema
   */
  readonly apiProps?: RestfulMicroserviceProps;
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
   * unique in the region; lowercase letters, digits and hyphens, without `aws`, `amazon` or `cognito`.
   * @default - derived from the construct path
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
  /** How long CloudFront and S3 access logs are kept. @default Duration.days(90) */
  readonly accessLogRetention?: Duration;
  /** Receives the actions of every alarm. @default - alarms have no actions */
  readonly alarmTopic?: sns.ITopic;
}

const NAME = 'WebApplication';
/** Where the SPA completes the sign-in; an SPA route, served by the fallback function. */
const REDIRECT_PATH = '/auth/callback';
const POST_LOGOUT_PATH = '/';
/** CloudFront routes this prefix to the API; the SPA calls `/api/<resource>`. */
const API_BASE_PATH = '/api';
/** The SPA's content-hashed files: immutable, so one year in every cache. */
const HASHED_ASSETS_PREFIX = 'assets/';
const IMMUTABLE = s3deploy.CacheControl.fromString('public, max-age=31536000, immutable');
const REVALIDATE = s3deploy.CacheControl.fromString('no-cache');
const DOMAIN_PREFIX_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const RESERVED_DOMAIN_WORDS = ['aws', 'amazon', 'cognito'];
/** The id CDK gives the one BucketDeployment handler of a stack (default memory, no VPC). */
const BUCKET_DEPLOYMENT_SINGLETON_UUID = '8693BB64968944B69AAFB0CC9EB8756C';

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
  public readonly api: RestfulMicroservice;
  /** The OAuth scope the API requires, e.g. `api/items`. */
  public readonly apiScope: string;
  /** The Content-Security-Policy every response carries. */
  public readonly contentSecurityPolicy: string;
  public readonly alarms: cloudwatch.IAlarm[];
  private readonly customDomainName?: string;

  constructor(scope: Construct, id: string, props: WebApplicationProps = {}) {
    super(scope, id);
    validate(props);
    this.customDomainName = props.customDomain?.domainName;
    const resourceName = props.apiProps?.resourceName ?? 'items';
    this.apiScope = apiScope(resourceName);

    // Users
    this.userPool = this.createUserPool(props);
    const itemsScope = new cognito.ResourceServerScope({ scopeName: resourceName, scopeDescription: `Read and write your own ${resourceName}` });
    const resourceServer = this.userPool.addResourceServer('ApiResourceServer', {
      identifier: API_RESOURCE_SERVER,
      scopes: [itemsScope],
    });
    const managedLogin = props.featurePlan !== cognito.FeaturePlan.LITE;
    this.userPoolDomain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? defaultDomainPrefix(this) },
      managedLoginVersion: managedLogin ? cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN : cognito.ManagedLoginVersion.CLASSIC_HOSTED_UI,
    });

    // The API: the user pool authorizes it; the access token's scope is checked on every method.
    this.api = new RestfulMicroservice(this, 'Api', {
      itemSchema: WEB_APP_ITEM_SCHEMA,
      itemOwnerClaim: 'sub',
      alarmTopic: props.alarmTopic,
      ...props.apiProps,
      apiProps: {
        ...props.apiProps?.apiProps,
        authorization: ApiAuthorization.cognito({ userPools: [this.userPool], scopes: [this.apiScope] }),
      },
    });

    // The site
    this.accessLogBucket = accessLogBucket(this, 'AccessLogs', props.accessLogRetention ?? Duration.days(90));
    acknowledgeNagFindings(this.accessLogBucket, [{
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the destination of the site\'s S3 server access logs and CloudFront logs; logging it into itself would loop.',
    }]);
    const siteBucket = secureBucket(this, 'SiteBucket');
    logServerAccess(siteBucket, this.accessLogBucket, 's3/site/');
    this.bucket = siteBucket;
    this.contentSecurityPolicy = webAppContentSecurityPolicy(this.userPoolDomain.baseUrl());
    this.responseHeadersPolicy = this.createResponseHeadersPolicy();
    this.distribution = this.createDistribution(props);
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
    this.userPoolClient = this.userPool.addClient('WebClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [
          cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE,
          cognito.OAuthScope.resourceServer(resourceServer, itemsScope),
        ],
        callbackUrls: siteOrigins.map((origin) => `${origin}${REDIRECT_PATH}`),
        logoutUrls: siteOrigins.map((origin) => `${origin}${POST_LOGOUT_PATH}`),
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
    if (managedLogin) {
      new cognito.CfnManagedLoginBranding(this, 'ManagedLoginBranding', {
        userPoolId: this.userPool.userPoolId,
        clientId: this.userPoolClient.userPoolClientId,
        useCognitoProvidedValues: true,
      });
    }

    this.deploySite(props.siteDirectory ?? referenceAssetDirectory('web-app/site', 'index.html'));
    this.alarms = [...this.api.alarms];
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
      resourceName: this.api.resourceName,
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

  private createUserPool(props: WebApplicationProps): cognito.UserPool {
    const mfa = props.mfa ?? cognito.Mfa.OPTIONAL;
    const featurePlan = props.featurePlan ?? cognito.FeaturePlan.ESSENTIALS;
    const pool = new cognito.UserPool(this, 'UserPool', mergeProps<cognito.UserPoolProps>({
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      ...(featurePlan === cognito.FeaturePlan.PLUS ? { standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION } : {}),
      userInvitation: {
        emailSubject: 'Your account',
        emailBody: 'Your username is {username} and your temporary password is {####}',
      },
    }, props.userPoolProps, {
      selfSignUpEnabled: props.selfSignUpEnabled ?? false,
      featurePlan,
      mfa,
      mfaSecondFactor: mfa === cognito.Mfa.OFF ? undefined : { otp: true, sms: false },
      passwordPolicy: props.passwordPolicy ?? {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
    }));
    if (featurePlan !== cognito.FeaturePlan.PLUS) {
      acknowledgeNagFindings(pool, [{
        id: 'AwsSolutions-COG8',
        reason: 'The feature plan is a prop (featurePlan): ESSENTIALS by default for cost; PLUS turns on threat protection (full function), which this construct then enables.',
      }]);
    }
    if (mfa !== cognito.Mfa.REQUIRED) {
      acknowledgeNagFindings(pool, [{
        id: 'AwsSolutions-COG2',
        reason: 'MFA is a prop (mfa); the default OPTIONAL lets each user enrol an authenticator app, REQUIRED enforces it for everyone.',
      }]);
    }
    return pool;
  }

  private createResponseHeadersPolicy(): cloudfront.ResponseHeadersPolicy {
    return new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Web application: CSP the SPA satisfies, HSTS, no framing, no sniffing, strict referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: this.contentSecurityPolicy, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [
          { header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()', override: true },
          { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
        ],
      },
    });
  }

  private createDistribution(props: WebApplicationProps): cloudfront.Distribution {
    const siteOrigin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    const viewerRequest = (id: string, code: string, comment: string): cloudfront.FunctionAssociation => ({
      eventType: cloudfront.FunctionEventType.VIEWER_REQUEST,
      function: new cloudfront.Function(this, id, {
        code: cloudfront.FunctionCode.fromInline(code),
        runtime: cloudfront.FunctionRuntime.JS_2_0,
        comment,
      }),
    });
    const common = {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      responseHeadersPolicy: this.responseHeadersPolicy,
      compress: true,
    };
    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `${this.node.path}: single-page application and /api`,
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.accessLogBucket,
      logFilePrefix: 'cloudfront/',
      webAclId: props.webAclArn,
      // The security policy applies to a custom certificate only: the default *.cloudfront.net
      // certificate's policy is fixed by CloudFront (and CDK warns when one is given for it).
      ...(props.customDomain ? {
        domainNames: [props.customDomain.domainName],
        certificate: props.customDomain.certificate,
        minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      } : {}),
      defaultBehavior: {
        ...common,
        origin: siteOrigin,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        functionAssociations: [viewerRequest('SpaRouteFallback', SPA_ROUTE_FALLBACK_CODE, 'SPA routes (paths without a file extension) get /index.html')],
      },
      additionalBehaviors: {
        [`/${HASHED_ASSETS_PREFIX}*`]: {
          ...common,
          origin: siteOrigin,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        },
        [`${API_BASE_PATH}/*`]: {
          ...common,
          origin: new origins.RestApiOrigin(this.api.api),
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          // Never cached; every viewer header (Authorization, If-Match, Idempotency-Key) but Host reaches the API.
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          functionAssociations: [viewerRequest('ApiPrefixStrip', API_PREFIX_STRIP_CODE, '/api/<path> reaches the API stage as /<path>')],
        },
      },
    });
    acknowledgeNagFindings(distribution, [
      { id: 'AwsSolutions-CFR1', reason: 'Who may use the app is decided by the user pool, not by country; add geoRestriction through an escape hatch if you need it.' },
      ...(props.webAclArn ? [] : [{
        id: 'AwsSolutions-CFR2',
        reason: 'A WAF web ACL is the webAclArn prop (CLOUDFRONT scope lives in us-east-1, which an environment-agnostic stack cannot create); the API has its own throttling.',
      }]),
      ...(props.customDomain ? [] : [{
        id: 'AwsSolutions-CFR4',
        reason: 'Without a custom domain the distribution uses the *.cloudfront.net certificate, whose minimum protocol CloudFront fixes; customDomain enforces TLSv1.2_2021.',
      }]),
    ]);
    return distribution;
  }

  /**
   * Two deployments: the hashed assets first (never pruned, so a page still open keeps loading
   * the files it references), then `index.html` and `config.json` (revalidated on every load),
   * invalidating only those two paths - new assets have new names and need no invalidation.
   */
  private deploySite(siteDirectory: string): void {
    const assets = new s3deploy.BucketDeployment(this, 'DeployAssets', {
      destinationBucket: this.bucket,
      destinationKeyPrefix: HASHED_ASSETS_PREFIX,
      sources: [s3deploy.Source.asset(join(siteDirectory, HASHED_ASSETS_PREFIX))],
      cacheControl: [IMMUTABLE],
      prune: false,
    });
    const entry = new s3deploy.BucketDeployment(this, 'DeployEntry', {
      destinationBucket: this.bucket,
      sources: [
        s3deploy.Source.asset(siteDirectory, { exclude: [HASHED_ASSETS_PREFIX] }),
        s3deploy.Source.jsonData('config.json', this.runtimeConfig()),
      ],
      exclude: [`${HASHED_ASSETS_PREFIX}*`],
      cacheControl: [REVALIDATE],
      prune: true,
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
    });
    entry.node.addDependency(assets);
    this.acknowledgeDeploymentHandlerFindings();
  }

  /** CDK's BucketDeployment runs one singleton function per stack; what it needs is CDK's design, not ours. */
  private acknowledgeDeploymentHandlerFindings(): void {
    const stack = Stack.of(this);
    const handler = stack.node.tryFindChild(`Custom::CDKBucketDeployment${BUCKET_DEPLOYMENT_SINGLETON_UUID}`);
    if (!handler) return;
    const siteBucket = stack.getLogicalId(this.bucket.node.defaultChild as CfnElement);
    const why = 'CDK\'s BucketDeployment handler';
    acknowledgeNagFindings(handler, [
      { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: `${why} writes only its own logs with this managed policy.` },
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${why} copies the site from the CDK asset bucket into the site bucket and prunes it; CDK grants these action groups on those two buckets only.`,
      })),
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${orPlaceholder(stack.account, 'AccountId')}-${orPlaceholder(stack.region, 'Region')}/*]`,
        reason: `${why} reads the site's zip assets from the CDK bootstrap asset bucket.`,
      },
      { id: `AwsSolutions-IAM5[Resource::<${siteBucket}.Arn>/*]`, reason: `${why} writes and prunes the site's objects.` },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: `${why} creates and waits for CloudFront invalidations, which have no resource-level permissions.` },
      { id: 'AwsSolutions-L1', reason: `${why} runs on the Python runtime CDK pins for it.` },
      { id: 'Serverless-LambdaLatestVersion', reason: `${why} runs on the Python runtime CDK pins for it.` },
      { id: 'Serverless-LambdaDLQ', reason: `${why} is invoked synchronously by CloudFormation; a failure fails the deployment.` },
      { id: 'Serverless-LambdaTracing', reason: `${why} runs once per deployment; its logs show each copy and invalidation.` },
    ]);
  }
}

/** A stack's account or region as cdk-nag prints it: the value, or the pseudo parameter when the stack is environment-agnostic. */
function orPlaceholder(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
}

/** A prefix unique to this construct in its app: a managed login domain is unique per region. */
function defaultDomainPrefix(scope: Construct): string {
  return `app-${scope.node.addr.substring(0, 24)}`;
}

function validate(props: WebApplicationProps): void {
  if (props.apiProps?.apiProps?.authorization !== undefined) {
    throw new InvalidPropsError(NAME, 'apiProps.apiProps.authorization is set by the web application (its user pool, with the API scope); remove it');
  }
  if (props.apiProps?.apiProps?.cors !== undefined) {
    throw new InvalidPropsError(NAME, 'apiProps.apiProps.cors is not needed: the SPA calls the API on its own origin under /api');
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
  for (const origin of props.additionalCallbackOrigins ?? []) {
    if (!Token.isUnresolved(origin) && !/^(https:\/\/[^/\s]+|http:\/\/localhost(:\d+)?)$/.test(origin)) {
      throw new InvalidPropsError(NAME, `additionalCallbackOrigins must be origins (https://host[:port], or http://localhost[:port] for development) without a path, got '${origin}'`);
    }
  }
  if (props.accessLogRetention !== undefined && props.accessLogRetention.toSeconds() < 86_400) {
    throw new InvalidPropsError(NAME, `accessLogRetention must be at least 1 day, got ${props.accessLogRetention.toHumanString()}`);
  }
}
