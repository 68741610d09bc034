/** Pure: "why this lead qualified" from its score ledger: each rule's net points, newest first. */
export interface WhyItem {
  /** The rule's id (null for decay and flow rows), so pages can name a shipped rule in the reader's language. */
  ruleId: string | null;
  rule: string;
  score: 'fit' | 'engagement';
  points: number;
  at: number;
}

export function whyFromLedger(
  rows: { rule_id: string | null; rule_name: string; score: 'fit' | 'engagement'; points: number; at: number }[],
  limit = 8
): WhyItem[] {
  const byRule = new Map<string, WhyItem>();
  for (const r of rows) {
    const key = `${r.score}:${r.rule_name}`;
    const cur = byRule.get(key) ?? { ruleId: r.rule_id, rule: r.rule_name, score: r.score, points: 0, at: 0 };
    cur.points += r.points;
    cur.at = Math.max(cur.at, r.at);
    byRule.set(key, cur);
  }
  return [...byRule.values()]
    .filter((w) => w.points > 0)
    .sort((a, b) => b.at - a.at || b.points - a.points)
    .slice(0, limit);
}

/** The scores and thresholds at the moment scoring made the lead MQL: the card's "why" headline. */
export interface Qualified {
  fit: number;
  fitThreshold: number;
  engagement: number;
  engagementThreshold: number;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Reads a stage_changed event's properties: the `scores` scoring records with a move into MQL, or,
 * for events written before it did, the numbers in its English `reason` line. Null when the move
 * was not scoring's (a rep, an import) or carries no scores.
 */
export function qualifiedFrom(props: Record<string, unknown>): Qualified | null {
  if (props.to !== 'mql') return null;
  const s = props.scores as Partial<Qualified> | undefined;
  if (s && isNum(s.fit) && isNum(s.fitThreshold) && isNum(s.engagement) && isNum(s.engagementThreshold))
    return {
      fit: s.fit,
      fitThreshold: s.fitThreshold,
      engagement: s.engagement,
      engagementThreshold: s.engagementThreshold
    };
  const m =
    typeof props.reason === 'string'
      ? /fit (-?\d+) (?:≥|\/) (-?\d+), engagement (-?\d+) (?:≥|\/) (-?\d+)/.exec(props.reason)
      : null;
  return m
    ? {
        fit: Number(m[1]),
        fitThreshold: Number(m[2]),
        engagement: Number(m[3]),
        engagementThreshold: Number(m[4])
      }
    : null;
}

/** A hand-off summary's stored `qualified`: the object, or the English line older summaries kept. */
export const storedQualified = (v: unknown): Qualified | null =>
  v ? qualifiedFrom({ to: 'mql', scores: v, reason: v }) : null;
