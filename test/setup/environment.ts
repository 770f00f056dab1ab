/**
 * Runs in every test file before its imports (jest `setupFiles`).
 *
 * - aws-cdk-lib's built-in CloudFormation validation starts a WASM engine (about 2 s) in every
 *   `Template.fromStack`, and in a test it can only warn. Construct tests skip it; the examples
 *   test turns it back on, strict, for the app that `cdk synth` builds, and cfn-lint checks
 *   every example template anyway.
 * - The AWS SDK warns once per module registry (so once per test file) that Node 20 will not be
 *   supported by releases after January 2027; `test/setup/global.ts` says so once per run.
 */
process.env.CDK_VALIDATION = 'false';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
