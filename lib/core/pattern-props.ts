import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { referenceHandlerCode } from './assets';
import { assertExclusive, InvalidPropsError } from './errors';
import { createLibraryFunction } from './function';
import { mergeProps } from './merge';
import { acknowledgeNagFindings, NagAcknowledgement } from './nag';
import { createLibraryTable } from './table';

/**
 * The code of a pattern's function: the reference handler (default), or your code on the
 * library's defaults. Patterns whose function needs settings fixed at creation (VPC placement,
 * a file system mount) take only these.
 */
export interface PatternCodeProps {
  /** Your own handler code instead of the reference handler; it receives the same environment variables. @default - the reference handler */
  readonly code?: lambda.Code;
  /** The handler export of `code`. @default 'index.handler' */
  readonly handler?: string;
  /** Overrides of the created function's props, merged over the library's and the pattern's defaults. @default - none */
  readonly functionProps?: lambda.FunctionOptions;
}

/** The handler of a pattern: the reference handler (default), your code on the library's defaults, or your function. */
export interface PatternHandlerProps extends PatternCodeProps {
  /**
   * Use this function instead of creating one. It gets the pattern's triggers and grants, and its
   * environment variables when it is a `lambda.Function`.
   * @default - a new function
   */
  readonly existingFunction?: lambda.IFunction;
}

/** The table of a pattern. The reference handlers need the key schema `pk` (S) + `sk` (S). */
export interface PatternTableProps {
  /** Use this table instead of creating one. @default - a new table */
  readonly existingTable?: dynamodb.ITable;
  /** Overrides of the created table's props; must keep `pk`/`sk` with the reference handler. @default - on-demand, PITR, encrypted, deletion protection, RETAIN */
  readonly tableProps?: dynamodb.TablePropsV2;
}

export function validatePatternProps(construct: string, props: PatternHandlerProps & PatternTableProps): void {
  assertExclusive(construct, props, 'existingTable', 'tableProps');
  assertExclusive(construct, props, 'existingFunction', 'functionProps');
  assertExclusive(construct, props, 'existingFunction', 'code');
  assertExclusive(construct, props, 'existingFunction', 'handler');
  if (props.handler !== undefined && props.code === undefined) {
    throw new InvalidPropsError(construct, `handler '${props.handler}' names an export of your own code: pass code too, or leave handler out for the reference handler`);
  }
}

export function usesReferenceHandler(props: PatternHandlerProps): boolean {
  return props.existingFunction === undefined && props.code === undefined;
}

/** The pattern table (`pk`/`sk`), created with the library defaults or adopted. */
export function patternTable(
  scope: Construct, construct: string, props: PatternTableProps & PatternHandlerProps, patternDefaults?: Partial<dynamodb.TablePropsV2>,
): dynamodb.ITable {
  return props.existingTable ?? createLibraryTable(scope, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    patternDefaults,
    tableProps: props.tableProps,
    enforceKeySchema: usesReferenceHandler(props),
    constructName: construct,
  });
}

export interface PatternHandlerOptions {
  /** e.g. `rest-api/api` */
  readonly referenceAsset: string;
  readonly serviceName: string;
  readonly description: string;
  /** What the handler needs; wins over `functionProps.environment`. */
  readonly environment: Record<string, string>;
  /** The pattern's defaults over the library's (e.g. a longer timeout). */
  readonly functionDefaults?: lambda.FunctionOptions;
  /** What the pattern cannot work without (network, mounts); wins over `functionProps`. */
  readonly functionRequired?: lambda.FunctionOptions;
  /** Findings that do not apply to how this pattern invokes its function. */
  readonly nagAcknowledgements?: NagAcknowledgement[];
}

export interface PatternHandler {
  readonly handler: lambda.IFunction;
  /** Undefined for an existing function. */
  readonly logGroup?: logs.ILogGroup;
}

/** Creates the pattern's function (id `Handler`), or adopts `existingFunction` and gives it the environment. */
export function patternHandler(scope: Construct, props: PatternHandlerProps, options: PatternHandlerOptions): PatternHandler {
  if (props.existingFunction) {
    if (props.existingFunction instanceof lambda.Function) {
      for (const [key, value] of Object.entries(options.environment)) props.existingFunction.addEnvironment(key, value);
    }
    return { handler: props.existingFunction };
  }
  const created = createLibraryFunction(scope, 'Handler', {
    code: props.code ?? referenceHandlerCode(options.referenceAsset),
    handler: props.handler,
    serviceName: options.serviceName,
    description: options.description,
    environment: options.environment,
    functionProps: mergeProps<lambda.FunctionOptions>(options.functionDefaults ?? {}, props.functionProps, options.functionRequired),
  });
  if (options.nagAcknowledgements?.length) acknowledgeNagFindings(created.function, options.nagAcknowledgements);
  return { handler: created.function, logGroup: created.logGroup };
}

/** The reference handler gets exactly the actions it calls; other code gets read/write on the data. */
export function grantPatternTable(table: dynamodb.ITable, handler: lambda.IFunction, props: PatternHandlerProps, referenceActions: string[]): void {
  if (usesReferenceHandler(props)) {
    table.grant(handler, ...referenceActions);
  } else {
    table.grantReadWriteData(handler);
  }
}
