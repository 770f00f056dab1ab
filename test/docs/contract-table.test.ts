/**
 * The README's table of every pattern's operations and bring-your-own props must be true: every
 * cell is ticked, and every prop it names is a prop of that construct.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/bundle';
import { documentedProperties } from '../helpers/contract';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const OPERATIONS = ['alarmTopic', 'dashboard', 'deployment'];

/** The rows of the table that follows the heading "One contract for every pattern". */
function contractRows(): string[][] {
  const section = README.split(/^## One contract for every pattern$/m)[1]?.split(/^## /m)[0] ?? '';
  const lines = section.split('\n').filter((l) => l.startsWith('| `'));
  return lines.map((l) => l.split('|').slice(1, -1).map((cell) => cell.trim()));
}

/** The props a cell names: `name` in backticks, not a call (`fromCode()`) and not a type. */
function propsNamed(cell: string): string[] {
  return [...cell.matchAll(/`([a-z][A-Za-z]*)`/g)].map((m) => m[1]);
}

const rows = contractRows();

test('the table lists every pattern construct', () => {
  expect(rows.map((r) => r[0])).toEqual([
    '`RestfulMicroservice`', '`StreamProcessor`', '`FanOut`', '`EventDrivenMicroservice`', '`PeriodicJob`', '`WebApplication`',
    '`RelationalMicroservice`', '`FileStorageService`', '`SagaWorkflow`', '`CanaryDeployment`',
  ]);
});

describe.each(rows.map((r) => [r[0].replace(/`/g, ''), r] as const))('%s', (construct, cells) => {
  const props = documentedProperties(`${construct}Props`);

  test('every cell is ticked', () => {
    for (const cell of cells.slice(1)) expect(cell).toMatch(/^✓/);
  });

  test('has the operations props', () => {
    const operations = construct === 'CanaryDeployment' ? ['alarmTopic', 'dashboard'] : OPERATIONS;
    for (const name of operations) expect(props).toContain(name);
  });

  test('every prop the row names is a prop of the construct', () => {
    const named = cells.slice(4).flatMap(propsNamed);
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect([name, props.includes(name)]).toEqual([name, true]);
  });
});
