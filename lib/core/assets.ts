import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** Where `scripts/bundle.ts` writes the reference handlers; shipped inside the npm package. */
const ASSETS_DIR = join(__dirname, '..', '..', 'assets');

/**
 * The pre-bundled reference handler `lambda/<pattern>/<entry>.ts`, e.g. `rest-api/api`.
 * Synth needs neither esbuild nor Docker: the bundle is built once, before synth or packaging.
 */
export function referenceHandlerCode(assetName: string): lambda.Code {
  const dir = join(ASSETS_DIR, assetName);
  if (!existsSync(join(dir, 'index.mjs'))) {
    throw new Error(`The reference handler bundle ${dir}/index.mjs is missing. In a clone of the repository run \`npx projen bundle\`; the npm package ships it prebuilt.`);
  }
  return lambda.Code.fromAsset(dir);
}
