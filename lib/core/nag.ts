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

/**
 * The rules of the stricter packs (and the Serverless pack) that the library acknowledges, with
 * the packs that carry each: cdk-nag names a finding `<pack>-<rule>`, so one reason is written
 * once here and acknowledged in every pack that would report it.
 */
const PACKS_OF_RULE = {
  CloudWatchLogGroupEncrypted: ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'],
  IAMNoInlinePolicy: ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'],
  LambdaInsideVPC: ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'],
  LambdaDLQ: ['NIST.800.53.R5', 'HIPAA.Security', 'Serverless'],
  LambdaConcurrency: ['NIST.800.53.R5', 'HIPAA.Security'],
  APIGWCacheEnabledAndEncrypted: ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'],
  APIGWSSLEnabled: ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'],
  APIGWAssociatedWithWAF: ['NIST.800.53.R5', 'PCI.DSS.321'],
  SecretsManagerUsingKMSKey: ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'],
  SecretsManagerRotationEnabled: ['NIST.800.53.R5', 'HIPAA.Security'],
  S3BucketReplicationEnabled: ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'],
  S3DefaultEncryptionKMS: ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'],
  EFSInBackupPlan: ['NIST.800.53.R5', 'HIPAA.Security'],
  RDSInBackupPlan: ['NIST.800.53.R5', 'HIPAA.Security'],
  CloudWatchAlarmAction: ['NIST.800.53.R5', 'HIPAA.Security'],
} as const;

/** A rule that `acknowledgeRule` knows the packs of. */
export type AcknowledgedRule = keyof typeof PACKS_OF_RULE;

/** `rule` acknowledged with one true reason in every pack that carries it. */
export function ruleAcknowledgements(rule: AcknowledgedRule, reason: string): NagAcknowledgement[] {
  return PACKS_OF_RULE[rule].map((pack) => ({ id: `${pack}-${rule}`, reason }));
}

/** Acknowledges `rule` on `scope` with one true reason in every pack that carries it. */
export function acknowledgeRule(scope: IConstruct, rule: AcknowledgedRule, reason: string): void {
  acknowledgeNagFindings(scope, ruleAcknowledgements(rule, reason));
}
