import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * A role whose grants land in one customer-managed policy of its own (`Policy`), attached to it
 * alone, instead of CDK's inline `DefaultPolicy`. The stricter compliance packs (NIST 800-53,
 * HIPAA, PCI DSS) refuse inline policies; the policy is still one-to-one with the role, created
 * and deleted with it. Anything that depends on the role depends on the policy too (it is a child
 * of the role), so a function is created only once its permissions exist, which Lambda checks
 * for a function in a VPC.
 */
export class ManagedPolicyRole extends iam.Role {
  private policy?: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: iam.RoleProps) {
    super(scope, id, props);
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy ??= new iam.ManagedPolicy(this, 'Policy', {
      description: `Permissions of ${this.node.path}`,
      roles: [this],
    });
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}

/** A service principal that acts only for this account (and, where given, only for that resource): no confused deputy. */
export function servicePrincipalFor(service: string, account: string, sourceArn?: string): iam.ServicePrincipal {
  return new iam.ServicePrincipal(service, {
    conditions: {
      StringEquals: { 'aws:SourceAccount': account },
      ...(sourceArn !== undefined ? { ArnLike: { 'aws:SourceArn': sourceArn } } : {}),
    },
  });
}
