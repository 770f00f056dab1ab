import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';

/** How a pattern encrypts its log groups and secrets (every pattern takes these props). */
export interface PatternEncryptionProps {
  /**
   * The customer-managed KMS key of the pattern's log groups and secrets. A key of your own must
   * let CloudWatch Logs use it (`logs.<region>.amazonaws.com`: kms:Encrypt*, kms:Decrypt*,
   * kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* with the condition
   * kms:EncryptionContext:aws:logs:arn); the statement is added to a key of this app.
   * @default - a new rotating key per pattern, kept when the stack is deleted (1 USD a month)
   */
  readonly encryptionKey?: kms.IKey;
}

/** The key each pattern registered, by pattern construct. */
const PATTERN_KEYS = new WeakMap<IConstruct, kms.IKey>();
/** Id of the key shared by the library's building blocks used outside a pattern, one per stack. */
const SHARED_KEY_ID = 'ServerlessPatternsKey';

/**
 * The customer-managed key a pattern encrypts its log groups and secrets with: `given`, or one
 * created here. Every library resource below `pattern` that needs a key finds it
 * (`encryptionKeyOf`). The stricter compliance packs (NIST 800-53, HIPAA, PCI DSS) require a
 * customer-managed key on log groups and secrets.
 */
export function usePatternKey(pattern: Construct, given?: kms.IKey): kms.IKey {
  const key = given ?? createLibraryKey(pattern, 'EncryptionKey', `Encrypts the log groups and secrets of ${pattern.node.path}`);
  if (given !== undefined) allowLogsToUse(given, pattern);
  PATTERN_KEYS.set(pattern, key);
  return key;
}

/** The key of the nearest pattern above `scope`, or, for a building block used on its own, the stack's shared key. */
export function encryptionKeyOf(scope: IConstruct): kms.IKey {
  for (let node: IConstruct | undefined = scope; node !== undefined; node = node.node.scope) {
    const key = PATTERN_KEYS.get(node);
    if (key !== undefined) return key;
  }
  const stack = Stack.of(scope);
  return (stack.node.tryFindChild(SHARED_KEY_ID) as kms.IKey | undefined)
    ?? createLibraryKey(stack, SHARED_KEY_ID, 'Encrypts the log groups and secrets of the serverless building blocks of this stack');
}

/** A log group encrypted with the key of the pattern it belongs to. */
export function encryptedLogGroup(scope: Construct, id: string, props: logs.LogGroupProps = {}): logs.LogGroup {
  return new logs.LogGroup(scope, id, { ...props, encryptionKey: props.encryptionKey ?? encryptionKeyOf(scope) });
}

/**
 * A rotating key that CloudWatch Logs may use for this account's log groups. It is kept when its
 * stack is deleted, as the log groups it encrypts are: deleting it would make them unreadable.
 */
function createLibraryKey(scope: Construct, id: string, description: string): kms.Key {
  const key = new kms.Key(scope, id, {
    description,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
    pendingWindow: Duration.days(30),
  });
  allowLogsToUse(key, scope);
  return key;
}

/**
 * CloudWatch Logs encrypts and decrypts a log group's events with the key itself, so the key
 * policy must let it, for this account's log groups only (CDK does not add this statement).
 */
function allowLogsToUse(key: kms.IKey, scope: IConstruct): void {
  const stack = Stack.of(scope);
  const added = key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogsOfThisAccount',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
  }), false);
  if (!added.statementAdded) {
    Annotations.of(scope).addWarningV2('@serverless-patterns:imported-key-policy',
      `The key ${key.node.path} is imported, so its policy cannot be changed here: allow logs.<region>.amazonaws.com to use it for this account's log groups (kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* with kms:EncryptionContext:aws:logs:arn), or creating the log groups fails.`);
  }
}
