/**
 * EventBridge Scheduler schedules and scheduled EventBridge rules. With `schedules: 'rate'` a
 * `rate(...)` expression fires on its rate and an `at(...)` once at its time; `cron(...)`
 * expressions are not timed locally. Any schedule also fires on demand (`fireSchedule`, or the
 * command's `--fire`). A Scheduler target gets its `Input` with the `<aws.scheduler.*>` context
 * attributes filled in; a rule's target gets the "Scheduled Event" (or its input settings),
 * delivered as `triggers/delivery.ts` says (a function asynchronously, with Lambda's retries).
 */
import { randomUUID } from 'node:crypto';
import type { InvokeOutcome } from '../functions';
import type { Provider, RunContext, RunningFunctions } from '../provider';
import { deliverToTarget } from '../triggers/delivery';
import { targetInput, type TargetInputOptions } from '../triggers/target-input';

/** The longest delay a Node.js timer takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;
const RATE_UNITS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

interface LocalSchedule {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly expression: string;
  readonly target: TargetInputOptions & { Arn: string; DeadLetterConfig?: { Arn?: string }; RetryPolicy?: { MaximumRetryAttempts?: number } };
  readonly kind: 'scheduler' | 'rule';
}

/** Milliseconds between firings of a `rate(...)` expression; `undefined` for others. */
export function rateMillis(expression: string): number | undefined {
  const match = /^rate\((\d+)\s+(minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (match === null || Number(match[1]) < 1) return undefined;
  return Number(match[1]) * RATE_UNITS[match[2]!]!;
}

export class SchedulesProvider implements Provider {
  public readonly name = 'schedules';
  private readonly schedules: LocalSchedule[] = [];
  private context: RunContext | undefined;
  private functions: RunningFunctions | undefined;

  constructor(private readonly mode: 'rate' | 'manual') {}

  public async connect(context: RunContext, functions: RunningFunctions): Promise<void> {
    this.context = context;
    this.functions = functions;
    const { template } = context;
    for (const [id] of template.resources('AWS::Scheduler::Schedule')) {
      const props = template.properties(id);
      if (props.State === 'DISABLED') continue;
      this.schedules.push({
        logicalId: id,
        name: template.physicalName(id),
        arn: String(template.getAtt(id, 'Arn')),
        expression: String(props.ScheduleExpression),
        target: props.Target as LocalSchedule['target'],
        kind: 'scheduler',
      });
    }
    for (const [id] of template.resources('AWS::Events::Rule')) {
      const props = template.properties(id);
      if (props.ScheduleExpression === undefined || (props.State !== undefined && props.State !== 'ENABLED')) continue;
      for (const target of (props.Targets ?? []) as Array<LocalSchedule['target']>) {
        this.schedules.push({
          logicalId: id, name: template.physicalName(id), arn: String(template.getAtt(id, 'Arn')), expression: String(props.ScheduleExpression), target, kind: 'rule',
        });
      }
    }
    for (const schedule of this.schedules) {
      const at = /^at\((.+)\)$/.exec(schedule.expression)?.[1];
      const fire = (): void => {
        this.fire(schedule.logicalId).then((outcome) => {
          if (!outcome.ok) context.log(`schedule ${schedule.name}: ${outcome.errorType}: ${outcome.errorMessage}`);
        }, (error: unknown) => context.log(`schedule ${schedule.name}: ${String(error)}`));
      };
      const every = rateMillis(schedule.expression);
      const delay = at === undefined ? undefined : Date.parse(`${at}Z`) - Date.now();
      let timing = 'on demand';
      if (this.mode === 'rate' && ((every ?? 0) > MAX_TIMER_MS || (delay ?? 0) > MAX_TIMER_MS)) {
        // Node's timers hold at most about 24.8 days; longer ones would fire at once.
        context.notEmulated(`schedule ${schedule.name}: ${schedule.expression} is further apart than the local timers reach; fire it on demand`);
      } else if (this.mode === 'rate' && every !== undefined) {
        const timer = setInterval(fire, every);
        context.onStop(async () => clearInterval(timer));
        timing = `every ${every / 1000} s`;
      } else if (this.mode === 'rate' && delay !== undefined && delay > 0) {
        const timer = setTimeout(fire, delay);
        context.onStop(async () => clearTimeout(timer));
        timing = `at ${at}`;
      } else if (this.mode === 'rate' && schedule.expression.startsWith('cron(')) {
        context.notEmulated(`schedule ${schedule.name}: ${schedule.expression} is not timed locally; fire it on demand`);
      }
      context.report(`schedule ${schedule.name} ${schedule.expression} -> ${schedule.target.Arn.split(':').pop()} (${timing})`);
    }
  }

  /** Fires a schedule (logical id or name) once, as its time had come; resolves with the target's outcome. */
  public async fire(scheduleId: string): Promise<InvokeOutcome> {
    const schedule = this.schedules.find((s) => s.logicalId === scheduleId || s.name === scheduleId);
    if (schedule === undefined || this.context === undefined || this.functions === undefined) {
      return { ok: false, errorType: 'ResourceNotFoundException', errorMessage: `no schedule ${scheduleId} in this stack` };
    }
    const now = new Date();
    const input = schedule.kind === 'scheduler' ? schedulerInput(schedule, now) : targetInput(scheduledEvent(schedule, now), schedule.target);
    return deliverToTarget(this.context, this.functions, {
      targetArn: schedule.target.Arn,
      input: input.replaceAll('<aws.scheduler.attempt-number>', '1'),
      maximumRetryAttempts: schedule.target.RetryPolicy?.MaximumRetryAttempts,
      deadLetterArn: schedule.target.DeadLetterConfig?.Arn,
      deadLetterAttributes: { ERROR_CODE: 'DeliveryFailed', SCHEDULE_ARN: schedule.arn },
      source: `schedule ${schedule.name}`,
    });
  }
}

function schedulerInput(schedule: LocalSchedule, now: Date): string {
  const text = schedule.target.Input ?? '{}';
  return text
    .replaceAll('<aws.scheduler.scheduled-time>', `${now.toISOString().slice(0, 19)}Z`)
    .replaceAll('<aws.scheduler.execution-id>', randomUUID())
    .replaceAll('<aws.scheduler.schedule-arn>', schedule.arn);
}

function scheduledEvent(schedule: LocalSchedule, now: Date): unknown {
  return {
    'version': '0',
    'id': randomUUID(),
    'detail-type': 'Scheduled Event',
    'source': 'aws.events',
    'account': schedule.arn.split(':')[4],
    'time': `${now.toISOString().slice(0, 19)}Z`,
    'region': schedule.arn.split(':')[3],
    'resources': [schedule.arn],
    'detail': {},
  };
}
