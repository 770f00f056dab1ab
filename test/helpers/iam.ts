import { Template } from 'aws-cdk-lib/assertions';

/** One action on one resource, as an IAM policy of the template allows it. */
export interface Permission {
  readonly action: string;
  readonly resource: unknown;
}

/**
 * Every action-resource pair that the policies of the roles whose logical id matches `role` allow:
 * the `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` resources attached to them, and their own
 * inline `Policies`; one pair per action and resource. Assertions on these hold whether or not
 * CDK merges statements (the recommended flag `@aws-cdk/aws-iam:minimizePolicies` does).
 */
export function allowedPermissions(template: Template, role: RegExp): Permission[] {
  const documents: Array<{ Statement: Array<Record<string, unknown>> }> = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const policy of Object.values(template.findResources(type))) {
      const roles = (policy.Properties.Roles ?? []) as Array<{ Ref?: string }>;
      if (roles.some((r) => r.Ref !== undefined && role.test(r.Ref))) documents.push(policy.Properties.PolicyDocument);
    }
  }
  for (const [logicalId, resource] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    if (!role.test(logicalId)) continue;
    for (const inline of (resource.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>) {
      documents.push(inline.PolicyDocument);
    }
  }
  const permissions: Permission[] = [];
  for (const document of documents) {
    for (const statement of document.Statement) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action].flat() as string[]) {
        for (const resource of [statement.Resource].flat()) permissions.push({ action, resource });
      }
    }
  }
  return permissions;
}

/** `actions` each on `resource`, as `allowedPermissions` lists them. */
export function actionsOn(resource: unknown, ...actions: string[]): Permission[] {
  return actions.map((action) => ({ action, resource }));
}

/** `granted` holds exactly `expected`, in any order (CDK's policy minimization sorts actions). */
export function expectExactly(granted: Permission[], expected: Permission[]): void {
  expect(granted).toEqual(expect.arrayContaining(expected));
  expect(granted).toHaveLength(expected.length);
}
