import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { normalizedTemplate, startCfnLint, synthExamples } from './synth';

const { stacks, templateFiles } = synthExamples();
const examples = Object.entries(stacks);

describe.each(examples)('example stack %s', (_pattern, stack) => {
  test('matches its snapshot (asset hashes normalized)', () => {
    expect(normalizedTemplate(stack)).toMatchSnapshot();
  });

  test.each([
    ['AwsSolutions', () => new AwsSolutionsChecks()],
    ['Serverless', () => new ServerlessChecks()],
    // The stricter packs teams in regulated accounts run in CI.
    ['NIST.800.53.R5', () => new NIST80053R5Checks()],
    ['HIPAA.Security', () => new HIPAASecurityChecks()],
    ['PCI.DSS.321', () => new PCIDSS321Checks()],
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
  // Started here, awaited by the tests: it runs while the snapshot and nag tests above do.
  const lint = startCfnLint(Object.values(templateFiles));

  test('runs, and reports nothing outside the templates', async () => {
    const run = await lint;
    expect(run.error).toBeUndefined();
    expect(run.unattributed).toEqual([]);
  });

  test.each(examples)('%s template has 0 errors and 0 warnings', async (pattern) => {
    const run = await lint;
    expect(run.findingsOf(templateFiles[pattern])).toEqual([]);
  });

  test('exits 0 over all templates', async () => {
    expect((await lint).exitCode).toBe(0);
  });
});

test('cfn-lint reads the committed configuration', () => {
  expect(readFileSync(join(__dirname, '..', '..', '.cfnlintrc.yaml'), 'utf8')).toMatch(/W3005/);
});
