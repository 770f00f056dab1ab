/**
 * The built assets the browser test serves: the API bundle (`assets/rest-api/api/index.mjs`) and
 * the site (`assets/web-app/site`). `npm test` builds both first (`bundle`); run alone, the test
 * builds what is missing, and rebuilds the site when its sources changed since (the build is
 * deterministic, so a fresh build into a temporary folder shows whether the names still match).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWebApp, WEB_SITE_DIR } from '../../scripts/build-web';
import { ASSETS_DIR, bundleHandler, discoverHandlers } from '../../scripts/bundle';

export interface BuiltAssets {
  readonly apiBundle: string;
  readonly siteDir: string;
}

export async function prepareAssets(): Promise<BuiltAssets> {
  const apiBundle = join(ASSETS_DIR, 'rest-api', 'api', 'index.mjs');
  if (!existsSync(apiBundle)) {
    const entry = discoverHandlers().find((h) => h.assetName === 'rest-api/api');
    if (entry === undefined) throw new Error('lambda/rest-api/api.ts is missing');
    await bundleHandler(entry, ASSETS_DIR);
  }

  const scratch = mkdtempSync(join(tmpdir(), 'web-site-'));
  try {
    const fresh = await buildWebApp(scratch);
    const current = existsSync(WEB_SITE_DIR) ? listFiles(WEB_SITE_DIR) : [];
    if (current.join('\n') !== fresh.files.join('\n')) await buildWebApp(WEB_SITE_DIR);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { apiBundle, siteDir: WEB_SITE_DIR };
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]))
    .sort();
}
