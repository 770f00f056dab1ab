/**
 * jest's Node.js environment, with a temporary folder of its own for each test file: `os.tmpdir()`
 * answers it while the file runs, and it is removed when the file ends. Without this a full run
 * left thousands of folders in /tmp, gigabytes of them: each `new App()` without an `outdir`
 * synthesizes into a fresh `cdk.outXXXXXX` that aws-cdk-lib never removes, and fixtures make
 * folders too. The file folders are below the run's folder (`global.ts`), which the global
 * teardown removes with whatever a file could not remove (something of it still writing).
 *
 * An environment, not a setup file: a setup file sees the test's copy of `process.env`, while
 * `os.tmpdir()` reads the worker's own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import NodeEnvironment from 'jest-environment-node';

type EnvironmentArguments = ConstructorParameters<typeof NodeEnvironment>;

export default class TestFileEnvironment extends NodeEnvironment {
  private readonly folder: string;
  private readonly runTmpdir: string | undefined;

  constructor(config: EnvironmentArguments[0], context: EnvironmentArguments[1]) {
    // Before the base class copies process.env into the test's `process`, so both agree.
    const runTmpdir = process.env.TMPDIR;
    const folder = mkdtempSync(join(tmpdir(), 'file-'));
    process.env.TMPDIR = folder;
    super(config, context);
    this.folder = folder;
    this.runTmpdir = runTmpdir;
  }

  public async teardown(): Promise<void> {
    await super.teardown();
    if (this.runTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = this.runTmpdir;
    try {
      rmSync(this.folder, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Something of the file still writes there: the global teardown removes it with the run's folder.
    }
  }
}
