/**
 * DynamoDB DocumentClient factory with timeouts and retries. The endpoint comes from the
 * standard `AWS_ENDPOINT_URL_DYNAMODB` variable, which the SDK reads itself when the client is
 * created: create clients lazily (`lazyDocumentClient`) so tests can point them at a local engine.
 */
import { DynamoDBClient, type AttributeValue, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import { AWS_CLIENT_DEFAULTS, awsClientConfig, lazy } from './aws-client';
import { classifyAwsError } from './aws-errors';

export { DynamoDBDocumentClient };

/** Client-level timeouts and attempts (each attempt is bounded; the SDK retries with backoff). */
export const DYNAMODB_CLIENT_DEFAULTS = AWS_CLIENT_DEFAULTS;

export interface DocumentClientOptions {
  /** Merged over the defaults (timeouts, `maxAttempts: 3`). */
  readonly clientConfig?: DynamoDBClientConfig;
  /** Merged over `removeUndefinedValues: true`. */
  readonly marshallOptions?: TranslateConfig['marshallOptions'];
  readonly unmarshallOptions?: TranslateConfig['unmarshallOptions'];
}

/**
 * Marshalling for JSON APIs: JSON numbers are IEEE doubles, so accept numbers beyond 2^53 as
 * they are and read every number back as a JS `number` (never a `BigInt`, which JSON cannot hold).
 */
export const JSON_NUMBER_OPTIONS = {
  marshallOptions: { allowImpreciseNumbers: true },
  unmarshallOptions: { wrapNumbers: (value: string): number => Number(value) },
} as const;

export function createDocumentClient(options: DocumentClientOptions = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ ...awsClientConfig(), ...options.clientConfig });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, ...options.marshallOptions },
    unmarshallOptions: { ...options.unmarshallOptions },
  });
}

/** A memoized getter: the client is created on first use, once per execution environment. */
export function lazyDocumentClient(options: DocumentClientOptions = {}): () => DynamoDBDocumentClient {
  return lazy(() => createDocumentClient(options));
}

/**
 * Prepares a parsed JSON value for the DocumentClient marshaller: JSON objects become `Map`s.
 * The marshaller picks a conversion by `value.constructor.name`, so a plain object with an own
 * `constructor` key (`{"constructor":{"name":"Set"}}`) would be mistaken for a Set, a Buffer...;
 * a `Map` is always marshalled as a DynamoDB map. Reading back gives plain objects again.
 * The input must be depth-checked (recursive); `__proto__` keys are dropped by the SDK.
 */
export function jsonToMarshallable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonToMarshallable);
  if (value !== null && typeof value === 'object') {
    return new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonToMarshallable(v)]));
  }
  return value;
}

/**
 * The item DynamoDB returned with a failed condition (`ReturnValuesOnConditionCheckFailure:
 * ALL_OLD`), as AttributeValues: the DocumentClient does not unmarshall the item of an error.
 * `undefined` where the engine returned none (no item, or an engine without the feature).
 */
export function itemOfRefusal(refused: unknown): Record<string, AttributeValue> | undefined {
  const item = (refused as { Item?: unknown } | undefined)?.Item;
  return item !== null && typeof item === 'object' ? item as Record<string, AttributeValue> : undefined;
}

/** A single-item write whose `ConditionExpression` evaluated to false. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return classifyAwsError(err) === 'conditional';
}
