/**
 * What `cdk synth` runs before the app (`cdk.json` "build"): the handler and site assets, and
 * lib/*.js recompiled if an earlier compile left some.
 *
 * tsx runs the TypeScript sources of lib/, so a fresh clone needs no compile (jsii took 16 s of
 * a 28 s first synth). Once a compile has left lib/*.js beside the sources, tsx would resolve
 * `../lib` to that JavaScript: it is recompiled then, so that an edit to a construct always
 * shows in `cdk synth`. One process instead of a projen task with two steps saves a second of
 * every synth.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleAll, ROOT } from './bundle';
import { JSII_COMPILE_FLAGS } from '../projenrc/jsii-flags';

async function main(): Promise<void> {
  await bundleAll();
  if (existsSync(join(ROOT, 'lib', 'index.js'))) {
    console.log('recompiling lib/*.js left by an earlier compile');
    execFileSync(join(ROOT, 'node_modules', '.bin', 'jsii'), [...JSII_COMPILE_FLAGS], { cwd: ROOT, stdio: 'inherit' });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
