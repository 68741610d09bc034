import { describe, expect, it } from 'vitest';
import { pivot } from './pivot';

describe('reject reasons pivot', () => {
  it('counts each reason per rule, busiest rule first, reasons in the given order', () => {
    const rows = [
      { reason: 'no_budget', rule: 'Pricing page', count: 2 },
      { reason: 'bad_fit', rule: 'Pricing page', count: 1 },
      { reason: 'bad_fit', rule: 'Executive title', count: 4 },
      { reason: 'recycled', rule: 'Executive title', count: 1 }
    ];
    const t = pivot(rows, 'rule', ['bad_fit', 'no_budget', 'wrong_contact', 'duplicate', 'other', 'recycled']);
    expect(t.reasons).toEqual(['bad_fit', 'no_budget', 'recycled']);
    expect(t.rows).toEqual([
      { key: 'Executive title', counts: { bad_fit: 4, recycled: 1 }, total: 5 },
      { key: 'Pricing page', counts: { no_budget: 2, bad_fit: 1 }, total: 3 }
    ]);
  });

  it('is empty for no rows', () => {
    expect(pivot([], 'source', [])).toEqual({ reasons: [], rows: [] });
  });
});
