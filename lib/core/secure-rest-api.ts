import { Aws, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { AlarmFactory } from './alarms';
import { ApiAuthorization, ApiAuthorizationConfig } from './api-authorization';
import { encryptedLogGroup } from './encryption';
import { assertIntegerInRange, InvalidPropsError } from './errors';
import { LOG_RETENTION_DEFAULT } from './lambda-defaults';
import { mergeProps } from './merge';
import { ApiGatewayMetrics } from './metrics';
import { acknowledgeNagFindings, ruleAcknowledgements } from './nag';
import { assertWebAclArn } from './waf';

/** Requests per second and burst for the whole stage. */
export interface ApiThrottling {
  /** @default 100 */
  readonly rateLimit?: number;
  /** @default 200 */
  readonly burstLimit?: number;
}

/** API keys and a usage plan; when set, every method requires a key. */
export interface ApiUsagePlanOptions {
  /** @default - no quota */
  readonly quota?: apigw.QuotaSettings;
  /** @default - the stage throttling */
  readonly throttle?: apigw.ThrottleSettings;
}

export interface SecureRestApiProps {
  /** @default EndpointType.REGIONAL */
  readonly endpointType?: apigw.EndpointType;
  /** VPC endpoints that may reach a PRIVATE API. @default - none */
  readonly vpcEndpoints?: ec2.IVpcEndpoint[];
  /** @default 'prod' */
  readonly stageName?: string;
  /** @default ApiAuthorization.iam() */
  readonly authorization?: ApiAuthorization;
  /** @default 100 requests per second, burst 200 */
  readonly throttling?: ApiThrottling;
  /** Enables a stage cache (0.5 GB, encrypted) for GET methods with this TTL. @default - no cache */
  readonly cacheTtl?: Duration;
  /** @default '0.5' when cacheTtl is set */
  readonly cacheClusterSize?: string;
  /** API keys and a usage plan. @default - no API keys */
  readonly usagePlan?: ApiUsagePlanOptions;
  /**
   * A resource policy, e.g. allowing `execute-api:Invoke` only from some source IPs or, for a
   * PRIVATE endpoint, only through a VPC endpoint (required for PRIVATE).
   * @default - none
   */
  readonly resourcePolicy?: iam.PolicyDocument;
  /** @default - no CORS preflight */
  readonly cors?: apigw.CorsOptions;
  /** ARN of a WAFv2 web ACL (scope REGIONAL) to associate with the stage. @default - none */
  readonly webAclArn?: string;
  /** @default three months */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * Set the account's API Gateway CloudWatch Logs role (`AWS::ApiGateway::Account`, one setting
   * per account and region, needed before any stage can log) to a role this stack creates. The
   * role and the setting are retained when the stack is deleted, so that other stacks' APIs keep
   * logging. Turn it off when the setting is managed elsewhere (a landing zone, another stack):
   * the account must then have a role set before this stack deploys.
   * @default true
   */
  readonly cloudWatchRole?: boolean;
  /** Overrides of the RestApi props, merged over the defaults. @default - none */
  readonly restApiProps?: apigw.RestApiProps;
  /** @default - alarms have no actions */
  readonly alarmTopic?: sns.ITopic;
  /** @default 1 (percent of requests over 5 minutes) */
  readonly serverErrorRateThresholdPercent?: number;
  /** @default Duration.seconds(2) */
  readonly latencyP99Threshold?: Duration;
}

const DEFAULT_RATE_LIMIT = 100;
const DEFAULT_BURST_LIMIT = 200;

/**
 * The API Gateway REST API building block every HTTP pattern fronts its handlers with:
 * a stage with JSON access logs, execution logs, X-Ray, throttling, optional cache, the
 * chosen authorization on every method, optional API keys, WAF and resource policy, and
 * alarms on the 5XX rate and p99 latency of the stage.
 */
export class SecureRestApi extends Construct {
  public readonly api: apigw.RestApi;
  public readonly stage: apigw.Stage;
  public readonly accessLogGroup: logs.ILogGroup;
  public readonly authorization: ApiAuthorization;
  public readonly apiKey?: apigw.IApiKey;
  public readonly usagePlan?: apigw.UsagePlan;
  public readonly alarms: cloudwatch.IAlarm[];
  /** The alarms of `alarms` that a canary deployment of the API's backend rolls back on: the 5XX rate. */
  public readonly rollbackAlarms: cloudwatch.IAlarm[];
  private readonly authorizationConfig: ApiAuthorizationConfig;
  private readonly requestValidator: apigw.RequestValidator;

  constructor(scope: Construct, id: string, props: SecureRestApiProps = {}) {
    super(scope, id);
    const endpointType = props.endpointType ?? apigw.EndpointType.REGIONAL;
    validate(props, endpointType);
    assertWebAclArn('SecureRestApi', 'webAclArn', props.webAclArn, 'REGIONAL', Stack.of(this).region);

    this.authorization = props.authorization ?? ApiAuthorization.iam();
    this.accessLogGroup = encryptedLogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? LOG_RETENTION_DEFAULT,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const cacheEnabled = props.cacheTtl !== undefined;
    const createCloudWatchRole = props.cloudWatchRole ?? true;

    this.api = new apigw.RestApi(this, 'Api', mergeProps<apigw.RestApiProps>(
      {
        description: `${this.node.path} API`,
        endpointConfiguration: { types: [endpointType], vpcEndpoints: props.vpcEndpoints },
        policy: props.resourcePolicy,
        defaultCorsPreflightOptions: props.cors,
        cloudWatchRole: createCloudWatchRole,
        cloudWatchRoleRemovalPolicy: createCloudWatchRole ? RemovalPolicy.RETAIN : undefined,
        deployOptions: {
          stageName: props.stageName ?? 'prod',
          accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
          accessLogFormat: accessLogFormat(),
          tracingEnabled: true,
          loggingLevel: apigw.MethodLoggingLevel.ERROR,
          dataTraceEnabled: false,
          metricsEnabled: false,
          throttlingRateLimit: props.throttling?.rateLimit ?? DEFAULT_RATE_LIMIT,
          throttlingBurstLimit: props.throttling?.burstLimit ?? DEFAULT_BURST_LIMIT,
          cacheClusterEnabled: cacheEnabled,
          cacheClusterSize: cacheEnabled ? props.cacheClusterSize ?? '0.5' : undefined,
          methodOptions: cacheEnabled
            ? { '/*/GET': { cachingEnabled: true, cacheTtl: props.cacheTtl, cacheDataEncrypted: true } }
            : undefined,
        },
      },
      props.restApiProps,
      { deploy: true },
    ));
    this.stage = this.api.deploymentStage;
    this.authorizationConfig = this.authorization._bind(this);

    this.requestValidator = this.api.addRequestValidator('RequestValidator', {
      validateRequestParameters: true,
      // No body model is attached: bodies are validated by the handler, which knows the item schema.
      validateRequestBody: true,
    });

    if (props.usagePlan) {
      this.apiKey = this.api.addApiKey('ApiKey');
      this.usagePlan = this.api.addUsagePlan('UsagePlan', {
        quota: props.usagePlan.quota,
        throttle: props.usagePlan.throttle,
        apiStages: [{ api: this.api, stage: this.stage }],
      });
      this.usagePlan.addApiKey(this.apiKey);
    }

    if (props.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.stage.stageArn,
        webAclArn: props.webAclArn,
      });
    } else {
      const noWaf = 'A WAF web ACL is opt-in (webAclArn): its rules depend on the workload and it is billed per ACL and rule; throttling and authorization protect the stage by default.';
      acknowledgeNagFindings(this.stage, [{ id: 'AwsSolutions-APIG3', reason: noWaf }, ...ruleAcknowledgements('APIGWAssociatedWithWAF', noWaf)]);
    }
    acknowledgeNagFindings(this.stage, [
      ...(props.cacheTtl === undefined ? ruleAcknowledgements('APIGWCacheEnabledAndEncrypted',
        'A stage cache keys on the path and query string, not on the caller, and serves stale reads after writes; cacheTtl turns on an encrypted cache for GET (the resource API patterns refuse it: their items are per caller and change). It costs from 0.02 USD an hour.') : []),
      ...ruleAcknowledgements('APIGWSSLEnabled',
        'A client certificate is what API Gateway presents to an HTTP backend so it can check where a request came from; the integrations here are Lambda proxy integrations, invoked through IAM with a permission limited to this API, so there is nothing to present it to.'),
    ]);
    if (createCloudWatchRole) {
      const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
      if (cloudWatchRole) {
        acknowledgeNagFindings(cloudWatchRole, [{
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
          reason: 'The account-level role API Gateway assumes to write execution logs; AWS maintains this policy for exactly that purpose.',
        }]);
      }
    }

    const alarms = new AlarmFactory(this, props.alarmTopic);
    const errorRateThreshold = props.serverErrorRateThresholdPercent ?? 1;
    const latencyThreshold = props.latencyP99Threshold ?? Duration.seconds(2);
    alarms.add('ServerErrorRateAlarm', {
      metric: ApiGatewayMetrics.serverErrorRateInPercent(this.stage),
      threshold: errorRateThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      rollsBackDeployment: true,
      description: `More than ${errorRateThreshold}% of requests to ${this.node.path} (stage ${this.stage.stageName}) failed with a 5XX in 5 minutes. Check the handler's errors and logs, and the access log's integrationError.`,
    });
    alarms.add('LatencyP99Alarm', {
      metric: ApiGatewayMetrics.latencyP99InMillis(this.stage),
      threshold: latencyThreshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      description: `p99 latency of ${this.node.path} (stage ${this.stage.stageName}) above ${latencyThreshold.toMilliseconds()} ms for 15 minutes.`,
    });
    this.alarms = alarms.alarms;
    this.rollbackAlarms = alarms.rollbackAlarms;
  }

  /** The URL of the stage. */
  public get url(): string {
    return this.api.url;
  }

  /**
   * Routes `httpMethod` (default ANY, so the handler can answer 405 with `Allow`) on `path`,
   * e.g. `/items/{id}`, to `handler` through a Lambda proxy integration, with this API's
   * authorization, API key requirement and request validator.
   */
  public addLambdaRoute(path: string, handler: lambda.IFunction, httpMethod: string = 'ANY'): apigw.Method {
    return this.addRoute(path, new apigw.LambdaIntegration(handler, { proxy: true }), httpMethod);
  }

  /**
   * Routes like `addLambdaRoute`, but the integration invokes `<fn>:${stageVariables.<stageVariable>}`:
   * the alias (or version) the stage variable names. Set the variable with `_setStageVariable` and
   * let the API invoke each alias it may name with `_grantQualifierInvoke`.
   *
   * @internal for the patterns that route through stage variables; not part of the public API.
   */
  public _addLambdaQualifierRoute(path: string, fn: lambda.IFunction, stageVariable: string, httpMethod: string = 'ANY'): apigw.Method {
    if (!/^[A-Za-z0-9_]+$/.test(stageVariable)) {
      throw new InvalidPropsError('SecureRestApi', `stage variable names are letters, digits and '_', got '${stageVariable}'`);
    }
    return this.addRoute(path, new apigw.Integration({
      type: apigw.IntegrationType.AWS_PROXY,
      integrationHttpMethod: 'POST',
      uri: `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}:lambda:path/2015-03-31/functions/${fn.functionArn}:\${stageVariables.${stageVariable}}/invocations`,
    }), httpMethod);
  }

  /**
   * Lets this stage invoke `fn` qualified by `qualifier` (an alias name or version), for `_addLambdaQualifierRoute`.
   * @internal for the patterns that route through stage variables; not part of the public API.
   */
  public _grantQualifierInvoke(id: string, fn: lambda.IFunction, qualifier: string): lambda.CfnPermission {
    return new lambda.CfnPermission(this, id, {
      action: 'lambda:InvokeFunction',
      functionName: `${fn.functionArn}:${qualifier}`,
      principal: 'apigateway.amazonaws.com',
      sourceArn: this.api.arnForExecuteApi('*', '/*', this.stage.stageName),
    });
  }

  /**
   * Sets a stage variable.
   * @internal for the patterns that route through stage variables; not part of the public API.
   */
  public _setStageVariable(name: string, value: string): void {
    (this.stage.node.defaultChild as apigw.CfnStage).addPropertyOverride(`Variables.${name}`, value);
  }

  /**
   * An API Gateway canary release on the stage: `percentTraffic` percent of requests run with
   * `stageVariableOverrides` (e.g. another Lambda qualifier), the rest with the stage variables.
   *
   * @internal for the patterns that route through stage variables; not part of the public API.
   */
  public _enableStageCanary(percentTraffic: number, stageVariableOverrides: Record<string, string>): void {
    if (!Token.isUnresolved(percentTraffic) && !(percentTraffic > 0 && percentTraffic < 100)) {
      throw new InvalidPropsError('SecureRestApi', `a stage canary's percentTraffic must be in (0, 100), got ${percentTraffic}`);
    }
    (this.stage.node.defaultChild as apigw.CfnStage).canarySetting = {
      deploymentId: this.api.latestDeployment!.deploymentId,
      percentTraffic,
      stageVariableOverrides,
      useStageCache: false,
    };
  }

  private addRoute(path: string, integration: apigw.Integration, httpMethod: string): apigw.Method {
    const resource = this.api.root.resourceForPath(path);
    const pathParameters = [...path.matchAll(/\{([A-Za-z0-9_]+)\+?\}/g)].map((m) => m[1]);
    const method = resource.addMethod(httpMethod, integration, {
      authorizationType: this.authorizationConfig.authorizationType,
      authorizer: this.authorizationConfig.authorizer,
      authorizationScopes: this.authorizationConfig.authorizationScopes,
      apiKeyRequired: this.apiKey !== undefined,
      requestValidator: this.requestValidator,
      requestParameters: Object.fromEntries(pathParameters.map((p) => [`method.request.path.${p}`, true])),
    });
    if (this.authorizationConfig.nagAcknowledgements.length > 0) {
      acknowledgeNagFindings(method, this.authorizationConfig.nagAcknowledgements);
    }
    return method;
  }

  /** Lets `grantee` call every method of this stage (IAM authorization). */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('*', '/*', this.stage.stageName)],
    });
  }
}

function validate(props: SecureRestApiProps, endpointType: apigw.EndpointType): void {
  const name = 'SecureRestApi';
  if (endpointType === apigw.EndpointType.PRIVATE && props.resourcePolicy === undefined) {
    throw new InvalidPropsError(name, 'a PRIVATE endpoint needs a resourcePolicy that allows execute-api:Invoke (for example only from aws:SourceVpce), got none');
  }
  if (endpointType !== apigw.EndpointType.PRIVATE && props.vpcEndpoints !== undefined) {
    throw new InvalidPropsError(name, `vpcEndpoints apply only to a PRIVATE endpoint, got endpointType ${endpointType}`);
  }
  assertIntegerInRange(name, 'throttling.rateLimit', props.throttling?.rateLimit, 1, 1_000_000);
  assertIntegerInRange(name, 'throttling.burstLimit', props.throttling?.burstLimit, 0, 1_000_000);
  if (props.cacheTtl !== undefined && !Token.isUnresolved(props.cacheTtl.toSeconds()) && props.cacheTtl.toSeconds() > 3600) {
    throw new InvalidPropsError(name, `cacheTtl must be at most 3600 seconds, got ${props.cacheTtl.toSeconds()}`);
  }
  if (props.cacheClusterSize !== undefined && props.cacheTtl === undefined) {
    throw new InvalidPropsError(name, 'cacheClusterSize needs cacheTtl (the cache is off without it)');
  }
  const rate = props.serverErrorRateThresholdPercent;
  if (rate !== undefined && !Token.isUnresolved(rate) && !(rate > 0 && rate <= 100)) {
    throw new InvalidPropsError(name, `serverErrorRateThresholdPercent must be in (0, 100], got ${rate}`);
  }
}

/** One JSON object per request, with what an on-call engineer searches for. */
function accessLogFormat(): apigw.AccessLogFormat {
  return apigw.AccessLogFormat.custom(JSON.stringify({
    requestId: apigw.AccessLogField.contextRequestId(),
    extendedRequestId: apigw.AccessLogField.contextExtendedRequestId(),
    requestTime: apigw.AccessLogField.contextRequestTime(),
    ip: apigw.AccessLogField.contextIdentitySourceIp(),
    caller: apigw.AccessLogField.contextIdentityCaller(),
    user: apigw.AccessLogField.contextIdentityUser(),
    httpMethod: apigw.AccessLogField.contextHttpMethod(),
    resourcePath: apigw.AccessLogField.contextResourcePath(),
    path: apigw.AccessLogField.contextPath(),
    protocol: apigw.AccessLogField.contextProtocol(),
    status: apigw.AccessLogField.contextStatus(),
    responseLength: apigw.AccessLogField.contextResponseLength(),
    responseLatency: apigw.AccessLogField.contextResponseLatency(),
    integrationLatency: apigw.AccessLogField.contextIntegrationLatency(),
    integrationStatus: apigw.AccessLogField.contextIntegrationStatus(),
    integrationError: apigw.AccessLogField.contextIntegrationErrorMessage(),
    errorMessage: apigw.AccessLogField.contextErrorMessage(),
    xrayTraceId: apigw.AccessLogField.contextXrayTraceId(),
  }));
}
