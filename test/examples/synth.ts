import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addExampleStacks } from '../../examples';

/** Synthesizes the example app once per test file, as `cdk synth` does. */
export function synthExamples(): { app: App; stacks: Record<string, Stack> } {
  const app = new App();
  const stacks = addExampleStacks(app);
  app.synth();
  return { app, stacks };
}

const ASSET_HASH = /[a-f0-9]{64}/g;
/** `fn.currentVersion` ids end in a hash of the function's code and configuration. */
const VERSION_HASH = /(CurrentVersion[A-F0-9]{8})[a-f0-9]{32}/g;

/** The template with content hashes of assets replaced, so a snapshot changes only when the template does. */
export function normalizedTemplate(stack: Stack): unknown {
  const json = JSON.stringify(Template.fromStack(stack).toJSON());
  return JSON.parse(json.replace(ASSET_HASH, '<asset-hash>').replace(VERSION_HASH, '$1<code-hash>'));
}
