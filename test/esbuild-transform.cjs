/**
 * Jest transform: TypeScript to CommonJS with esbuild, one file at a time.
 *
 * ts-jest type-checked every file in every worker and took most of a test file's start-up.
 * Types are checked once per `npm test` instead (`tsc -p tsconfig.dev.json` in the
 * `test:types` step), so this transform only strips them. The test tsconfig sets
 * `isolatedModules`, which makes single-file transpiling safe. No test uses `jest.mock`
 * hoisting, which esbuild (unlike babel-jest) would not do.
 */
'use strict';
const { createHash } = require('node:crypto');
const { transformSync, version } = require('esbuild');

/** @type {import('@jest/transform').SyncTransformer} */
module.exports = {
  canInstrument: false,
  getCacheKey(sourceText, sourcePath, options) {
    return createHash('sha256')
      .update(`esbuild ${version}\0node ${process.version}\0`)
      .update(sourcePath).update('\0')
      .update(options.configString).update('\0')
      .update(sourceText)
      .digest('hex');
  },
  process(sourceText, sourcePath) {
    const { code, map } = transformSync(sourceText, {
      loader: sourcePath.endsWith('x') ? 'tsx' : 'ts',
      format: 'cjs',
      // jest runs on the local Node (20 on CI); the handlers themselves are bundled for node24.
      target: `node${process.versions.node.split('.')[0]}`,
      platform: 'node',
      sourcefile: sourcePath,
      sourcemap: 'external',
      sourcesContent: false,
    });
    return { code, map };
  },
};
