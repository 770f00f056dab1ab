import { App, Stack } from 'aws-cdk-lib';
import { CanaryDeploymentExampleStack } from './canary';
import { FileStorageExampleStack } from './efs';
import { EventDrivenExampleStack } from './event-driven';
import { FanOutExampleStack } from './fan-out';
import { HardenedRestApiExampleStack } from './hardened-rest-api';
import { PeriodicJobExampleStack } from './periodic-job';
import { RelationalMicroserviceExampleStack } from './rds-proxy';
import { RestApiExampleStack } from './rest-api';
import { SagaExampleStack } from './saga';
import { StreamProcessingExampleStack } from './stream-processing';
import { WebApplicationExampleStack } from './web-app';

/** Options of `addExampleStacks`. */
export interface ExampleStacksOptions {
  /**
   * Appended to every stack id (and so to every stack name), so that a second copy of the
   * examples can live in the same app (test/deploy checks that two copies claim no name twice).
   * @default '' (the ids `cdk deploy` uses)
   */
  readonly idSuffix?: string;
}

/** Every example stack of the library, keyed by pattern folder; environment-agnostic, so synth needs no account. */
export function addExampleStacks(app: App, options: ExampleStacksOptions = {}): Record<string, Stack> {
  const suffix = options.idSuffix ?? '';
  return {
    'rest-api': new RestApiExampleStack(app, `RestApiExample${suffix}`, {
      description: 'Serverless reference architecture: RESTful microservice (API Gateway -> Lambda -> DynamoDB)',
    }),
    'hardened-rest-api': new HardenedRestApiExampleStack(app, `HardenedRestApiExample${suffix}`, {
      description: 'Serverless reference architecture: RESTful microservice with every optional control on (WAF, Lambda in a VPC, reserved concurrency, own KMS key)',
    }),
    'stream-processing': new StreamProcessingExampleStack(app, `StreamProcessingExample${suffix}`, {
      description: 'Serverless reference architecture: stream processing (Kinesis Data Streams -> Lambda -> DynamoDB)',
    }),
    'periodic-job': new PeriodicJobExampleStack(app, `PeriodicJobExample${suffix}`, {
      description: 'Serverless reference architecture: periodic job (EventBridge Scheduler -> Lambda -> HTTP API -> DynamoDB)',
      sourceUrl: app.node.tryGetContext('periodicJobSourceUrl') ?? 'https://api.example.com/v1/catalog',
    }),
    'web-app': new WebApplicationExampleStack(app, `WebApplicationExample${suffix}`, {
      description: 'Serverless reference architecture: web application (CloudFront + S3 SPA, Cognito, API Gateway -> Lambda -> DynamoDB)',
    }),
    'fan-out': new FanOutExampleStack(app, `FanOutExample${suffix}`, {
      description: 'Serverless reference architecture: fan-out (SNS -> filtered SQS queues -> Lambda consumers)',
    }),
    'event-driven': new EventDrivenExampleStack(app, `EventDrivenExample${suffix}`, {
      description: 'Serverless reference architecture: event-driven microservice (DynamoDB Streams -> Lambda -> EventBridge bus -> rules -> targets)',
    }),
    'efs': new FileStorageExampleStack(app, `FileStorageExample${suffix}`, {
      description: 'Serverless reference architecture: file storage (API Gateway -> Lambda in a VPC -> EFS access point)',
    }),
    'rds-proxy': new RelationalMicroserviceExampleStack(app, `RelationalMicroserviceExample${suffix}`, {
      description: 'Serverless reference architecture: relational microservice (API Gateway -> Lambda in a VPC -> RDS Proxy -> Aurora Serverless v2 PostgreSQL)',
    }),
    'saga': new SagaExampleStack(app, `SagaExample${suffix}`, { description: 'Serverless reference architecture: saga (API Gateway -> Step Functions: Lambda steps, SQS task-token callback, direct DynamoDB, compensations)' }),
    'canary': new CanaryDeploymentExampleStack(app, `CanaryDeploymentExample${suffix}`, {
      description: 'Serverless reference architecture: canary deployment (Lambda versions + alias + CodeDeploy, hooks and rollback alarms) of the RESTful microservice',
    }),
  };
}
