import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addExampleStacks } from '../../examples';

const ROOT = join(__dirname, '..', '..');

/** The context `cdk synth` gives the app: the feature flags in cdk.json. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
}

export interface SynthesizedExamples {
  readonly app: App;
  readonly stacks: Record<string, Stack>;
  /** Path of each example's synthesized template, keyed like `stacks`. */
  readonly templateFiles: Record<string, string>;
}

/**
 * Synthesizes the example app once per test file, as `cdk synth` does: the same context, and
 * aws-cdk-lib's built-in CloudFormation validation on (the jest set-up turns it off for the
 * construct tests), strict, so that any report of it, warnings included, fails the synth.
 */
export function synthExamples(): SynthesizedExamples {
  const saved = process.env.CDK_VALIDATION;
  delete process.env.CDK_VALIDATION;
  try {
    const app = new App({ context: { ...cdkJsonContext(), '@aws-cdk/core:strictCfnValidateErrors': true } });
    const stacks = addExampleStacks(app);
    const assembly = app.synth();
    const templateFiles = Object.fromEntries(Object.entries(stacks).map(([pattern, stack]) =>
      [pattern, join(assembly.directory, stack.templateFile)]));
    return { app, stacks, templateFiles };
  } finally {
    process.env.CDK_VALIDATION = saved;
  }
}

export interface CfnLintRun {
  readonly exitCode: number | null;
  readonly error?: Error;
  /** Output that names no template: a crash, a configuration error. */
  readonly unattributed: string[];
  /** The output lines of one template. */
  findingsOf(templateFile: string): string[];
}

/**
 * One cfn-lint process for every template (its start-up is most of a one-template run), started
 * without waiting so that it checks the templates while the file's other tests run.
 */
export function startCfnLint(templateFiles: readonly string[]): Promise<CfnLintRun> {
  return new Promise((resolve) => {
    // .cfnlintrc.yaml at the repository root lists the ignored CDK-generated checks and why.
    execFile('cfn-lint', ['--format', 'parseable', '--', ...templateFiles], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const lines = `${stdout}${stderr}`.split('\n').filter((line) => line.trim() !== '');
        const exitCode = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({
          findingsOf: (file) => lines.filter((line) => line.startsWith(`${file}:`)),
          exitCode,
          error: error && typeof error.code !== 'number' ? error : undefined,
          unattributed: lines.filter((line) => !templateFiles.some((file) => line.startsWith(`${file}:`))),
        });
      });
  });
}

const ASSET_HASH = /[a-f0-9]{64}/g;
/** `fn.currentVersion` ids end in a hash of the function's code and configuration. */
const VERSION_HASH = /(CurrentVersion[A-F0-9]{8})[a-f0-9]{32}/g;

/** The template with content hashes of assets replaced, so a snapshot changes only when the template does. */
export function normalizedTemplate(stack: Stack): unknown {
  const json = JSON.stringify(Template.fromStack(stack).toJSON());
  return JSON.parse(json.replace(ASSET_HASH, '<asset-hash>').replace(VERSION_HASH, '$1<code-hash>'));
}
