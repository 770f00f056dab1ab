/**
 * EventBridge Scheduler schedules and scheduled EventBridge rules. With `schedules: 'rate'` each
 * fires when its `rate(...)`, `cron(...)` or `at(...)` expression says
 * (`triggers/schedule-expression.ts`), in the schedule's time zone and between its start and end
 * dates. Any schedule also fires on demand (`fireSchedule`, or the command's `--fire`). A
 * Scheduler target gets its `Input` with the `<aws.scheduler.*>` context attributes filled in;
 * each of a rule's targets gets the "Scheduled Event" (or its input settings), delivered as
 * `triggers/delivery.ts` says (a function asynchronously, with Lambda's retries).
 */
import { randomUUID } from 'node:crypto';
import type { InvokeOutcome } from '../functions';
import type { Provider, RunContext, RunningFunctions } from '../provider';
import { deliverToTarget } from '../triggers/delivery';
import { scheduleClock, type ScheduleClock } from '../triggers/schedule-expression';
import { targetInput, type TargetInputOptions } from '../triggers/target-input';

/** The longest delay a Node.js timer takes (2^31 - 1 ms); longer waits are chained. */
const MAX_TIMER_MS = 2_147_483_647;

interface LocalSchedule {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly expression: string;
  readonly timeZone?: string;
  readonly startDate?: string;
  readonly endDate?: string;
  /** A Scheduler schedule's one target, or a rule's targets. */
  readonly targets: readonly ScheduleTarget[];
  readonly kind: 'scheduler' | 'rule';
}

type ScheduleTarget = TargetInputOptions & { Arn: string; DeadLetterConfig?: { Arn?: string }; RetryPolicy?: { MaximumRetryAttempts?: number } };

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
        timeZone: props.ScheduleExpressionTimezone as string | undefined,
        startDate: props.StartDate as string | undefined,
        endDate: props.EndDate as string | undefined,
        targets: [props.Target as ScheduleTarget],
        kind: 'scheduler',
      });
    }
    for (const [id] of template.resources('AWS::Events::Rule')) {
      const props = template.properties(id);
      if (props.ScheduleExpression === undefined || (props.State !== undefined && props.State !== 'ENABLED')) continue;
      this.schedules.push({
        logicalId: id,
        name: template.physicalName(id),
        arn: String(template.getAtt(id, 'Arn')),
        expression: String(props.ScheduleExpression),
        targets: (props.Targets ?? []) as ScheduleTarget[],
        kind: 'rule',
      });
    }
    const created = Date.now();
    for (const schedule of this.schedules) {
      let timing = 'on demand';
      if (this.mode === 'rate') {
        try {
          const clock = scheduleClock(schedule.expression, {
            timeZone: schedule.timeZone, created, startDate: dateOf(schedule.startDate), endDate: dateOf(schedule.endDate),
          });
          const first = clock.next(created);
          timing = first === undefined ? 'no firing left' : `next at ${new Date(first).toISOString()}`;
          this.keepFiring(schedule, clock, first);
        } catch (error) {
          context.notEmulated(`schedule ${schedule.name}: ${(error as Error).message}; fire it on demand`);
        }
      }
      const targets = schedule.targets.map((target) => target.Arn.split(':').pop()).join(', ') || 'no target';
      context.report(`schedule ${schedule.name} ${schedule.expression} -> ${targets} (${timing})`);
    }
  }

  /** Fires the schedule at each time its clock gives, from `first` on, until the runner stops. */
  private keepFiring(schedule: LocalSchedule, clock: ScheduleClock, first: number | undefined): void {
    const context = this.context!;
    if (first === undefined) return;
    let time = first;
    let timer: NodeJS.Timeout | undefined;
    const stop = async (): Promise<void> => clearTimeout(timer);
    const wait = (): void => {
      const delay = time - Date.now();
      if (delay > 0) {
        timer = setTimeout(wait, Math.min(delay, MAX_TIMER_MS));
        return;
      }
      this.fire(schedule.logicalId, new Date(time)).then((outcome) => {
        if (!outcome.ok) context.log(`schedule ${schedule.name}: ${outcome.errorType}: ${outcome.errorMessage}`);
      }, (error: unknown) => context.log(`schedule ${schedule.name}: ${String(error)}`));
      // A machine that slept past several firings fires once, then keeps to the clock.
      const next = clock.next(Math.max(time, Date.now()));
      if (next === undefined) return;
      time = next;
      wait();
    };
    context.onStop(stop);
    wait();
  }

  /**
   * Fires a schedule (logical id or name) once, as if its time (`scheduledTime`, by default now)
   * had come; resolves with the target's outcome.
   */
  public async fire(scheduleId: string, scheduledTime = new Date()): Promise<InvokeOutcome> {
    const schedule = this.schedules.find((s) => s.logicalId === scheduleId || s.name === scheduleId);
    if (schedule === undefined || this.context === undefined || this.functions === undefined) {
      return { ok: false, errorType: 'ResourceNotFoundException', errorMessage: `no schedule ${scheduleId} in this stack` };
    }
    // One event per firing, the same (same id) for each of a rule's targets.
    const event = schedule.kind === 'rule' ? scheduledEvent(schedule, scheduledTime) : undefined;
    const outcomes = await Promise.all(schedule.targets.map((target) => {
      const input = event === undefined ? schedulerInput(schedule, target, scheduledTime) : targetInput(event, target);
      return deliverToTarget(this.context!, this.functions!, {
        targetArn: target.Arn,
        input: input.replaceAll('<aws.scheduler.attempt-number>', '1'),
        maximumRetryAttempts: target.RetryPolicy?.MaximumRetryAttempts,
        deadLetterArn: target.DeadLetterConfig?.Arn,
        // The attributes each service gives a message it dead-letters.
        deadLetterAttributes: schedule.kind === 'scheduler'
          ? { ERROR_CODE: 'DeliveryFailed', SCHEDULE_ARN: schedule.arn, TARGET_ARN: target.Arn }
          : { ERROR_CODE: 'DeliveryFailed', RULE_ARN: schedule.arn, TARGET_ARN: target.Arn },
        source: `schedule ${schedule.name}`,
      });
    }));
    return outcomes.find((outcome) => !outcome.ok) ?? outcomes[0] ?? { ok: true, payload: null };
  }
}

function dateOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new Error(`${text} is not a date (StartDate, EndDate)`);
  return time;
}

function schedulerInput(schedule: LocalSchedule, target: ScheduleTarget, now: Date): string {
  const text = target.Input ?? '{}';
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
