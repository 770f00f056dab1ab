/**
 * When a local schedule fires (local/triggers/schedule-expression.ts), against the EventBridge
 * user guide's cron and rate expressions and the Scheduler user guide's time zones and
 * daylight-saving rules: a time that does not exist is skipped, one that occurs twice fires once.
 * Expected instants are worked out by hand from the calendar; two properties compare the search
 * with a minute-by-minute scan of the clock.
 */
import fc from 'fast-check';
import { rateMillis, scheduleClock, type ScheduleClockOptions } from '../../local/triggers/schedule-expression';

const NOW = Date.parse('2026-12-04T10:22:30Z'); // a Friday

function nextAfter(expression: string, after: string | number, options: Partial<ScheduleClockOptions> = {}): string | undefined {
  const from = typeof after === 'number' ? after : Date.parse(after);
  const next = scheduleClock(expression, { created: from, ...options }).next(from);
  return next === undefined ? undefined : new Date(next).toISOString();
}

describe('rateMillis', () => {
  test('rate(value unit) for minutes, hours and days, singular or plural', () => {
    expect(rateMillis('rate(1 minute)')).toBe(60_000);
    expect(rateMillis('rate(5 minutes)')).toBe(300_000);
    expect(rateMillis('rate(1 hour)')).toBe(3_600_000);
    expect(rateMillis('rate(12 hours)')).toBe(43_200_000);
    expect(rateMillis('rate(1 day)')).toBe(86_400_000);
    expect(rateMillis('rate(7 days)')).toBe(604_800_000);
    expect(rateMillis('  rate(10 minutes)  ')).toBe(600_000);
  });

  test('anything else is undefined: cron and at expressions, other units, fractions, zero and negatives', () => {
    for (const expression of ['cron(0 12 * * ? *)', 'at(2026-01-01T00:00:00)', 'rate(30 seconds)', 'rate(1.5 hours)', 'rate(-5 minutes)', 'rate(0 minutes)', 'rate(minutes)', 'rate 5 minutes']) {
      expect(rateMillis(expression)).toBeUndefined();
    }
  });
});

describe('cron expressions, in UTC', () => {
  test.each([
    ['cron(0 12 * * ? *)', NOW, '2026-12-04T12:00:00.000Z'],
    ['cron(0 10 * * ? *)', NOW, '2026-12-05T10:00:00.000Z'],
    ['cron(0/15 * * * ? *)', NOW, '2026-12-04T10:30:00.000Z'],
    ['cron(22 10 * * ? *)', NOW, '2026-12-05T10:22:00.000Z'], // this minute has begun: the next is tomorrow's
    ['cron(5,35 14 * * ? *)', NOW, '2026-12-04T14:05:00.000Z'],
    ['cron(0 18 ? * MON-FRI *)', NOW, '2026-12-04T18:00:00.000Z'],
    ['cron(0 18 ? * MON-FRI *)', '2026-12-04T18:00:00Z', '2026-12-07T18:00:00.000Z'], // strictly after: Friday's is not next
    ['cron(0 18 ? * 2-6 *)', '2026-12-04T18:00:00Z', '2026-12-07T18:00:00.000Z'], // the same, numbered from Sunday = 1
    ['cron(0 8 1 * ? *)', NOW, '2027-01-01T08:00:00.000Z'],
    ['cron(0 0 1 JAN,APR ? *)', NOW, '2027-01-01T00:00:00.000Z'],
    ['cron(0 0 1 JAN,APR ? *)', '2027-01-01T00:00:00Z', '2027-04-01T00:00:00.000Z'],
    ['cron(0 0 1 1 ? 2199)', NOW, '2199-01-01T00:00:00.000Z'],
    ['cron(*/20 9-10 * * ? *)', NOW, '2026-12-04T10:40:00.000Z'],
    ['cron(0 3/8 * * ? *)', NOW, '2026-12-04T11:00:00.000Z'], // 3, 11, 19
  ])('%s after %s is %s', (expression, after, expected) => {
    expect(nextAfter(expression, after)).toBe(expected);
  });

  test.each([
    ['L: the last day of the month, in a leap February', 'cron(0 0 L * ? *)', '2028-02-10T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['L: the last day of the month, in a common February', 'cron(0 0 L * ? *)', '2027-02-10T00:00:00Z', '2027-02-28T00:00:00.000Z'],
    ['6L: the month\'s last Friday', 'cron(15 10 ? * 6L 2026-2027)', NOW, '2026-12-25T10:15:00.000Z'],
    ['FRIL: the last Friday, by name', 'cron(15 10 ? * FRIL *)', '2026-12-26T00:00:00Z', '2027-01-29T10:15:00.000Z'],
    ['3#2: the second Tuesday', 'cron(0 9 ? * 3#2 *)', NOW, '2026-12-08T09:00:00.000Z'],
    ['3W on a Sunday is Monday the 4th', 'cron(0 9 3W * ? *)', NOW, '2027-01-04T09:00:00.000Z'],
    ['1W on a Saturday is Monday the 3rd, never the month before', 'cron(0 9 1W * ? *)', '2027-04-30T00:00:00Z', '2027-05-03T09:00:00.000Z'],
    ['15W on a Saturday is Friday the 14th', 'cron(0 9 15W * ? *)', '2027-05-04T00:00:00Z', '2027-05-14T09:00:00.000Z'],
    ['28W on the last day, a Sunday, is Friday the 26th', 'cron(0 9 28W * ? *)', '2027-02-01T00:00:00Z', '2027-02-26T09:00:00.000Z'],
  ])('%s', (_name, expression, after, expected) => {
    expect(nextAfter(expression, after)).toBe(expected);
  });

  test.each([
    ['a year that has passed', 'cron(0 0 1 1 ? 2020)'],
    ['a day no month has', 'cron(0 0 31 2 ? *)'],
    ['31W in a 30-day month only', 'cron(0 0 31W 4 ? *)'],
  ])('%s never fires', (_name, expression) => {
    expect(nextAfter(expression, NOW)).toBeUndefined();
  });
});

describe('time zones and daylight saving (Scheduler\'s ScheduleExpressionTimezone)', () => {
  test.each([
    ['6:00 in Berlin in winter is 5:00 UTC', 'cron(0 6 * * ? *)', 'Europe/Berlin', NOW, '2026-12-05T05:00:00.000Z'],
    ['6:00 in Berlin in summer is 4:00 UTC', 'cron(0 6 * * ? *)', 'Europe/Berlin', '2027-06-01T00:00:00Z', '2027-06-01T04:00:00.000Z'],
    ['the day is Tokyo\'s: 1:00 on Saturday there is Friday in UTC', 'cron(0 1 ? * SAT *)', 'Asia/Tokyo', NOW, '2026-12-04T16:00:00.000Z'],
    ['2:30 does not exist in New York on 14 March 2027: skipped', 'cron(30 2 * * ? *)', 'America/New_York', '2027-03-13T12:00:00Z', '2027-03-15T06:30:00.000Z'],
    ['1:30 happens twice in New York on 1 November 2026: the first', 'cron(30 1 * * ? *)', 'America/New_York', '2026-10-31T12:00:00Z', '2026-11-01T05:30:00.000Z'],
    ['... and not again an hour later', 'cron(30 1 * * ? *)', 'America/New_York', '2026-11-01T05:30:00Z', '2026-11-02T06:30:00.000Z'],
    ['UTC when no zone is given', 'cron(0 6 * * ? *)', undefined, NOW, '2026-12-05T06:00:00.000Z'],
  ])('%s', (_name, expression, timeZone, after, expected) => {
    expect(nextAfter(expression, after, { timeZone })).toBe(expected);
  });

  test('at(...) is a wall-clock time in the zone, once', () => {
    expect(nextAfter('at(2027-01-01T09:00:00)', NOW)).toBe('2027-01-01T09:00:00.000Z');
    expect(nextAfter('at(2027-01-01T09:00:00)', NOW, { timeZone: 'Asia/Tokyo' })).toBe('2027-01-01T00:00:00.000Z');
    expect(nextAfter('at(2027-01-01T09:00:00)', '2027-01-01T09:00:00Z')).toBeUndefined();
    expect(nextAfter('at(2026-01-01T09:00:00)', NOW)).toBeUndefined();
  });
});

describe('rates, start and end dates', () => {
  const MINUTES_5 = 300_000;

  test('without a start date a rate first fires one period after the schedule was created, then on its period', () => {
    const clock = scheduleClock('rate(5 minutes)', { created: NOW });
    expect(clock.next(NOW)).toBe(NOW + MINUTES_5);
    expect(clock.next(NOW + MINUTES_5)).toBe(NOW + 2 * MINUTES_5);
    expect(clock.next(NOW + 7 * MINUTES_5 + 1)).toBe(NOW + 8 * MINUTES_5); // after missed firings, the next on the period
  });

  test('a start date is a rate\'s first firing; a day is 24 hours across a daylight-saving change', () => {
    const start = Date.parse('2027-03-13T12:00:00Z');
    const clock = scheduleClock('rate(1 day)', { created: NOW, startDate: start, timeZone: 'America/New_York' });
    expect(clock.next(NOW)).toBe(start);
    expect(clock.next(start)).toBe(Date.parse('2027-03-14T12:00:00Z'));
  });

  test('nothing fires before the start date or after the end date', () => {
    const options = { created: NOW, startDate: Date.parse('2027-01-10T00:00:00Z'), endDate: Date.parse('2027-01-12T12:00:00Z') };
    const clock = scheduleClock('cron(0 12 * * ? *)', options);
    expect(clock.next(NOW)).toBe(Date.parse('2027-01-10T12:00:00Z'));
    expect(clock.next(Date.parse('2027-01-11T12:00:00Z'))).toBe(Date.parse('2027-01-12T12:00:00Z'));
    expect(clock.next(Date.parse('2027-01-12T12:00:00Z'))).toBeUndefined();
    expect(scheduleClock('rate(1 day)', options).next(Date.parse('2027-01-12T00:00:00Z'))).toBeUndefined();
  });
});

describe('expressions it does not take, each with its reason', () => {
  test.each([
    ['cron(0 12 * * * *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(0 12 ? * ? *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(0 12 * *)', /needs six fields .* not 4/],
    ['cron(60 * * * ? *)', /minutes field 60: 60 is not in 0-59/],
    ['cron(0 24 * * ? *)', /hours field 24: 24 is not in 0-23/],
    ['cron(0 12 32 * ? *)', /day-of-month field 32: 32 is not in 1-31/],
    ['cron(0 12 ? * 8 *)', /day-of-week field 8: 8 is not in 1-7/],
    ['cron(0 12 ? * MON-FUN *)', /FUN is not in 1-7/],
    ['cron(0 12 ? * FRI-MON *)', /FRI-MON runs backwards/],
    ['cron(0/0 12 * * ? *)', /has no valid step/],
    ['cron(0 12 * * ? 1969)', /1969 is not in 1970-2199/],
    ['rate(30 seconds)', /is not a rate\(...\), at\(...\) or cron\(...\) expression/],
  ])('%s', (expression, reason) => {
    expect(() => scheduleClock(expression, { created: NOW })).toThrow(reason);
  });

  test('a time zone Node.js does not know, and an at(...) inside a daylight-saving gap', () => {
    expect(() => scheduleClock('cron(0 6 * * ? *)', { created: NOW, timeZone: 'Mars/Olympus' })).toThrow(/Mars\/Olympus is not a time zone/);
    expect(() => scheduleClock('at(2027-03-14T02:30:00)', { created: NOW, timeZone: 'America/New_York' })).toThrow(/does not exist in America\/New_York/);
  });
});

/**
 * The oracle: scan the clock a minute at a time and take the first wall-clock minute that matches
 * and has not been seen before (a repeated hour fires once), skipping none that exist.
 */
function scanMinutes(
  matches: (clock: number[]) => boolean, wallClock: (time: number) => number[], after: number, horizon: number,
): number | undefined {
  const seen = new Set<string>();
  // Start early enough that a wall-clock minute repeated across a fall-back counts as seen.
  for (let time = Math.floor(after / 60_000) * 60_000 - 2 * 3_600_000; time <= after + horizon; time += 60_000) {
    const clock = wallClock(time);
    const key = clock.join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    if (time > after && matches(clock)) return time;
  }
  return undefined;
}

const subsetOf = (min: number, max: number) => fc.uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 4 });
/** Lists of plain values, or `*`, for each field; day-of-week given as names half of the time. */
const plainCron = fc.record({
  minutes: subsetOf(0, 59),
  hours: fc.option(subsetOf(0, 23), { nil: undefined }),
  daysOfMonth: fc.option(subsetOf(1, 31), { nil: undefined }),
  daysOfWeek: fc.option(subsetOf(1, 7), { nil: undefined }),
  byName: fc.boolean(),
  useDayOfWeek: fc.boolean(),
});

interface PlainCron {
  readonly minutes: number[];
  readonly hours?: number[];
  readonly daysOfMonth?: number[];
  readonly daysOfWeek?: number[];
  readonly byName: boolean;
  readonly useDayOfWeek: boolean;
}

function expressionOf(cron: PlainCron): { expression: string; matches: (clock: number[]) => boolean } {
  const list = (values: number[] | undefined, name?: (n: number) => string) => (values === undefined ? '*' : values.map((v) => (name ? name(v) : String(v))).join(','));
  const dayName = (n: number) => ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'][n - 1]!;
  const dayOfMonth = cron.useDayOfWeek ? '?' : list(cron.daysOfMonth);
  const dayOfWeek = cron.useDayOfWeek ? list(cron.daysOfWeek, cron.byName ? dayName : undefined) : '?';
  const has = (values: number[] | undefined, value: number) => values === undefined || values.includes(value);
  return {
    expression: `cron(${list(cron.minutes)} ${list(cron.hours)} ${dayOfMonth} * ${dayOfWeek} *)`,
    matches: ([year, month, day, hour, minute]) => has(cron.minutes, minute!) && has(cron.hours, hour!)
      && (cron.useDayOfWeek
        ? has(cron.daysOfWeek, new Date(Date.UTC(year!, month! - 1, day!)).getUTCDay() + 1)
        : has(cron.daysOfMonth, day!)),
  };
}

describe('the search agrees with a minute-by-minute scan of the clock', () => {
  test('in UTC, over 40 days from any minute of 2026-2028', () => {
    const utcClock = (time: number) => {
      const date = new Date(time);
      return [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes()];
    };
    fc.assert(fc.property(plainCron, fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2028-12-31T00:00:00Z') }), (cron, after) => {
      const { expression, matches } = expressionOf(cron);
      const horizon = 40 * 86_400_000;
      const expected = scanMinutes(matches, utcClock, after, horizon);
      const actual = scheduleClock(expression, { created: after }).next(after);
      if (expected === undefined) expect(actual === undefined || actual > after + horizon).toBe(true);
      else expect(actual).toBe(expected);
    }), { numRuns: 150 });
  });

  test('in Berlin and New York, across each of their daylight-saving changes', () => {
    const zones = ['Europe/Berlin', 'America/New_York'];
    // 2027's changes: Berlin 28 March and 31 October at 01:00 UTC, New York 14 March at 07:00 and 7 November at 06:00 UTC.
    const changes = ['2027-03-28T01:00:00Z', '2027-10-31T01:00:00Z', '2027-03-14T07:00:00Z', '2027-11-07T06:00:00Z'].map(Date.parse);
    // From five hours before a change to 90 minutes after it, inside a repeated hour too.
    const before = fc.integer({ min: -5_400_000, max: 18_000_000 });
    fc.assert(fc.property(plainCron, fc.constantFrom(...zones), fc.constantFrom(...changes), before, (cron, timeZone, change, offset) => {
      // Hours around the changes (0-4 local), so that most cases meet the gap or the repeat; a change in
      // the other zone is an ordinary night.
      const { expression, matches } = expressionOf({ ...cron, hours: cron.hours?.map((hour) => hour % 5) ?? [0, 1, 2, 3, 4] });
      const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
      const zoneClock = (time: number) => {
        const parts = Object.fromEntries(format.formatToParts(time).map((part) => [part.type, Number(part.value)]));
        return [parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!];
      };
      const after = change - offset;
      const horizon = 86_400_000;
      const expected = scanMinutes(matches, zoneClock, after, horizon);
      const actual = scheduleClock(expression, { created: after, timeZone }).next(after);
      if (expected === undefined) expect(actual === undefined || actual > after + horizon).toBe(true);
      else expect(actual).toBe(expected);
    }), { numRuns: 200 });
  });
});
