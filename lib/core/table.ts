import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_DEFAULTS } from './dynamodb-defaults';
import { InvalidPropsError } from './errors';
import { mergeProps } from './merge';

export interface LibraryTableOptions {
  /** The key schema the reference handler relies on. */
  readonly partitionKey: dynamodb.Attribute;
  readonly sortKey?: dynamodb.Attribute;
  /** What the pattern adds to the library defaults (e.g. a TTL attribute its handler writes). */
  readonly patternDefaults?: Partial<dynamodb.TablePropsV2>;
  /** User overrides, merged over the defaults. */
  readonly tableProps?: dynamodb.TablePropsV2;
  /**
   * When true, `tableProps` must keep `partitionKey`/`sortKey` as given here, because the
   * reference handler depends on them; user code may choose its own keys.
   */
  readonly enforceKeySchema: boolean;
  /** Name of the construct for error messages. */
  readonly constructName: string;
}

function sameAttribute(a: dynamodb.Attribute | undefined, b: dynamodb.Attribute | undefined): boolean {
  return a?.name === b?.name && a?.type === b?.type;
}

function describe(a: dynamodb.Attribute | undefined): string {
  return a ? `${a.name} (${a.type})` : 'none';
}

/** The one table factory of the library (on-demand, PITR, AWS-managed KMS encryption, RETAIN). */
export function createLibraryTable(scope: Construct, id: string, options: LibraryTableOptions): dynamodb.TableV2 {
  const user = options.tableProps;
  if (options.enforceKeySchema && user) {
    if (!sameAttribute(user.partitionKey, options.partitionKey) || !sameAttribute(user.sortKey, options.sortKey)) {
      throw new InvalidPropsError(options.constructName,
        `tableProps must keep the key schema of the reference handler, partitionKey ${describe(options.partitionKey)} and sortKey ${describe(options.sortKey)}; ` +
        `got partitionKey ${describe(user.partitionKey)} and sortKey ${describe(user.sortKey)}. Pass your own code to use another key schema.`);
    }
  }
  return new dynamodb.TableV2(scope, id, mergeProps<dynamodb.TablePropsV2>(
    { ...TABLE_DEFAULTS, ...options.patternDefaults, partitionKey: options.partitionKey, sortKey: options.sortKey },
    user,
  ));
}
