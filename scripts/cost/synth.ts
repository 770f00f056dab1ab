/**
 * Synthesizes every example stack of `addExampleStacks` (no AWS account) and returns each
 * template, keyed like `addExampleStacks`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { CfnTemplate } from './template';
import { addExampleStacks } from '../../examples';

export const ROOT = join(__dirname, '..', '..');

export interface ExampleTemplate {
  readonly stackName: string;
  readonly template: CfnTemplate;
}

/**
 * The examples as `cdk synth` builds them (the cdk.json context). aws-cdk-lib's own template
 * validation is switched off (`CDK_VALIDATION=false`): it checks nothing that cost depends on and
 * takes most of the synth time; cfn-lint and the examples test keep it. The cloud assembly goes
 * to a temporary directory, removed once the templates are read.
 */
export function synthesizeExamples(): Record<string, ExampleTemplate> {
  const saved = process.env.CDK_VALIDATION;
  process.env.CDK_VALIDATION = 'false';
  const outdir = mkdtempSync(join(tmpdir(), 'cost-'));
  try {
    const context = (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
    const app = new App({ context, outdir });
    const stacks = addExampleStacks(app);
    const assembly = app.synth();
    return Object.fromEntries(Object.entries(stacks).map(([key, stack]) => [key, {
      stackName: stack.stackName,
      template: JSON.parse(readFileSync(join(assembly.directory, stack.templateFile), 'utf8')) as CfnTemplate,
    }]));
  } finally {
    if (saved === undefined) delete process.env.CDK_VALIDATION; else process.env.CDK_VALIDATION = saved;
    rmSync(outdir, { recursive: true, force: true });
  }
}
