/**
 * Limits that `cdk synth`, cdk-nag and cfn-lint do not check and CloudFormation enforces only
 * while it deploys, on every example stack as `cdk deploy` synthesizes it:
 *
 * - CloudFormation quotas (AWS CloudFormation User Guide, "Understand CloudFormation quotas"):
 *   a template in an S3 object is at most 1 MB, and has at most 500 resources.
 * - IAM quotas (IAM User Guide, "IAM and AWS STS quotas"): a role's inline policies together are at
 *   most 10,240 characters, a managed policy at most 6,144; IAM does not count whitespace.
 * - Lambda quotas (Lambda Developer Guide, "Lambda quotas"): a function's environment variables
 *   are at most 4 KB in aggregate; a function uses at most 5 layers; its deployment package and
 *   layers, unzipped, are at most 250 MB.
 * - Physical names: two deployments must not claim one name. Two copies of every example in one
 *   app (one account and Region) claim no name twice, and a name in a namespace shared with other
 *   accounts (an S3 bucket, a Cognito prefix domain) depends on the stack's id, so that another
 *   account can deploy a stack of the same name.
 *
 * Values that CloudFormation resolves at deploy time (Ref, Fn::GetAtt, Fn::Sub, ...) are counted
 * at an upper bound (upper-bounds.ts), so every measure here is at least the deployed one.
 */
import { CfnResource, CfnTemplate, describeResource, DeployedStack, synthDeployedExamples } from './assembly';
import { environmentBytes, layerCounts, managedPolicyCharacters, Measure, roleInlinePolicyCharacters, unzippedCodeBytes } from './measure';
import {
  ClaimedName, claimedNames, deployment, isClassified, nameClashes, nameLikeProperties, namesSameInEveryDeployment,
  PHYSICAL_NAME_RULES, UnresolvableNameError,
} from './physical-names';
import { INTRINSIC_UPPER_BOUNDS, UNKNOWN_TOKEN_BOUND } from './upper-bounds';

const LIMITS = {
  /**
   * CloudFormation: a template body passed inline is at most 51,200 bytes, one in an S3 object at
   * most 1 MB. The CDK CLI uploads every template to the bootstrap bucket and deploys it from
   * there, so the S3 quota is the one that applies.
   */
  templateBytes: 1_048_576,
  resources: 500,
  roleInlinePolicyCharacters: 10_240,
  managedPolicyCharacters: 6_144,
  environmentBytes: 4_096,
  layers: 5,
  unzippedCodeBytes: 262_144_000,
} as const;

/**
 * The `Analytics` string of the CDKMetadata resource encodes the construct libraries that the app
 * loads: bin/app.ts also loads cdk-nag, and its templates are a few dozen bytes longer (40 for
 * RestApiExample) than the ones synthesized here. Added to every template's size.
 */
const CDK_METADATA_ALLOWANCE = 1_024;

// Synthesized once for the whole file (16 stacks): every test below reads these.
const deployed = synthDeployedExamples();
afterAll(() => deployed.dispose());

/** The examples as `cdk deploy` deploys them (the second copy only serves the name checks). */
const examples = deployed.stacks.filter((stack) => stack.copy === 0).map((stack) => [stack.stackName, stack] as const);

const n = (value: number): string => value.toLocaleString('en');

/** One line per measure over its limit, or that could not be measured. */
function overLimit(stack: DeployedStack, measures: Measure[], limit: number, what: string): string[] {
  return measures.filter((m) => m.error !== undefined || m.value > limit).map((m) => (m.error !== undefined
    ? `${describeResource(stack, m.logicalId)}: ${what} cannot be measured: ${m.error}`
    : `${describeResource(stack, m.logicalId)}: ${what} ${n(m.value)}, limit ${n(limit)}`));
}

describe.each(examples)('example stack %s, as deployed', (_name, stack) => {
  test(`template: at most ${n(LIMITS.templateBytes)} bytes`, () => {
    const bytes = stack.templateBytes + CDK_METADATA_ALLOWANCE;
    expect(overLimit(stack, [{ logicalId: '(template)', value: bytes, unknownTokens: [] }], LIMITS.templateBytes, 'template bytes (with the CDKMetadata allowance)')).toEqual([]);
  });

  test(`template: at most ${LIMITS.resources} resources`, () => {
    const count = Object.keys(stack.template.Resources).length;
    expect(overLimit(stack, [{ logicalId: '(template)', value: count, unknownTokens: [] }], LIMITS.resources, 'resources')).toEqual([]);
  });

  test.each([
    [`each role's inline policies together: at most ${n(LIMITS.roleInlinePolicyCharacters)} characters`, roleInlinePolicyCharacters,
      LIMITS.roleInlinePolicyCharacters, 'inline policy characters (upper bound)'],
    [`each managed policy: at most ${n(LIMITS.managedPolicyCharacters)} characters`, managedPolicyCharacters,
      LIMITS.managedPolicyCharacters, 'managed policy characters (upper bound)'],
    [`each function's environment: at most ${n(LIMITS.environmentBytes)} bytes`, environmentBytes, LIMITS.environmentBytes, 'environment bytes (upper bound)'],
    [`each function: at most ${LIMITS.layers} layers`, layerCounts, LIMITS.layers, 'layers'],
    [`each function's code and layers: at most ${n(LIMITS.unzippedCodeBytes)} bytes unzipped`, unzippedCodeBytes,
      LIMITS.unzippedCodeBytes, 'unzipped code and layer bytes'],
  ] as const)('%s', (_title, measure, limit, unit) => {
    expect(overLimit(stack, measure(stack), limit, unit)).toEqual([]);
  });
});

describe('physical names of two copies of every example in one account and Region', () => {
  const stacks = deployed.stacks;
  // One deployment per stack: its own name and stack id (a distinct UUID), one account and Region.
  const uuid = (index: number, variant: number): string => `${variant}0000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
  const claims: ClaimedName[] = [];
  const unresolved: string[] = [];
  stacks.forEach((stack, index) => {
    try {
      claims.push(...claimedNames(stack, deployment(stack.stackName, uuid(index, 1), 'first')));
    } catch (error) {
      if (!(error instanceof UnresolvableNameError)) {
        throw error;
      }
      unresolved.push(`${stack.stackName}: ${error.message}`);
    }
  });

  test('the second copy is there: every example twice, under other stack names', () => {
    expect(stacks.filter((s) => s.copy === 1).map((s) => s.pattern)).toEqual(examples.map(([, s]) => s.pattern));
    expect(new Set(stacks.map((s) => s.stackName)).size).toBe(stacks.length);
  });

  test('every name-like property of the templates is classified: a physical name rule, or no name of its own', () => {
    const unclassified = stacks.flatMap((stack) => Object.entries(stack.template.Resources).flatMap(([logicalId, resource]) =>
      nameLikeProperties(resource).filter((property) => !isClassified(property)).map((property) => `${describeResource(stack, logicalId)}: ${property}`)));
    expect(unclassified).toEqual([]);
  });

  test('every claimed name resolves at synth time', () => {
    expect(unresolved).toEqual([]);
  });

  test('no two resources of one namespace claim the same name', () => {
    expect(nameClashes(claims)).toEqual([]);
  });

  // Another account deploying a stack of the same name differs only in the stack id (and in the
  // names CloudFormation generates): a global name that stays the same clashes with it.
  const globalRules = PHYSICAL_NAME_RULES.filter((r) => r.scope === 'global').map((r) => [`${r.type} ${r.path.join('.')}`, r] as const);
  test.each(globalRules)('%s: absent, or different in every deployment of one stack name (depends on AWS::StackId)', (_label, r) => {
    const same = stacks.flatMap((stack, index) => {
      try {
        return namesSameInEveryDeployment(stack, r, deployment(stack.stackName, uuid(index, 1), 'first'), deployment(stack.stackName, uuid(index, 2), 'second'));
      } catch (error) {
        return [`${stack.stackName}: ${(error as Error).message}`];
      }
    });
    expect(same).toEqual([]);
  });

  // CloudFront and IAM are global services: the same stack name deployed in a second Region of
  // the same account differs only in the Region and the stack id.
  const accountRules = PHYSICAL_NAME_RULES.filter((r) => r.scope === 'account').map((r) => [`${r.type} ${r.path.join('.')}`, r] as const);
  test.each(accountRules)('%s: absent, or different in every Region (depends on AWS::Region or AWS::StackId)', (_label, r) => {
    const same = stacks.flatMap((stack, index) => namesSameInEveryDeployment(stack, r,
      deployment(stack.stackName, uuid(index, 1), 'first', '111111111111', 'eu-west-1'),
      deployment(stack.stackName, uuid(index, 2), 'second', '111111111111', 'us-east-1'),
      'it depends on neither AWS::Region nor AWS::StackId: the same stack name in a second Region of this account cannot create it'));
    expect(same).toEqual([]);
  });

  // A resource the stack keeps when it is deleted, or when a failed first deploy rolls back,
  // still holds its name: the next deploy of the same stack name must not claim it again.
  test.each(PHYSICAL_NAME_RULES.map((r) => [`${r.type} ${r.path.join('.')}`, r] as const))(
    '%s: a retained resource\'s name is new in every deployment (depends on AWS::StackId)', (_label, r) => {
      const same = stacks.flatMap((stack, index) => namesSameInEveryDeployment(stack, r,
        deployment(stack.stackName, uuid(index, 1), 'first'), deployment(stack.stackName, uuid(index, 2), 'second'),
        'it is retained when the stack is deleted or its first deploy rolls back, so deploying the stack again fails with "already exists"',
        isRetained));
      expect(same).toEqual([]);
    });
});

/** CloudFormation keeps the resource (or, for a snapshot, deletes it only after it) when it deletes it from the stack. */
function isRetained(resource: CfnResource): boolean {
  return ['Retain', 'RetainExceptOnCreate'].includes(String(resource.DeletionPolicy));
}

describe('the checks catch what they guard (templates written here)', () => {
  const stackOf = (template: CfnTemplate, stackName = 'Guarded'): DeployedStack =>
    ({ pattern: 'guarded', copy: 0, stackName, template, templateBytes: 0, assetSources: new Map() });
  const cognitoDomain = (domain: unknown): CfnTemplate => ({
    Resources: { Domain: { Type: 'AWS::Cognito::UserPoolDomain', Properties: { Domain: domain, UserPoolId: 'pool' } } },
  });
  const domainRule = PHYSICAL_NAME_RULES.find((r) => r.type === 'AWS::Cognito::UserPoolDomain')!;
  const twoDeployments = [deployment('Guarded', '10000000-0000-4000-8000-000000000000', 'first'), deployment('Guarded', '20000000-0000-4000-8000-000000000000', 'second')] as const;
  const stackUuid = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };

  test.each([
    ['a fixed string', 'app-fixed-prefix', 'flagged'],
    ['the stack name alone', { 'Fn::Join': ['-', ['app', { Ref: 'AWS::StackName' }]] }, 'flagged'],
    ['the stack name and the account (predictable, so anyone can take it first)', { 'Fn::Sub': 'app-${AWS::StackName}-${AWS::AccountId}' }, 'flagged'],
    ['the stack UUID', { 'Fn::Join': ['-', ['app', stackUuid]] }, 'accepted'],
  ])('a global name built from %s is %s', (_what, domain, verdict) => {
    const found = namesSameInEveryDeployment(stackOf(cognitoDomain(domain)), domainRule, ...twoDeployments);
    expect(found).toHaveLength(verdict === 'flagged' ? 1 : 0);
  });

  test('two stacks that claim one name clash; names built from their stack names do not', () => {
    const queue = (name: unknown): CfnTemplate => ({ Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: name } } } });
    const claimsOf = (name: unknown): ClaimedName[] => ['One', 'Two'].flatMap((stackName, index) =>
      claimedNames(stackOf(queue(name), stackName), deployment(stackName, `${index}0000000-0000-4000-8000-000000000000`, 'first')));
    expect(nameClashes(claimsOf('jobs'))).toEqual([expect.stringMatching(/^sqs queue 'jobs' is claimed by One Queue and by Two Queue$/)]);
    expect(nameClashes(claimsOf({ 'Fn::Sub': '${AWS::StackName}-jobs' }))).toEqual([]);
  });

  test('a value unknown at synth time counts as the generous default, never less', () => {
    const template: CfnTemplate = { Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { URL: { 'Fn::ImportValue': 'Shared-Url' } } } } } } };
    const [env] = environmentBytes(stackOf(template));
    expect(env.value).toBeGreaterThanOrEqual(UNKNOWN_TOKEN_BOUND);
    expect(env.unknownTokens).toEqual([{ kind: 'Fn::ImportValue' }]);
  });

  test('a role counts its own policies and every policy attached to it', () => {
    const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] } }] };
    const template: CfnTemplate = {
      Resources: {
        Queue: { Type: 'AWS::SQS::Queue' },
        Role: { Type: 'AWS::IAM::Role', Properties: { Policies: [{ PolicyName: 'own', PolicyDocument: document }] } },
        Attached: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'attached', PolicyDocument: document, Roles: [{ Ref: 'Role' }] } },
        Elsewhere: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'elsewhere', PolicyDocument: document, Roles: [{ Ref: 'Other' }] } },
      },
    };
    const resolved = { ...document, Statement: [{ ...document.Statement[0], Resource: 'x'.repeat(INTRINSIC_UPPER_BOUNDS['AWS::SQS::Queue.Arn']) }] };
    const expected = 'own'.length + 'attached'.length + 2 * JSON.stringify(resolved).length;
    expect(roleInlinePolicyCharacters(stackOf(template))).toEqual([{ logicalId: 'Role', value: expected, unknownTokens: [] }]);
  });
});
