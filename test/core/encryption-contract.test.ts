/**
 * One encryption contract for every pattern (`PatternEncryptionProps`): every log group and
 * secret the pattern creates is encrypted with the pattern's customer-managed key, which
 * CloudWatch Logs may use for this account's log groups only; the key rotates and outlives the
 * stack (the log groups do); `encryptionKey` replaces it, and then no key is created.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  EventDrivenMicroservice, FanOut, FanOutConsumerCode, FileStorageService, PatternEncryptionProps, PeriodicJob, RelationalMicroservice,
  RestfulMicroservice, SagaWorkflow, StreamProcessor, WebApplication,
} from '../../lib';
import { siteFixture } from '../helpers/site-fixture';

const SITE = siteFixture();
const code = lambda.Code.fromInline('exports.handler = async () => ({})');

interface Encrypted {
  readonly encryptionKey: kms.IKey;
}

const PATTERNS: Array<[string, (stack: Stack, props: PatternEncryptionProps) => Encrypted]> = [
  ['RestfulMicroservice', (stack, props) => new RestfulMicroservice(stack, 'Pattern', props)],
  ['StreamProcessor', (stack, props) => new StreamProcessor(stack, 'Pattern', props)],
  ['FanOut', (stack, props) => new FanOut(stack, 'Pattern', { ...props, subscribers: [{ name: 'audit', consumer: { code: FanOutConsumerCode.audit() } }] })],
  ['EventDrivenMicroservice', (stack, props) => new EventDrivenMicroservice(stack, 'Pattern', props)],
  ['SagaWorkflow', (stack, props) => new SagaWorkflow(stack, 'Pattern', props)],
  ['PeriodicJob', (stack, props) => new PeriodicJob(stack, 'Pattern', { ...props, sourceApi: { url: 'https://api.example.com/v1/catalog' } })],
  ['WebApplication', (stack, props) => new WebApplication(stack, 'Pattern', { ...props, siteDirectory: SITE })],
  ['RelationalMicroservice', (stack, props) => new RelationalMicroservice(stack, 'Pattern', { ...props, code })],
  ['FileStorageService', (stack, props) => new FileStorageService(stack, 'Pattern', { ...props, code })],
];

function synth(build: (stack: Stack, props: PatternEncryptionProps) => Encrypted, props: (stack: Stack) => PatternEncryptionProps = () => ({})) {
  const stack = new Stack(new App(), 'Test');
  const pattern = build(stack, props(stack));
  return { stack, pattern, template: Template.fromStack(stack) };
}

/** What each log group or secret of the template is encrypted with (`undefined`: not a customer-managed key). */
function encryptedWith(template: Template): Array<[string, unknown]> {
  const logGroups = Object.entries(template.findResources('AWS::Logs::LogGroup')).map(([id, r]) => [id, r.Properties?.KmsKeyId] as [string, unknown]);
  const secrets = Object.entries(template.findResources('AWS::SecretsManager::Secret')).map(([id, r]) => [id, r.Properties?.KmsKeyId] as [string, unknown]);
  return [...logGroups, ...secrets];
}

describe.each(PATTERNS)('%s', (_name, build) => {
  test('encrypts every log group and secret it creates with its own key, which CloudWatch Logs may use for this account only', () => {
    const { stack, pattern, template } = synth(build);
    const keyArn = stack.resolve((pattern.encryptionKey as kms.Key).keyArn);
    const found = encryptedWith(template);
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter(([, key]) => JSON.stringify(key) !== JSON.stringify(keyArn)).map(([id]) => id)).toEqual([]);

    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: `Encrypts the log groups and secrets of ${(pattern as unknown as { node: { path: string } }).node.path}` } }));
    const key = template.toJSON().Resources[keyId];
    expect(key).toMatchObject({ DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    expect(key.Properties.KeyPolicy.Statement).toEqual(expect.arrayContaining([expect.objectContaining({
      Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']] } } },
    })]));
  });

  test('encryptionKey replaces the key: every log group and secret uses it, and no key is created for them', () => {
    const { stack, template } = synth(build, (s) => ({ encryptionKey: new kms.Key(s, 'Mine', { enableKeyRotation: true }) }));
    const mine = stack.resolve((stack.node.findChild('Mine') as kms.Key).keyArn);
    expect(encryptedWith(template).filter(([, key]) => JSON.stringify(key) !== JSON.stringify(mine)).map(([id]) => id)).toEqual([]);
    expect(Object.keys(template.findResources('AWS::KMS::Key')).filter((id) => /EncryptionKey|ServerlessPatternsKey/.test(id))).toEqual([]);
  });
});
