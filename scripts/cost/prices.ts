/**
 * The price table (scripts/cost/prices.json): us-east-1, on-demand, one entry per billed
 * dimension, each with its unit, the date it was checked and the public pricing page it comes from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PRICES_FILE = join(__dirname, 'prices.json');

/** `usd` per `per` `unit`s, e.g. 0.20 USD per 1,000,000 requests. */
export interface Price {
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  /** ISO date (YYYY-MM-DD) the figure was taken from `source`. */
  readonly checked: string;
  /** The public pricing page. */
  readonly source: string;
  /** Free tiers and billing rules that the figures do not apply. */
  readonly note?: string;
  /** A quantity billed at least, per hour (RDS Proxy: 8 ACUs). */
  readonly minimum?: number;
}

export interface PriceTable {
  readonly region: string;
  readonly currency: string;
  readonly terms: string;
  /** What `checked` means. */
  readonly checked: string;
  readonly hoursPerMonth: number;
  readonly prices: Readonly<Record<string, Price>>;
}

export function loadPrices(file: string = PRICES_FILE): PriceTable {
  return JSON.parse(readFileSync(file, 'utf8')) as PriceTable;
}

/** The price of `key`; a key missing from the table is a programming error. */
export function priceOf(table: PriceTable, key: string): Price {
  const price = table.prices[key];
  if (price === undefined) throw new Error(`no price "${key}" in the price table`);
  return price;
}

/** The latest `checked` date of the table. */
export function lastChecked(table: PriceTable): string {
  return Object.values(table.prices).map((price) => price.checked).sort().at(-1) ?? '';
}
