import { awscdk, javascript, JsonFile, typescript } from 'projen';
import { JSII_COMPILE_FLAGS } from './projenrc/jsii-flags';

/**
 * The library is a jsii construct library whose handlers are pre-bundled by
 * `scripts/bundle.ts` into `assets/`. Everything below is the single source
 * of package.json, tsconfig*, jest and eslint configuration.
 */
const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-serverless-reference-architectures',
  description:
    'AWS CDK L3 constructs for serverless reference architectures, with tested handler code, alarms and secure defaults.',
  author: 'Serverless Reference Architectures contributors',
  authorAddress: 'maintainers@serverless-reference-architectures.invalid',
  repositoryUrl: 'https://github.com/serverless-reference-architectures/cdk-serverless-reference-architectures.git',
  license: 'Apache-2.0',
  keywords: ['aws-cdk', 'cdk', 'serverless', 'lambda', 'api-gateway', 'dynamodb', 'reference-architecture'],
  defaultReleaseBranch: 'main',
  // Written out, not left to projen's default: api:check fails on any break of a stable API.
  stability: 'stable',
  projenrcTs: true,
  // tsx runs .projenrc.ts and the scripts alike: no ts-node in the dependency tree.
  projenrcTsOptions: { runner: typescript.TypeScriptRunner.tsx() },
  packageManager: javascript.NodePackageManager.NPM,

  // The peer minimum is 2.258.0: below it cdk-nag 3 silently checks nothing.
  cdkVersion: '2.258.0',
  peerDependencyOptions: { pinnedDevDependency: false },
  constructsVersion: '10.8.1',
  jsiiVersion: '6.0.16',
  typescriptVersion: '6.0.3',
  minNodeVersion: '20.0.0',

  srcdir: 'lib',
  libdir: 'lib',
  testdir: 'test',
  sampleCode: false,
  lambdaAutoDiscover: false,
  edgeLambdaAutoDiscover: false,
  lambdaExtensionAutoDiscover: false,
  integrationTestAutoDiscover: false,

  // CI is `.ci/run`; no GitHub workflows, no release pipeline in this repository.
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  docgen: true,

  jestOptions: {
    passWithNoTests: false,
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      // jsii compiles lib/ in place: prefer the TypeScript sources over stale .js beside them.
      moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'node'],
      testPathIgnorePatterns: ['/node_modules/', '/cdk.out/', '/assets/'],
      modulePathIgnorePatterns: ['<rootDir>/cdk.out/', '<rootDir>/assets/'],
      testTimeout: 120_000,
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
      // Coverage instruments every file and roughly doubles the suite's time: `npm run test:coverage`.
      collectCoverage: false,
      // jest's default is cores - 1, which is one worker on a 2-core machine.
      maxWorkers: '100%',
      setupFiles: ['<rootDir>/test/setup/environment.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/setup/deadline-timers.ts'],
      testEnvironment: '<rootDir>/test/setup/test-environment.ts',
      globalSetup: '<rootDir>/test/setup/global.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  },

  eslintOptions: {
    dirs: ['lib'],
    devdirs: ['test', 'lambda', 'local', 'examples', 'bin', 'scripts', 'web'],
    commandOptions: { fix: false },
    ignorePatterns: ['assets/', 'cdk.out/', '*.js', '*.d.ts', 'node_modules/', '!.projenrc.ts'],
  },

  devDeps: [
    'aws-cdk-lib@2.276.0',
    'aws-cdk@2.1148.1',
    'cdk-nag@3.0.2',
    'esbuild@0.28.2',
    'tsx@4.23.15',
    '@types/node@24.19.2',
    '@types/aws-lambda@8.10.164',
    // handler runtime dependencies: bundled into assets/, never installed by users
    // Powertools packages share one @aws-lambda-powertools/commons version: keep them aligned.
    '@aws-lambda-powertools/logger@2.35.0',
    '@aws-lambda-powertools/batch@2.35.0',
    '@aws-lambda-powertools/metrics@2.35.0',
    '@aws-sdk/client-dynamodb@3.1169.0',
    '@aws-sdk/lib-dynamodb@3.1169.0',
    '@aws-sdk/client-sqs@3.1169.0',
    '@aws-sdk/client-sns@3.1169.0',
    '@aws-sdk/client-secrets-manager@3.1164.0',
    '@aws-sdk/client-codedeploy@3.1133.0',
    '@aws-sdk/client-lambda@3.1164.0',
    '@aws-sdk/client-cloudwatch@3.1164.0',
    '@aws-sdk/client-eventbridge@3.1169.0',
    '@aws-sdk/client-sfn@3.1164.0',
    '@aws-sdk/rds-signer@3.1169.0',
    'pg@8.23.1',
    '@types/pg@8.23.1',
    '@smithy/node-http-handler@4.14.2',
    'ajv@8.20.0',
    'zod@4.6.7',
    // test engines and tools
    'dynalite@4.0.0',
    'kinesalite@3.3.3',
    '@aws-sdk/client-kinesis@3.1143.0',
    'fast-check@4.10.2',
    '@electric-sql/pglite@0.5.14',
    '@electric-sql/pglite-socket@0.2.17',
    'aws-sdk-client-mock@4.1.0',
    // state machines: the synthesized ASL runs in Node, and is validated against the ASL spec
    'aws-local-stepfunctions@3.0.0',
    'asl-validator@3.16.0',
    // web application: the SPA's sign-in library (bundled into the site), and its browser test:
    // playwright-core drives the Chromium that @sparticuz/chromium ships inside its npm package
    // (nothing downloaded at install), oidc-provider stands in for Cognito.
    'oidc-client-ts@3.5.0',
    'playwright-core@1.65.1',
    '@sparticuz/chromium@153.0.0',
    'oidc-provider@9.13.3',
    'jose@6.2.18',
    'jsii-docgen@10.12.6',
  ],

  gitignore: ['/assets/', '/cdk.out/', '/.bench/', '*.tsbuildinfo'],
  npmignoreEnabled: true,
});

// projen drops this from devDeps when it computes the peer set; re-add it explicitly.
project.addDevDeps('constructs@10.8.1');
// The project adds its own tools (jest, eslint and its plugins, jsii-*, projen) with
// a range after it applies the devDeps option, which turned their pins there into ranges: pin
// them after construction instead.
project.addDevDeps(
  'jsii-diff@1.134.0', 'jsii-pacmak@1.140.0', 'projen@0.103.25',
  'jest@30.5.2', 'jest-environment-node@30.5.2', '@types/jest@30.0.0', 'jest-junit@17.0.0',
  'eslint@9.39.5', '@typescript-eslint/eslint-plugin@8.73.0', '@typescript-eslint/parser@8.73.0', '@stylistic/eslint-plugin@2.13.0',
  'eslint-import-resolver-typescript@4.4.5', 'eslint-plugin-import@2.32.0',
);

// The candidate of the v1 API, whose jsii stability is "stable" (CHANGELOG.md). projen writes
// 0.0.0 unless told otherwise: this repository has no release workflow to bump it from git tags.
project.package.addVersion('1.0.0-rc.0');

// npm 11 lists every install script not named here, and does not run it. None of the four is
// needed: esbuild finds its binary in its platform package, the LevelDB bindings of dynalite
// (classic-level) and kinesalite (leveldown) load the prebuilt binaries they ship, and jest's
// file watcher (watch mode only) has a prebuilt platform package too. Allowed, they rebuild with
// node-gyp and cost 18 s of every `npm ci` (measured on a clean clone: 48 s instead of 30 s).
project.package.addField('allowScripts', { '@parcel/watcher': false, 'classic-level': false, 'esbuild': false, 'leveldown': false });

// Tests are transpiled by esbuild, one file at a time (test/esbuild-transform.cjs), and
// type-checked once per run by `test:types`; ts-jest type-checked every file in every worker.
project.jest!.config.transform = { '^.+\\.tsx?$': '<rootDir>/test/esbuild-transform.cjs' };
project.deps.removeDependency('ts-jest');
project.addTask('api:check', {
  description: 'Fail when API.md is stale or the public API breaks api-baseline/assembly.jsii (scripts/check-api.ts)',
  exec: 'tsx scripts/check-api.ts',
});
// After a deliberate API change, recorded in CHANGELOG.md: api:check compares with this record.
project.addTask('api:baseline', {
  description: 'Record the public API of lib/ in api-baseline/assembly.jsii, which api:check compares with (scripts/api-baseline.ts)',
  steps: [{ spawn: project.compileTask.name }, { exec: 'tsx scripts/api-baseline.ts' }],
});
project.addTask('test:types', {
  description: 'Type-check every folder: lib, lambda, local, test, examples, bin, scripts, projenrc (tsconfig.dev.json), and web',
  steps: [{ exec: 'tsc -p tsconfig.dev.json' }, { exec: 'tsc -p web/tsconfig.json' }],
});
project.addTask('test:coverage', {
  description: 'The jest suite with coverage (not part of `npm test`: it roughly doubles the time)',
  exec: 'jest --ci --coverage',
  receiveArgs: true,
});

// The ESLint project service needs a tsconfig in every linted folder.
for (const dir of ['lambda', 'local', 'examples', 'bin', 'scripts']) {
  new javascript.TypescriptConfig(project, {
    fileName: `${dir}/tsconfig.json`,
    extends: javascript.TypescriptConfigExtends.fromPaths(['../tsconfig.json']),
    compilerOptions: { noEmit: true, rootDir: '..' },
    include: ['**/*.ts'],
    exclude: ['node_modules'],
  });
}
// One program for every Node.js folder: ESLint's typed rules and the `test:types` check build it
// once instead of once per folder (ESLint 0.7x of its time with a project service per folder).
// isolatedModules: tests, handlers and scripts are transpiled one file at a time by esbuild/tsx.
new javascript.TypescriptConfig(project, {
  fileName: 'tsconfig.dev.json',
  extends: javascript.TypescriptConfigExtends.fromPaths(['./tsconfig.json']),
  compilerOptions: { noEmit: true, rootDir: '.', isolatedModules: true },
  include: ['lib/**/*.ts', 'test/**/*.ts', 'lambda/**/*.ts', 'local/**/*.ts', 'examples/**/*.ts', 'bin/**/*.ts', 'scripts/**/*.ts', 'projenrc/**/*.ts', '.projenrc.ts'],
  exclude: ['node_modules', 'lib/**/*.d.ts'],
});
const eslintrc = project.tryFindObjectFile('.eslintrc.json')!;
eslintrc.addDeletionOverride('parserOptions.projectService');
eslintrc.addOverride('parserOptions.project', ['./tsconfig.dev.json', './web/tsconfig.json']);

// The single-page application runs in browsers: DOM types, no Node types.
new javascript.TypescriptConfig(project, {
  fileName: 'web/tsconfig.json',
  extends: javascript.TypescriptConfigExtends.fromPaths(['../tsconfig.json']),
  compilerOptions: { noEmit: true, rootDir: '..', lib: ['es2022', 'dom', 'dom.iterable'], types: [] },
  include: ['**/*.ts'],
  exclude: ['node_modules'],
});

// Published package: compiled lib (.js + .d.ts), .jsii, API.md, the pre-built handler assets and
// the bundled local runner (assets/local-runner, with local.js pointing at its API).
for (const pattern of ['/lib/**/*.ts', '!/lib/**/*.d.ts', '/api-baseline/', '/bin/', '/examples/', '/lambda/', '/local/', '/scripts/', '/web/', 'cdk.json', 'cdk.out/', '/.ci/', '/.bench/']) {
  project.addPackageIgnore(pattern);
}

// `npx cdk-serverless-reference-architectures local <Stack>`: the local runner (local/cli.ts).
project.addBins({ 'cdk-serverless-reference-architectures': 'assets/local-runner/cli.cjs' });
// local.d.ts points at the runner's declarations, emitted into the package before it is packed.
project.tasks.tryFind('package:js')?.prependExec('tsc -p local/tsconfig.types.json');
// The same command from the sources in this repository: `npm run local -- RestApiExample` after `npx cdk synth`.
project.addTask('local', {
  description: 'Run a synthesized example stack locally: npm run local -- <Stack> [options] (local/cli.ts)',
  exec: 'tsx local/command.ts local',
  receiveArgs: true,
});

const JSII_COMPILE = ['jsii', ...JSII_COMPILE_FLAGS].join(' ');
project.compileTask.reset(JSII_COMPILE);
project.tasks.tryFind('watch')?.reset(['jsii', '-w', ...JSII_COMPILE_FLAGS].join(' '));

const bundle = project.addTask('bundle', {
  description: 'Bundle every lambda/<pattern>/<entry>.ts into assets/<pattern>/<entry>/index.mjs',
  exec: 'tsx scripts/bundle.ts',
});
project.preCompileTask.spawn(bundle);

// `cdk synth` runs this before the app (cdk.json "build"): scripts/synth-prepare.ts says why
// it compiles only where a compile left lib/*.js.
const synthPrepare = project.addTask('synth:prepare', {
  description: 'Build everything `cdk synth` needs: the assets, and lib/*.js where a compile left some',
  exec: 'tsx scripts/synth-prepare.ts',
});

// `npm test`: the bundles (handler tests import the sources, bundle and construct tests the built
// assets), the static checks side by side (scripts/checks.ts), then jest.
const checks = project.addTask('checks', {
  description: 'test:types, eslint and api:check side by side (scripts/checks.ts)',
  exec: 'tsx scripts/checks.ts',
});
project.testTask.reset();
project.testTask.spawn(bundle);
project.testTask.spawn(checks);
project.testTask.exec('jest --ci', { receiveArgs: true });

// The synth benchmark imports ../lib: it needs the same fresh build as `cdk synth`.
project.addTask('bench', {
  description: 'Bundle size, cold-import time and synth time, each against a baseline in the same run',
  exec: 'tsx scripts/bench.ts',
}).prependSpawn(synthPrepare);

// `npm run cost`: idle and per-million cost of every example stack, from its synthesized template
// and scripts/cost/prices.json; `-- --breakdown`, `-- --update-readmes`, `-- --check` (scripts/cost.ts).
// It imports ../lib like the synth benchmark: the same fresh build first.
project.addTask('cost', {
  description: 'Idle and per-million-request cost of every example stack, computed from its template and the price table',
  exec: 'tsx scripts/cost.ts',
  receiveArgs: true,
}).prependSpawn(synthPrepare);

project.addTask('feedback', {
  description: 'Time `npm ci`, `npx cdk synth` and `npm test` on clean clones of HEAD, against their targets',
  exec: 'tsx scripts/feedback.ts',
  receiveArgs: true,
});

project.addTask('synth:examples', {
  description: 'Synthesize every example stack with cdk-nag on the app',
  exec: 'cdk synth --quiet',
});

new JsonFile(project, 'cdk.json', {
  obj: {
    // `node --import tsx` rather than `npx tsx`: npx spends most of a second finding tsx, twice per synth.
    app: 'node --import tsx bin/app.ts',
    // The CDK CLI runs this before the app: a fresh clone synthesizes with no manual step.
    build: 'node --import tsx scripts/synth-prepare.ts',
    output: 'cdk.out',
    watch: { include: ['bin/**', 'examples/**', 'lib/**', 'lambda/**'] },
    // The recommended feature flags of the pinned aws-cdk-lib, as `cdk init` writes them: the
    // example stacks are what a new app gets. The examples test synthesizes with this context too.
    context: recommendedFeatureFlags(),
  },
});

function recommendedFeatureFlags(): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('aws-cdk-lib/recommended-feature-flags.json') as Record<string, unknown>;
}

project.synth();
