/** Pure: "why this lead qualified" from its score ledger: each rule's net points, newest first. */
export interface WhyItem {
  rule: string;
  score: 'fit' | 'engagement';
  points: number;
  at: number;
}

export function whyFromLedger(rows: { rule_name: string; score: 'fit' | 'engagement'; points: number; at: number }[], limit = 8): WhyItem[] {
  const byRule = new Map<string, WhyItem>();
  for (const r of rows) {
    const key = `${r.score}:${r.rule_name}`;
    const cur = byRule.get(key) ?? { rule: r.rule_name, score: r.score, points: 0, at: 0 };
    cur.points += r.points;
    cur.at = Math.max(cur.at, r.at);
    byRule.set(key, cur);
  }
  return [...byRule.values()]
    .filter((w) => w.points > 0)
    .sort((a, b) => b.at - a.at || b.points - a.points)
    .slice(0, limit);
}
