import { join } from 'node:path';
import { Aws, CfnElement, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { API_PREFIX_STRIP_CODE, SPA_ROUTE_FALLBACK_CODE } from './edge-functions';
import { WebAppRuntimeConfig } from './runtime-config';
import { acknowledgeNagFindings } from '../core/nag';

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
/** The id CDK gives the one BucketDeployment handler of a stack (default memory, no VPC). */
const BUCKET_DEPLOYMENT_SINGLETON_UUID = '8693BB64968944B69AAFB0CC9EB8756C';

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
        origin: new origins.RestApiOrigin(settings.api),
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
  const assets = new s3deploy.BucketDeployment(scope, 'DeployAssets', {
    destinationBucket: bucket,
    destinationKeyPrefix: HASHED_ASSETS_PREFIX,
    sources: [s3deploy.Source.asset(join(siteDirectory, HASHED_ASSETS_PREFIX))],
    cacheControl: [IMMUTABLE],
    prune: false,
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
  });
  entry.node.addDependency(assets);
  acknowledgeDeploymentHandlerFindings(scope, bucket);
}

/** CDK's BucketDeployment runs one singleton function per stack; what it needs is CDK's design, not ours. */
function acknowledgeDeploymentHandlerFindings(scope: Construct, bucket: s3.IBucket): void {
  const stack = Stack.of(scope);
  const handler = stack.node.tryFindChild(`Custom::CDKBucketDeployment${BUCKET_DEPLOYMENT_SINGLETON_UUID}`);
  if (!handler) return;
  const siteBucket = stack.getLogicalId(bucket.node.defaultChild as CfnElement);
  const why = 'CDK\'s BucketDeployment handler';
  acknowledgeNagFindings(handler, [
    { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: `${why} writes only its own logs with this managed policy.` },
    ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${why} copies the site from the CDK asset bucket into the site bucket and prunes it; CDK grants these action groups on those two buckets only.`,
    })),
    {
      id: `AwsSolutions-IAM5[Resource::arn:${orPlaceholder(stack.partition, 'Partition')}:s3:::cdk-hnb659fds-assets-${orPlaceholder(stack.account, 'AccountId')}-${orPlaceholder(stack.region, 'Region')}/*]`,
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

/** A stack's account or region as cdk-nag prints it: the value, or the pseudo parameter when the stack is environment-agnostic. */
function orPlaceholder(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
}
