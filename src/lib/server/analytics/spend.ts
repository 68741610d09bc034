/**
 * Spend is entered per period (usually a month); a view's range takes each period's share by
 * overlap, so a monthly budget seen for one week counts a week of it. Amounts come in kopecks
 * and leave in rubles.
 */
export interface SpendPeriod {
  channel_id: string;
  period_start: number;
  period_end: number;
  amount_minor: number;
}

export function prorate(periods: readonly SpendPeriod[], from: number, to: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of periods) {
    const overlap = Math.min(p.period_end, to) - Math.max(p.period_start, from);
    if (overlap <= 0) continue;
    const share = (Number(p.amount_minor) * overlap) / Math.max(1, p.period_end - p.period_start);
    out.set(p.channel_id, (out.get(p.channel_id) ?? 0) + share / 100);
  }
  for (const [k, v] of out) out.set(k, Math.round(v * 100) / 100);
  return out;
}
