/**
 * The flags of every jsii compile: `npx projen compile` and watch (.projenrc.ts) and the
 * recompile in scripts/synth-prepare.ts.
 *
 * - reserved-word: names that are reserved in some jsii target language; this library targets
 *   JavaScript only.
 * - metadata/missing-dev-dependency (JSII6) asks for the aws-cdk-lib dev dependency to equal the
 *   peer minimum. The peer minimum is the oldest release users may bring (2.258.0, where cdk-nag 3
 *   starts to work); the library is built and tested on the pinned newer one on purpose.
 */
export const JSII_COMPILE_FLAGS: readonly string[] = [
  '--silence-warnings=reserved-word',
  '--silence-warnings=metadata/missing-dev-dependency',
];
