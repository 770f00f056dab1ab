/**
 * `npx projen api:check` (part of `npm test`): API.md must be what the public API generates, and
 * the public API must keep every promise of the baseline in api-baseline/.
 *
 * Compiles lib/ once with jsii (the same flags as `npx projen compile`), then compares the
 * assembly twice: rendered with jsii-docgen, as the `docgen` task does, with the committed
 * API.md; and with jsii-diff against the baseline (scripts/api-baseline.ts). Each failure says
 * what to do; both comparisons run, so one run reports both.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { API_BASELINE, compareApi, COMPILED_ASSEMBLY, JSII_TOOL_ENV } from './api-baseline';
import { ROOT } from './bundle';
import { JSII_COMPILE_FLAGS } from '../projenrc/jsii-flags';

const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name);
const BASELINE = relative(ROOT, API_BASELINE);

function apiDocsAreCurrent(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'api-md-'));
  try {
    const generated = join(dir, 'API.md');
    execFileSync(bin('jsii-docgen'), ['-o', generated], { cwd: ROOT, stdio: 'inherit', env: JSII_TOOL_ENV });
    if (readFileSync(generated, 'utf8') !== readFileSync(join(ROOT, 'API.md'), 'utf8')) {
      console.error('API.md is stale: the public API changed since it was generated. ' +
        'Regenerate it with `npx projen compile && npx projen docgen` and commit it.');
      return false;
    }
    console.log('API.md matches the public API');
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function apiKeepsBaseline(): boolean {
  if (!existsSync(API_BASELINE)) {
    console.error(`${BASELINE} is missing: record the public API with \`npm run api:baseline\` and commit it.`);
    return false;
  }
  const { verdict, report } = compareApi(API_BASELINE, COMPILED_ASSEMBLY);
  process.stderr.write(report);
  switch (verdict) {
    case 'compatible':
      console.log(`The public API keeps every promise of ${BASELINE} (jsii-diff)`);
      return true;
    case 'breaking':
      console.error(`The public API breaks code written against ${BASELINE}: each "err" line above is a ` +
        'removed or changed type, member or parameter, or an input that became stricter. ' +
        'If it is a mistake, restore the API in lib/. If it is deliberate, list it under "Breaking changes" ' +
        'of the unreleased version in CHANGELOG.md (from 1.0.0 on it also needs the next major version), ' +
        `then run \`npm run api:baseline\` and commit ${BASELINE} with the change.`);
      return false;
    case 'unreadable':
      console.error(`jsii-diff could not compare the public API with ${BASELINE} (its error is above): ` +
        `run \`npm ci\` if a dependency is missing, or restore a damaged ${BASELINE} from git.`);
      return false;
  }
}

function main(): void {
  execFileSync(bin('jsii'), [...JSII_COMPILE_FLAGS], { cwd: ROOT, stdio: 'inherit', env: JSII_TOOL_ENV });
  const docsAreCurrent = apiDocsAreCurrent();
  const keepsBaseline = apiKeepsBaseline();
  if (!docsAreCurrent || !keepsBaseline) process.exit(1);
}

main();
