/**
 * How the runner is put together: one provider per kind of resource (DynamoDB, queues, APIs...),
 * each in its own module. A provider starts its engine and creates its resources before the
 * functions start (`prepare`, binding the values only it knows, such as a queue's local URL, so
 * that the functions' environment resolves to them), may rewrite a function's environment
 * (`environment`), and then starts the triggers that invoke functions (`connect`).
 */
import type { AssemblyStack } from './assembly';
import type { InvokeOptions, InvokeOutcome } from './functions';
import type { LocalTemplate } from './template';

export interface RunContext {
  readonly template: LocalTemplate;
  readonly stack: AssemblyStack;
  /** The runner's own log. */
  log(line: string): void;
  /** A line of the start-up report (what runs where). */
  report(line: string): void;
  /** Something of the stack that does not run locally, said at start-up. */
  notEmulated(line: string): void;
  /** Points the functions' SDK at a local engine: `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `DYNAMODB`, `SECRETS_MANAGER`). */
  endpoint(service: string, url: string): void;
  /** Runs when the stack stops, last registered first. */
  onStop(stop: () => Promise<void>): void;
  /** Registers how messages sent to some ARNs arrive (a queue's, a topic's). */
  addDestination(destination: Destination): void;
  /**
   * Sends a message to an ARN of the stack, as a service does for an on-failure destination, a DLQ,
   * a subscription or a rule target. Throws when the delivery fails or nothing local takes the ARN.
   */
  deliver(arn: string, message: DestinationMessage): Promise<void>;
}

export interface DestinationMessage {
  readonly body: string;
  readonly messageAttributes?: Record<string, { readonly DataType: string; readonly StringValue?: string; readonly BinaryValue?: Uint8Array }>;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
}

export interface Destination {
  /** Whether this destination takes messages for the ARN. */
  accepts(arn: string): boolean;
  deliver(arn: string, message: DestinationMessage): Promise<void>;
}

export interface RunningFunctions {
  /** Whether a function (logical id, name, or ARN with or without a qualifier) runs locally. */
  has(functionId: string): boolean;
  /** Invokes it synchronously; an error is an outcome, never a rejection. */
  invoke(functionId: string, event: unknown, options?: InvokeOptions): Promise<InvokeOutcome>;
  /**
   * Invokes it asynchronously, as EventBridge, Scheduler, SNS and `InvocationType: Event` do: a
   * function error is retried by "Lambda" (`MaximumRetryAttempts` of its event invoke config, 2
   * by default), then the event goes to its on-failure destination or dead-letter queue. Resolves
   * with the last attempt's outcome once that is done.
   */
  invokeAsync(functionId: string, event: unknown): Promise<InvokeOutcome>;
  /** Invocations of one function so far (0 for a function not here). */
  invocationsOf(functionId: string): number;
  /** Invocations so far and those running now, over all functions: what `settled()` watches. */
  activity(): { readonly invocations: number; readonly running: number };
  /** The folder holding the function's code (its `/var/task`). */
  codeDir(functionId: string): string | undefined;
}

export interface Provider {
  readonly name: string;
  /** Starts engines and creates resources, before the functions start. */
  prepare?(context: RunContext): Promise<void>;
  /** Rewrites a function's environment (values only this provider can map to local ones). */
  environment?(functionLogicalId: string, environment: Record<string, string>): Record<string, string>;
  /** Starts what invokes the functions: APIs, pollers, subscriptions, schedules. */
  connect?(context: RunContext, functions: RunningFunctions): Promise<void>;
}
