/**
 * `npm run feedback`: how long a new contributor waits, measured as they would meet it.
 *
 * Clones the committed HEAD into a fresh folder, then times the README's commands there:
 * `npm ci`, `npx cdk synth --quiet` and `npm test` (with `CI=true`, as `.ci/run` runs them).
 * Each figure is printed against its target as a ratio. Nothing is reused between runs but the
 * npm cache, which a contributor's machine and CI have too.
 *
 *   npm run feedback                       one clean clone
 *   npm run feedback -- --runs 3           three, one after another; any failure stops it
 *   npm run feedback -- --under-load       a busy loop on one core the whole time (determinism)
 *   npm run feedback -- --keep             keep the clones (printed) for a look afterwards
 *
 * Results are also written to .bench/feedback.json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './bundle';

/** The issue's targets on the 2-core machine CI runs on. */
const FEEDBACK_TARGETS = { setUpSeconds: 45, testSeconds: 300 } as const;

interface Step { readonly name: string; readonly command: string; readonly args: readonly string[] }

const SET_UP: readonly Step[] = [
  { name: 'npm ci', command: 'npm', args: ['ci'] },
  { name: 'npx cdk synth', command: 'npx', args: ['cdk', 'synth', '--quiet'] },
];
const TEST: Step = { name: 'npm test', command: 'npm', args: ['test'] };

interface RunFigures {
  readonly run: number;
  readonly commit: string;
  readonly seconds: Record<string, number>;
  readonly setUpSeconds: number;
  readonly testSeconds: number;
  readonly tests?: string;
}

function timed(step: Step, cwd: string, log: string): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(step.command, step.args, {
    cwd,
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  writeFileSync(log, `${result.stdout}\n${result.stderr}`, { flag: 'a' });
  if (result.status !== 0) {
    throw new Error(`${step.name} failed (exit ${result.status ?? result.signal}) after ${seconds.toFixed(1)} s; see ${log}`);
  }
  return seconds;
}

/** jest's summary line, e.g. `Tests: 1443 passed, 1443 total`. */
function testSummary(log: string): string | undefined {
  const text = spawnSync('grep', ['-E', '^Tests:', log], { encoding: 'utf8' }).stdout.trim().split('\n');
  return text[text.length - 1] || undefined;
}

/** A busy loop on one core, standing in for another CPU-heavy process on the machine. */
function startLoad(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}

function ratio(seconds: number, target: number): string {
  return `${seconds.toFixed(1)} s (${(seconds / target).toFixed(2)}x of ${target} s)`;
}

function main(): void {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 1;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs needs a whole number of at least 1, got ${args[runsAt + 1]}`);
  const underLoad = args.includes('--under-load');
  const keep = args.includes('--keep');
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  console.log(`feedback: ${runs} clean clone(s) of HEAD (now ${head}), node ${process.version}, ${cpus().length} cores` +
    `${underLoad ? ', one core kept busy by another process' : ''}`);

  const load = underLoad ? startLoad() : undefined;
  const results: RunFigures[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const dir = mkdtempSync(join(tmpdir(), 'feedback-'));
      const log = join(dir, 'feedback.log');
      let passed = false;
      try {
        spawnSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, join(dir, 'repo')], { stdio: 'inherit' });
        const cwd = join(dir, 'repo');
        const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).stdout.trim();
        const seconds: Record<string, number> = {};
        for (const step of SET_UP) seconds[step.name] = timed(step, cwd, log);
        seconds[TEST.name] = timed(TEST, cwd, log);
        const figures: RunFigures = {
          run,
          commit,
          seconds,
          setUpSeconds: SET_UP.reduce((sum, step) => sum + seconds[step.name], 0),
          testSeconds: seconds[TEST.name],
          tests: testSummary(log),
        };
        results.push(figures);
        console.log(`run ${run} (${commit}): ${SET_UP.map((s) => `${s.name} ${seconds[s.name].toFixed(1)} s`).join(', ')}`);
        console.log(`  set-up (npm ci && npx cdk synth): ${ratio(figures.setUpSeconds, FEEDBACK_TARGETS.setUpSeconds)}`);
        console.log(`  npm test: ${ratio(figures.testSeconds, FEEDBACK_TARGETS.testSeconds)}; ${figures.tests ?? ''}`);
        passed = true;
      } finally {
        // A failed run keeps its clone and log for a look.
        if (keep || !passed) console.log(`  kept ${dir}`);
        else rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    load?.kill();
  }
  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  writeFileSync(join(ROOT, '.bench', 'feedback.json'), JSON.stringify({ head, node: process.version, underLoad, targets: FEEDBACK_TARGETS, results }, null, 2));
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
