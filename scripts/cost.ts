/**
 * `npm run cost`: what each example stack costs, computed from its synthesized template and the
 * price table (scripts/cost/prices.json).
 *
 *   npm run cost                          one line per example stack: idle a month, and per million on the main path
 *   npm run cost -- --breakdown           plus the resources, settings and assumptions behind each figure
 *   npm run cost -- --breakdown rest-api  the same for some stacks (keys of addExampleStacks)
 *   npm run cost -- --update-readmes      rewrite the generated Cost sections of lib/<pattern>/README.md and the top README's table
 *   npm run cost -- --check               exit 1 when a README's generated part differs from the figures
 *
 * No AWS account is needed. Assumptions: scripts/cost/assumptions.ts.
 */
import { relative } from 'node:path';
import { MAIN_PATHS } from './cost/assumptions';
import { payPerUseResources, stackCost, StackCost } from './cost/estimate';
import { loadPrices } from './cost/prices';
import { breakdown, staleReadmes, summaryLine, UPDATE_COMMAND, wantedReadmes, writeReadmes } from './cost/render';
import { ROOT, synthesizeExamples } from './cost/synth';

function main(): void {
  const args = process.argv.slice(2);
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const unknown = [...flags].filter((f) => !['--breakdown', '--update-readmes', '--check'].includes(f));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(', ')}; see the header of scripts/cost.ts`);
  const only = args.filter((a) => !a.startsWith('--'));

  const prices = loadPrices();
  const templates = synthesizeExamples();
  const missing = only.filter((key) => !(key in templates));
  if (missing.length > 0) throw new Error(`no example stack ${missing.join(', ')}; known: ${Object.keys(templates).join(', ')}`);

  const costs: StackCost[] = [];
  const payPerUse: Record<string, string[]> = {};
  for (const [key, { stackName, template }] of Object.entries(templates)) {
    costs.push(stackCost(key, stackName, template, prices, MAIN_PATHS[key]));
    payPerUse[key] = payPerUseResources(template);
  }

  const shown = only.length > 0 ? costs.filter((c) => only.includes(c.key)) : costs;
  console.log(`${prices.region}, ${prices.currency}, on-demand list prices, no free tier subtracted (scripts/cost/prices.json)`);
  for (const cost of shown) console.log(summaryLine(cost));
  if (flags.has('--breakdown')) {
    for (const cost of shown) console.log(`\n${breakdown(cost, prices, payPerUse[cost.key])}`);
  }

  const wanted = wantedReadmes(ROOT, costs, prices, payPerUse);
  if (flags.has('--update-readmes')) {
    const changed = writeReadmes(wanted);
    console.log(changed.length ? `\nupdated ${changed.map((f) => relative(ROOT, f)).join(', ')}` : '\nREADMEs already up to date');
  } else if (flags.has('--check')) {
    const stale = staleReadmes(wanted);
    if (stale.length > 0) {
      console.error(`\nout of date: ${stale.map((f) => relative(ROOT, f)).join(', ')}; run \`${UPDATE_COMMAND}\``);
      process.exitCode = 1;
    }
  }
}

main();
