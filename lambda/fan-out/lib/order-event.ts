/**
 * The order event of the fan-out example, and its strict validation (hand-written: no schema
 * library in the bundle, and every problem is reported with its JSON pointer).
 *
 * | field | rule |
 * |---|---|
 * | eventId | a UUID (8-4-4-4-12 hex digits, any version); stored lower case. The publisher generates one when absent |
 * | orderId | 1..64 characters of `A-Z a-z 0-9 . _ : -` |
 * | customerId | 1..64 characters of `A-Z a-z 0-9 . _ : -` |
 * | type | `created`, `paid`, `shipped` or `cancelled` |
 * | amount | a JSON number, finite, 0..1e9, at most 5 decimal places (SNS numeric filters compare 5 decimals) |
 * | currency | 3 upper-case letters (ISO 4217 style, e.g. `EUR`) |
 * | occurredAt | ISO-8601 date-time with seconds and an offset: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, a real calendar date |
 *
 * No other field is allowed (a typo must not pass silently). Safe ids never contain `#`, so
 * they can be embedded in DynamoDB keys (`lib/keys.ts`).
 */
import type { ErrorDetail } from '../../shared/http-errors';

export const ORDER_EVENT_TYPES = ['created', 'paid', 'shipped', 'cancelled'] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

export interface OrderEvent {
  readonly eventId: string;
  readonly orderId: string;
  readonly customerId: string;
  readonly type: OrderEventType;
  readonly amount: number;
  readonly currency: string;
  readonly occurredAt: string;
}

export const ORDER_EVENT_LIMITS = {
  maxAmount: 1e9,
  maxAmountDecimals: 5,
  maxIdLength: 64,
} as const;

export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const SAFE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

const FIELDS = ['eventId', 'orderId', 'customerId', 'type', 'amount', 'currency', 'occurredAt'] as const;

/** Epoch milliseconds of a valid `occurredAt`, `undefined` when it is not one. */
export function parseOccurredAt(value: string): number | undefined {
  const m = ISO_DATE_TIME.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  if (m[8] !== 'Z' && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function hasAtMostDecimals(n: number, decimals: number): boolean {
  return Number(n.toFixed(decimals)) === n;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Options of `checkOrderEvent`. */
export interface CheckOptions {
  /** Accept a missing `eventId` (the publisher then generates one). @default false */
  readonly eventIdOptional?: boolean;
  /** Prefix of every problem path, e.g. `/events/3`. @default '' */
  readonly pathPrefix?: string;
}

/**
 * Checks a parsed JSON value. Returns the event (eventId lower case; `eventId` is `''` when
 * absent and optional) or the problems, each with a JSON pointer. Never throws.
 */
export type CheckResult = { event: OrderEvent; problems?: undefined } | { event?: undefined; problems: ErrorDetail[] };

export function checkOrderEvent(value: unknown, options: CheckOptions = {}): CheckResult {
  const prefix = options.pathPrefix ?? '';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problems: [{ path: prefix === '' ? '/' : prefix, message: `must be an object, got ${describe(value)}` }] };
  }
  const input = value as Record<string, unknown>;
  const problems: ErrorDetail[] = [];
  const add = (field: string, message: string): void => {
    problems.push({ path: `${prefix}/${field}`, message });
  };
  const unknown = Object.keys(input).filter((k) => !(FIELDS as readonly string[]).includes(k));
  for (const key of unknown.slice(0, 5)) add(key.slice(0, 40).replace(/~/g, '~0').replace(/\//g, '~1'), 'is not an allowed field');

  const str = (field: (typeof FIELDS)[number]): string | undefined => {
    const v = input[field];
    if (v === undefined) {
      add(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      add(field, `must be a string, got ${describe(v)}`);
      return undefined;
    }
    return v;
  };

  let eventId = '';
  if (input.eventId !== undefined || !options.eventIdOptional) {
    const v = str('eventId');
    if (v !== undefined && !UUID_PATTERN.test(v)) add('eventId', 'must be a UUID (8-4-4-4-12 hexadecimal digits)');
    else if (v !== undefined) eventId = v.toLowerCase();
  }
  for (const field of ['orderId', 'customerId'] as const) {
    const v = str(field);
    if (v !== undefined && !SAFE_ID_PATTERN.test(v)) add(field, 'must be 1..64 characters of A-Z a-z 0-9 . _ : -');
  }
  const type = str('type');
  if (type !== undefined && !(ORDER_EVENT_TYPES as readonly string[]).includes(type)) add('type', `must be one of ${ORDER_EVENT_TYPES.join(', ')}`);
  const amount = input.amount;
  if (amount === undefined) add('amount', 'is required');
  else if (typeof amount !== 'number') add('amount', `must be a number, got ${describe(amount)}`);
  else if (!Number.isFinite(amount) || amount < 0 || amount > ORDER_EVENT_LIMITS.maxAmount) add('amount', `must be a finite number in 0..${ORDER_EVENT_LIMITS.maxAmount}`);
  else if (!hasAtMostDecimals(amount, ORDER_EVENT_LIMITS.maxAmountDecimals)) add('amount', `must have at most ${ORDER_EVENT_LIMITS.maxAmountDecimals} decimal places`);
  const currency = str('currency');
  if (currency !== undefined && !CURRENCY_PATTERN.test(currency)) add('currency', 'must be 3 upper-case letters');
  const occurredAt = str('occurredAt');
  if (occurredAt !== undefined && parseOccurredAt(occurredAt) === undefined) add('occurredAt', 'must be an ISO-8601 date-time with an offset, e.g. 2025-01-31T12:00:00Z');

  if (problems.length > 0) return { problems };
  return {
    event: {
      eventId,
      orderId: input.orderId as string,
      customerId: input.customerId as string,
      type: type as OrderEventType,
      // -0 is stored and published as 0
      amount: (amount as number) + 0,
      currency: currency as string,
      occurredAt: occurredAt as string,
    },
  };
}

/** One line listing the problems: `/amount must be ...; /currency must be ...`. */
export function formatProblems(problems: readonly ErrorDetail[]): string {
  return problems.map((p) => `${p.path} ${p.message}`).join('; ');
}
