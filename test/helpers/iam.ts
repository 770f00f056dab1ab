import { Template } from 'aws-cdk-lib/assertions';

/** One action on one resource, as an IAM policy of the template allows it. */
export interface Permission {
  readonly action: string;
  readonly resource: unknown;
}

/**
 * Every action-resource pair the `AWS::IAM::Policy` resources attached to the roles whose logical
 * id matches `role` allow, one pair per action and resource. Assertions on these hold whether or
 * not CDK merges statements (the recommended flag `@aws-cdk/aws-iam:minimizePolicies` does).
 */
export function allowedPermissions(template: Template, role: RegExp): Permission[] {
  const permissions: Permission[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles ?? []) as Array<{ Ref?: string }>;
    if (!roles.some((r) => r.Ref !== undefined && role.test(r.Ref))) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>) {
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
