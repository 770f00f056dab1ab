/** Runs once after the whole suite (jest `globalTeardown`): removes the run's temporary folder (`global.ts`). */
import { rmSync } from 'node:fs';
import { RUN_TMPDIR_VARIABLE } from './global';

export default function globalTeardown(): void {
  const folder = process.env[RUN_TMPDIR_VARIABLE];
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true, maxRetries: 3 });
}
