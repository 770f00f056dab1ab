import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { ApiAuthorization, WebApplication, WebApplicationProps } from '../../lib';
import { webAppContentSecurityPolicy } from '../../lib/web-app/content-security-policy';
import { API_PREFIX_STRIP_CODE, loadEdgeFunction, SPA_ROUTE_FALLBACK_CODE } from '../../lib/web-app/edge-functions';
import { WEB_APP_ITEM_SCHEMA } from '../../lib/web-app/runtime-config';
import { allowedPermissions, actionsOn, expectExactly } from '../helpers/iam';
import { nagFindings } from '../helpers/nag';
import { siteFixture } from '../helpers/site-fixture';

const SITE = siteFixture();

interface Built { stack: Stack; app: WebApplication; template: Template }

function build(props: WebApplicationProps = {}, extra?: (stack: Stack) => WebApplicationProps): Built {
  const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
  const app = new WebApplication(stack, 'Web', { siteDirectory: SITE, ...props, ...extra?.(stack) });
  return { stack, app, template: Template.fromStack(stack) };
}

/** Managed policy ids CloudFront documents (CachingOptimized, CachingDisabled, AllViewerExceptHostHeader). */
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

function distributionConfig(template: Template): Record<string, any> {
  const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
  return distribution.Properties.DistributionConfig;
}

function behaviour(template: Template, pathPattern: string): Record<string, any> {
  const found = distributionConfig(template).CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === pathPattern);
  expect(found).toBeDefined();
  return found;
}

function logicalId(template: Template, type: string, match: (properties: Record<string, any>) => boolean = () => true): string {
  const entry = Object.entries(template.findResources(type)).find(([, r]) => match(r.Properties ?? {}));
  expect(entry).toBeDefined();
  return entry![0];
}

/** The `x-api-key` value CloudFront sends and API Gateway checks: a dynamic reference to the secret, resolved at deploy time. */
function secretReference(secretLogicalId: string): Record<string, unknown> {
  return { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretLogicalId }, ':SecretString:::}}']] };
}

function apiOrigin(template: Template): Record<string, any> {
  const api = behaviour(template, '/api/*');
  return distributionConfig(template).Origins.find((o: Record<string, any>) => o.Id === api.TargetOriginId);
}

/** What the role of each BucketDeployment function of the stack allows on CloudFront, by function logical id. */
function cloudFrontPermissionsOfDeploymentFunctions(template: Template): Record<string, Array<{ action: string; resource: unknown }>> {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('CustomCDKBucketDeployment'));
  expect(functions.length).toBeGreaterThan(0);
  return Object.fromEntries(functions.map(([id, fn]) => {
    const role = fn.Properties.Role['Fn::GetAtt'][0] as string;
    return [id, allowedPermissions(template, new RegExp(`^${role}$`)).filter((p) => p.action.startsWith('cloudfront:'))];
  }));
}

function deployments(template: Template): Array<{ id: string; properties: Record<string, any>; dependsOn: string[] }> {
  return Object.entries(template.findResources('Custom::CDKBucketDeployment'))
    .map(([id, r]) => ({ id, properties: r.Properties, dependsOn: r.DependsOn ?? [] }));
}

describe('WebApplication defaults', () => {
  const { stack, app, template } = build();

  test('the site bucket is private, encrypted, versioned, TLS-only and logs its access', () => {
    const siteBucket = logicalId(template, 'AWS::S3::Bucket', (p) => p.LoggingConfiguration !== undefined);
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { LogFilePrefix: 's3/site/' },
    });
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p) => p.Properties.Bucket.Ref === siteBucket)!;
    const statements: Array<Record<string, any>> = policy.Properties.PolicyDocument.Statement;
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
    ]));
    // The only Allow: CloudFront's service principal, reading objects, for this distribution only.
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' } });
    expect(JSON.stringify(allows[0].Condition)).toContain(stack.resolve(app.distribution.distributionId).Ref);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/CloudFrontOriginAccessIdentity|"AccessControl"/);
  });

  test('CloudFront reads the bucket through Origin Access Control, never a public website endpoint', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    const s3Origin = distributionConfig(template).Origins.find((o: Record<string, any>) => o.S3OriginConfig !== undefined);
    expect(s3Origin.OriginAccessControlId).toBeDefined();
    expect(s3Origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
  });

  test('the distribution redirects to HTTPS, speaks HTTP/2 and 3, logs, and serves index.html at /', () => {
    const config = distributionConfig(template);
    expect(config).toMatchObject({
      DefaultRootObject: 'index.html',
      HttpVersion: 'http2and3',
      PriceClass: 'PriceClass_100',
      Logging: { Prefix: 'cloudfront/' },
    });
    for (const b of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) {
      expect(b.ViewerProtocolPolicy).toBe('redirect-to-https');
      expect(b.ResponseHeadersPolicyId).toBeDefined();
    }
  });

  test('the SPA fallback is a viewer-request function on the site only, not distribution-wide error pages that would swallow API errors', () => {
    const config = distributionConfig(template);
    expect(config.CustomErrorResponses).toBeUndefined();
    expect(config.DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [expect.stringMatching(/SpaRouteFallback/), 'FunctionARN'] } },
    ]);
    expect(behaviour(template, '/assets/*').FunctionAssociations).toBeUndefined();
    template.hasResourceProperties('AWS::CloudFront::Function', { FunctionCode: SPA_ROUTE_FALLBACK_CODE, FunctionConfig: { Runtime: 'cloudfront-js-2.0' } });
    template.hasResourceProperties('AWS::CloudFront::Function', { FunctionCode: API_PREFIX_STRIP_CODE, FunctionConfig: { Runtime: 'cloudfront-js-2.0' } });
  });

  test('hashed assets and the SPA are cached by CloudFront; /api/* is never cached and keeps every viewer header but Host', () => {
    expect(distributionConfig(template).DefaultCacheBehavior).toMatchObject({ CachePolicyId: CACHING_OPTIMIZED, AllowedMethods: ['GET', 'HEAD'] });
    expect(behaviour(template, '/assets/*')).toMatchObject({ CachePolicyId: CACHING_OPTIMIZED, AllowedMethods: ['GET', 'HEAD'] });
    const api = behaviour(template, '/api/*');
    expect(api).toMatchObject({
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [expect.stringMatching(/ApiPrefixStrip/), 'FunctionARN'] } }],
    });
    const origin = apiOrigin(template);
    expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only' });
    expect(JSON.stringify(origin.DomainName)).toContain(stack.resolve(app.api.restApiId).Ref);
    // The origin path is the stage, taken from the API's URL.
    expect(JSON.stringify(origin.OriginPath)).toContain(stack.resolve(app.api.deploymentStage.stageName).Ref);
  });

  test('every response carries the CSP the SPA satisfies, HSTS, DENY framing, nosniff and a strict referrer policy', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        SecurityHeadersConfig: {
          ContentSecurityPolicy: { ContentSecurityPolicy: stack.resolve(webAppContentSecurityPolicy(app.userPoolDomain.baseUrl())), Override: true },
          StrictTransportSecurity: { AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ContentTypeOptions: { Override: true },
          ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
        },
        CustomHeadersConfig: { Items: Match.arrayWith([Match.objectLike({ Header: 'Cross-Origin-Opener-Policy', Value: 'same-origin' })]) },
      },
    });
    expect(app.contentSecurityPolicy).toContain("script-src 'self'");
    expect(app.contentSecurityPolicy).not.toMatch(/unsafe-inline|unsafe-eval/);
  });

  test('the user pool: admin-created users, email sign-in, optional TOTP MFA, strong passwords, Essentials plan, deletion protection', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
          TemporaryPasswordValidityDays: 3,
        },
      },
      UserPoolTier: 'ESSENTIALS',
      DeletionProtection: 'ACTIVE',
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
    });
  });

  test('the app client: authorization code (PKCE, no secret), callback and logout URLs on the distribution', () => {
    const distribution = logicalId(template, 'AWS::CloudFront::Distribution');
    const onDistribution = (path: string): Record<string, unknown> => ({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distribution, 'DomainName'] }, path]] });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email', 'profile', { 'Fn::Join': ['', [{ Ref: Match.anyValue() }, '/items']] }],
      CallbackURLs: [onDistribution('/auth/callback')],
      LogoutURLs: [onDistribution('/')],
      SupportedIdentityProviders: ['COGNITO'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', { Identifier: 'api', Scopes: [{ ScopeName: 'items', ScopeDescription: Match.anyValue() }] });
  });

  test('no circular dependency: the distribution knows nothing of the app client', () => {
    const client = logicalId(template, 'AWS::Cognito::UserPoolClient');
    const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
    expect(JSON.stringify(distribution)).not.toContain(client);
  });

  test('the default domain prefix is unique per deployment: the construct address and the stack\'s UUID, resolved at deploy time', () => {
    const [domain] = Object.values(template.findResources('AWS::Cognito::UserPoolDomain'));
    expect(domain.Properties.Domain).toEqual({
      'Fn::Join': ['', [
        expect.stringMatching(/^app-[0-9a-f]{8}-$/),
        { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
      ]],
    });
    // A stack id ends in a UUID: the prefix stays within Cognito's 63 characters and its alphabet.
    const prefix = `${domain.Properties.Domain['Fn::Join'][1][0]}00000000-0000-4000-8000-000000000000`;
    expect(prefix).toMatch(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
  });

  test('managed login: a domain on the newer managed login with Cognito\'s branding for the app client', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { ManagedLoginVersion: 2 });
    template.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', { UseCognitoProvidedValues: true, ClientId: { Ref: logicalId(template, 'AWS::Cognito::UserPoolClient') } });
  });

  test('the API: Cognito-authorized methods requiring the API scope, items scoped to the caller\'s sub, the SPA\'s item schema', () => {
    const authorizer = logicalId(template, 'AWS::ApiGateway::Authorizer');
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS', IdentitySource: 'method.request.header.Authorization' });
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    expect(methods.length).toBeGreaterThanOrEqual(2);
    for (const method of methods) {
      expect(method.Properties).toMatchObject({ AuthorizationType: 'COGNITO_USER_POOLS', AuthorizerId: { Ref: authorizer }, AuthorizationScopes: ['api/items'] });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ITEM_OWNER_CLAIM: 'sub', ITEM_SCHEMA: JSON.stringify(WEB_APP_ITEM_SCHEMA), RESOURCE_NAME: 'items' }) },
    });
    expect(app.apiScope).toBe('api/items');
  });

  test('the site deploys hashed assets first (immutable, never pruned), then index.html and config.json (revalidated, only they are invalidated)', () => {
    const [assets, entry] = deployments(template).sort((a, b) => a.dependsOn.length - b.dependsOn.length);
    expect(assets.properties).toMatchObject({ DestinationBucketKeyPrefix: 'assets/', Prune: false, SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' } });
    expect(assets.properties.DistributionId).toBeUndefined();
    expect(entry.properties).toMatchObject({
      Prune: true,
      Exclude: ['assets/*'],
      SystemMetadata: { 'cache-control': 'no-cache' },
      DistributionId: { Ref: logicalId(template, 'AWS::CloudFront::Distribution') },
      DistributionPaths: ['/index.html', '/config.json'],
    });
    expect(entry.properties.DestinationBucketKeyPrefix).toBeUndefined();
    expect(entry.dependsOn).toContain(assets.id);
  });

  test('config.json is written at deploy time with the user pool, the app client and the managed login endpoints', () => {
    const entry = deployments(template).find((d) => d.properties.DistributionPaths !== undefined)!;
    const markers = JSON.stringify(entry.properties.SourceMarkers);
    for (const id of [logicalId(template, 'AWS::Cognito::UserPoolClient'), logicalId(template, 'AWS::Cognito::UserPool'), logicalId(template, 'AWS::Cognito::UserPoolDomain')]) {
      expect(markers).toContain(id);
    }
  });

  test('alarms are the API\'s (5XX, latency, handler errors/throttles, table throttles)', () => {
    expect(app.alarms).toEqual(expect.arrayContaining(app.restApi.alarms));
    expect(app.alarms).toHaveLength(app.restApi.alarms.length + 3);
  });

  test('the API answers only requests that come through the distribution: every method requires the API key CloudFront sends', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    expect(methods.length).toBeGreaterThanOrEqual(2);
    for (const method of methods) expect(method.Properties.ApiKeyRequired).toBe(true);
    // The key is generated by Secrets Manager at deploy time (letters and digits, as API Gateway requires) and is never in the template.
    const secret = logicalId(template, 'AWS::SecretsManager::Secret');
    template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false } });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Value: secretReference(secret) });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', { ApiStages: [{ ApiId: { Ref: Match.anyValue() }, Stage: { Ref: Match.anyValue() } }] });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { KeyType: 'API_KEY', KeyId: { Ref: logicalId(template, 'AWS::ApiGateway::ApiKey') } });
    // CloudFront overwrites an x-api-key header a viewer sends with its own.
    expect(apiOrigin(template).OriginCustomHeaders).toEqual([{ HeaderName: 'x-api-key', HeaderValue: secretReference(secret) }]);
    expect(stack.resolve(app.apiOriginKeySecret?.secretArn)).toEqual({ Ref: secret });
  });

  test('the app client allows no sign-in flow of the user pool API (no SRP): the SPA signs in through managed login, and only refreshes tokens', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'] });
  });

  test('the site deployment function may create and read invalidations of this distribution only', () => {
    const distributionArn = stack.resolve(app.distribution.distributionArn);
    for (const permissions of Object.values(cloudFrontPermissionsOfDeploymentFunctions(template))) {
      expectExactly(permissions, actionsOn(distributionArn, 'cloudfront:GetInvalidation', 'cloudfront:CreateInvalidation'));
    }
  });

  test('cdk-nag: no unacknowledged findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('the CloudFront Functions', () => {
  const strip = loadEdgeFunction(API_PREFIX_STRIP_CODE);
  const fallback = loadEdgeFunction(SPA_ROUTE_FALLBACK_CODE);

  test.each([
    ['/api/items', '/items'],
    ['/api/items/01J0ABC', '/items/01J0ABC'],
    ['/api/', '/'],
    ['/api', '/'],
  ])('the API prefix is dropped: %s -> %s', (uri, expected) => {
    expect(strip({ request: { uri, method: 'GET' } }).uri).toBe(expected);
  });

  test('the stripped prefix is passed on in X-Forwarded-Prefix, for the API\'s Location headers', () => {
    expect(strip({ request: { uri: '/api/items', headers: {} } }).headers).toEqual({ 'x-forwarded-prefix': { value: '/api' } });
  });

  test('a path that only starts with "api" keeps its prefix', () => {
    expect(strip({ request: { uri: '/apix/items' } }).uri).toBe('/apix/items');
  });

  test.each(['/', '/auth/callback', '/items/01J0ABC', '/deep/link/'])('an SPA route gets index.html: %s', (uri) => {
    expect(fallback({ request: { uri } }).uri).toBe('/index.html');
  });

  test.each(['/config.json', '/assets/app-3F2A.js', '/favicon.ico', '/missing.png'])('a file passes through unchanged: %s', (uri) => {
    expect(fallback({ request: { uri } }).uri).toBe(uri);
  });

  test('the other request fields are kept', () => {
    const request = { uri: '/api/items', method: 'PUT', headers: { authorization: { value: 'Bearer x' } }, querystring: { limit: { value: '5' } } };
    expect(strip({ request: { ...request } })).toEqual({ ...request, uri: '/items' });
  });
});

describe('WebApplication options', () => {
  test('self sign-up, required MFA and the Plus plan (with full threat protection) pass nag with no acknowledgements to spare', () => {
    const { stack, template } = build({ selfSignUpEnabled: true, mfa: cognito.Mfa.REQUIRED, featurePlan: cognito.FeaturePlan.PLUS });

    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      MfaConfiguration: 'ON',
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('the Lite plan uses the classic hosted UI (managed login needs Essentials)', () => {
    const { template } = build({ featurePlan: cognito.FeaturePlan.LITE });

    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { ManagedLoginVersion: 1 });
    template.resourceCountIs('AWS::Cognito::ManagedLoginBranding', 0);
  });

  test('MFA off leaves no second factor configured', () => {
    const { template } = build({ mfa: cognito.Mfa.OFF });

    template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'OFF', EnabledMfas: Match.absent() });
  });

  test('a custom domain: alias, certificate, TLS 1.2, DNS records and callbacks on both origins', () => {
    const { stack, app, template } = build({}, (s) => ({
      customDomain: {
        domainName: 'app.example.com',
        certificate: acm.Certificate.fromCertificateArn(s, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/abc'),
        hostedZone: route53.HostedZone.fromHostedZoneAttributes(s, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' }),
      },
    }));

    expect(distributionConfig(template)).toMatchObject({
      Aliases: ['app.example.com'],
      ViewerCertificate: { AcmCertificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/abc', MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' },
    });
    template.resourceCountIs('AWS::Route53::RecordSet', 2);
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'app.example.com.', Type: 'AAAA' });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: Match.arrayWith(['https://app.example.com/auth/callback']),
      LogoutURLs: Match.arrayWith(['https://app.example.com/']),
    });
    expect(app.url).toBe('https://app.example.com');
    expect(nagFindings(stack)).toEqual([]);
  });

  test('a WAF web ACL is attached by ARN', () => {
    const arn = 'arn:aws:wafv2:us-east-1:111111111111:global/webacl/site/0000';
    const { stack, template } = build({ webAclArn: arn });

    expect(distributionConfig(template).WebACLId).toBe(arn);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('additional callback origins (a local development server) are allowed as callbacks and logout targets', () => {
    const { template } = build({ additionalCallbackOrigins: ['http://localhost:5173'] });

    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: Match.arrayWith(['http://localhost:5173/auth/callback']),
      LogoutURLs: Match.arrayWith(['http://localhost:5173/']),
    });
  });

  test('apiOnlyThroughDistribution: false leaves the API reachable on its execute-api URL: no key, no secret, no origin header', () => {
    const { stack, template } = build({ apiOnlyThroughDistribution: false });

    for (const method of Object.values(template.findResources('AWS::ApiGateway::Method'))) expect(method.Properties.ApiKeyRequired).toBe(false);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    expect(apiOrigin(template).OriginCustomHeaders).toBeUndefined();
    expect(nagFindings(stack)).toEqual([]);
  });

  test('a new apiOriginKeyVersion rotates the key: a new secret, read by the API key and the origin header', () => {
    const { template } = build({ apiOriginKeyVersion: 2 });

    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const secret = logicalId(template, 'AWS::SecretsManager::Secret');
    expect(secret).not.toEqual(logicalId(build().template, 'AWS::SecretsManager::Secret'));
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Value: secretReference(secret) });
    expect(apiOrigin(template).OriginCustomHeaders).toEqual([{ HeaderName: 'x-api-key', HeaderValue: secretReference(secret) }]);
  });

  test('a usage plan of apiProps (a quota) applies to the key CloudFront sends', () => {
    const { template } = build({ apiProps: { usagePlan: { quota: { limit: 100_000, period: apigw.Period.DAY } } } });

    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Quota: { Limit: 100_000, Period: 'DAY' } });
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Value: secretReference(logicalId(template, 'AWS::SecretsManager::Secret')) });
  });

  test('authFlows turns on a sign-in flow of the user pool API for an app that signs in without managed login', () => {
    const { template } = build({ authFlows: { userSrp: true } });

    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] });
  });

  test('two web applications in one stack: the site deployment function may invalidate each distribution, and no other', () => {
    const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
    const first = new WebApplication(stack, 'First', { siteDirectory: SITE });
    const second = new WebApplication(stack, 'Second', { siteDirectory: SITE });
    const template = Template.fromStack(stack);

    const functions = Object.values(cloudFrontPermissionsOfDeploymentFunctions(template));
    expect(functions).toHaveLength(1);
    const arns = [first, second].map((app) => stack.resolve(app.distribution.distributionArn));
    expect(functions[0].filter((p) => p.resource === '*')).toEqual([]);
    for (const arn of arns) {
      expect(functions[0]).toEqual(expect.arrayContaining(actionsOn(arn, 'cloudfront:GetInvalidation', 'cloudfront:CreateInvalidation')));
    }
    expect(nagFindings(stack)).toEqual([]);
  });

  test('a BucketDeployment of your own in the same stack keeps its own function and role: its invalidations are not narrowed to the web application\'s distribution', () => {
    const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
    const app = new WebApplication(stack, 'Web', { siteDirectory: SITE });
    new s3deploy.BucketDeployment(stack, 'Own', {
      destinationBucket: new s3.Bucket(stack, 'OwnBucket'),
      sources: [s3deploy.Source.data('a.txt', 'a')],
      distribution: new cloudfront.Distribution(stack, 'OwnCdn', { defaultBehavior: { origin: new origins.HttpOrigin('example.com') } }),
    });
    const template = Template.fromStack(stack);

    const permissions = Object.values(cloudFrontPermissionsOfDeploymentFunctions(template));
    expect(permissions).toHaveLength(2);
    const onlyOn = (resource: unknown): unknown[] =>
      permissions.filter((p) => p.every((permission) => JSON.stringify(permission.resource) === JSON.stringify(resource)));
    expect(onlyOn(stack.resolve(app.distribution.distributionArn))).toHaveLength(1);
    expect(onlyOn('*')).toHaveLength(1);
  });

  test('the resource API props reach the items API: another resource name changes the paths and the scope', () => {
    const { app, template } = build({ resourceName: 'notes', itemSchema: { type: 'object' } });

    expect(app.apiScope).toBe('api/notes');
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'notes' });
    template.hasResourceProperties('AWS::ApiGateway::Method', { AuthorizationScopes: ['api/notes'] });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ ITEM_SCHEMA: '{"type":"object"}', RESOURCE_NAME: 'notes' }) } });
  });

  test('domain prefix, price class and log retention', () => {
    const { template } = build({ domainPrefix: 'my-team-app', priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL, accessLogRetention: logs.RetentionDays.ONE_MONTH });

    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'my-team-app' });
    expect(distributionConfig(template).PriceClass).toBe('PriceClass_All');
    template.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] } });
  });
});

describe('WebApplication invalid props', () => {
  test.each<[string, (stack: Stack) => WebApplicationProps, RegExp]>([
    ['the API authorization is given', (s) => ({
      apiProps: { authorization: ApiAuthorization.cognito({ userPools: [new cognito.UserPool(s, 'Other')] }) },
    }), /apiProps.authorization is set by the web application/],
    ['CORS is given', () => ({ apiProps: { cors: { allowOrigins: ['https://example.com'] } } }), /cors is not needed/],
    ['the domain prefix has capitals', () => ({ domainPrefix: 'MyApp' }), /domainPrefix must be .*got 'MyApp'/],
    ['the domain prefix contains a reserved word', () => ({ domainPrefix: 'my-cognito-app' }), /without 'aws', 'amazon' or 'cognito', got 'my-cognito-app'/],
    ['the custom domain name is not a host name', (s) => ({
      customDomain: { domainName: 'https://app.example.com', certificate: acm.Certificate.fromCertificateArn(s, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/abc') },
    }), /customDomain.domainName must be a lowercase host name .*got 'https:\/\/app.example.com'/],
    ['the custom domain name is a wildcard', (s) => ({
      customDomain: { domainName: '*.example.com', certificate: acm.Certificate.fromCertificateArn(s, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/abc') },
    }), /customDomain.domainName must be .*no wildcard/],
    ['the certificate is not in us-east-1', (s) => ({
      customDomain: { domainName: 'app.example.com', certificate: acm.Certificate.fromCertificateArn(s, 'Cert', 'arn:aws:acm:eu-west-1:111111111111:certificate/abc') },
    }), /customDomain.certificate must be an ACM certificate in us-east-1 .*got one in eu-west-1/],
    ['the web ACL is a regional one', () => ({ webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/site/0000' }),
      /webAclArn must be a WAFv2 web ACL of scope CLOUDFRONT .*CloudFront uses only those/],
    ['a callback origin has a path', () => ({ additionalCallbackOrigins: ['https://example.com/app'] }), /additionalCallbackOrigins must be origins.*got 'https:\/\/example.com\/app'/],
    ['apiProps.usagePlan is given with apiOnlyThroughDistribution: false', () => ({ apiOnlyThroughDistribution: false, apiProps: { usagePlan: {} } }),
      /apiProps.usagePlan makes every method require an API key, which only CloudFront sends/],
    ['apiOriginKeyVersion is given with apiOnlyThroughDistribution: false', () => ({ apiOnlyThroughDistribution: false, apiOriginKeyVersion: 2 }),
      /apiOriginKeyVersion applies only with apiOnlyThroughDistribution/],
    ['apiOriginKeyVersion is not a positive integer', () => ({ apiOriginKeyVersion: 0 }), /apiOriginKeyVersion must be an integer in 1\.\.\d+, got 0/],
    ['a callback origin is plain http on another host', () => ({ additionalCallbackOrigins: ['http://example.com'] }), /additionalCallbackOrigins must be origins/],
  ])('fails when %s', (_name, props, message) => {
    const stack = new Stack(new App(), 'Test');
    expect(() => new WebApplication(stack, 'Web', { siteDirectory: SITE, ...props(stack) })).toThrow(message);
  });

  test.each([['a missing folder', join(SITE, 'missing')], ['a folder without index.html', join(SITE, 'assets')]])('fails when siteDirectory is %s', (_name, dir) => {
    const stack = new Stack(new App(), 'Test');
    expect(() => new WebApplication(stack, 'Web', { siteDirectory: dir })).toThrow(/siteDirectory must hold a built SPA: index.html and an assets\/ folder/);
  });
});
