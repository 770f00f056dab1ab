/**
 * The engines the runner starts are npm packages a project installs only to run locally, so the
 * library does not depend on them: each is loaded when a stack first needs it, and a missing one
 * is a clear error naming the exact version to install (the version this library is tested with;
 * test/local/engine-package.test.ts keeps these in step with package.json).
 */

export const ENGINE_PACKAGES = {
  'dynalite': { version: '4.0.0', for: 'DynamoDB tables' },
  'kinesalite': { version: '3.3.3', for: 'Kinesis streams' },
  '@electric-sql/pglite': { version: '0.5.14', for: 'PostgreSQL databases' },
  '@electric-sql/pglite-socket': { version: '0.2.17', for: 'PostgreSQL databases' },
  'aws-local-stepfunctions': { version: '3.0.0', for: 'Step Functions state machines' },
} as const;

export type EnginePackage = keyof typeof ENGINE_PACKAGES;

export class MissingEnginePackageError extends Error {
  constructor(public readonly packageName: EnginePackage) {
    const { version, for: purpose } = ENGINE_PACKAGES[packageName];
    super(`the local runner needs ${packageName} for ${purpose}: npm install --save-dev ${packageName}@${version}`);
    this.name = 'MissingEnginePackageError';
  }
}

/** Loads an engine package, or throws `MissingEnginePackageError` when the project has not installed it. */
export function requireEngine<T>(packageName: EnginePackage): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(packageName) as T;
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(packageName)) {
      throw new MissingEnginePackageError(packageName);
    }
    throw error;
  }
}
