import type { LabLead, LabStatements, LedgerSumRow } from '../repositories/scoring-lab.repo';
import type { ScoreLedgerTable } from '../db/schema';
import type { ScoringSettings } from '../../shared/scoring';
import { fitContributions } from './rules';
import {
  BELOW_MQL_STAGE,
  arraySource,
  replayEngagement,
  meetsThresholds,
  stageMove,
  type CompiledRules,
  type Thresholds,
  type ReplayEvent
} from './replay';

/**
 * One page of leads (ordered by id) with their scored events: the unit both the what-if scan and
 * the rescore work through, so neither holds the connection or the event loop for long.
 */
export interface LeadPage {
  leads: LabLead[];
  events: Map<string, ReplayEvent[]>;
  /** Leads a person holds at MQL: an open hand-off, or marked MQL by hand. */
  held: Set<string>;
}

export function readPage(
  stmts: LabStatements,
  types: string[],
  afterId: string,
  limit: number
): LeadPage | null {
  const leads = stmts.leadsPage(afterId, limit);
  if (!leads.length) return null;
  const first = leads[0].id;
  const last = leads[leads.length - 1].id;
  const events = new Map<string, ReplayEvent[]>();
  for (const r of stmts.eventsFor(types, first, last)) {
    let list = events.get(r.lead_id);
    if (!list) events.set(r.lead_id, (list = []));
    list.push({
      at: r.occurred_at,
      type: r.type,
      url: r.url,
      machine: r.machine === 1,
      adjust: r.adjust === null ? null : Number(r.adjust)
    });
  }
  return { leads, events, held: stmts.heldAtMql(first, last) };
}

/** What the draft makes of one lead: the what-if's row. */
export interface DraftScore {
  fit: number;
  engagement: number;
}

/**
 * The draft's fit for a lead: whatever the current rules do not explain (a flow's adjust_score)
 * stays, and the current rules' share is swapped for the draft's (`delta`, from fitDeltaScorer).
 * Computed from attributes alone, so the what-if needs no ledger read; it equals the rescore's
 * ledger-based figure whenever the ledger agrees with the current rules, which every lab save
 * keeps true by rescoring.
 */
export function draftFit(lead: LabLead, delta: (l: LabLead) => number): number {
  return lead.fit_score + delta(lead);
}

export const RESCORE_REASON = 'rescore after rule change';

export interface RescoreOutcome {
  fit: number;
  engagement: number;
  stage: string;
  ledger: ScoreLedgerTable[];
  /** A stage_changed event to append, when the stage moves. */
  stageEvent: {
    from: string;
    to: string;
    reason: string;
    scores: { fit: number; fitThreshold: number; engagement: number; engagementThreshold: number };
  } | null;
  engagedAt: number | null;
  base: number;
}

interface LeadLedger {
  fit: Map<string, number>;
  engagement: Map<string, number>;
}

/** The page's ledger sums by lead, score and rule (rule-less rows, decay and flows, left out). */
export function ledgerByLead(rows: LedgerSumRow[]): Map<string, LeadLedger> {
  const out = new Map<string, LeadLedger>();
  for (const r of rows) {
    if (r.rule_id === null) continue;
    let l = out.get(r.lead_id);
    if (!l) out.set(r.lead_id, (l = { fit: new Map(), engagement: new Map() }));
    l[r.score].set(r.rule_id, Number(r.points));
  }
  return out;
}

/**
 * A lead rescored under new rules, with the ledger rows that explain the change: one per rule whose
 * share moved (fit from attributes, engagement from the replayed events), and for engagement one
 * row for what no rule accounts for (decay over the history, flows, the 0..100 clamp), so the
 * ledger still adds up to the score.
 */
export function rescoreLead(
  lead: LabLead,
  events: ReplayEvent[],
  have: LeadLedger | undefined,
  rules: CompiledRules,
  settings: ScoringSettings,
  /** The live thresholds the lead is measured against before the change, and whether a person holds it at MQL. */
  before: { thresholds: Thresholds; held: boolean },
  now: number,
  newId: () => string
): RescoreOutcome {
  const ledger: ScoreLedgerTable[] = [];
  const row = (
    score: 'fit' | 'engagement',
    ruleId: string | null,
    name: string,
    points: number,
    total: number
  ): ScoreLedgerTable => ({
    id: newId(),
    lead_id: lead.id,
    score,
    rule_id: ruleId,
    rule_name: name,
    points,
    total,
    reason: RESCORE_REASON,
    event_id: null,
    at: now
  });

  const names = new Map<string, string>([...rules.fit, ...rules.engagement].map((r) => [r.id, r.name]));
  const want = fitContributions(rules.fit, lead);
  let fit = lead.fit_score;
  for (const id of new Set([...want.keys(), ...(have?.fit.keys() ?? [])])) {
    const diff = (want.get(id) ?? 0) - (have?.fit.get(id) ?? 0);
    if (diff === 0) continue;
    fit += diff;
    ledger.push(row('fit', id, names.get(id) ?? id, diff, fit));
  }

  const replay = replayEngagement(rules, arraySource(events), now);
  const gained = new Map<string, number>(rules.engagement.map((r, i) => [r.id, replay.perRule[i]]));
  let engagement = lead.engagement_score;
  for (const id of new Set([...gained.keys(), ...(have?.engagement.keys() ?? [])])) {
    const diff = (gained.get(id) ?? 0) - (have?.engagement.get(id) ?? 0);
    if (diff === 0) continue;
    engagement += diff;
    ledger.push(row('engagement', id, names.get(id) ?? id, diff, engagement));
  }
  const rest = replay.engagement - engagement;
  if (rest !== 0) ledger.push(row('engagement', null, 'decay', rest, replay.engagement));

  const move = stageMove({
    stage: lead.stage,
    metBefore: meetsThresholds(lead.fit_score, lead.engagement_score, before.thresholds),
    meetsDraft: meetsThresholds(fit, replay.engagement, settings),
    held: before.held
  });
  const to = move === 'promote' ? 'mql' : move === 'demote' ? BELOW_MQL_STAGE : lead.stage;
  const why = `fit ${fit} / ${settings.fitThreshold}, engagement ${replay.engagement} / ${settings.engagementThreshold}`;
  return {
    fit,
    engagement: replay.engagement,
    stage: to,
    ledger,
    stageEvent: move
      ? {
          from: lead.stage,
          to,
          reason: `${RESCORE_REASON}: ${why}`,
          scores: {
            fit,
            fitThreshold: settings.fitThreshold,
            engagement: replay.engagement,
            engagementThreshold: settings.engagementThreshold
          }
        }
      : null,
    engagedAt: replay.engagedAt,
    base: replay.base
  };
}
