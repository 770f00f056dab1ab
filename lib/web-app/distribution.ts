import { join } from 'node:path';
import { Aws, CfnElement, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { API_PREFIX_STRIP_CODE, SPA_ROUTE_FALLBACK_CODE } from './edge-functions';
import { WebAppRuntimeConfig } from './runtime-config';
import { encryptedLogGroup } from '../core/encryption';
import { LOG_RETENTION_DEFAULT } from '../core/lambda-defaults';
import { ManagedPolicyRole } from '../core/managed-policy-role';
import { acknowledgeNagFindings, ruleAcknowledgements } from '../core/nag';

/** A custom domain for the site, e.g. `app.example.com`. */
export interface WebApplicationCustomDomain {
  /** The site's domain name. */
  readonly domainName: string;
  /** An ACM certificate for `domainName`, in us-east-1 (CloudFront's requirement). */
  readonly certificate: acm.ICertificate;
  /** When given, A and AAAA alias records for `domainName` are created in this zone. @default - no DNS records */
  readonly hostedZone?: route53.IHostedZone;
}

/** CloudFront routes this prefix to the API; the SPA calls `/api/<resource>`. */
export const API_BASE_PATH = '/api';
/** The SPA's content-hashed files: immutable, so one year in every cache. */
export const HASHED_ASSETS_PREFIX = 'assets/';
const IMMUTABLE = s3deploy.CacheControl.fromString('public, max-age=31536000, immutable');
const REVALIDATE = s3deploy.CacheControl.fromString('no-cache');
/**
 * The memory of the site deployments' function. CDK runs one BucketDeployment function per stack
 * and memory size; a size other than CDK's default (128) keeps this function and its role, which
 * may invalidate only the web applications' distributions, apart from BucketDeployments of yours.
 */
const SITE_DEPLOYMENT_MEMORY_MIB = 256;
/** The id CDK gives the BucketDeployment function of that memory size (no VPC) in the stack. */
const SITE_DEPLOYMENT_FUNCTION_ID = `Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C${SITE_DEPLOYMENT_MEMORY_MIB}MiB`;
const SITE_DEPLOYMENT_ROLE_ID = 'WebAppSiteDeploymentRole';

/**
 * A name for a CloudFront resource that needs one (response headers policies, origin access
 * controls). CloudFront is global: its names are unique per account across every Region, so the
 * name carries the Region, or the same stack in a second Region would fail with "already exists".
 */
function cloudFrontName(scope: Construct, what: string, maxLength: number): string {
  const regionSuffix = 15; // '-' and the longest Region name
  return `${Names.uniqueResourceName(scope, { maxLength: maxLength - what.length - regionSuffix, separator: '' })}${what}-${Aws.REGION}`;
}

/** The security headers of every response (id `SecurityHeaders`): a CSP the SPA satisfies, HSTS, no framing, no sniffing. */
export function createSecurityHeadersPolicy(scope: Construct, contentSecurityPolicy: string): cloudfront.ResponseHeadersPolicy {
  return new cloudfront.ResponseHeadersPolicy(scope, 'SecurityHeaders', {
    responseHeadersPolicyName: cloudFrontName(scope, 'SecurityHeaders', 128),
    comment: 'Web application: CSP the SPA satisfies, HSTS, no framing, no sniffing, strict referrer',
    securityHeadersBehavior: {
      contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy, override: true },
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

/** What the distribution serves and how. */
export interface SiteDistributionSettings {
  readonly bucket: s3.IBucket;
  readonly accessLogBucket: s3.IBucket;
  readonly responseHeadersPolicy: cloudfront.IResponseHeadersPolicy;
  /** Served under `/api/*`, never cached. */
  readonly api: apigw.RestApi;
  /** Sent to the API in `x-api-key` (a dynamic reference to the secret, never the value). @default - no key */
  readonly apiKey?: string;
  readonly customDomain?: WebApplicationCustomDomain;
  readonly webAclArn?: string;
  readonly priceClass?: cloudfront.PriceClass;
}

/**
 * The distribution (id `Distribution`): the SPA from the private bucket through Origin Access
 * Control, hashed assets cached for a year, SPA routes falling back to `index.html`, and the API
 * on the same origin under `/api/*`.
 */
export function createSiteDistribution(scope: Construct, settings: SiteDistributionSettings): cloudfront.Distribution {
  const siteOrigin = origins.S3BucketOrigin.withOriginAccessControl(settings.bucket, {
    originAccessControl: new cloudfront.S3OriginAccessControl(scope, 'SiteOriginAccessControl', {
      originAccessControlName: cloudFrontName(scope, 'Site', 64),
      description: 'The web application\'s site bucket, read by CloudFront only (SigV4 on every request)',
    }),
  });
  const viewerRequest = (id: string, code: string, comment: string): cloudfront.FunctionAssociation => ({
    eventType: cloudfront.FunctionEventType.VIEWER_REQUEST,
    function: new cloudfront.Function(scope, id, {
      code: cloudfront.FunctionCode.fromInline(code),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment,
    }),
  });
  const common = {
    viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
    responseHeadersPolicy: settings.responseHeadersPolicy,
    compress: true,
  };
  const distribution = new cloudfront.Distribution(scope, 'Distribution', {
    comment: `${scope.node.path}: single-page application and /api`,
    defaultRootObject: 'index.html',
    httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    priceClass: settings.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
    enableLogging: true,
    logBucket: settings.accessLogBucket,
    logFilePrefix: 'cloudfront/',
    webAclId: settings.webAclArn,
    // The security policy applies to a custom certificate only: the default *.cloudfront.net
    // certificate's policy is fixed by CloudFront (and CDK warns when one is given for it).
    ...(settings.customDomain ? {
      domainNames: [settings.customDomain.domainName],
      certificate: settings.customDomain.certificate,
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
        // A viewer's own x-api-key is overwritten: CloudFront replaces a viewer header of an origin custom header's name.
        origin: new origins.RestApiOrigin(settings.api, settings.apiKey !== undefined ? { customHeaders: { 'x-api-key': settings.apiKey } } : {}),
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
    ...(settings.webAclArn ? [] : [{
      id: 'AwsSolutions-CFR2',
      reason: 'A WAF web ACL is the webAclArn prop (CLOUDFRONT scope lives in us-east-1, which an environment-agnostic stack cannot create); the API has its own throttling.',
    }]),
    ...(settings.customDomain ? [] : [{
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
export function deploySite(
  scope: Construct, bucket: s3.IBucket, distribution: cloudfront.IDistribution, siteDirectory: string, runtimeConfig: WebAppRuntimeConfig,
): void {
  const role = SiteDeploymentRole.of(scope);
  role.allowInvalidations(distribution);
  const assets = new s3deploy.BucketDeployment(scope, 'DeployAssets', {
    destinationBucket: bucket,
    destinationKeyPrefix: HASHED_ASSETS_PREFIX,
    sources: [s3deploy.Source.asset(join(siteDirectory, HASHED_ASSETS_PREFIX))],
    cacheControl: [IMMUTABLE],
    prune: false,
    role,
    logGroup: role.logGroup,
    memoryLimit: SITE_DEPLOYMENT_MEMORY_MIB,
  });
  const entry = new s3deploy.BucketDeployment(scope, 'DeployEntry', {
    destinationBucket: bucket,
    sources: [
      s3deploy.Source.asset(siteDirectory, { exclude: [HASHED_ASSETS_PREFIX] }),
      s3deploy.Source.jsonData('config.json', runtimeConfig),
    ],
    exclude: [`${HASHED_ASSETS_PREFIX}*`],
    cacheControl: [REVALIDATE],
    prune: true,
    distribution: distribution,
    distributionPaths: ['/index.html', '/config.json'],
    role,
    logGroup: role.logGroup,
    memoryLimit: SITE_DEPLOYMENT_MEMORY_MIB,
  });
  entry.node.addDependency(assets);
  acknowledgeDeploymentFindings(scope, role, bucket);
}

/**
 * The role of the function that deploys the sites of the stack's web applications (id
 * `WebAppSiteDeploymentRole` on the stack, one per stack like the function). CDK's
 * BucketDeployment lets its function create and read invalidations of every distribution (`*`);
 * both actions take a distribution ARN, so this role narrows each such statement to the
 * distributions of the web applications it deploys.
 */
class SiteDeploymentRole extends ManagedPolicyRole {
  public static of(scope: Construct): SiteDeploymentRole {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(SITE_DEPLOYMENT_ROLE_ID);
    return existing instanceof SiteDeploymentRole ? existing : new SiteDeploymentRole(stack, SITE_DEPLOYMENT_ROLE_ID, scope);
  }

  /** The function's log group (encrypted, finite retention), the only one it may write to. */
  public readonly logGroup: logs.ILogGroup;
  private readonly distributionArns: string[] = [];

  private constructor(scope: Construct, id: string, firstWebApplication: Construct) {
    super(scope, id, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Copies the web applications\' sites into their buckets and invalidates their distributions (CDK BucketDeployment)',
    });
    this.logGroup = encryptedLogGroup(firstWebApplication, 'SiteDeploymentLogs', { retention: LOG_RETENTION_DEFAULT, removalPolicy: RemovalPolicy.RETAIN });
    this.logGroup.grantWrite(this);
  }

  /** Lets the function create and read invalidations of `distribution`; call before deploying to it. */
  public allowInvalidations(distribution: cloudfront.IDistribution): void {
    this.distributionArns.push(distribution.distributionArn);
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    if (!onlyCloudFrontOnEveryResource(statement)) return super.addToPrincipalPolicy(statement);
    return super.addToPrincipalPolicy(new iam.PolicyStatement({
      effect: statement.effect,
      actions: statement.actions,
      resources: [...this.distributionArns],
    }));
  }
}

/** An unconditional Allow of CloudFront actions only, on `*`: the statement BucketDeployment adds for invalidations. */
function onlyCloudFrontOnEveryResource(statement: iam.PolicyStatement): boolean {
  return statement.effect === iam.Effect.ALLOW
    && statement.resources.length === 1 && statement.resources[0] === '*'
    && statement.actions.length > 0 && statement.actions.every((action) => action.startsWith('cloudfront:'))
    && statement.notActions.length === 0 && statement.notResources.length === 0
    && Object.keys(statement.conditions).length === 0;
}

/** What CDK's BucketDeployment function needs is CDK's design, not ours: acknowledged on its role and on the function. */
function acknowledgeDeploymentFindings(scope: Construct, role: iam.IRole, bucket: s3.IBucket): void {
  const stack = Stack.of(scope);
  const siteBucket = stack.getLogicalId(bucket.node.defaultChild as CfnElement);
  const why = 'CDK\'s BucketDeployment function';
  acknowledgeNagFindings(role, [
    ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${why} copies the site from the CDK asset bucket into the site bucket and prunes it; CDK grants these action groups on those two buckets only.`,
    })),
    {
      id: `AwsSolutions-IAM5[Resource::arn:${orPlaceholder(stack.partition, 'Partition')}:s3:::cdk-hnb659fds-assets-${orPlaceholder(stack.account, 'AccountId')}-${orPlaceholder(stack.region, 'Region')}/*]`,
      reason: `${why} reads the site's zip assets from the CDK bootstrap asset bucket.`,
    },
    { id: `AwsSolutions-IAM5[Resource::<${siteBucket}.Arn>/*]`, reason: `${why} writes and prunes the site's objects.` },
  ]);
  const handler = stack.node.tryFindChild(SITE_DEPLOYMENT_FUNCTION_ID);
  if (!handler) return;
  acknowledgeNagFindings(handler, [
    { id: 'AwsSolutions-L1', reason: `${why} runs on the Python runtime CDK pins for it.` },
    { id: 'Serverless-LambdaLatestVersion', reason: `${why} runs on the Python runtime CDK pins for it.` },
    ...ruleAcknowledgements('LambdaDLQ',
      `${why} is a custom resource, which CloudFormation invokes asynchronously: it reports every failure to CloudFormation's response URL, which fails the deployment, so a copy of the event in a dead-letter queue would leave nothing to redo.`),
    { id: 'Serverless-LambdaTracing', reason: `${why} runs once per deployment; its logs show each copy and invalidation.` },
    ...ruleAcknowledgements('LambdaConcurrency',
      `${why} runs only when CloudFormation deploys a site; a reservation would take capacity from the account's pool (and fails to deploy where fewer than 10 executions would stay unreserved) without bounding anything.`),
    ...ruleAcknowledgements('LambdaInsideVPC',
      `${why} calls S3 and CloudFront's API over TLS with SigV4-signed requests; CloudFront has no VPC endpoint, so in a VPC it would need a NAT gateway.`),
  ]);
}
/** A stack's account or region as cdk-nag prints it: the value, or the pseudo parameter when the stack is environment-agnostic. */
function orPlaceholder(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
}
