import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AlarmFactory } from '../core/alarms';
import { ApiAuthorizationKind } from '../core/api-authorization';
import { addApiHandlerAlarms, createPatternApi, SYNCHRONOUS_INVOKE_ACKNOWLEDGEMENTS } from '../core/api-service';
import { CanaryDeployment } from '../core/canary-deployment';
import { PatternEncryptionProps, usePatternKey } from '../core/encryption';
import { InvalidPropsError } from '../core/errors';
import { DynamoDbMetrics } from '../core/metrics';
import { completeOperations, PatternOperationsProps, patternDeployment } from '../core/operations';
import { grantPatternTable, patternHandler, PatternHandlerProps, patternTable, PatternTableProps, validatePatternProps } from '../core/pattern-props';
import { checkItemOwnerClaimAtSynth, resourceApiEnvironment, ResourceApiProps, validateResourceApiProps } from '../core/resource-api';
import { SecureRestApi, SecureRestApiProps } from '../core/secure-rest-api';

export interface RestfulMicroserviceProps extends PatternHandlerProps, PatternTableProps, ResourceApiProps, PatternOperationsProps,
  PatternEncryptionProps {
  /** Props of the API building block: endpoint type, authorization, throttling, cache, usage plan, resource policy, CORS, WAF. @default - REGIONAL, IAM auth, 100 rps */
  readonly apiProps?: SecureRestApiProps;
  /**
   * With `deployment`: the integration invokes the qualifier named by the stage variable
   * `lambdaAlias` (set to the alias), so one stage variable decides which alias the API calls.
   * @default false - the integration names the alias
   */
  readonly invokeAliasThroughStageVariable?: boolean;
  /**
   * With `invokeAliasThroughStageVariable`: an API Gateway stage canary that sends this percent of
   * requests straight to the version just published (stage variable override), the rest to the alias.
   * @default - no stage canary
   */
  readonly stageCanaryPercent?: number;
}


const NAME = 'RestfulMicroservice';
/** The stage variable naming the Lambda qualifier with `invokeAliasThroughStageVariable`. */
const ALIAS_STAGE_VARIABLE = 'lambdaAlias';
/** Exactly what the reference handler calls. */
const REFERENCE_HANDLER_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'];
const REFERENCE_HANDLER_OPERATIONS = [
  dynamodb.Operation.GET_ITEM, dynamodb.Operation.PUT_ITEM, dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM, dynamodb.Operation.QUERY,
];

/**
 * A RESTful resource service: API Gateway REST API -> Lambda -> DynamoDB, with create, list
 * (cursor pagination), get, replace (`If-Match` optimistic concurrency) and delete, secure
 * defaults and alarms. `new RestfulMicroservice(this, 'Items')` alone deploys a usable service.
 */
export class RestfulMicroservice extends Construct {
  /** The API building block (stage, access logs, authorization, API alarms). */
  public readonly restApi: SecureRestApi;
  public readonly api: apigw.RestApi;
  public readonly table: dynamodb.ITable;
  public readonly handler: lambda.IFunction;
  /** The handler's log group; undefined for an `existingFunction`. */
  public readonly logGroup?: logs.ILogGroup;
  public readonly resourceName: string;
  /** The customer-managed key of the pattern's log groups and secrets. */
  public readonly encryptionKey: kms.IKey;
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The CodeDeploy deployment of the handler when `deployment` is set. */
  public readonly deployment?: CanaryDeployment;

  constructor(scope: Construct, id: string, props: RestfulMicroserviceProps = {}) {
    super(scope, id);
    this.encryptionKey = usePatternKey(this, props.encryptionKey);
    validate(props);
    this.resourceName = props.resourceName ?? 'items';
    // Tombstones of deleted items (their Idempotency-Key, no client data) expire through TTL.
    this.table = patternTable(this, NAME, props, { timeToLiveAttribute: 'expiresAt' });
    ({ handler: this.handler, logGroup: this.logGroup } = patternHandler(this, props, {
      referenceAsset: 'rest-api/api',
      serviceName: this.resourceName,
      description: `${this.node.path}: REST API for /${this.resourceName}`,
      environment: this.handlerEnvironment(props),
      nagAcknowledgements: SYNCHRONOUS_INVOKE_ACKNOWLEDGEMENTS,
    }));
    grantPatternTable(this.table, this.handler, props, REFERENCE_HANDLER_TABLE_ACTIONS);

    this.restApi = createPatternApi(this, NAME, props);
    this.api = this.restApi.api;
    checkItemOwnerClaimAtSynth(this, NAME, props.itemOwnerClaim, this.restApi);
    const { deployment, invokeTarget } = patternDeployment(this, NAME, this.handler, props.alarmTopic, props.deployment);
    this.deployment = deployment;
    const paths = [`/${this.resourceName}`, `/${this.resourceName}/{id}`];
    if (deployment && props.invokeAliasThroughStageVariable) {
      for (const path of paths) this.restApi._addLambdaQualifierRoute(path, this.handler, ALIAS_STAGE_VARIABLE);
      this.restApi._setStageVariable(ALIAS_STAGE_VARIABLE, deployment.alias.aliasName);
      this.restApi._grantQualifierInvoke('AliasInvokePermission', this.handler, deployment.alias.aliasName);
      if (props.stageCanaryPercent !== undefined) {
        this.restApi._enableStageCanary(props.stageCanaryPercent, { [ALIAS_STAGE_VARIABLE]: deployment.version.version });
        this.restApi._grantQualifierInvoke('CanaryVersionInvokePermission', this.handler, deployment.version.version);
      }
    } else {
      for (const path of paths) this.restApi.addLambdaRoute(path, invokeTarget);
    }

    const alarms = new AlarmFactory(this, props.alarmTopic);
    addApiHandlerAlarms(alarms, this.handler, this.node.path);
    alarms.add('TableThrottlesAlarm', {
      metric: DynamoDbMetrics.throttledRequestCount(this.table, REFERENCE_HANDLER_OPERATIONS),
      threshold: 1,
      description: `DynamoDB throttled requests of ${this.node.path} in the last 5 minutes (hot partition or provisioned capacity too low).`,
    });
    ({ alarms: this.alarms, dashboard: this.dashboard } = completeOperations(this, props, [...this.restApi.alarms, ...alarms.alarms], [
      { deployment, rollbackAlarms: this.restApi.rollbackAlarms },
    ]));
  }

  /** The invoke URL of the collection, e.g. `https://.../prod/items`. */
  public get url(): string {
    return `${this.restApi.url}${this.resourceName}`;
  }

  /** Lets `grantee` call the API (`execute-api:Invoke` on its stage), for the default IAM authorization. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.restApi.grantInvoke(grantee);
  }

  private handlerEnvironment(props: RestfulMicroserviceProps): Record<string, string> {
    return resourceApiEnvironment(NAME, props, { TABLE_NAME: this.table.tableName }, props.apiProps?.cors?.allowOrigins);
  }
}

function validate(props: RestfulMicroserviceProps): void {
  validatePatternProps(NAME, props);
  validateResourceApiProps(NAME, props, props.apiProps?.authorization?.kind ?? ApiAuthorizationKind.IAM);
  if (props.invokeAliasThroughStageVariable && !props.deployment) {
    throw new InvalidPropsError(NAME, 'invokeAliasThroughStageVariable needs deployment: without it there is no alias to name');
  }
  if (props.stageCanaryPercent !== undefined && !props.invokeAliasThroughStageVariable) {
    throw new InvalidPropsError(NAME, 'stageCanaryPercent needs invokeAliasThroughStageVariable: the stage canary overrides the stage variable that names the Lambda qualifier');
  }
}
