/**
 * `npx cdk-serverless-reference-architectures local <Stack>`: runs a synthesized stack on this
 * machine until Ctrl-C. `... stacks` lists the stacks of the assembly.
 */
import { parseArgs } from 'node:util';
import { listStacks } from './assembly';
import { startLocalStack, type LocalStack } from './runner';

export const USAGE = `Usage:
  cdk-serverless-reference-architectures local <Stack> [options]   run a synthesized stack locally
  cdk-serverless-reference-architectures stacks [--assembly <dir>]  list the stacks of an assembly

Options of local:
  --assembly <dir>     the cloud assembly, from \`npx cdk synth\` (default: cdk.out)
  --port <n>           port of the first REST API; the next APIs take the next ports (default: 3000; 0 picks free ports)
  --host <address>     address to serve on (default: 127.0.0.1)
  --schedules <mode>   rate: fire schedules on their rate; manual: only with --fire (default: rate)
  --fire <schedule>    fire this schedule (logical id or name) once at start-up; repeatable
  --secrets <file>     JSON file of secret values by secret name or logical id
  --quiet-functions    do not print the functions' output

Nothing is authenticated locally: methods with an authorizer take the caller from the
x-local-identity header (see the README, "Run a stack locally").`;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Runs the command; resolves with the started stack (for `local`) or undefined, or throws a usage error. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<LocalStack | undefined> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'assembly': { type: 'string', default: 'cdk.out' },
      'port': { type: 'string', default: '3000' },
      'host': { type: 'string', default: '127.0.0.1' },
      'schedules': { type: 'string', default: 'rate' },
      'fire': { type: 'string', multiple: true, default: [] },
      'secrets': { type: 'string' },
      'quiet-functions': { type: 'boolean', default: false },
      'help': { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, stackId] = positionals;
  if (values.help || command === undefined) {
    io.out(USAGE);
    return undefined;
  }
  if (command === 'stacks') {
    for (const id of listStacks(values.assembly)) io.out(id);
    return undefined;
  }
  if (command !== 'local' || stackId === undefined) throw new UsageError(command === 'local' ? 'name the stack to run' : `unknown command ${command}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be a port number, got ${values.port}`);
  if (values.schedules !== 'rate' && values.schedules !== 'manual') throw new UsageError(`--schedules must be rate or manual, got ${values.schedules}`);

  const started = Date.now();
  io.out(`Starting ${stackId} from ${values.assembly} ...`);
  const local = await startLocalStack({
    stack: stackId,
    assembly: values.assembly,
    port,
    host: values.host,
    schedules: values.schedules,
    secretsFile: values.secrets,
    log: io.out,
    progress: (step) => io.out(`  ${step} (${((Date.now() - started) / 1000).toFixed(1)} s)`),
    functionLog: values['quiet-functions'] ? () => undefined : (name, line) => io.out(`[${name}] ${line}`),
  });
  io.out(local.summary);
  io.out(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Ctrl-C stops everything.`);
  for (const schedule of values.fire) {
    const outcome = await local.fireSchedule(schedule);
    io.out(outcome.ok ? `fired ${schedule}` : `fired ${schedule}: ${outcome.errorType}: ${outcome.errorMessage}`);
  }
  return local;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The executable: runs until SIGINT or SIGTERM, then stops every engine and function. */
export function main(): void {
  // The runner's own SDK clients would warn that this machine's Node.js is old; that is not the stack's concern.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const io: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };
  let local: LocalStack | undefined;
  let stopping = false;
  const stop = (): void => {
    // A second Ctrl-C does not wait for the functions to end.
    if (stopping) process.exit(130);
    stopping = true;
    if (local === undefined) return;
    io.out('Stopping ...');
    void local.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  runCli(process.argv.slice(2), io).then((started) => {
    local = started;
    if (started === undefined) process.exit(0);
    // Ctrl-C came during start-up: stop now that there is something to stop.
    if (stopping) {
      stopping = false;
      stop();
    }
  }, (error: unknown) => {
    io.err(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : `error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  });
}
