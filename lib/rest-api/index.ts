import { Size, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmFactory } from '../core/alarms';
import { referenceHandlerCode } from '../core/assets';
import { createAlarmDashboard } from '../core/dashboard';
import { assertExclusive, assertIntegerInRange, InvalidPropsError } from '../core/errors';
import { createLibraryFunction } from '../core/function';
import { mergeProps } from '../core/merge';
import { DynamoDbMetrics, LambdaMetrics } from '../core/metrics';
import { acknowledgeNagFindings } from '../core/nag';
import { SecureRestApi, SecureRestApiProps } from '../core/secure-rest-api';
import { createLibraryTable } from '../core/table';

export interface RestfulMicroserviceProps {
  /**
   * The collection the API serves: routes `/{resourceName}` and `/{resourceName}/{id}`.
   * @default 'items'
   */
  readonly resourceName?: string;

  /** Use this table instead of creating one. Its key schema must be `pk` (S) + `sk` (S) for the reference handler. @default - a new table */
  readonly existingTable?: dynamodb.ITable;
  /** Overrides of the created table's props (key schema must stay `pk`/`sk` with the reference handler). @default - on-demand, PITR, encrypted, RETAIN */
  readonly tableProps?: dynamodb.TablePropsV2;

  /** Use this function instead of creating one; it receives every route. @default - a new function */
  readonly existingFunction?: lambda.IFunction;
  /** Your own handler code instead of the reference handler. @default - the reference handler */
  readonly code?: lambda.Code;
  /** The handler export of `code`. @default 'index.handler' */
  readonly handler?: string;
  /** Overrides of the created function's props (memory, timeout, environment, ...). @default - see lib/core/lambda-defaults.ts */
  readonly functionProps?: lambda.FunctionOptions;

  /** Answer 428 to PUT and DELETE without `If-Match`. @default true */
  readonly requireIfMatch?: boolean;
  /** Largest request body the handler accepts (413 above). @default Size.kibibytes(64) */
  readonly maxBodySize?: Size;
  /** Page size of `GET /{resourceName}` without `limit`. @default 25 */
  readonly defaultPageSize?: number;
  /** Largest `limit` a client may ask for (400 above). @default 100 */
  readonly maxPageSize?: number;
  /**
   * A JSON Schema (draft-07, or 2020-12 when `$schema` says so) every item body must satisfy;
   * passed to the handler in `ITEM_SCHEMA` (Lambda's 4 KB environment limit applies).
   * @default - any JSON object without server-owned fields
   */
  readonly itemSchema?: { [key: string]: any };

  /** Props of the API building block: endpoint type, authorization, throttling, cache, usage plan, resource policy, CORS, WAF. @default - REGIONAL, IAM auth, 100 rps */
  readonly apiProps?: SecureRestApiProps;

  /** Receives the actions of every alarm. @default - alarms have no actions */
  readonly alarmTopic?: sns.ITopic;
  /** Create a CloudWatch dashboard of the alarms. @default false */
  readonly dashboard?: boolean;
}

/** Environment variables the handler (reference or yours) receives; documented in README.md. */
const RestfulMicroserviceEnvironment = {
  TABLE_NAME: 'TABLE_NAME',
  RESOURCE_NAME: 'RESOURCE_NAME',
  REQUIRE_IF_MATCH: 'REQUIRE_IF_MATCH',
  MAX_BODY_BYTES: 'MAX_BODY_BYTES',
  DEFAULT_PAGE_SIZE: 'DEFAULT_PAGE_SIZE',
  MAX_PAGE_SIZE: 'MAX_PAGE_SIZE',
  ITEM_SCHEMA: 'ITEM_SCHEMA',
  CORS_ALLOW_ORIGINS: 'CORS_ALLOW_ORIGINS',
} as const;

const NAME = 'RestfulMicroservice';
const RESOURCE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
const MAX_BODY_BYTES_LIMIT = 256 * 1024;
const MAX_PAGE_SIZE_LIMIT = 1000;
const DEFAULT_MAX_PAGE_SIZE = 100;
/** Lambda rejects a function whose environment variables exceed 4 KB in total. */
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
const TABLE_PARTITION_KEY: dynamodb.Attribute = { name: 'pk', type: dynamodb.AttributeType.STRING };
const TABLE_SORT_KEY: dynamodb.Attribute = { name: 'sk', type: dynamodb.AttributeType.STRING };
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
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RestfulMicroserviceProps = {}) {
    super(scope, id);
    validate(props);
    this.resourceName = props.resourceName ?? 'items';
    const usesReferenceHandler = props.existingFunction === undefined && props.code === undefined;

    this.table = props.existingTable ?? createLibraryTable(this, 'Table', {
      partitionKey: TABLE_PARTITION_KEY,
      sortKey: TABLE_SORT_KEY,
      tableProps: props.tableProps,
      enforceKeySchema: usesReferenceHandler,
      constructName: NAME,
    });

    const environment = this.handlerEnvironment(props);
    if (props.existingFunction) {
      this.handler = props.existingFunction;
      if (props.existingFunction instanceof lambda.Function) {
        for (const [key, value] of Object.entries(environment)) props.existingFunction.addEnvironment(key, value);
      }
    } else {
      const created = createLibraryFunction(this, 'Handler', {
        code: props.code ?? referenceHandlerCode('rest-api/api'),
        handler: props.handler,
        serviceName: this.resourceName,
        description: `${this.node.path}: REST API for /${this.resourceName}`,
        environment,
        functionProps: props.functionProps,
      });
      this.handler = created.function;
      this.logGroup = created.logGroup;
      acknowledgeNagFindings(created.function, [
        { id: 'Serverless-LambdaDLQ', reason: 'API Gateway invokes this function synchronously; a failure is returned to the caller, there is no event to dead-letter.' },
        { id: 'Serverless-LambdaAsyncFailureDestination', reason: 'API Gateway invokes this function synchronously; there is no asynchronous invocation to send to a failure destination.' },
      ]);
    }
    if (usesReferenceHandler) {
      this.table.grant(this.handler, ...REFERENCE_HANDLER_TABLE_ACTIONS);
    } else {
      this.table.grantReadWriteData(this.handler);
    }

    if (props.apiProps?.alarmTopic && props.alarmTopic && props.apiProps.alarmTopic !== props.alarmTopic) {
      throw new InvalidPropsError(NAME, 'alarmTopic and apiProps.alarmTopic name different topics; set alarmTopic only');
    }
    this.restApi = new SecureRestApi(this, 'Api', mergeProps<SecureRestApiProps>({}, props.apiProps, { alarmTopic: props.alarmTopic }));
    this.api = this.restApi.api;
    this.restApi.addLambdaRoute(`/${this.resourceName}`, this.handler);
    this.restApi.addLambdaRoute(`/${this.resourceName}/{id}`, this.handler);

    const alarms = new AlarmFactory(this, props.alarmTopic);
    alarms.add('HandlerErrorsAlarm', {
      metric: LambdaMetrics.errorCount(this.handler),
      threshold: 1,
      description: `The handler of ${this.node.path} failed (crash or timeout, not a 4XX/5XX answer) at least once in 5 minutes. Check its log group.`,
    });
    alarms.add('HandlerThrottlesAlarm', {
      metric: LambdaMetrics.throttleCount(this.handler),
      threshold: 1,
      description: `The handler of ${this.node.path} was throttled in the last 5 minutes: callers got 5XX. Raise the account concurrency or reserve concurrency for it.`,
    });
    alarms.add('TableThrottlesAlarm', {
      metric: DynamoDbMetrics.throttledRequestCount(this.table, REFERENCE_HANDLER_OPERATIONS),
      threshold: 1,
      description: `DynamoDB throttled requests of ${this.node.path} in the last 5 minutes (hot partition or provisioned capacity too low).`,
    });
    this.alarms = [...this.restApi.alarms, ...alarms.alarms];
    if (props.dashboard) {
      this.dashboard = createAlarmDashboard(this, 'Dashboard', this.alarms);
    }
  }

  /** The invoke URL of the collection, e.g. `https://.../prod/items`. */
  public get url(): string {
    return `${this.restApi.url}${this.resourceName}`;
  }

  private handlerEnvironment(props: RestfulMicroserviceProps): Record<string, string> {
    const env: Record<string, string> = {
      [RestfulMicroserviceEnvironment.TABLE_NAME]: this.table.tableName,
      [RestfulMicroserviceEnvironment.RESOURCE_NAME]: this.resourceName,
      [RestfulMicroserviceEnvironment.REQUIRE_IF_MATCH]: String(props.requireIfMatch ?? true),
      [RestfulMicroserviceEnvironment.MAX_BODY_BYTES]: String((props.maxBodySize ?? Size.kibibytes(64)).toBytes()),
    };
    if (props.defaultPageSize !== undefined) env[RestfulMicroserviceEnvironment.DEFAULT_PAGE_SIZE] = String(props.defaultPageSize);
    if (props.maxPageSize !== undefined) env[RestfulMicroserviceEnvironment.MAX_PAGE_SIZE] = String(props.maxPageSize);
    if (props.itemSchema) env[RestfulMicroserviceEnvironment.ITEM_SCHEMA] = JSON.stringify(props.itemSchema);
    const origins = props.apiProps?.cors?.allowOrigins;
    if (origins) env[RestfulMicroserviceEnvironment.CORS_ALLOW_ORIGINS] = origins.join(',');

    const literalSize = Object.entries(env)
      .filter(([, v]) => !Token.isUnresolved(v))
      .reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    if (literalSize > LAMBDA_ENVIRONMENT_LIMIT_BYTES - 512) {
      throw new InvalidPropsError(NAME, `the handler environment would take ${literalSize} bytes (Lambda allows 4 KB in total); shorten itemSchema`);
    }
    return env;
  }
}

function validate(props: RestfulMicroserviceProps): void {
  assertExclusive(NAME, props, 'existingTable', 'tableProps');
  assertExclusive(NAME, props, 'existingFunction', 'functionProps');
  assertExclusive(NAME, props, 'existingFunction', 'code');
  assertExclusive(NAME, props, 'existingFunction', 'handler');
  if (props.handler !== undefined && props.code === undefined) {
    throw new InvalidPropsError(NAME, `handler '${props.handler}' names an export of your own code: pass code too, or leave handler out for the reference handler`);
  }
  if (props.resourceName !== undefined && !RESOURCE_NAME_PATTERN.test(props.resourceName)) {
    throw new InvalidPropsError(NAME, `resourceName must be lowercase letters, digits and '-', starting with a letter, at most 63 characters (a URL path segment), got '${props.resourceName}'`);
  }
  if (props.maxBodySize !== undefined) {
    const bytes = props.maxBodySize.toBytes();
    if (!Token.isUnresolved(bytes) && (bytes < 1 || bytes > MAX_BODY_BYTES_LIMIT)) {
      throw new InvalidPropsError(NAME, `maxBodySize must be 1 byte..256 KiB (a DynamoDB item holds 400 KB including system fields), got ${bytes} bytes`);
    }
  }
  assertIntegerInRange(NAME, 'maxPageSize', props.maxPageSize, 1, MAX_PAGE_SIZE_LIMIT);
  assertIntegerInRange(NAME, 'defaultPageSize', props.defaultPageSize, 1, props.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE);
  if (props.itemSchema !== undefined) {
    if (typeof props.itemSchema !== 'object' || props.itemSchema === null || Array.isArray(props.itemSchema)) {
      throw new InvalidPropsError(NAME, `itemSchema must be a JSON Schema object, got ${JSON.stringify(props.itemSchema)}`);
    }
  }
}
