/** The engine packages the runner asks users to install are the versions this repository tests with. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_PACKAGES, MissingEnginePackageError, requireEngine } from '../../local/engines/engine-package';

const devDependencies = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;

test.each(Object.entries(ENGINE_PACKAGES))('%s is pinned at the version package.json installs', (name, { version }) => {
  expect(devDependencies[name]).toBe(version);
});

test('a missing engine package is an error that says what to install', () => {
  jest.isolateModules(() => {
    jest.doMock('dynalite', () => {
      const error = new Error("Cannot find module 'dynalite'") as Error & { code: string };
      error.code = 'MODULE_NOT_FOUND';
      throw error;
    });
    expect(() => requireEngine('dynalite')).toThrow(MissingEnginePackageError);
    expect(() => requireEngine('dynalite')).toThrow('npm install --save-dev dynalite@4.0.0');
  });
});
