/**
 * The saga's order: what a client sends to start a saga, and what every step receives under
 * `order`. Hand-written checks (no schema library: the bundles stay small). Amounts are integer
 * minor units (cents), so no float ever reaches the payment step.
 */
import type { ErrorDetail } from '../../shared/http-errors';

export interface Order {
  readonly orderId: string;
  readonly customerId: string;
  readonly sku: string;
  readonly quantity: number;
  /** Minor units (cents). */
  readonly amount: number;
}

/** Ids: 1..64 letters, digits, '_' or '-' (they become DynamoDB keys and log fields). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ORDER_LIMITS = { maxQuantity: 1_000, maxAmount: 100_000_000 } as const;
const FIELDS = ['orderId', 'customerId', 'sku', 'quantity', 'amount'] as const;

export type OrderParse = { readonly order: Order } | { readonly problems: ErrorDetail[] };

/** Checks `value` as an order: every problem, with a JSON pointer to where it is. */
export function parseOrder(value: unknown, pointer = ''): OrderParse {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problems: [{ path: pointer || '/', message: 'must be an object' }] };
  }
  const record = value as Record<string, unknown>;
  const problems: ErrorDetail[] = [];
  for (const key of Object.keys(record)) {
    if (!(FIELDS as readonly string[]).includes(key)) problems.push({ path: `${pointer}/${key.slice(0, 64)}`, message: 'is not a field of an order' });
  }
  for (const key of ['orderId', 'customerId', 'sku'] as const) {
    const v = record[key];
    if (typeof v !== 'string' || !ID_PATTERN.test(v)) problems.push({ path: `${pointer}/${key}`, message: 'must be 1..64 letters, digits, _ or -' });
  }
  const integer = (key: 'quantity' | 'amount', max: number) => {
    const v = record[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) problems.push({ path: `${pointer}/${key}`, message: `must be an integer in 1..${max}` });
  };
  integer('quantity', ORDER_LIMITS.maxQuantity);
  integer('amount', ORDER_LIMITS.maxAmount);
  if (problems.length > 0) return { problems: problems.slice(0, 20) };
  const { orderId, customerId, sku, quantity, amount } = record as unknown as Order;
  return { order: { orderId, customerId, sku, quantity, amount } };
}
