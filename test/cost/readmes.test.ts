/**
 * The cost figures of every example stack, recomputed from its synthesized template and the price
 * table, against what the READMEs say: a template or price change that moves a figure fails here
 * until `npm run cost -- --update-readmes` rewrites the generated sections.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { MAIN_PATHS } from '../../scripts/cost/assumptions';
import { payPerUseResources, stackCost, StackCost } from '../../scripts/cost/estimate';
import { loadPrices } from '../../scripts/cost/prices';
import { beginMarker, endMarker, readmePath, staleReadmes, TABLE_BEGIN, UPDATE_COMMAND, wantedReadmes } from '../../scripts/cost/render';
import { ROOT, synthesizeExamples } from '../../scripts/cost/synth';

const prices = loadPrices();
const templates = synthesizeExamples();
const costs: StackCost[] = Object.entries(templates)
  .map(([key, { stackName, template }]) => stackCost(key, stackName, template, prices, MAIN_PATHS[key]));
const payPerUse = Object.fromEntries(Object.entries(templates).map(([key, { template }]) => [key, payPerUseResources(template)]));

describe('cost of the example stacks', () => {
  test.each(costs.map((c) => [c.key, c] as const))('%s has main-path assumptions and finite figures', (_key, cost) => {
    expect(cost.mainPath).toBeDefined();
    expect(Number.isFinite(cost.idleUsd)).toBe(true);
    expect(cost.perMillionUsd).toBeGreaterThan(0);
  });

  test('every generated README section and the top table match the figures', () => {
    const stale = staleReadmes(wantedReadmes(ROOT, costs, prices, payPerUse)).map((file) => relative(ROOT, file));
    if (stale.length > 0) throw new Error(`out of date: ${stale.join(', ')}; run \`${UPDATE_COMMAND}\``);
  });

  test.each(costs.map((c) => [c.key] as const))('the README of %s holds its section once, in its "## Cost" section', (key) => {
    const readme = readFileSync(readmePath(ROOT, key), 'utf8');
    const begin = readme.indexOf(beginMarker(key));
    const heading = readme.search(/\n## Cost\b/);
    expect(heading).toBeGreaterThan(0);
    expect(begin).toBeGreaterThan(heading);
    expect(readme.slice(heading + 1, begin)).not.toMatch(/\n## /);
    expect(readme.indexOf(beginMarker(key), begin + 1)).toBe(-1);
    expect(readme.indexOf(endMarker(key))).toBeGreaterThan(begin);
  });

  test('the top README has one table with a row per example stack', () => {
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
    expect(readme.split(TABLE_BEGIN)).toHaveLength(2);
    for (const cost of costs) expect(readme).toContain(`| \`${cost.stackName}\` |`);
  });

  test('the RDS Proxy example is dearest at idle, from its database, proxy and endpoint', () => {
    const rds = costs.find((c) => c.key === 'rds-proxy')!;
    expect(Math.max(...costs.map((c) => c.idleUsd))).toBe(rds.idleUsd);
    expect(rds.idle.map((l) => l.price)).toEqual(expect.arrayContaining(['aurora.serverlessV2.acuHours', 'rdsProxy.serverless.acuHours', 'vpc.interfaceEndpoint.azHours']));
  });
});
