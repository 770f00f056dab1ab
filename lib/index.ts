// The public API: the constructs, their props and option types, and the building blocks meant
// for users. Everything else under lib/ is internal and may change in any release.

// ---- patterns
export { CanaryDeployment } from './core/canary-deployment';
export type {
  AliasProvisionedConcurrencyOptions,
  CanaryDeploymentOptions,
  CanaryDeploymentProps,
  PostTrafficHookOptions,
  PreTrafficHookOptions,
} from './core/canary-deployment';
export { EventAuditDestination, EventDrivenMicroservice, EventSubscriberTarget } from './event-driven';
export type { EventDrivenMicroserviceProps, EventSubscriber, EventSubscription } from './event-driven';
export { FileStorageService } from './efs';
export type { FileStorageFileSystemOptions, FileStorageServiceProps } from './efs';
export { FanOut, FanOutConsumerCode } from './fan-out';
export type { FanOutConsumer, FanOutProps, FanOutSubscriber, FanOutSubscription } from './fan-out';
export { PagingStyle, PeriodicJob } from './periodic-job';
export type { PeriodicJobProps, PeriodicJobSourceApi } from './periodic-job';
export { RelationalMicroservice } from './rds-proxy';
export type { RelationalDatabaseOptions, RelationalMicroserviceProps, RelationalProxyOptions } from './rds-proxy';
export { RestfulMicroservice } from './rest-api';
export type { RestfulMicroserviceProps } from './rest-api';
export { SagaLogLevel, SagaWorkflow } from './saga';
export type { SagaWorkflowProps } from './saga';
export { StreamProcessor } from './stream-processing';
export type { StreamProcessorProps } from './stream-processing';
export { WebApplication } from './web-app';
export type { WebApplicationCustomDomain, WebApplicationProps } from './web-app';

// ---- props shared by the patterns
export type { PatternOperationsProps } from './core/operations';
export type { PatternEncryptionProps } from './core/encryption';
export type { PatternCodeProps, PatternHandlerProps, PatternTableProps } from './core/pattern-props';
export type { CollectionApiProps, ResourceApiProps } from './core/resource-api';
export type { PatternVpcProps } from './core/vpc';
export type { StreamEventSourceOptions } from './core/stream-event-source';

// ---- building blocks
export { AlarmTopic } from './core/alarm-topic';
export type { AlarmTopicProps } from './core/alarm-topic';
export { PrivateServiceVpc } from './core/vpc';
export type { PrivateServiceVpcProps } from './core/vpc';
export { SecureRestApi } from './core/secure-rest-api';
export type { ApiThrottling, ApiUsagePlanOptions, SecureRestApiProps } from './core/secure-rest-api';
export { ApiAuthorization, ApiAuthorizationKind } from './core/api-authorization';
export type { CognitoAuthorizationOptions, LambdaRequestAuthorizationOptions, LambdaTokenAuthorizationOptions } from './core/api-authorization';
