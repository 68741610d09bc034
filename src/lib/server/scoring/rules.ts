import type { CapPeriod, EngagementRule, FitRule } from '../../shared/scoring';

/** Pure scoring rules: no database, no clock. The service feeds leads, events and time in. */

export interface FitFacts {
  email: string | null;
  job_title: string | null;
  company_size: string | null;
  industry: string | null;
  region: string | null;
  country: string | null;
  city: string | null;
  company: string | null;
}

function fieldValue(lead: FitFacts, field: FitRule['field']): string | null {
  if (field === 'email_domain') {
    const at = lead.email?.lastIndexOf('@') ?? -1;
    return at >= 0 ? lead.email!.slice(at + 1).toLowerCase() : null;
  }
  const v = lead[field];
  return v ? v.trim().toLowerCase() : null;
}

/** "50-200", "200+", "1 000" and "500 сотрудников" read as their first number. */
export function parseCompanySize(text: string): number | null {
  const m = text.replace(/(\d)[\s\u00a0](?=\d{3}\b)/g, '$1').match(/\d+/);
  return m ? Number(m[0]) : null;
}

export function fitRuleMatches(rule: FitRule, lead: FitFacts): boolean {
  if (!rule.active) return false;
  const v = fieldValue(lead, rule.field);
  // An empty field proves nothing, for positive and negative rules alike.
  if (!v) return false;
  const values = (rule.values ?? []).map((x) => x.toLowerCase());
  switch (rule.op) {
    case 'contains_any':
      return values.some((x) => v.includes(x));
    case 'equals_any':
      return values.includes(v);
    case 'not_equals_any':
      return !values.includes(v);
    case 'ends_with_any':
      return values.some((x) => v.endsWith(x) || (x.endsWith('.') && v.startsWith(x)));
    case 'range': {
      const n = rule.field === 'company_size' ? parseCompanySize(v) : Number(v);
      if (n === null || !Number.isFinite(n)) return false;
      return (rule.min === undefined || n >= rule.min) && (rule.max === undefined || n <= rule.max);
    }
  }
}

/** Each fit rule's points for the lead: the rules that match, with their points. */
export function fitContributions(rules: FitRule[], lead: FitFacts): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rules) if (fitRuleMatches(r, lead)) out.set(r.id, r.points);
  return out;
}

export function engagementRuleMatches(
  rule: EngagementRule,
  type: string,
  props: Record<string, unknown>
): boolean {
  if (!rule.active || rule.eventType !== type) return false;
  if (!rule.urlContains) return true;
  const url = [props.url, props.path, props.page].find((x) => typeof x === 'string') as string | undefined;
  return urlHas(url ?? null, rule.urlContains.toLowerCase());
}

/** A rule's urlContains test, case-insensitive; `needle` is already lower case (the replay lowers it once per rule). */
export const urlHas = (url: string | null, needle: string) => !!url && url.toLowerCase().includes(needle);

const PERIOD_MS: Record<CapPeriod, number> = {
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000
};
/** Caps count over a rolling period ending now: no time zone decides when "today" began. */
export const capWindowStart = (period: CapPeriod, now: number) => now - PERIOD_MS[period];

/** Points a capped rule may still add: its points, cut to what is left of the cap. */
export function cappedPoints(
  points: number,
  cap: { points: number } | undefined,
  usedInPeriod: number
): number {
  if (!cap) return points;
  const left = Math.max(0, cap.points - Math.abs(usedInPeriod));
  return Math.sign(points) * Math.min(Math.abs(points), left);
}

/** Engagement `base` points after `elapsedMs` without activity, halving every half-life, in whole points. */
export function decayedEngagement(base: number, elapsedMs: number, halfLifeDays: number): number {
  if (base <= 0 || elapsedMs <= 0) return Math.max(0, base);
  return Math.round(base * 0.5 ** (elapsedMs / (halfLifeDays * 86_400_000)));
}

/** Engagement stays within 0..SCORE_MAX no matter how many rules fire. */
export const clampEngagement = (n: number, max: number) => Math.min(max, Math.max(0, n));
