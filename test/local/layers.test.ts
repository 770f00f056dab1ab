/**
 * Lambda layers through the runner (Lambda developer guide, "Working with layers"): a function's
 * layers are its `/opt`, extracted in order with a later layer's files over an earlier one's;
 * `require` (Lambda's `NODE_PATH`) and an ES module's `import` find a layer's
 * `nodejs/node_modules`; `/opt` paths in its environment point at the merged folder; a layer that
 * is not an asset of the stack is said at start-up.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CfnElement, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { useLocalStack } from '../helpers/local-runner';

const layersRoot = mkdtempSync(join(tmpdir(), 'local-layers-'));
afterAll(() => rmSync(layersRoot, { recursive: true, force: true }));

/** A layer's folder from its files (path → content). */
function layerFolder(name: string, files: Record<string, string>): string {
  const root = join(layersRoot, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const SHARED = layerFolder('shared', {
  'nodejs/node_modules/greeting/index.js': "module.exports = 'hello from the shared layer';",
  'nodejs/node_modules/only-shared/index.js': "module.exports = 'only in the shared layer';",
  'config/settings.json': '{"layer":"shared"}',
});
const OVERRIDE = layerFolder('override', {
  'nodejs/node_modules/greeting/index.js': "module.exports = 'hello from the override layer';",
  'config/settings.json': '{"layer":"override"}',
});
const VERSIONED = layerFolder('versioned', {
  'nodejs/node22/node_modules/greeting/index.js': "module.exports = 'hello for Node.js 22 only';",
});

/** Answers what `require` and the `/opt` files give it. */
const REPORTER = `
const { readFileSync } = require('node:fs');
const attempt = (load) => { try { return load(); } catch (error) { return error.code; } };
exports.handler = async () => ({
  greeting: attempt(() => require('greeting')),
  onlyShared: attempt(() => require('only-shared')),
  settings: attempt(() => JSON.parse(readFileSync(process.env.SETTINGS, 'utf8')).layer),
});`;

/** The same, as an ES module. */
const ES_MODULE_REPORTER = layerFolder('es-module-code', {
  'index.mjs': `
const attempt = async (load) => { try { return (await load()).default; } catch (error) { return error.code; } };
export const handler = async () => ({ greeting: await attempt(() => import('greeting')), onlyShared: await attempt(() => import('only-shared')) });`,
});

const ids: Record<string, string> = {};

describe('layers, run locally', () => {
  const running = useLocalStack((app) => {
    const stack = new Stack(app, 'Layers');
    const shared = new lambda.LayerVersion(stack, 'Shared', { code: lambda.Code.fromAsset(SHARED) });
    const override = new lambda.LayerVersion(stack, 'Override', { code: lambda.Code.fromAsset(OVERRIDE) });
    const versioned = new lambda.LayerVersion(stack, 'Versioned', { code: lambda.Code.fromAsset(VERSIONED) });
    const published = lambda.LayerVersion.fromLayerVersionArn(stack, 'Published', 'arn:aws:lambda:eu-west-1:123456789012:layer:published:3');
    const reporter = (id: string, layers: lambda.ILayerVersion[], runtime = lambda.Runtime.NODEJS_22_X) => {
      const fn = new lambda.Function(stack, id, {
        runtime, handler: 'index.handler', code: lambda.Code.fromInline(REPORTER), layers, environment: { SETTINGS: '/opt/config/settings.json' },
      });
      const resource = fn.node.defaultChild as lambda.CfnFunction;
      // CDK sorts a function's layers (@aws-cdk/aws-lambda:recognizeLayerVersion); Lambda takes the template's order, so set it.
      if (layers.length > 1) resource.addPropertyOverride('Layers', layers.map((layer) => layer.layerVersionArn));
      ids[id] = stack.getLogicalId(resource as CfnElement);
    };
    reporter('SharedOnly', [shared]);
    reporter('SharedThenOverride', [shared, override]);
    reporter('OverrideThenShared', [override, shared]);
    reporter('Node22', [shared, versioned]);
    reporter('Node20', [shared, versioned], lambda.Runtime.NODEJS_20_X);
    reporter('NoLayers', []);
    const esModule = new lambda.Function(stack, 'EsModule', {
      runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromAsset(ES_MODULE_REPORTER), layers: [versioned, shared],
    });
    ids.EsModule = stack.getLogicalId(esModule.node.defaultChild as CfnElement);
    const esModuleWithout = new lambda.Function(stack, 'EsModuleWithoutLayers', {
      runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromAsset(ES_MODULE_REPORTER),
    });
    ids.EsModuleWithoutLayers = stack.getLogicalId(esModuleWithout.node.defaultChild as CfnElement);
    reporter('WithPublished', [published, shared]);
    return stack;
  });

  const report = async (id: string) => {
    const outcome = await running.local.invoke(ids[id]!, {});
    expect(outcome.ok).toBe(true);
    return outcome.ok ? outcome.payload : undefined;
  };

  test('one layer: require finds its modules, and /opt in the environment is its folder', async () => {
    expect(await report('SharedOnly')).toEqual({ greeting: 'hello from the shared layer', onlyShared: 'only in the shared layer', settings: 'shared' });
  });

  test('several layers: a later layer\'s files win, an earlier one\'s other files stay', async () => {
    expect(await report('SharedThenOverride')).toEqual({ greeting: 'hello from the override layer', onlyShared: 'only in the shared layer', settings: 'override' });
    expect(await report('OverrideThenShared')).toEqual({ greeting: 'hello from the shared layer', onlyShared: 'only in the shared layer', settings: 'shared' });
  });

  test('nodejs/node<major>/node_modules comes before nodejs/node_modules, for its runtime only', async () => {
    expect(await report('Node22')).toMatchObject({ greeting: 'hello for Node.js 22 only' });
    expect(await report('Node20')).toMatchObject({ greeting: 'hello from the shared layer' });
  });

  test('an ES module imports a layer\'s packages by name too, in the same order', async () => {
    expect(await report('EsModule')).toEqual({ greeting: 'hello for Node.js 22 only', onlyShared: 'only in the shared layer' });
    expect(await report('EsModuleWithoutLayers')).toEqual({ greeting: 'ERR_MODULE_NOT_FOUND', onlyShared: 'ERR_MODULE_NOT_FOUND' });
  });

  test('without layers nothing is found, not even this machine\'s', async () => {
    expect(await report('NoLayers')).toEqual({ greeting: 'MODULE_NOT_FOUND', onlyShared: 'MODULE_NOT_FOUND', settings: 'ENOENT' });
  });

  test('a layer that is not in the stack is said at start-up; the function runs with the others', async () => {
    expect(running.local.notEmulated).toContainEqual(expect.stringMatching(
      /WithPublished.*: layer arn:aws:lambda:eu-west-1:123456789012:layer:published:3 is not an asset of this stack, so its files are not in \/opt/,
    ));
    expect(await report('WithPublished')).toMatchObject({ greeting: 'hello from the shared layer', settings: 'shared' });
  });
});
