import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One justified cdk-nag finding: the printed rule id (with its `[...]` suffix where printed) and why. */
export interface NagAcknowledgement {
  readonly id: string;
  readonly reason: string;
}

/**
 * Acknowledges cdk-nag findings on the narrowest construct that causes them, through
 * aws-cdk-lib's own `Validations` API, so the library needs no runtime dependency on cdk-nag.
 * Every rule pack prefixes the rule id with its pack name.
 */
export function acknowledgeNagFindings(scope: IConstruct, findings: NagAcknowledgement[]): void {
  Validations.of(scope).acknowledge(...findings.map((f) => ({ id: f.id, reason: f.reason })));
}
