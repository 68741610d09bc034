/**
 * Turns `{reason, <key>, count}` rows into a table: one row per key with a count per reason and
 * a total, busiest first, plus the reasons that occur, in the given order.
 */
export interface PivotRow {
  key: string;
  counts: Record<string, number>;
  total: number;
}

export function pivot<K extends string>(rows: readonly (Record<K, string> & { reason: string; count: number })[], key: K, order: readonly string[]): { reasons: string[]; rows: PivotRow[] } {
  const byKey = new Map<string, PivotRow>();
  const seen = new Set<string>();
  for (const r of rows) {
    const k = r[key];
    const row = byKey.get(k) ?? { key: k, counts: {}, total: 0 };
    row.counts[r.reason] = (row.counts[r.reason] ?? 0) + r.count;
    row.total += r.count;
    byKey.set(k, row);
    seen.add(r.reason);
  }
  const rank = (reason: string) => (order.includes(reason) ? order.indexOf(reason) : order.length);
  return {
    reasons: [...seen].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)),
    rows: [...byKey.values()].sort((a, b) => b.total - a.total || a.key.localeCompare(b.key))
  };
}
