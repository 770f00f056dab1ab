import { App, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ApiAuthorization, RestfulMicroservice, RestfulMicroserviceProps } from '../../lib';
import { allowedPermissions, expectExactly, actionsOn } from '../helpers/iam';
import { nagFindings } from '../helpers/nag';

interface Built { stack: Stack; service: RestfulMicroservice; template: Template }

function build(props?: RestfulMicroserviceProps, extra?: (stack: Stack) => RestfulMicroserviceProps): Built {
  const stack = new Stack(new App(), 'Test');
  const service = new RestfulMicroservice(stack, 'Items', { ...props, ...extra?.(stack) });
  return { stack, service, template: Template.fromStack(stack) };
}

const inlineCode = lambda.Code.fromInline('exports.main = async () => ({ statusCode: 200, body: "{}" })');

describe('RestfulMicroservice defaults', () => {
  const { stack, service, template } = build();

  test('creates an on-demand, point-in-time-recoverable, encrypted, retained table keyed pk/sk', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        })],
      },
    });
  });

  test('creates the reference handler on Node.js 24, arm64, traced, JSON logs, 512 MB, 10 s', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 10,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('ItemsHandlerLogGroup') } }),
      Environment: {
        Variables: {
          TABLE_NAME: { Ref: Match.stringLikeRegexp('ItemsTable') },
          RESOURCE_NAME: 'items',
          REQUIRE_IF_MATCH: 'true',
          MAX_BODY_BYTES: '65536',
          POWERTOOLS_SERVICE_NAME: 'items',
        },
      },
    });
  });

  test('gives the handler its own log group with three months retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  test('grants the handler exactly the table actions it uses, on the table only, and no managed policy', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }),
      ManagedPolicyArns: Match.absent(),
    });
    const table = { 'Fn::GetAtt': [expect.stringMatching(/^ItemsTable/), 'Arn'] };
    expectExactly(
      allowedPermissions(template, /^ItemsHandlerRole/).filter((p) => p.action.startsWith('dynamodb:')),
      actionsOn(table, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'),
    );
  });

  test('creates a REGIONAL REST API with the stage prod: JSON access logs, X-Ray, throttling, error execution logs', () => {
    const [stage] = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    expect(JSON.stringify(stage.Properties.AccessLogSetting.DestinationArn)).toMatch(/"ItemsApiAccessLogs[0-9A-F]{8}"/);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      AccessLogSetting: {
        // A GetAtt of the log group, or its ARN joined without `:*` under the recommended flags.
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
      MethodSettings: [Match.objectLike({
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        ThrottlingRateLimit: 100,
        ThrottlingBurstLimit: 200,
      })],
      CacheClusterEnabled: false,
    });
  });

  test('routes ANY on /items and /items/{id} to the handler with IAM authorization and the request validator', () => {
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY',
      AuthorizationType: 'AWS_IAM',
      ApiKeyRequired: false,
      RequestValidatorId: { Ref: Match.stringLikeRegexp('RequestValidator') },
      Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
    }, 2);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'items' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{id}' });
    template.hasResourceProperties('AWS::ApiGateway::Method', { RequestParameters: { 'method.request.path.id': true } });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true, ValidateRequestBody: true });
  });

  test('alarms on API 5XX rate, p99 latency, handler errors and throttles, and table throttles, without actions', () => {
    expect(service.alarms).toHaveLength(5);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: '100 * errors / MAX([requests, 1])' }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: '5XXError',
              Dimensions: Match.arrayWith([{ Name: 'Stage', Value: { Ref: Match.stringLikeRegexp('DeploymentStageprod') } }]),
            }),
          }),
        })]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: 2000,
      EvaluationPeriods: 3,
      Dimensions: Match.arrayWith([{ Name: 'Stage', Value: { Ref: Match.stringLikeRegexp('DeploymentStageprod') } }]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('ItemsHandler') } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Namespace: 'AWS/Lambda' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({
        MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ThrottledRequests', Namespace: 'AWS/DynamoDB' }) }),
      })]),
    });
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.absent() });
  });

  test('creates no dashboard, API key or usage plan', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
  });

  test('exposes its resources', () => {
    expect(service.resourceName).toBe('items');
    expect(service.logGroup).toBeDefined();
    expect(stack.resolve(service.url)).toEqual(expect.objectContaining({ 'Fn::Join': expect.any(Array) }));
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('RestfulMicroservice options', () => {
  test('resourceName changes the routes and the handler configuration', () => {
    const { template } = build({ resourceName: 'orders' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'orders' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ RESOURCE_NAME: 'orders', POWERTOOLS_SERVICE_NAME: 'orders' }) },
    });
  });

  test('requireIfMatch, maxBodySize, page sizes and itemSchema reach the handler environment', () => {
    const itemSchema = { type: 'object', required: ['name'], properties: { name: { type: 'string' } } };
    const { template } = build({ requireIfMatch: false, maxBodySize: Size.kibibytes(8), itemSchema, defaultPageSize: 10, maxPageSize: 50 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          REQUIRE_IF_MATCH: 'false', MAX_BODY_BYTES: '8192', ITEM_SCHEMA: JSON.stringify(itemSchema), DEFAULT_PAGE_SIZE: '10', MAX_PAGE_SIZE: '50',
        }),
      },
    });
  });

  test('tableProps are merged over the defaults', () => {
    const { template } = build({
      tableProps: {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        removalPolicy: RemovalPolicy.DESTROY,
        deletionProtection: false,
      },
    });
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })],
      }),
    });
  });

  test('functionProps are merged over the defaults and keep the required environment', () => {
    const { template } = build({ functionProps: { memorySize: 1024, timeout: Duration.seconds(5), environment: { FEATURE: 'on', TABLE_NAME: 'ignored' } } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1024,
      Timeout: 5,
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ FEATURE: 'on', TABLE_NAME: { Ref: Match.stringLikeRegexp('ItemsTable') } }) },
    });
  });

  test('code and handler replace the reference handler; the table grant then covers all data actions', () => {
    const { template } = build({ code: inlineCode, handler: 'index.main' });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.main', Runtime: 'nodejs24.x' });
    expect(allowedPermissions(template, /^ItemsHandlerRole/).map((p) => p.action)).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:BatchWriteItem']));
  });

  test('existingTable is used instead of a new table, and granted to the handler', () => {
    const { template } = build(undefined, (stack) => ({
      existingTable: dynamodb.TableV2.fromTableName(stack, 'Existing', 'my-items'),
    }));
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ TABLE_NAME: 'my-items' }) } });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: Match.arrayWith(['dynamodb:GetItem']),
          Resource: { 'Fn::Join': ['', Match.arrayWith([':table/my-items'])] },
        })]),
      },
    });
  });

  test('existingFunction receives every route, the table grant and the environment', () => {
    const { template, service } = build(undefined, (stack) => ({
      existingFunction: new lambda.Function(stack, 'Mine', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.main', code: inlineCode }),
    }));
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.main',
      Environment: { Variables: Match.objectLike({ RESOURCE_NAME: 'items', TABLE_NAME: { Ref: Match.stringLikeRegexp('ItemsTable') } }) },
    });
    template.resourcePropertiesCountIs('AWS::Lambda::Permission', { FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('Mine'), 'Arn'] } }, 4);
    expect(service.logGroup).toBeUndefined();
  });

  test('apiProps.endpointType EDGE', () => {
    const { template } = build({ apiProps: { endpointType: apigw.EndpointType.EDGE } });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['EDGE'] } });
  });

  test('a PRIVATE endpoint with a resource policy', () => {
    const policy = new iam.PolicyDocument({
      statements: [new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { StringEquals: { 'aws:SourceVpce': 'vpce-0123456789abcdef0' } },
      })],
    });
    const { template } = build({ apiProps: { endpointType: apigw.EndpointType.PRIVATE, resourcePolicy: policy } });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['PRIVATE'] },
      Policy: Match.objectLike({ Statement: [Match.objectLike({ Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-0123456789abcdef0' } } })] }),
    });
  });

  test('throttling settings reach the stage', () => {
    const { template } = build({ apiProps: { throttling: { rateLimit: 50, burstLimit: 10 } } });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      CacheClusterEnabled: false,
      MethodSettings: [Match.objectLike({ HttpMethod: '*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 10 })],
    });
  });

  test('usagePlan creates an API key and a usage plan and requires the key on every method', () => {
    const usagePlan = { quota: { limit: 10_000, period: apigw.Period.DAY }, throttle: { rateLimit: 10, burstLimit: 20 } };
    const { template, stack } = build({ apiProps: { usagePlan } });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Quota: { Limit: 10_000, Period: 'DAY' },
      Throttle: { RateLimit: 10, BurstLimit: 20 },
    });
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { HttpMethod: 'ANY', ApiKeyRequired: true }, 2);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('Cognito authorization with scopes', () => {
    const { template, stack } = build(undefined, (s) => ({
      apiProps: { authorization: ApiAuthorization.cognito({ userPools: [new cognito.UserPool(s, 'Pool', { passwordPolicy: { minLength: 12 } })], scopes: ['items/write'] }) },
    }));
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS' });
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY', AuthorizationType: 'COGNITO_USER_POOLS', AuthorizationScopes: ['items/write'],
    }, 2);
    expect(nagFindings(stack).filter((f) => f.includes('APIG') || f.includes('COG4'))).toEqual([]);
  });

  test('Lambda token and request authorizers', () => {
    const token = build(undefined, (s) => ({
      apiProps: { authorization: ApiAuthorization.lambdaToken({ handler: new lambda.Function(s, 'Auth', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.main', code: inlineCode }) }) },
    }));
    token.template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'TOKEN', IdentitySource: 'method.request.header.Authorization' });
    token.template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { HttpMethod: 'ANY', AuthorizationType: 'CUSTOM' }, 2);

    const request = build(undefined, (s) => ({
      apiProps: {
        authorization: ApiAuthorization.lambdaRequest({
          handler: new lambda.Function(s, 'Auth', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.main', code: inlineCode }),
          identitySources: [apigw.IdentitySource.header('X-Tenant')],
        }),
      },
    }));
    request.template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'REQUEST', IdentitySource: 'method.request.header.X-Tenant' });
  });

  test('ApiAuthorization.none() opts out, and the app then owns the APIG4/COG4 findings', () => {
    const { template, stack } = build({ apiProps: { authorization: ApiAuthorization.none() } });
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { HttpMethod: 'ANY', AuthorizationType: 'NONE' }, 2);
    expect(nagFindings(stack)).toEqual(expect.arrayContaining(['AwsSolutions-APIG4', 'AwsSolutions-COG4']));
  });

  test('cors adds preflight and tells the handler the allowed origins', () => {
    const { template } = build({ apiProps: { cors: { allowOrigins: ['https://app.example.com'] } } });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'OPTIONS', Integration: Match.objectLike({ Type: 'MOCK' }) });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CORS_ALLOW_ORIGINS: 'https://app.example.com' }) },
    });
  });

  test('webAclArn associates the web ACL with the stage', () => {
    const webAclArn = 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/items/0123';
    const { template } = build({ apiProps: { webAclArn } });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: webAclArn });
  });

  test('alarmTopic becomes the alarm and OK action of every alarm; dashboard adds a dashboard', () => {
    const { template } = build(undefined, (s) => ({ alarmTopic: new sns.Topic(s, 'Topic'), dashboard: true }));
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Topic') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('Topic') }],
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('cloudWatchRole: false leaves the account-level role alone', () => {
    build().template.resourceCountIs('AWS::ApiGateway::Account', 1);
    const { template } = build({ apiProps: { cloudWatchRole: false } });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  test('grantInvoke allows execute-api:Invoke on the stage only', () => {
    const stack = new Stack(new App(), 'Test');
    const service = new RestfulMicroservice(stack, 'Items');
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    service.restApi.grantInvoke(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Caller') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'execute-api:Invoke', Resource: { 'Fn::Join': ['', Match.arrayWith([{ Ref: Match.stringLikeRegexp('DeploymentStageprod') }, '/*/*'])] } })] },
    });
  });
});

test('itemOwnerClaim is passed to the handler in ITEM_OWNER_CLAIM', () => {
  const { template } = build({}, (s) => ({
    itemOwnerClaim: 'sub', apiProps: { authorization: ApiAuthorization.cognito({ userPools: [new cognito.UserPool(s, 'Pool')] }) },
  }));

  template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ ITEM_OWNER_CLAIM: 'sub' }) } });
});

describe('RestfulMicroservice invalid props', () => {
  const keys = { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING } };

  test.each<[string, (stack: Stack) => RestfulMicroserviceProps, RegExp]>([
    ['existingTable and tableProps are both given', (s) => ({ existingTable: dynamodb.TableV2.fromTableName(s, 'T', 't'), tableProps: keys }), /existingTable and tableProps are mutually exclusive/],
    ['existingFunction and functionProps are both given', (s) => ({
      existingFunction: lambda.Function.fromFunctionName(s, 'F', 'f'), functionProps: { memorySize: 256 },
    }), /existingFunction and functionProps are mutually exclusive/],
    ['existingFunction and code are both given', (s) => ({ existingFunction: lambda.Function.fromFunctionName(s, 'F', 'f'), code: inlineCode }), /existingFunction and code/],
    ['handler is given without code', () => ({ handler: 'index.main' }), /handler 'index.main' names an export of your own code/],
    ['resourceName is not a lowercase path segment', () => ({ resourceName: 'Items/../x' }), /resourceName must be lowercase.*got 'Items\/\.\.\/x'/],
    ['maxBodySize exceeds 256 KiB', () => ({ maxBodySize: Size.mebibytes(1) }), /maxBodySize must be 1 byte\.\.256 KiB.*got 1048576 bytes/],
    ['maxPageSize exceeds 1000', () => ({ maxPageSize: 5000 }), /maxPageSize must be an integer in 1\.\.1000, got 5000/],
    ['defaultPageSize exceeds maxPageSize', () => ({ maxPageSize: 20, defaultPageSize: 30 }), /defaultPageSize must be an integer in 1\.\.20, got 30/],
    ['tableProps change the key schema the reference handler needs', () => ({
      tableProps: { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } },
    }), /must keep the key schema.*got partitionKey id \(S\) and sortKey none/],
    ['itemSchema does not fit Lambda\'s 4 KB environment', () => ({ itemSchema: { description: 'x'.repeat(4000) } }), /Lambda allows 4 KB in total/],
    ['itemSchema has a misspelt keyword', () => ({ itemSchema: { type: 'object', requried: ['name'] } }), /itemSchema would not compile in the handler: # has the unknown keyword 'requried'/],
    ['itemSchema names an unknown type', () => ({ itemSchema: { type: 'object', properties: { n: { type: 'str' } } } }), /#\/properties\/n\/type "str" is not a JSON Schema type/],
    ['itemSchema is draft-04', () => ({ itemSchema: { $schema: 'http://json-schema.org/draft-04/schema#' } }), /is not supported \(use draft-07 or draft 2020-12\)/],
    ['a CORS origin has a path', () => ({ apiProps: { cors: { allowOrigins: ['https://app.example.com/'] } } }), /allowOrigins must be '\*' or origins .*got 'https:\/\/app.example.com\/'/],
    ['alarmTopic and apiProps.alarmTopic differ', (s) => ({ alarmTopic: new sns.Topic(s, 'A'), apiProps: { alarmTopic: new sns.Topic(s, 'B') } }), /name different topics/],
    ['a PRIVATE endpoint has no resource policy', () => ({ apiProps: { endpointType: apigw.EndpointType.PRIVATE } }), /PRIVATE endpoint needs a resourcePolicy/],
    ['cacheClusterSize is given without cacheTtl', () => ({ apiProps: { cacheClusterSize: '1.6' } }), /cacheClusterSize needs cacheTtl/],
    ['apiProps.cacheTtl is set: a stage cache would serve stale items and ignores the ANY routes', () => ({ apiProps: { cacheTtl: Duration.minutes(2) } }),
      /apiProps.cacheTtl cannot be used with the resource API, got 2 minutes: a stage cache would answer reads with items changed or deleted since/],
    ['apiProps.cacheTtl is set with itemOwnerClaim: the cache would serve one caller\'s items to another', (s) => ({
      itemOwnerClaim: 'sub', apiProps: { cacheTtl: Duration.seconds(30), authorization: ApiAuthorization.cognito({ userPools: [new cognito.UserPool(s, 'P')] }) },
    }), /apiProps.cacheTtl cannot be used .*with itemOwnerClaim, one caller's items to another/],
    ['throttling.rateLimit is not a positive integer', () => ({ apiProps: { throttling: { rateLimit: 0 } } }), /throttling.rateLimit must be an integer in 1\.\.1000000, got 0/],
    ['itemOwnerClaim is set with IAM authorization (no claims)', () => ({ itemOwnerClaim: 'sub' }), /itemOwnerClaim needs an authorizer that supplies claims.*got 'iam'/],
    ['itemOwnerClaim is not a claim name', (s) => ({
      itemOwnerClaim: 'sub claim', apiProps: { authorization: ApiAuthorization.cognito({ userPools: [new cognito.UserPool(s, 'P')] }) },
    }), /itemOwnerClaim must be a claim name.*got 'sub claim'/],
    ['webAclArn is a CloudFront-scope web ACL', () => ({ apiProps: { webAclArn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/0123' } }),
      /webAclArn must be a WAFv2 web ACL of scope REGIONAL .*a CLOUDFRONT-scope ACL cannot protect an API stage/],
    ['webAclArn is not a web ACL', () => ({ apiProps: { webAclArn: 'arn:aws:waf::123456789012:webacl/0123' } }), /webAclArn must be a WAFv2 web ACL of scope REGIONAL .*got 'arn:aws:waf::123456789012:webacl\/0123'/],
    ['serverErrorRateThresholdPercent is above 100', () => ({ apiProps: { serverErrorRateThresholdPercent: 150 } }), /serverErrorRateThresholdPercent must be in \(0, 100\], got 150/],
  ])('fails when %s', (_name, props, message) => {
    const stack = new Stack(new App(), 'Test');
    expect(() => new RestfulMicroservice(stack, 'Items', props(stack))).toThrow(message);
  });

  test('fails when webAclArn is a web ACL of another region than the stack\'s', () => {
    const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    expect(() => new RestfulMicroservice(stack, 'Items', { apiProps: { webAclArn: 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/items/0123' } }))
      .toThrow(/webAclArn must be a web ACL in the stack's region eu-west-1, got one in us-east-1/);
  });

  test('fails when ApiAuthorization.cognito gets no user pool', () => {
    expect(() => ApiAuthorization.cognito({ userPools: [] })).toThrow(/userPools must name at least one user pool/);
  });
});

describe('itemOwnerClaim must be a claim the caller cannot write (checked at synth, when every app client exists)', () => {
  interface PoolSetup { stack: Stack; pool: cognito.IUserPool }
  const tenant = { tenant: new cognito.StringAttribute({ mutable: false }) };
  const withoutClaim = new cognito.ClientAttributes().withStandardAttributes({ givenName: true });

  /** A service whose Cognito authorizer trusts the pool `setup` creates; `after` adds what the app adds later (app clients). */
  function synth(claim: string, setup: (stack: Stack) => cognito.IUserPool, after?: (s: PoolSetup) => void): () => Template {
    const stack = new Stack(new App(), 'Test');
    const pool = setup(stack);
    new RestfulMicroservice(stack, 'Items', { itemOwnerClaim: claim, apiProps: { authorization: ApiAuthorization.cognito({ userPools: [pool] }) } });
    after?.({ stack, pool });
    return () => Template.fromStack(stack);
  }

  test.each<[string, string, (s: Stack) => cognito.IUserPool, ((s: PoolSetup) => void) | undefined, RegExp]>([
    ['a mutable standard attribute (email by default)', 'email', (s) => new cognito.UserPool(s, 'Pool'), undefined,
      /itemOwnerClaim 'email' is a mutable standard attribute of the user pool Test\/Pool .*declare it with mutable: false/],
    ['an immutable standard attribute that an app client without writeAttributes writes at sign-up', 'email',
      (s) => new cognito.UserPool(s, 'Pool', { standardAttributes: { email: { required: true, mutable: false } } }),
      ({ pool }) => (pool as cognito.UserPool).addClient('Spa'),
      /itemOwnerClaim 'email' is written by the app client Test\/Pool\/Spa\/Resource .*no writeAttributes, so it writes every writable attribute, also at sign-up/],
    ['a custom attribute in the writeAttributes of a client created after the service', 'custom:tenant',
      (s) => new cognito.UserPool(s, 'Pool', { customAttributes: tenant }),
      ({ stack, pool }) => new cognito.UserPoolClient(stack, 'Later', { userPool: pool, writeAttributes: new cognito.ClientAttributes().withCustomAttributes('tenant') }),
      /itemOwnerClaim 'custom:tenant' is written by the app client Test\/Later\/Resource .*\(in its writeAttributes\); a caller who can set it can read and change another caller's items/],
    ['a custom attribute the user pool does not declare', 'custom:tenant', (s) => new cognito.UserPool(s, 'Pool'), undefined,
      /itemOwnerClaim 'custom:tenant' is not a custom attribute of the user pool Test\/Pool/],
    ['a token claim that is no user attribute (client_id)', 'client_id', (s) => new cognito.UserPool(s, 'Pool'), undefined,
      /itemOwnerClaim 'client_id' is neither a user pool attribute nor the user's sub or username/],
    ['a custom attribute of an imported user pool, which cannot be checked', 'custom:tenant',
      (s) => cognito.UserPool.fromUserPoolId(s, 'Pool', 'eu-west-1_abcdefghi'), undefined,
      /itemOwnerClaim 'custom:tenant' cannot be checked on a user pool not defined in this app/],
  ])('fails when itemOwnerClaim is %s', (_name, claim, setup, after, message) => {
    expect(synth(claim, setup, after)).toThrow(message);
  });

  test.each<[string, string, (s: Stack) => cognito.IUserPool, ((s: PoolSetup) => void) | undefined]>([
    ['sub, with any client', 'sub', (s) => new cognito.UserPool(s, 'Pool'), ({ pool }) => (pool as cognito.UserPool).addClient('Spa')],
    ['sub of an imported user pool', 'sub', (s) => cognito.UserPool.fromUserPoolId(s, 'Pool', 'eu-west-1_abcdefghi'), undefined],
    ['an immutable custom attribute that no client writes', 'custom:tenant', (s) => new cognito.UserPool(s, 'Pool', { customAttributes: tenant }),
      ({ pool }) => (pool as cognito.UserPool).addClient('Spa', { writeAttributes: withoutClaim })],
    ['an immutable standard attribute that no client writes', 'email',
      (s) => new cognito.UserPool(s, 'Pool', { standardAttributes: { email: { required: true, mutable: false } } }),
      ({ pool }) => (pool as cognito.UserPool).addClient('Spa', { writeAttributes: withoutClaim })],
  ])('synthesizes when itemOwnerClaim is %s', (_name, claim, setup, after) => {
    expect(synth(claim, setup, after)).not.toThrow();
  });

  test('a Lambda authorizer\'s claim is the authorizer\'s responsibility (documented), so it synthesizes', () => {
    const stack = new Stack(new App(), 'Test');
    const authorizer = new lambda.Function(stack, 'Authorizer', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.main', code: inlineCode });
    new RestfulMicroservice(stack, 'Items', { itemOwnerClaim: 'tenant', apiProps: { authorization: ApiAuthorization.lambdaToken({ handler: authorizer }) } });

    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});
