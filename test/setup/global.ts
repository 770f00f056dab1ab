/** Runs once before the whole suite (jest `globalSetup`). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The run's temporary folder, for the global teardown to remove. */
export const RUN_TMPDIR_VARIABLE = 'TEST_RUN_TMPDIR';

export default function globalSetup(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    // Printed once here instead of by every AWS SDK client in every test file.
    console.log(`\nNode ${process.version}: supported for development, but Node 22 or 24 is recommended ` +
      '(AWS SDK releases after January 2027 need Node 22; Lambda runs the handlers on Node 24).');
  }
  // The workers start after this and inherit TMPDIR: every test file's folder (test-environment.ts) is below it.
  const folder = mkdtempSync(join(tmpdir(), 'jest-run-'));
  process.env[RUN_TMPDIR_VARIABLE] = folder;
  process.env.TMPDIR = folder;
}
