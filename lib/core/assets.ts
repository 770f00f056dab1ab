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
  return lambda.Code.fromAsset(referenceAssetDirectory(assetName, 'index.mjs'));
}

/** The folder of a pre-built reference asset (a handler bundle or the web application's site); fails when `entryFile` is missing. */
export function referenceAssetDirectory(assetName: string, entryFile: string): string {
  const dir = join(ASSETS_DIR, assetName);
  if (!existsSync(join(dir, entryFile))) {
    throw new Error(`The reference asset ${dir}/${entryFile} is missing. In a clone of the repository run \`npx projen bundle\`; the npm package ships it prebuilt.`);
  }
  return dir;
}
