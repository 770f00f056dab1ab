/** The price table: every price has its unit, the date it was checked and the public page it comes from. */
import { MAIN_PATHS } from '../../scripts/cost/assumptions';
import { loadPrices } from '../../scripts/cost/prices';

const table = loadPrices();

describe('price table', () => {
  test('is us-east-1, in USD, with a month of hours', () => {
    expect(table.region).toBe('us-east-1');
    expect(table.currency).toBe('USD');
    expect(table.hoursPerMonth).toBe(730);
  });

  test.each(Object.entries(table.prices))('%s has a positive price, a unit, a checked date and an https source', (_key, price) => {
    expect(price.usd).toBeGreaterThan(0);
    expect(price.per).toBeGreaterThan(0);
    expect(price.unit.trim()).not.toBe('');
    expect(price.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Number.isNaN(Date.parse(price.checked))).toBe(false);
    expect(price.source).toMatch(/^https:\/\/aws\.amazon\.com\/[a-z0-9/-]+\/$/);
  });

  test('every main path describes what it counts, with positive quantities', () => {
    for (const [key, path] of Object.entries(MAIN_PATHS)) {
      expect([key, path.unit.trim()]).not.toEqual([key, '']);
      expect(path.functions.length).toBeGreaterThan(0);
      for (const step of path.functions) expect(step.invocations * step.durationMs).toBeGreaterThan(0);
    }
  });
});
