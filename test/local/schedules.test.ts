/**
 * The schedules provider (local/providers/schedules.ts) under jest's clock: with `schedules: 'rate'`
 * EventBridge Scheduler schedules and scheduled rules fire when their expressions say, in their
 * time zone and between their start and end dates, also further ahead than one Node.js timer
 * reaches; what cannot be timed is said at start-up, and stopping stops the timers. The instants
 * come from the schedule-expression tests; this is about the provider keeping to them.
 */
import type { AssemblyStack, CfnResource, CfnTemplate } from '../../local/assembly';
import type { RunContext, RunningFunctions } from '../../local/provider';
import { SchedulesProvider } from '../../local/providers/schedules';
import { LocalTemplate } from '../../local/template';

const NOW = Date.parse('2026-12-04T10:22:30Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:job';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:111122223333:audit';

function schedule(expression: string, extra: Record<string, unknown> = {}): CfnResource {
  return {
    Type: 'AWS::Scheduler::Schedule',
    Properties: { ScheduleExpression: expression, FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: FUNCTION_ARN, RoleArn: 'role', Input: '{"tick":"<aws.scheduler.scheduled-time>"}' }, ...extra },
  };
}

const TEMPLATE: Partial<CfnTemplate> = {
  Resources: {
    BerlinMorning: schedule('cron(0 6 * * ? *)', { Name: 'berlin-morning', ScheduleExpressionTimezone: 'Europe/Berlin' }),
    Hourly: { Type: 'AWS::Events::Rule', Properties: { Name: 'hourly', ScheduleExpression: 'rate(1 hour)', State: 'ENABLED', Targets: [{ Id: 'job', Arn: FUNCTION_ARN }, { Id: 'audit', Arn: QUEUE_ARN, Input: '{"audit":true}' }] } },
    FarAhead: schedule('at(2027-01-20T00:00:00)', { Name: 'far-ahead' }), // 46 days: beyond one timer's 24.8
    ThreeDays: schedule('cron(30 12 * * ? *)', { Name: 'three-days', StartDate: '2026-12-10T00:00:00Z', EndDate: '2026-12-12T23:00:00Z' }),
    Broken: schedule('cron(0 12 * * * *)', { Name: 'broken' }),
    Off: schedule('rate(1 minute)', { Name: 'off', State: 'DISABLED' }),
    BadDate: schedule('rate(1 day)', { Name: 'bad-date', StartDate: 'next Tuesday' }),
    // Far ahead, so only fired on demand here: one event to two queues.
    TwoQueues: {
      Type: 'AWS::Events::Rule',
      Properties: { Name: 'two-queues', ScheduleExpression: 'cron(0 0 1 1 ? 2199)', State: 'ENABLED', Targets: [{ Id: 'a', Arn: `${QUEUE_ARN}-a` }, { Id: 'b', Arn: `${QUEUE_ARN}-b` }] },
    },
  },
};

interface Harness {
  readonly fired: Map<string, string[]>;
  readonly reports: string[];
  readonly notEmulated: string[];
  /** The event's `time`, or the schedule input's `<aws.scheduler.scheduled-time>`. */
  readonly scheduledTimes: string[];
  /** Messages to targets other than functions (the rule's queue). */
  readonly delivered: string[];
  readonly provider: SchedulesProvider;
  stop(): Promise<void>;
}

async function start(mode: 'rate' | 'manual'): Promise<Harness> {
  const stack: AssemblyStack = { id: 'Jobs', stackName: 'Jobs', template: { Resources: {}, ...TEMPLATE }, assemblyDir: '/nowhere', assetPathOfObjectKey: () => undefined };
  const template = new LocalTemplate(stack, { region: 'eu-west-1', account: '111122223333' });
  const stops: Array<() => Promise<void>> = [];
  const provider = new SchedulesProvider(mode);
  const harness: Harness = {
    provider,
    fired: new Map(),
    reports: [],
    notEmulated: [],
    scheduledTimes: [],
    delivered: [],
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
  const context = {
    template,
    stack,
    log: () => undefined,
    report: (line: string) => harness.reports.push(line),
    notEmulated: (line: string) => harness.notEmulated.push(line),
    onStop: (stop: () => Promise<void>) => stops.push(stop),
    deliver: async (arn: string, message: { body: string }) => {
      harness.delivered.push(`${arn} ${message.body}`);
    },
  } as unknown as RunContext;
  const functions = {
    has: (arn: string) => arn === FUNCTION_ARN,
    invokeAsync: async (_arn: string, event: { resources?: string[]; time?: string; tick?: string }) => {
      // A rule's event names the rule; a schedule's input here carries its scheduled time.
      const by = event.resources?.[0]?.split('/').pop() ?? 'scheduler';
      harness.fired.set(by, [...harness.fired.get(by) ?? [], new Date(Date.now()).toISOString()]);
      harness.scheduledTimes.push(event.time ?? event.tick!);
      return { ok: true, payload: null };
    },
  } as unknown as RunningFunctions;
  await provider.connect(context, functions);
  return harness;
}

beforeEach(() => jest.useFakeTimers({ now: NOW }));
afterEach(() => jest.useRealTimers());

test('each schedule fires when its expression says, for 50 days', async () => {
  const harness = await start('rate');
  await jest.advanceTimersByTimeAsync(50 * DAY);
  await harness.stop();

  const hourly = harness.fired.get('hourly')!;
  expect(hourly).toHaveLength(50 * 24);
  // Each of the rule's targets, each time.
  expect(harness.delivered).toHaveLength(50 * 24);
  expect(new Set(harness.delivered)).toEqual(new Set([`${QUEUE_ARN} {"audit":true}`]));
  expect(hourly[0]).toBe('2026-12-04T11:22:30.000Z'); // a rule's rate counts from its creation
  expect(hourly.at(-1)).toBe('2027-01-23T10:22:30.000Z');

  const scheduler = harness.fired.get('scheduler')!;
  const berlin = scheduler.filter((time) => time.endsWith('05:00:00.000Z')); // 06:00 CET
  expect(berlin).toHaveLength(50);
  expect(berlin[0]).toBe('2026-12-05T05:00:00.000Z');
  expect(scheduler.filter((time) => time.endsWith('12:30:00.000Z'))).toEqual(['2026-12-10T12:30:00.000Z', '2026-12-11T12:30:00.000Z', '2026-12-12T12:30:00.000Z']);
  expect(scheduler.filter((time) => time.startsWith('2027-01-20T00:00'))).toEqual(['2027-01-20T00:00:00.000Z']);
  expect(scheduler).toHaveLength(50 + 3 + 1);
  expect(harness.scheduledTimes).toContain('2026-12-05T05:00:00Z');
});

test('start-up says when each fires next, and why one cannot be timed; a disabled schedule is not there', async () => {
  const harness = await start('rate');
  await harness.stop();
  expect(harness.reports).toEqual(expect.arrayContaining([
    'schedule berlin-morning cron(0 6 * * ? *) -> job (next at 2026-12-05T05:00:00.000Z)',
    'schedule hourly rate(1 hour) -> job, audit (next at 2026-12-04T11:22:30.000Z)',
    'schedule far-ahead at(2027-01-20T00:00:00) -> job (next at 2027-01-20T00:00:00.000Z)',
    'schedule three-days cron(30 12 * * ? *) -> job (next at 2026-12-10T12:30:00.000Z)',
    'schedule broken cron(0 12 * * * *) -> job (on demand)',
  ]));
  expect(harness.reports.join('\n')).not.toMatch(/schedule off/);
  expect(harness.notEmulated).toEqual([
    'schedule broken: cron(0 12 * * * *): exactly one of day-of-month and day-of-week must be ?; fire it on demand',
    'schedule bad-date: next Tuesday is not a date (StartDate, EndDate); fire it on demand',
  ]);
});

test('a rule\'s targets get the same event: one id, one time', async () => {
  const harness = await start('manual');
  expect(await harness.provider.fire('two-queues')).toEqual({ ok: true, payload: null });
  await harness.stop();
  const [a, b] = harness.delivered.map((line) => JSON.parse(line.slice(line.indexOf(' ') + 1)) as { id: string; time: string });
  expect(harness.delivered.map((line) => line.split(' ')[0])).toEqual([`${QUEUE_ARN}-a`, `${QUEUE_ARN}-b`]);
  expect(a).toEqual(b);
  expect(a).toMatchObject({ 'detail-type': 'Scheduled Event', 'time': '2026-12-04T10:22:30Z' });
});

test('stopping stops every timer, also one waiting beyond a single timer\'s reach', async () => {
  const harness = await start('rate');
  await jest.advanceTimersByTimeAsync(HOUR);
  await harness.stop();
  expect(jest.getTimerCount()).toBe(0);
  await jest.advanceTimersByTimeAsync(60 * DAY);
  expect(harness.fired.get('hourly')).toHaveLength(1);
  expect(harness.fired.get('scheduler')).toBeUndefined();
});

test('a machine that sleeps past several firings fires once, late, then keeps to the clock', async () => {
  const harness = await start('rate');
  // The wall clock jumps five hours while the timers' clock stands still, as across a laptop's sleep.
  jest.setSystemTime(NOW + 5 * HOUR + 1);
  await jest.advanceTimersByTimeAsync(2 * HOUR);
  await harness.stop();
  expect(harness.fired.get('hourly')).toEqual(['2026-12-04T16:22:30.001Z', '2026-12-04T17:22:30.000Z']);
  // The late one is the firing that was due, at its time.
  expect(harness.scheduledTimes).toEqual(['2026-12-04T11:22:30Z', '2026-12-04T17:22:30Z']);
});

test('with schedules: manual nothing is timed', async () => {
  const harness = await start('manual');
  expect(jest.getTimerCount()).toBe(0);
  await jest.advanceTimersByTimeAsync(2 * DAY);
  await harness.stop();
  expect(harness.fired.size).toBe(0);
  expect(harness.reports).toContain('schedule hourly rate(1 hour) -> job, audit (on demand)');
});
