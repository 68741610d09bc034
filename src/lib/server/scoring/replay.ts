import {
  SCORE_MAX,
  type CapPeriod,
  type EngagementRule,
  type FitRule,
  type ScoringRule,
  type ScoringSettings
} from '../../shared/scoring';
import {
  cappedPoints,
  clampEngagement,
  decayedEngagement,
  fitRuleMatches,
  urlHas,
  type FitFacts
} from './rules';

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

/**
 * A lead's events as columns, oldest first, at positions [from, from + length): a view into the
 * lab's columnar store, or columns built from a ReplayEvent list. Types and urls are codes into
 * `typeNames` and `urls` (url -1: none); adjust is NaN where the event is not a flow's adjust_score.
 */
export interface ReplaySource {
  from: number;
  length: number;
  at: ArrayLike<number>;
  type: ArrayLike<number>;
  typeNames: readonly string[];
  url: ArrayLike<number>;
  urls: readonly string[];
  machine: ArrayLike<number>;
  adjust: ArrayLike<number>;
}

export function arraySource(events: ReplayEvent[]): ReplaySource {
  const typeNames = [...new Set(events.map((e) => e.type))];
  const urls: string[] = [];
  return {
    from: 0,
    length: events.length,
    at: events.map((e) => e.at),
    type: events.map((e) => typeNames.indexOf(e.type)),
    typeNames,
    url: events.map((e) => (e.url === null ? -1 : urls.push(e.url) - 1)),
    urls,
    machine: events.map((e) => (e.machine ? 1 : 0)),
    adjust: events.map((e) => e.adjust ?? NaN)
  };
}

export interface CompiledRules {
  fit: FitRule[];
  engagement: EngagementRule[];
  /** Rule indexes (into `engagement`) by event type. */
  byType: Map<string, number[]>;
  /** Event types any active engagement rule names: the only events worth reading. */
  types: string[];
  /** Each engagement rule's urlContains in lower case, or null (the replay's per-event test). */
  needles: (string | null)[];
  /** byType by a source's type codes, per type-name table (the store's is shared by every lead). */
  byCode: WeakMap<readonly string[], (number[] | undefined)[]>;
  halfLifeDays: number;
}

export function compileRules(
  rules: ScoringRule[],
  settings: Pick<ScoringSettings, 'halfLifeDays'>
): CompiledRules {
  const fit = rules.filter((r): r is FitRule => r.kind === 'fit' && r.active);
  const engagement = rules.filter((r): r is EngagementRule => r.kind === 'engagement' && r.active);
  const byType = new Map<string, number[]>();
  engagement.forEach((r, i) => byType.set(r.eventType, [...(byType.get(r.eventType) ?? []), i]));
  return {
    fit,
    engagement,
    byType,
    types: [...byType.keys()],
    needles: engagement.map((r) => r.urlContains?.toLowerCase() || null),
    byCode: new WeakMap(),
    halfLifeDays: settings.halfLifeDays
  };
}

/**
 * The draft's fit minus the current rules' fit, for many leads. A fit rule reads one field, and
 * titles, sizes, industries, regions and mail domains repeat across a base, so each field's
 * difference is remembered per field value: a lead costs one lookup per field the rules read.
 */
export function fitDeltaScorer(current: FitRule[], draft: FitRule[]): (lead: FitFacts) => number {
  const sum = (rules: FitRule[], lead: FitFacts) =>
    rules.reduce((n, r) => (fitRuleMatches(r, lead) ? n + r.points : n), 0);
  const fields = [...new Set([...current, ...draft].map((r) => r.field))].map((field) => ({
    field,
    now: current.filter((r) => r.field === field),
    draft: draft.filter((r) => r.field === field),
    memo: new Map<string, number>()
  }));
  return (lead) => {
    let delta = 0;
    for (const f of fields) {
      // The key holds everything fitRuleMatches reads of the field (the domain, for email_domain).
      const raw =
        f.field === 'email_domain'
          ? (lead.email?.slice(lead.email.lastIndexOf('@') + 1) ?? '')
          : (lead[f.field] ?? '');
      let d = f.memo.get(raw);
      if (d === undefined) f.memo.set(raw, (d = sum(f.draft, lead) - sum(f.now, lead)));
      delta += d;
    }
    return delta;
  };
}

const PERIOD_MS: Record<CapPeriod, number> = {
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000
};

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
export function replayEngagement(
  c: CompiledRules,
  events: ReplaySource,
  now: number,
  keepSteps = false
): EngagementReplay {
  const perRule = new Array<number>(c.engagement.length).fill(0);
  // Points each capped rule gave, with when, for its rolling window (events come in time order).
  const windows = new Map<number, { at: number[]; points: number[]; from: number }>();
  const steps: { at: number; engagement: number }[] | undefined = keepSteps ? [] : undefined;
  let base = 0;
  let engagedAt: number | null = null;

  let rulesOf = c.byCode.get(events.typeNames);
  if (!rulesOf || rulesOf.length !== events.typeNames.length)
    c.byCode.set(events.typeNames, (rulesOf = events.typeNames.map((t) => c.byType.get(t))));
  const end = events.from + events.length;
  for (let k = events.from; k < end; k++) {
    const at = events.at[k];
    if (at > now || events.machine[k] === 1) continue;
    const adjustBy = events.adjust[k];
    const adjust = Number.isNaN(adjustBy) ? null : adjustBy;
    const matching = adjust === null ? rulesOf[events.type[k]] : undefined;
    if (adjust === null && !matching) continue;
    const current = engagedAt === null ? 0 : decayedEngagement(base, at - engagedAt, c.halfLifeDays);
    let engagement = current;
    if (adjust !== null) {
      engagement = clampEngagement(current + adjust, SCORE_MAX);
    } else if (matching) {
      // Rules matched by type already (byType holds active rules only); what is left is the URL test.
      const urlCode = events.url[k];
      const url = urlCode < 0 ? null : events.urls[urlCode];
      for (const i of matching) {
        const rule = c.engagement[i];
        const needle = c.needles[i];
        if (needle !== null && !urlHas(url, needle)) continue;
        let used = 0;
        let w = windows.get(i);
        if (rule.cap) {
          if (!w) windows.set(i, (w = { at: [], points: [], from: 0 }));
          const since = at - PERIOD_MS[rule.cap.period];
          while (w.from < w.at.length && w.at[w.from] <= since) w.from++;
          for (let p = w.from; p < w.points.length; p++) used += w.points[p];
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

/** Stages scoring may promote to MQL from; later stages belong to sales. */
export const MQL_FROM = new Set(['subscriber', 'lead']);
/** Where a lead that no longer meets the thresholds goes back to. */
export const BELOW_MQL_STAGE = 'lead';

/** The two MQL thresholds, the part of the settings a stage decision reads. */
export type Thresholds = Pick<ScoringSettings, 'fitThreshold' | 'engagementThreshold'>;
export const meetsThresholds = (fit: number, engagement: number, t: Thresholds) =>
  fit >= t.fitThreshold && engagement >= t.engagementThreshold;

/**
 * Whether scoring makes a lead MQL, live and in the lab alike: over both thresholds from an early
 * stage; and a lead sales sent back (recycled, or rejected) when it crosses them again. It still
 * met them when sales sent it back, so it must fall below (decay, a negative rule) and re-earn
 * them: a new sign of interest, not the old one handing it straight back to the rep.
 */
export function promotesToMql(stage: string, metBefore: boolean, meetsNow: boolean): boolean {
  return meetsNow && (MQL_FROM.has(stage) || (stage === 'recycled' && !metBefore));
}

export type StageMove = 'promote' | 'demote' | null;

export interface StageFacts {
  stage: string;
  /** Meets the live thresholds with the live scores (before the change). */
  metBefore: boolean;
  /** Meets the draft's thresholds with the draft's scores. */
  meetsDraft: boolean;
  /** A person holds it at MQL: a rep works its open hand-off, or it was marked MQL by hand. */
  held: boolean;
}

/**
 * What a rule change does to a lead's stage. Promotion as promotesToMql. Demotion only where the
 * change is the cause: an MQL that met the live thresholds and misses the draft's goes back to
 * `lead`, unless a person holds it. An MQL that already missed the live thresholds (set by hand,
 * imported, or qualified under older rules) is left alone: the admin's edit did not move it.
 */
export function stageMove(f: StageFacts): StageMove {
  if (promotesToMql(f.stage, f.metBefore, f.meetsDraft)) return 'promote';
  if (f.stage === 'mql' && f.metBefore && !f.meetsDraft && !f.held) return 'demote';
  return null;
}

/**
 * When (if ever, up to `until`) the lead would first have met both thresholds: its fit (from its
 * attributes as they are now) and the first step reaching the engagement threshold. A threshold of
 * 0 is met from the lead's creation.
 */
export function firstMqlAt(
  steps: { at: number; engagement: number }[],
  fit: number,
  createdAt: number,
  until: number,
  s: Thresholds
): number | null {
  if (fit < s.fitThreshold) return null;
  if (s.engagementThreshold <= 0) return createdAt <= until ? createdAt : null;
  for (const st of steps) {
    if (st.at > until) break;
    if (st.engagement >= s.engagementThreshold) return st.at;
  }
  return null;
}
