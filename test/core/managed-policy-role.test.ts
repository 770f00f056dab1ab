/**
 * `ManagedPolicyRole`: grants in customer-managed policies of the role's own (no inline policy,
 * which the stricter compliance packs refuse), split before IAM's 6,144 characters per managed
 * policy, and depended on by whatever depends on the role.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ManagedPolicyRole } from '../../lib/core/managed-policy-role';

function roleWithQueues(count: number) {
  const stack = new Stack(new App(), 'Test');
  const role = new ManagedPolicyRole(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  for (let i = 0; i < count; i++) new sqs.Queue(stack, `Queue${i}`).grantSendMessages(role);
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})'), role,
  });
  return { stack, fn, template: Template.fromStack(stack) };
}

test('grants go to a managed policy attached to the role alone, never inline', () => {
  const { template } = roleWithQueues(1);
  template.resourceCountIs('AWS::IAM::Policy', 0);
  const [roleId] = Object.keys(template.findResources('AWS::IAM::Role'));
  template.hasResourceProperties('AWS::IAM::ManagedPolicy', { Roles: [{ Ref: roleId }] });
});

test('grants that outgrow one policy continue in the next, each well under IAM\'s 6,144 characters, and the function waits for all', () => {
  const { stack, template } = roleWithQueues(60);
  const policies = template.findResources('AWS::IAM::ManagedPolicy');
  expect(Object.keys(policies).length).toBeGreaterThan(1);
  for (const policy of Object.values(policies)) {
    expect(JSON.stringify(stack.resolve(policy.Properties.PolicyDocument)).length).toBeLessThan(6_144);
  }
  const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as unknown[]);
  expect(JSON.stringify(statements).match(/sqs:SendMessage/g)).toHaveLength(60);
  const dependsOn = Object.values(template.findResources('AWS::Lambda::Function'))[0].DependsOn as string[];
  expect(dependsOn).toEqual(expect.arrayContaining(Object.keys(policies)));
});
