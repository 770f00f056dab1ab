/**
 * `npx projen api:check` (part of `npm test`): API.md must be what the public API generates.
 *
 * Compiles lib/ with jsii (the same flags as `npx projen compile`), renders the assembly with
 * jsii-docgen, as the `docgen` task does, and compares the result with the committed API.md.
 * A stale API.md fails with the command that regenerates it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './bundle';
import { JSII_COMPILE_FLAGS } from '../projenrc/jsii-flags';

const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name);

function main(): void {
  // Node 20's end-of-life notice is printed once per run, by test/setup/global.ts.
  execFileSync(bin('jsii'), [...JSII_COMPILE_FLAGS], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0] } });
  const dir = mkdtempSync(join(tmpdir(), 'api-md-'));
  try {
    const generated = join(dir, 'API.md');
    execFileSync(bin('jsii-docgen'), ['-o', generated], { cwd: ROOT, stdio: 'inherit' });
    if (readFileSync(generated, 'utf8') !== readFileSync(join(ROOT, 'API.md'), 'utf8')) {
      console.error('API.md is stale: the public API changed since it was generated. ' +
        'Regenerate it with `npx projen compile && npx projen docgen` and commit it.');
      process.exit(1);
    }
    console.log('API.md matches the public API');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
