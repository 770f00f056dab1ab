// The local runner's programmatic API (local/index.ts), bundled by `npm run bundle`.
module.exports = require('./assets/local-runner/index.cjs');
