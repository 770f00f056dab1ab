/**
 * The local runner's programmatic API, for tests: start a synthesized stack, call its APIs and
 * engines, stop it. `require('cdk-serverless-reference-architectures/local')`.
 */
export { startLocalStack, type LocalApi, type LocalStack, type LocalStackOptions } from './runner';
export { LOCAL_IDENTITY_HEADER } from './triggers/rest-api';
export type { InvokeOutcome } from './functions';
export { MissingEnginePackageError, ENGINE_PACKAGES } from './engines/engine-package';
export { listStacks } from './assembly';
/** The `cdk-serverless-reference-architectures` command (assets/local-runner/cli.cjs runs it). */
export { main as runCommandLine } from './cli';
