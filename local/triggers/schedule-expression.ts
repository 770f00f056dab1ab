/**
 * When a schedule fires: EventBridge's `rate(...)`, `at(...)` and `cron(...)` expressions, in a
 * time zone (EventBridge Scheduler's `ScheduleExpressionTimezone`; scheduled rules are always
 * UTC), between an optional start and end date.
 *
 * `cron(Minutes Hours Day-of-month Month Day-of-week Year)` follows the EventBridge user guide:
 * `,` `-` `*` `/` everywhere; `?` in exactly one of the two day fields; `L` (last day of the
 * month, or `5L`: the month's last Thursday), `W` (`3W`: the weekday nearest the 3rd, within the
 * month) and `#` (`3#2`: the month's second Tuesday); months `JAN`-`DEC`, days `SUN`-`SAT` (1-7).
 * Across a daylight-saving change a cron time that does not exist is skipped and one that occurs
 * twice fires once, as Scheduler does. A `rate` of days is 24 hours, whatever the clock says.
 */

export interface ScheduleClock {
  /** The first firing strictly after `after` (epoch ms); `undefined` when the schedule has ended. */
  next(after: number): number | undefined;
}

export interface ScheduleClockOptions {
  /** An IANA time zone; UTC when absent. */
  readonly timeZone?: string;
  /** When the schedule came to be: without a start date, a `rate` first fires one period later. */
  readonly created: number;
  /** Nothing fires before this; a `rate` first fires at it. */
  readonly startDate?: number;
  /** Nothing fires after this. */
  readonly endDate?: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const RATE_UNITS: Record<string, number> = { minute: MINUTE_MS, minutes: MINUTE_MS, hour: 3_600_000, hours: 3_600_000, day: DAY_MS, days: DAY_MS };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
/** EventBridge takes years up to 2199; nothing fires after it. */
const LAST_YEAR = 2199;

/** Milliseconds between firings of a `rate(...)` expression; `undefined` for others. */
export function rateMillis(expression: string): number | undefined {
  const match = /^rate\((\d+)\s+(minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (match === null || Number(match[1]) < 1) return undefined;
  return Number(match[1]) * RATE_UNITS[match[2]!]!;
}

/** The clock of a schedule expression; throws an `Error` saying what is wrong with an expression it does not take. */
export function scheduleClock(expression: string, options: ScheduleClockOptions): ScheduleClock {
  const text = expression.trim();
  const timeZone = options.timeZone ?? 'UTC';
  const zone = zoneOf(timeZone);
  const earliest = options.startDate ?? -Infinity;
  const within = (time: number | undefined): number | undefined => (time === undefined || time > (options.endDate ?? Infinity) ? undefined : time);
  const every = rateMillis(text);
  if (every !== undefined) {
    const first = options.startDate ?? options.created + every;
    return { next: (after) => within(after < first ? first : first + (Math.floor((after - first) / every) + 1) * every) };
  }
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(text);
  if (at !== null) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number) as [number, number, number, number, number, number];
    const time = zone.toUtc({ year, month, day, hour, minute });
    if (time === undefined) throw new Error(`${text} does not exist in ${timeZone} (a daylight-saving gap)`);
    const once = time + second * 1000;
    return { next: (after) => within(once > after && once >= earliest ? once : undefined) };
  }
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron === null) throw new Error(`${text} is not a rate(...), at(...) or cron(...) expression`);
  const fields = parseCron(cron[1]!);
  return { next: (after) => within(nextCronTime(fields, zone, Math.max(after, earliest - 1))) };
}

interface CronFields {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly months: ReadonlySet<number>;
  readonly years: ReadonlySet<number>;
  /** Whether a calendar day (month 1-12) matches the day-of-month or day-of-week field. */
  readonly dayMatches: (year: number, month: number, day: number) => boolean;
}

interface FieldSpec { readonly name: string; readonly min: number; readonly max: number; readonly names?: readonly string[] }

const MINUTE: FieldSpec = { name: 'minutes', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hours', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTHS };
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 1, max: 7, names: WEEKDAYS };
const YEAR: FieldSpec = { name: 'year', min: 1970, max: LAST_YEAR };

function parseCron(body: string): CronFields {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) throw new Error(`cron(${body}) needs six fields (minutes hours day-of-month month day-of-week year), not ${parts.length}`);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new Error(`cron(${body}): exactly one of day-of-month and day-of-week must be ?`);
  }
  return {
    minutes: [...values(minutes, MINUTE)].sort((a, b) => a - b),
    hours: [...values(hours, HOUR)].sort((a, b) => a - b),
    months: values(month, MONTH),
    years: values(year, YEAR),
    dayMatches: dayOfMonth === '?' ? dayOfWeekMatcher(dayOfWeek) : dayOfMonthMatcher(dayOfMonth),
  };
}

/** The values of a field of `,`-separated `*`, `n`, `a-b` and their `/step`s. */
function values(field: string, spec: FieldSpec): Set<number> {
  const result = new Set<number>();
  for (const item of field.split(',')) {
    const [range, stepText, ...rest] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (rest.length > 0 || !Number.isInteger(step) || step < 1) throw new Error(`${spec.name} field ${field}: ${item} has no valid step`);
    let low = spec.min;
    let high = spec.max;
    if (range !== '*') {
      const [from, to, ...more] = (range ?? '').split('-');
      if (more.length > 0) throw new Error(`${spec.name} field ${field}: ${item} is not a range`);
      low = number(from ?? '', spec, field);
      // `5/15` runs from 5 to the end of the field; `5` alone is just 5.
      high = to !== undefined ? number(to, spec, field) : stepText !== undefined ? spec.max : low;
      if (high < low) throw new Error(`${spec.name} field ${field}: ${item} runs backwards`);
    }
    for (let value = low; value <= high; value += step) result.add(value);
  }
  return result;
}

function number(text: string, spec: FieldSpec, field: string): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + 1 : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= spec.min && value <= spec.max)) throw new Error(`${spec.name} field ${field}: ${text} is not in ${spec.min}-${spec.max}`);
  return value;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 (Sunday) to 7 (Saturday), as cron numbers them. */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function dayOfMonthMatcher(field: string): CronFields['dayMatches'] {
  if (field === 'L') return (year, month, day) => day === daysInMonth(year, month);
  const nearestWeekday = /^(\d+)W$/.exec(field);
  if (nearestWeekday !== null) {
    const target = number(nearestWeekday[1]!, DAY_OF_MONTH, field);
    return (year, month, day) => day === weekdayNearest(year, month, target);
  }
  const days = values(field, DAY_OF_MONTH);
  return (_year, _month, day) => days.has(day);
}

/** The weekday nearest a day of the month, never leaving the month (`1W` on a Saturday is Monday the 3rd). */
function weekdayNearest(year: number, month: number, target: number): number | undefined {
  const last = daysInMonth(year, month);
  if (target > last) return undefined;
  const day = weekday(year, month, target);
  if (day === 7) return target === 1 ? 3 : target - 1;
  if (day === 1) return target === last ? target - 2 : target + 1;
  return target;
}

function dayOfWeekMatcher(field: string): CronFields['dayMatches'] {
  const last = /^(\w+)?L$/.exec(field);
  if (last !== null) {
    // `L` alone is the week's last day, Saturday; `5L` the month's last Thursday.
    if (last[1] === undefined) return (year, month, day) => weekday(year, month, day) === 7;
    const target = number(last[1], DAY_OF_WEEK, field);
    return (year, month, day) => weekday(year, month, day) === target && day + 7 > daysInMonth(year, month);
  }
  const nth = /^(\w+)#([1-5])$/.exec(field);
  if (nth !== null) {
    const target = number(nth[1]!, DAY_OF_WEEK, field);
    const occurrence = Number(nth[2]);
    return (year, month, day) => weekday(year, month, day) === target && Math.ceil(day / 7) === occurrence;
  }
  const days = values(field, DAY_OF_WEEK);
  return (year, month, day) => days.has(weekday(year, month, day));
}

interface WallClock { readonly year: number; readonly month: number; readonly day: number; readonly hour: number; readonly minute: number }

interface Zone {
  /** The wall clock at an instant. */
  wallClock(time: number): WallClock;
  /** The instant a wall-clock time happens: the earlier of two, `undefined` in a gap. */
  toUtc(clock: WallClock): number | undefined;
}

function zoneOf(timeZone: string): Zone {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
    });
  } catch {
    throw new Error(`${timeZone} is not a time zone this Node.js knows`);
  }
  const wallClock = (time: number): WallClock => {
    const parts = Object.fromEntries(format.formatToParts(time).map((part) => [part.type, Number(part.value)]));
    return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute! };
  };
  const asUtc = (clock: WallClock): number => Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute);
  return {
    wallClock,
    toUtc(clock) {
      const naive = asUtc(clock);
      // The zone's offsets a day either side cover both sides of any one transition near this time.
      const offsets = new Set([naive - DAY_MS, naive + DAY_MS].map((time) => asUtc(wallClock(time)) - Math.floor(time / MINUTE_MS) * MINUTE_MS));
      const instants = [...offsets].map((offset) => naive - offset).filter((time) => asUtc(wallClock(time)) === naive);
      return instants.length === 0 ? undefined : Math.min(...instants);
    },
  };
}

/** The first time after `after` whose wall clock in the zone the fields match. */
function nextCronTime(fields: CronFields, zone: Zone, after: number): number | undefined {
  const from = zone.wallClock(after);
  for (let date = Date.UTC(from.year, from.month - 1, from.day); ; date += DAY_MS) {
    const calendar = new Date(date);
    const year = calendar.getUTCFullYear();
    if (year > LAST_YEAR) return undefined;
    const month = calendar.getUTCMonth() + 1;
    const day = calendar.getUTCDate();
    if (!fields.years.has(year) || !fields.months.has(month) || !fields.dayMatches(year, month, day)) continue;
    const firstDay = year === from.year && month === from.month && day === from.day;
    for (const hour of fields.hours) {
      if (firstDay && hour < from.hour) continue;
      for (const minute of fields.minutes) {
        // Earlier wall-clock times of the first day are all before `after`, even across a daylight-saving change.
        if (firstDay && hour === from.hour && minute < from.minute) continue;
        const time = zone.toUtc({ year, month, day, hour, minute });
        if (time !== undefined && time > after) return time;
      }
    }
  }
}
