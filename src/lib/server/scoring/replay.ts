import { SCORE_MAX, type CapPeriod, type EngagementRule, type FitRule, type ScoringRule, type ScoringSettings } from '../../shared/scoring';
import { cappedPoints, clampEngagement, decayedEngagement, engagementRuleMatches, fitContributions, fitRuleMatches, type FitFacts } from './rules';

/**
 * Engagement replayed from a lead's event history under a rule set: the scoring lab's what-if and
 * its rescore both run this one function, so what the preview promises is what saving writes.
 *
 * Why a replay and not arithmetic on the ledger: caps (a rolling window per rule) and decay (halving
 * since the last scored activity) make engagement path-dependent, so changing one rule's points
 * can change what every later capped rule was allowed to add. Replaying the events is exact for
 * the rules; it differs from the live score only where the live path itself is approximate: the
 * live decay job runs hourly (here decay is continuous at each event), and live caps count from
 * the moment the dispatcher scored an event (here from the event's occurred_at).
 */

export interface ReplayEvent {
  at: number;
  type: string;
  /** url, path or page from the properties (first that is text), for rules with urlContains. */
  url: string | null;
  /** A machine open or scanner click: never scores. */
  machine: boolean;
  /** A flow's adjust_score on engagement: the points it added (to − from); null otherwise. */
  adjust: number | null;
}

/** A lead's events by position, oldest first: an array of ReplayEvent, or a view into a columnar store. */
export interface ReplaySource {
  readonly length: number;
  at(i: number): number;
  type(i: number): string;
  url(i: number): string | null;
  machine(i: number): boolean;
  adjust(i: number): number | null;
}

export function arraySource(events: ReplayEvent[]): ReplaySource {
  return {
    length: events.length,
    at: (i) => events[i].at,
    type: (i) => events[i].type,
    url: (i) => events[i].url,
    machine: (i) => events[i].machine,
    adjust: (i) => events[i].adjust
  };
}

export interface CompiledRules {
  fit: FitRule[];
  engagement: EngagementRule[];
  /** Rule indexes (into `engagement`) by event type. */
  byType: Map<string, number[]>;
  /** Event types any active engagement rule names: the only events worth reading. */
  types: string[];
  halfLifeDays: number;
}

export function compileRules(rules: ScoringRule[], settings: Pick<ScoringSettings, 'halfLifeDays'>): CompiledRules {
  const fit = rules.filter((r): r is FitRule => r.kind === 'fit' && r.active);
  const engagement = rules.filter((r): r is EngagementRule => r.kind === 'engagement' && r.active);
  const byType = new Map<string, number[]>();
  engagement.forEach((r, i) => byType.set(r.eventType, [...(byType.get(r.eventType) ?? []), i]));
  return { fit, engagement, byType, types: [...byType.keys()], halfLifeDays: settings.halfLifeDays };
}

/** Sum of the fit rules a lead matches. */
export function fitTotal(rules: FitRule[], lead: FitFacts): number {
  let n = 0;
  for (const p of fitContributions(rules, lead).values()) n += p;
  return n;
}

/**
 * fitTotal for many leads: a fit rule reads one field, and titles, sizes, industries, regions and
 * mail domains repeat across a base, so each rule's answer is remembered per field value.
 */
export function fitScorer(rules: FitRule[]): (lead: FitFacts) => number {
  const memo = rules.map(() => new Map<string, boolean>());
  return (lead) => {
    let n = 0;
    rules.forEach((rule, i) => {
      const raw = rule.field === 'email_domain' ? (lead.email?.slice(lead.email.lastIndexOf('@') + 1) ?? '') : (lead[rule.field] ?? '');
      let hit = memo[i].get(raw);
      if (hit === undefined) memo[i].set(raw, (hit = fitRuleMatches(rule, lead)));
      if (hit) n += rule.points;
    });
    return n;
  };
}

const PERIOD_MS: Record<CapPeriod, number> = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 };

export interface EngagementReplay {
  /** Engagement at `now`, decay included. */
  engagement: number;
  /** Points each rule (by index into CompiledRules.engagement) added over the history. */
  perRule: number[];
  /** Last scored activity and the engagement right after it: what the decay job counts from. */
  engagedAt: number | null;
  base: number;
  /** Engagement right after each scored event, when asked for (the backtest reads it). */
  steps?: { at: number; engagement: number }[];
}

/** Replays one lead's events (oldest first) under the compiled rules up to `now`. */
export function replayEngagement(c: CompiledRules, events: ReplaySource, now: number, keepSteps = false): EngagementReplay {
  const perRule = new Array<number>(c.engagement.length).fill(0);
  // Points each capped rule gave, with when, for its rolling window (events come in time order).
  const windows = new Map<number, { at: number[]; points: number[]; from: number }>();
  const steps: { at: number; engagement: number }[] | undefined = keepSteps ? [] : undefined;
  let base = 0;
  let engagedAt: number | null = null;
  const props: Record<string, unknown> = {};

  for (let k = 0; k < events.length; k++) {
    const at = events.at(k);
    if (at > now) continue;
    const type = events.type(k);
    const adjust = events.adjust(k);
    const matching = adjust === null ? c.byType.get(type) : undefined;
    if ((adjust === null && !matching) || events.machine(k)) continue;
    const current = engagedAt === null ? 0 : decayedEngagement(base, at - engagedAt, c.halfLifeDays);
    let engagement = current;
    if (adjust !== null) {
      engagement = clampEngagement(current + adjust, SCORE_MAX);
    } else if (matching) {
      props.url = events.url(k) ?? undefined;
      for (const i of matching) {
        const rule = c.engagement[i];
        if (!engagementRuleMatches(rule, type, props)) continue;
        let used = 0;
        let w = windows.get(i);
        if (rule.cap) {
          if (!w) windows.set(i, (w = { at: [], points: [], from: 0 }));
          const since = at - PERIOD_MS[rule.cap.period];
          while (w.from < w.at.length && w.at[w.from] <= since) w.from++;
          for (let k = w.from; k < w.points.length; k++) used += w.points[k];
        }
        const next = clampEngagement(engagement + cappedPoints(rule.points, rule.cap, used), SCORE_MAX);
        if (next === engagement) continue;
        if (w) {
          w.at.push(at);
          w.points.push(next - engagement);
        }
        perRule[i] += next - engagement;
        engagement = next;
      }
    }
    if (engagement === current) continue;
    base = engagement;
    engagedAt = at;
    steps?.push({ at, engagement });
  }
  const engagement = engagedAt === null ? 0 : decayedEngagement(base, now - engagedAt, c.halfLifeDays);
  return { engagement, perRule, engagedAt, base, steps };
}

/** Stages scoring may promote to MQL from; later stages belong to sales (as in scoring.service). */
export const MQL_FROM = new Set(['subscriber', 'lead']);
/** Where a lead that no longer meets the thresholds goes back to. */
export const BELOW_MQL_STAGE = 'lead';

export type StageMove = 'promote' | 'demote' | null;

/**
 * What a rule change does to a lead's stage: over both thresholds from an early stage it becomes
 * MQL; an MQL below them goes back to `lead`, unless a rep is working its open hand-off.
 */
export function stageMove(stage: string, fit: number, engagement: number, s: Pick<ScoringSettings, 'fitThreshold' | 'engagementThreshold'>, handedOff: boolean): StageMove {
  const meets = fit >= s.fitThreshold && engagement >= s.engagementThreshold;
  if (meets && MQL_FROM.has(stage)) return 'promote';
  if (!meets && stage === 'mql' && !handedOff) return 'demote';
  return null;
}

/**
 * When (if ever, up to `until`) the lead would first have met both thresholds: its fit (from its
 * attributes as they are now) and the first step reaching the engagement threshold. A threshold of
 * 0 is met from the lead's creation.
 */
export function firstMqlAt(steps: { at: number; engagement: number }[], fit: number, createdAt: number, until: number, s: Pick<ScoringSettings, 'fitThreshold' | 'engagementThreshold'>): number | null {
  if (fit < s.fitThreshold) return null;
  if (s.engagementThreshold <= 0) return createdAt <= until ? createdAt : null;
  for (const st of steps) {
    if (st.at > until) break;
    if (st.engagement >= s.engagementThreshold) return st.at;
  }
  return null;
}
