import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { normalizedTemplate, synthExamples } from './synth';

const { stacks } = synthExamples();
const examples = Object.entries(stacks);

describe.each(examples)('example stack %s', (_pattern, stack) => {
  test('matches its snapshot (asset hashes normalized)', () => {
    expect(normalizedTemplate(stack)).toMatchSnapshot();
  });

  test.each([
    ['AwsSolutions', () => new AwsSolutionsChecks()],
    ['Serverless', () => new ServerlessChecks()],
  ])('has no unacknowledged %s findings (errors or warnings)', (_pack, makePack) => {
    const report = makePack().validateScope(stack);
    const findings = report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});

function cfnLintAvailable(): boolean {
  return spawnSync('cfn-lint', ['--version'], { stdio: 'ignore' }).status === 0;
}

// In CI a missing cfn-lint is a failure, never a silent skip.
const withCfnLint = cfnLintAvailable() || process.env.CI === 'true' ? describe : describe.skip;

withCfnLint('cfn-lint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfn-lint-'));
  test.each(examples)('%s template has 0 errors and 0 warnings', (pattern, stack) => {
    const file = join(dir, `${pattern}.template.json`);
    writeFileSync(file, JSON.stringify(Template.fromStack(stack).toJSON()));
    // .cfnlintrc.yaml at the repository root lists the ignored CDK-generated checks and why.
    const result = spawnSync('cfn-lint', ['--format', 'parseable', '--', file], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

test('cfn-lint reads the committed configuration', () => {
  const config = execFileSync('cat', [join(__dirname, '..', '..', '.cfnlintrc.yaml')], { encoding: 'utf8' });
  expect(config).toMatch(/W3005/);
});
