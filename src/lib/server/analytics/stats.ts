/**
 * Small statistics the analytics views share. Pure: no database, no clock.
 * Percentiles use the nearest-rank method (the value at rank ceil(p·n)), so a p90 is always a
 * time some real hand-off took, and a hand count on a small table gives the same answer.
 */

/** The middle value; the mean of the two middle values for an even count. Null for no values. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile, p in (0, 1]. Null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil(p * s.length)));
  return s[rank - 1];
}

export function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

/** part / whole, or null when there is no whole (a rate of nothing is unknown, not zero). */
export function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** What each unit cost: null when nothing was bought or nothing was spent. */
export function costPer(spend: number, units: number): number | null {
  return units > 0 && spend > 0 ? spend / units : null;
}
