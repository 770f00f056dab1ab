/**
 * Issue #18: the hardened example turns on every optional control of `RestfulMicroservice`, so
 * the library acknowledges none of their findings there, while the default example still has
 * them acknowledged (so a test that reads no acknowledgement at all cannot pass). Both stacks pass
 * the five packs with no unacknowledged finding in test/examples/examples.test.ts.
 *
 * `Validations.of(scope).acknowledge()` records each acknowledgement as construct metadata of
 * type `aws:cdk:acknowledged-rules` (`{ 'Annotation::<pack>-<rule>': reason }`), which synth
 * writes to the stack's entry of the cloud assembly manifest, under the construct's path.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { HardenedRestApiExampleStack } from '../../examples/hardened-rest-api';
import { RestApiExampleStack } from '../../examples/rest-api';
import { RestfulMicroservice } from '../../lib';

/** The findings of the controls the hardened example turns on, in every pack that carries them. */
const OPTIONAL_CONTROL_RULES = {
  handler: [
    'NIST.800.53.R5-LambdaConcurrency', 'HIPAA.Security-LambdaConcurrency',
    'NIST.800.53.R5-LambdaInsideVPC', 'HIPAA.Security-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC',
  ],
  stage: ['AwsSolutions-APIG3', 'NIST.800.53.R5-APIGWAssociatedWithWAF', 'PCI.DSS.321-APIGWAssociatedWithWAF'],
};

/** What no prop turns on, acknowledged even in the hardened example (README: "cdk-nag"). */
const ALWAYS_ACKNOWLEDGED_ON_STAGE = [
  'NIST.800.53.R5-APIGWCacheEnabledAndEncrypted', 'HIPAA.Security-APIGWCacheEnabledAndEncrypted', 'PCI.DSS.321-APIGWCacheEnabledAndEncrypted',
  'NIST.800.53.R5-APIGWSSLEnabled', 'HIPAA.Security-APIGWSSLEnabled', 'PCI.DSS.321-APIGWSSLEnabled',
];

interface Synthesized {
  readonly stack: Stack;
  readonly artifact: CloudFormationStackArtifact;
  readonly service: RestfulMicroservice;
}

const app = new App();
const built = { hardened: new HardenedRestApiExampleStack(app, 'Hardened'), defaults: new RestApiExampleStack(app, 'Defaults') };
const assembly = app.synth();
const [hardened, defaults] = [built.hardened, built.defaults].map((stack): Synthesized => ({
  stack,
  artifact: assembly.getStackByName(stack.stackName),
  service: stack.node.findChild('Items') as RestfulMicroservice,
}));

/** The rule ids acknowledged in the stack, on the construct at `path` if given (the manifest's paths start with '/'). */
function acknowledgedRules(synthesized: Synthesized, path?: string): string[] {
  return synthesized.artifact.findMetadataByType(Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .filter((entry) => path === undefined || entry.path === `/${path}`)
    .flatMap((entry) => (typeof entry.data === 'object' && !Array.isArray(entry.data) ? Object.keys(entry.data) : []))
    .map((id) => id.replace(/^Annotation::/, ''));
}

const handlerPath = (s: Synthesized): string => s.service.handler.node.path;
const stagePath = (s: Synthesized): string => s.service.restApi.stage.node.path;

describe('the default example (RestApiExample)', () => {
  test('acknowledges reserved concurrency and the VPC on its handler', () => {
    expect(acknowledgedRules(defaults, handlerPath(defaults))).toEqual(expect.arrayContaining(OPTIONAL_CONTROL_RULES.handler));
  });

  test('acknowledges WAF on its stage', () => {
    expect(acknowledgedRules(defaults, stagePath(defaults))).toEqual(expect.arrayContaining(OPTIONAL_CONTROL_RULES.stage));
  });
});

describe('the hardened example (HardenedRestApiExample)', () => {
  test('acknowledges neither reserved concurrency nor the VPC on its handler', () => {
    const acknowledged = acknowledgedRules(hardened, handlerPath(hardened));
    expect(acknowledged.filter((id) => OPTIONAL_CONTROL_RULES.handler.includes(id))).toEqual([]);
    // The path is the handler's: other acknowledgements (LambdaDLQ, a synchronous invocation) are read there.
    expect(acknowledged).toContain('Serverless-LambdaDLQ');
  });

  test('does not acknowledge WAF on its stage', () => {
    const acknowledged = acknowledgedRules(hardened, stagePath(hardened));
    expect(acknowledged.filter((id) => OPTIONAL_CONTROL_RULES.stage.includes(id))).toEqual([]);
    expect(acknowledged).toEqual(expect.arrayContaining(ALWAYS_ACKNOWLEDGED_ON_STAGE));
  });

  test('acknowledges none of those rules anywhere in the stack', () => {
    const all = [...OPTIONAL_CONTROL_RULES.handler, ...OPTIONAL_CONTROL_RULES.stage];
    expect(acknowledgedRules(hardened).filter((id) => all.includes(id))).toEqual([]);
  });

  test('has the controls on: reserved concurrency, a VPC, its own key, a logged web ACL on the stage', () => {
    const template = Template.fromStack(hardened.stack);
    const handler = template.findResources('AWS::Lambda::Function', {
      Properties: { ReservedConcurrentExecutions: 20, VpcConfig: { SubnetIds: [{}, {}] } },
    });
    expect(Object.keys(handler)).toEqual([hardened.stack.getLogicalId(hardened.service.handler.node.defaultChild as never)]);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    expect(hardened.service.encryptionKey.node.path).toBe(`${hardened.stack.node.path}/EncryptionKey`);
  });
});
