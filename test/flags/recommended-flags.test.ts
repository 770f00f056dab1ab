/**
 * The construct tests again, under the recommended feature flags of the pinned aws-cdk-lib
 * (cdk.json's context, what a new `cdk init` app has). The files themselves run under the legacy
 * defaults (a bare `new App()`), so every assertion holds for both kinds of app.
 *
 * `App` reads CDK_CONTEXT_JSON when it is created, so setting it before the test files load
 * gives each of their apps the flags.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, FeatureFlags } from 'aws-cdk-lib';

const ROOT = join(__dirname, '..', '..');
const CONSTRUCT_TESTS = [
  'canary', 'efs', 'fan-out', 'periodic-job', 'rds-proxy', 'rest-api', 'stream-processing', 'web-app',
].map((pattern) => `../${pattern}/construct.test`);

const flags = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context as Record<string, unknown>;
process.env.CDK_CONTEXT_JSON = JSON.stringify(flags);

test('the recommended flags are set for the construct tests below', () => {
  const app = new App();
  const flag = '@aws-cdk/aws-iam:minimizePolicies';
  expect(flags[flag]).toBe(true);
  expect(FeatureFlags.of(app).isEnabled(flag)).toBe(true);
});

for (const file of [...CONSTRUCT_TESTS, '../core/operations-contract.test']) {
  describe(`${file} under the recommended flags`, () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- each file must load after CDK_CONTEXT_JSON is set
    require(file);
  });
}
