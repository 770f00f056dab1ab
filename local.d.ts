// The local runner's programmatic API (local/index.ts); its declarations are emitted when the package is built.
export * from './assets/local-runner/types/local/index';
