/**
 * One synth, timed inside a fresh process by scripts/bench.ts.
 * `app`: every example stack as shipped (handlers from assets/, no esbuild at synth).
 * `prebundled`: the RestApiExample stack as shipped.
 * `nodejs-function`: the same RestApiExample stack with its handler built by NodejsFunction,
 * which runs esbuild during synth - the common alternative this library avoids.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { ESM_REQUIRE_BANNER, ROOT } from './bundle';
import { addExampleStacks } from '../examples';
import { RestApiExampleStack } from '../examples/rest-api';
import { AlarmTopic, RestfulMicroservice } from '../lib';

const mode = process.argv[2];
const outdir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
const started = process.hrtime.bigint();
const app = new App({ outdir });
if (mode === 'app') {
  addExampleStacks(app);
} else if (mode === 'prebundled') {
  new RestApiExampleStack(app, 'RestApiExample');
} else if (mode === 'nodejs-function') {
  const stack = new Stack(app, 'RestApiExample');
  const alarms = new AlarmTopic(stack, 'Alarms');
  const handler = new nodejs.NodejsFunction(stack, 'Handler', {
    entry: join(ROOT, 'lambda', 'rest-api', 'api.ts'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    bundling: {
      format: nodejs.OutputFormat.ESM,
      minify: true,
      target: 'node24',
      banner: ESM_REQUIRE_BANNER,
      externalModules: [],
    },
  });
  new RestfulMicroservice(stack, 'Items', { existingFunction: handler, alarmTopic: alarms.topic, dashboard: true });
} else {
  throw new Error(`usage: bench-synth.ts app|prebundled|nodejs-function, got ${mode}`);
}
app.synth();
const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
rmSync(outdir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ elapsedMs }));
