import { Stack } from 'aws-cdk-lib';
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
  private readonly policies: Array<{ policy: iam.ManagedPolicy; characters: number }> = [];

  constructor(scope: Construct, id: string, props: iam.RoleProps) {
    super(scope, id, props);
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    const characters = this.estimatedCharacters(statement);
    let current = this.policies[this.policies.length - 1];
    // IAM allows 6,144 characters per managed policy (10 per role); CDK's inline policy would
    // overflow into more policies too, so grants that outgrow one start the next.
    if (current === undefined || current.characters + characters > SPLIT_AT_CHARACTERS) {
      const number = this.policies.length + 1;
      current = {
        policy: new iam.ManagedPolicy(this, number === 1 ? 'Policy' : `Policy${number}`, {
          description: `Permissions of ${this.node.path}${number === 1 ? '' : ` (${number})`}`,
          roles: [this],
        }),
        characters: 0,
      };
      this.policies.push(current);
    }
    current.policy.addStatements(statement);
    current.characters += characters;
    return { statementAdded: true, policyDependable: current.policy };
  }

  /** The statement's length as IAM counts it, with tokens as the template writes them (a value resolves to about as much). */
  private estimatedCharacters(statement: iam.PolicyStatement): number {
    try {
      return JSON.stringify(Stack.of(this).resolve(statement.toStatementJson())).length;
    } catch {
      return UNRESOLVABLE_STATEMENT_CHARACTERS;
    }
  }
}

/** Where a role's grants start their next managed policy: IAM's 6,144 characters, less room for ARNs longer than their tokens. */
const SPLIT_AT_CHARACTERS = 4_500;
/** A statement whose tokens cannot be resolved yet (another stack's values) counts as this long. */
const UNRESOLVABLE_STATEMENT_CHARACTERS = 1_000;

/** A service principal that acts only for this account (and, where given, only for that resource): no confused deputy. */
export function servicePrincipalFor(service: string, account: string, sourceArn?: string): iam.ServicePrincipal {
  return new iam.ServicePrincipal(service, {
    conditions: {
      StringEquals: { 'aws:SourceAccount': account },
      ...(sourceArn !== undefined ? { ArnLike: { 'aws:SourceArn': sourceArn } } : {}),
    },
  });
}
