import { Fn, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The stack's UUID, the last part of its stack id: known at deploy time only, and new in every
 * deployment of the stack (another account, or the same stack deleted and deployed again). A name
 * that must never meet an earlier one (a global namespace, or a retained resource's name) carries it.
 */
export function stackUuid(scope: IConstruct): string {
  return Fn.select(2, Fn.split('/', Stack.of(scope).stackId));
}

/** The first 8 hex digits of the stack's UUID, for names with little room. */
export function stackUuidHead(scope: IConstruct): string {
  return Fn.select(0, Fn.split('-', stackUuid(scope)));
}
