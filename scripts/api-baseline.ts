/**
 * The public-API baseline: the jsii assembly of the last deliberate API, committed as
 * api-baseline/assembly.jsii, and its comparison with jsii-diff.
 *
 * `npm run api:baseline` compiles lib/ and records its assembly; `npx projen api:check` (part of
 * `npm test`) compares every fresh assembly with the record, so a breaking change fails until it
 * is listed in CHANGELOG.md and recorded.
 *
 * The file is not named `.jsii`: jsii-docgen documents whichever file named `.jsii` under the
 * project it finds last with the library's name and version, which could be the baseline.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { ROOT } from './bundle';

export const API_BASELINE = join(ROOT, 'api-baseline', 'assembly.jsii');

/** The assembly that `npx projen compile` leaves beside package.json. */
export const COMPILED_ASSEMBLY = join(ROOT, '.jsii');

/**
 * For every jsii tool (jsii, jsii-docgen, jsii-diff): Node 20's end-of-life notice is printed
 * once per run, by test/setup/global.ts.
 */
export const JSII_TOOL_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0],
};

/**
 * - error-on=non-experimental: a break in a stable, deprecated or external API fails; in an API
 *   marked `@experimental` it is printed as a warning, which is what that marker tells users.
 *   Everything without a marker is stable: the package's jsii stability is "stable".
 * - No `--keys` or `--ignore-file`: a deliberate break is accepted by recording a new baseline,
 *   not by a list of exceptions that would grow with every release.
 */
export const JSII_DIFF_FLAGS: readonly string[] = ['--error-on=non-experimental'];

export interface ApiComparison {
  /** unreadable: jsii-diff could not load an assembly, so nothing was compared. */
  readonly verdict: 'compatible' | 'breaking' | 'unreadable';
  /** What jsii-diff printed: one line per incompatible change, "err" or "warn". */
  readonly report: string;
}

/** Compares the public APIs of two assembly files with jsii-diff. */
export function compareApi(originalAssembly: string, updatedAssembly: string): ApiComparison {
  const dir = mkdtempSync(join(tmpdir(), 'api-diff-'));
  try {
    // jsii-diff loads the types an API extends and references (Construct, aws-cdk-lib) only for
    // a package: a directory with .jsii and a package.json naming the dependencies, which it
    // resolves from node_modules.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'junction');
    const packages = [originalAssembly, updatedAssembly].map((assembly, i) => asPackage(assembly, join(dir, String(i))));
    const run = spawnSync(join(ROOT, 'node_modules', '.bin', 'jsii-diff'), [...JSII_DIFF_FLAGS, ...packages], {
      cwd: ROOT, encoding: 'utf8', env: JSII_TOOL_ENV,
    });
    const report = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`;
    // jsii-diff exits 1 when it found an error-class change and 100 when it failed to load.
    const verdict = run.status === 0 ? 'compatible' : run.status === 1 ? 'breaking' : 'unreadable';
    return { verdict, report };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function asPackage(assemblyFile: string, dir: string): string {
  const assembly = JSON.parse(readFileSync(assemblyFile, 'utf8')) as { name: string; version: string; dependencies?: Record<string, string> };
  mkdirSync(dir);
  copyFileSync(assemblyFile, join(dir, '.jsii'));
  const manifest = { name: assembly.name, version: assembly.version, jsii: {}, peerDependencies: assembly.dependencies ?? {} };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
  return dir;
}

if (require.main === module) {
  mkdirSync(dirname(API_BASELINE), { recursive: true });
  copyFileSync(COMPILED_ASSEMBLY, API_BASELINE);
  const { name, version } = JSON.parse(readFileSync(API_BASELINE, 'utf8')) as { name: string; version: string };
  console.log(`recorded the public API of ${name}@${version} in ${relative(ROOT, API_BASELINE)}: ` +
    'commit it with the CHANGELOG.md entry of the change');
}
