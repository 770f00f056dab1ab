import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A built site in the layout WebApplication expects: index.html on top, hashed files under assets/. */
export function siteFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'web-app-site-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>fixture</title><script type="module" src="/assets/app-FIXTURE.js"></script>');
  writeFileSync(join(dir, 'assets', 'app-FIXTURE.js'), 'export {};');
  return dir;
}
