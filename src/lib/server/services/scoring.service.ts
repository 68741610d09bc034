import type { Db } from '../db/database';
import type { ScoreLedgerTable } from '../db/schema';
import { scoringRepo } from '../repositories/scoring.repo';
import { settingsRepo } from '../repositories/settings.repo';
import { eventsRepo } from '../repositories/events.repo';
import { parseJson } from '../repositories/json';
import { NotFoundError, type Deps } from './deps';
import {
  DEFAULT_SCORING_SETTINGS,
  SCORE_MAX,
  gradeOf,
  scoringRuleSchema,
  scoringSettingsSchema,
  type EngagementRule,
  type FitRule,
  type ScoringRule,
  type ScoringSettings
} from '../../shared/scoring';
import {
  cappedPoints,
  capWindowStart,
  clampEngagement,
  decayedEngagement,
  engagementRuleMatches,
  fitContributions
} from '../scoring/rules';
import { meetsThresholds, promotesToMql } from '../scoring/replay';

export const SETTINGS_KEY = 'scoring.settings';
/** Lead events after which the lead's attributes may differ: fit is recomputed. */
const FIT_EVENTS = new Set(['lead_created', 'lead_captured', 'field_changed', 'lead_merged']);
/** Stages from which scoring may promote a lead to MQL; later stages belong to sales. */
/** Another process (a separate worker) may have saved new rules: re-read them this often. */
const RULES_TTL_MS = 30_000;
const DECAY_EVERY_MS = 3_600_000;
const DECAY_BATCH = 500;
const DAY_MS = 86_400_000;

interface RuleSet {
  all: ScoringRule[];
  fit: FitRule[];
  /** Engagement rules by event type: an event no rule names costs one map lookup. */
  byEvent: Map<string, EngagementRule[]>;
  names: Map<string, string>;
  settings: ScoringSettings;
  loadedAt: number;
}

export interface DispatchedEvent {
  id: string;
  lead_id: string | null;
  type: string;
}

/**
 * Fit and engagement scores, kept as events arrive (the engine's dispatcher calls onEvent inside
 * its transaction), with every change a ledger row so the card can say why a lead has its score.
 */
export function createScoringService(deps: Deps) {
  const { db, clock, ids } = deps;
  let cache: RuleSet | null = null;
  let lastDecayAt = -Infinity;

  async function ruleSet(on: Db): Promise<RuleSet> {
    if (cache && performance.now() - cache.loadedAt < RULES_TTL_MS) return cache;
    const rows = await scoringRepo.listRules(on);
    const all: ScoringRule[] = [];
    for (const r of rows) {
      const parsed = scoringRuleSchema.safeParse(parseJson(r.definition, {}));
      // A stored rule that no longer parses is skipped rather than stopping all scoring.
      if (parsed.success) all.push(parsed.data);
      else console.error(`[scoring] rule ${r.id} skipped: ${parsed.error.message}`);
    }
    const byEvent = new Map<string, EngagementRule[]>();
    for (const r of all)
      if (r.kind === 'engagement' && r.active)
        byEvent.set(r.eventType, [...(byEvent.get(r.eventType) ?? []), r]);
    const stored = scoringSettingsSchema.safeParse(
      await settingsRepo.get(on, SETTINGS_KEY, DEFAULT_SCORING_SETTINGS)
    );
    cache = {
      all,
      fit: all.filter((r): r is FitRule => r.kind === 'fit'),
      byEvent,
      names: new Map(all.map((r) => [r.id, r.name])),
      settings: stored.success ? stored.data : DEFAULT_SCORING_SETTINGS,
      loadedAt: performance.now()
    };
    return cache;
  }

  const ledgerRow = (
    leadId: string,
    score: 'fit' | 'engagement',
    rule: { id: string | null; name: string },
    points: number,
    total: number,
    reason: string,
    eventId: string | null,
    at: number
  ): ScoreLedgerTable => ({
    id: ids.newId(),
    lead_id: leadId,
    score,
    rule_id: rule.id,
    rule_name: rule.name,
    points,
    total,
    reason,
    event_id: eventId,
    at
  });

  type ScoredLead = NonNullable<Awaited<ReturnType<typeof scoringRepo.leadForScoring>>>;

  /**
   * Writes the new scores (one lead update) and, when promotesToMql says so (over both thresholds
   * from an early stage, or crossing them again after sales recycled the lead), promotes the lead
   * to MQL with a `stage_changed` event lifecycle flows (and the hand-off) see.
   */
  async function commitScores(
    trx: Db,
    lead: ScoredLead,
    fit: number,
    engagement: number,
    rules: RuleSet,
    now: number
  ) {
    const t = rules.settings;
    const promote = promotesToMql(
      lead.stage,
      meetsThresholds(lead.fit_score, lead.engagement_score, t),
      meetsThresholds(fit, engagement, t)
    );
    if (!promote && fit === lead.fit_score && engagement === lead.engagement_score) return;
    await scoringRepo.updateLeadScores(
      trx,
      lead.id,
      { fit_score: fit, engagement_score: engagement, ...(promote ? { stage: 'mql' } : {}) },
      now
    );
    if (!promote) return;
    await eventsRepo.append(trx, {
      id: ids.newId(),
      lead_id: lead.id,
      type: 'stage_changed',
      properties: JSON.stringify({
        field: 'stage',
        from: lead.stage,
        to: 'mql',
        by: 'scoring',
        reason: `fit ${fit} ≥ ${t.fitThreshold}, engagement ${engagement} ≥ ${t.engagementThreshold}`,
        // The numbers again, for pages that say it in the reader's language (the reason is the log's line).
        scores: { fit, fitThreshold: t.fitThreshold, engagement, engagementThreshold: t.engagementThreshold }
      }),
      source: 'scoring',
      actor_id: null,
      occurred_at: now,
      received_at: now,
      dedupe_key: null
    });
  }

  /** Fit is the sum of the matching fit rules; the ledger gets one row per rule whose share changed. */
  async function rescoreFit(trx: Db, lead: ScoredLead, rules: RuleSet, eventId: string | null, now: number) {
    const want = fitContributions(rules.fit, lead);
    const have = await scoringRepo.fitByRule(trx, lead.id);
    const rows: ScoreLedgerTable[] = [];
    let fit = lead.fit_score;
    for (const ruleId of new Set([...want.keys(), ...have.keys()])) {
      const diff = (want.get(ruleId) ?? 0) - (have.get(ruleId)?.points ?? 0);
      if (diff === 0) continue;
      fit += diff;
      const name = rules.names.get(ruleId) ?? have.get(ruleId)?.name ?? ruleId;
      rows.push(
        ledgerRow(
          lead.id,
          'fit',
          { id: ruleId, name },
          diff,
          fit,
          want.has(ruleId) ? 'matches' : 'no longer matches',
          eventId,
          now
        )
      );
    }
    await scoringRepo.appendLedger(trx, rows);
    return { fit, changed: rows.length > 0 };
  }

  /** Points from the engagement rules an event matches, each cut to what its cap has left. */
  async function engagementRows(
    trx: Db,
    lead: ScoredLead,
    matching: EngagementRule[],
    eventId: string,
    now: number
  ) {
    const rows: ScoreLedgerTable[] = [];
    let engagement = lead.engagement_score;
    for (const rule of matching) {
      const used = rule.cap
        ? await scoringRepo.rulePointsSince(trx, lead.id, rule.id, capWindowStart(rule.cap.period, now))
        : 0;
      const next = clampEngagement(engagement + cappedPoints(rule.points, rule.cap, used), SCORE_MAX);
      if (next === engagement) continue;
      rows.push(
        ledgerRow(
          lead.id,
          'engagement',
          rule,
          next - engagement,
          next,
          rule.cap ? `${rule.eventType} (cap ${rule.cap.points}/${rule.cap.period})` : rule.eventType,
          eventId,
          now
        )
      );
      engagement = next;
    }
    return { rows, engagement };
  }

  async function onEvent(trx: Db, e: DispatchedEvent, props: Record<string, unknown>) {
    if (!e.lead_id || props.machine === true) return;
    const rules = await ruleSet(trx);
    const matching = (rules.byEvent.get(e.type) ?? []).filter((r) => engagementRuleMatches(r, e.type, props));
    const refit = FIT_EVENTS.has(e.type);
    const workflowAdjust = e.type === 'score_changed' && props.by !== 'scoring';
    if (!matching.length && !refit && !workflowAdjust) return;
    const lead = await scoringRepo.leadForScoring(trx, e.lead_id);
    if (!lead || lead.merged_into_id) return;
    const now = clock.now();
    if (workflowAdjust) {
      // A flow's adjust_score step already changed the column; the ledger must still explain it.
      const score = props.score === 'fit' ? 'fit' : 'engagement';
      const points = Number(props.to) - Number(props.from);
      if (Number.isFinite(points) && points !== 0)
        await scoringRepo.appendLedger(trx, [
          ledgerRow(
            lead.id,
            score,
            { id: null, name: 'workflow' },
            points,
            Number(props.to),
            String(props.reason ?? 'workflow step'),
            e.id,
            now
          )
        ]);
      await commitScores(trx, lead, lead.fit_score, lead.engagement_score, rules, now);
      return;
    }
    let fit = lead.fit_score;
    if (refit) fit = (await rescoreFit(trx, lead, rules, e.id, now)).fit;
    const { rows, engagement } = await engagementRows(trx, lead, matching, e.id, now);
    if (fit === lead.fit_score && !rows.length) return;
    await scoringRepo.appendLedger(trx, rows);
    if (rows.length) await scoringRepo.setEngaged(trx, lead.id, now, engagement);
    await commitScores(trx, lead, fit, engagement, rules, now);
  }

  /**
   * Engagement halves every half-life since the lead last engaged. Each lead whose whole-point
   * value dropped gets a `decay` ledger row; the batch commits every DECAY_BATCH leads so the
   * job never holds the connection long.
   */
  async function applyDecay(now = clock.now()) {
    const { settings } = await ruleSet(db);
    let after = '';
    let decayed = 0;
    for (;;) {
      const batch = await scoringRepo.decayCandidates(db, now, DECAY_BATCH, after);
      if (!batch.length) break;
      after = batch[batch.length - 1].lead_id;
      await db.transaction().execute(async (trx) => {
        for (const c of batch) {
          const target = decayedEngagement(c.base, now - c.engaged_at, settings.halfLifeDays);
          if (target >= c.engagement_score) continue;
          const points = target - c.engagement_score;
          const days = Math.floor((now - c.engaged_at) / DAY_MS);
          await scoringRepo.appendLedger(trx, [
            ledgerRow(
              c.lead_id,
              'engagement',
              { id: null, name: 'decay' },
              points,
              target,
              `no activity for ${days} days (half-life ${settings.halfLifeDays} days)`,
              null,
              now
            )
          ]);
          await scoringRepo.updateLeadScores(trx, c.lead_id, { engagement_score: target }, now);
          decayed++;
        }
      });
    }
    return decayed;
  }

  return {
    onEvent,
    applyDecay,
    /** For the worker loop: decays at most once an hour. */
    async applyDecayIfDue() {
      const now = clock.now();
      if (now - lastDecayAt < DECAY_EVERY_MS) return 0;
      lastDecayAt = now;
      return applyDecay(now);
    },

    async rules() {
      const rows = await scoringRepo.listRules(db);
      const settings = scoringSettingsSchema.safeParse(
        await settingsRepo.get(db, SETTINGS_KEY, DEFAULT_SCORING_SETTINGS)
      );
      return {
        rules: rows.map((r) => parseJson<ScoringRule>(r.definition, {} as ScoringRule)),
        settings: settings.success ? settings.data : DEFAULT_SCORING_SETTINGS
      };
    },

    /** The card's Scores panel: both scores, the grade, 90 days of history and why. */
    async leadScores(leadId: string, days = 90) {
      const lead = await scoringRepo.leadForScoring(db, leadId);
      if (!lead) throw new NotFoundError('No such lead');
      const since = clock.now() - days * DAY_MS;
      const ledger = await scoringRepo.ledgerForLead(db, leadId);
      const inWindow = ledger.filter((r) => r.at >= since);
      const before = (score: 'fit' | 'engagement') =>
        ledger.filter((r) => r.at < since && r.score === score).at(-1)?.total ?? 0;
      // "Why": what each rule adds up to now, the most recently active rule first.
      const byRule = new Map<
        string,
        {
          ruleId: string | null;
          name: string;
          score: 'fit' | 'engagement';
          points: number;
          lastAt: number;
          reason: string;
        }
      >();
      for (const r of ledger) {
        const key = `${r.score}:${r.rule_id ?? r.rule_name}`;
        const cur = byRule.get(key) ?? {
          ruleId: r.rule_id,
          name: r.rule_name,
          score: r.score,
          points: 0,
          lastAt: 0,
          reason: r.reason
        };
        cur.points += r.points;
        cur.lastAt = r.at;
        cur.reason = r.reason;
        byRule.set(key, cur);
      }
      return {
        fit: lead.fit_score,
        engagement: lead.engagement_score,
        grade: gradeOf(lead.fit_score),
        stage: lead.stage,
        since,
        start: { fit: before('fit'), engagement: before('engagement') },
        history: inWindow.map((r) => ({ at: r.at, score: r.score, points: r.points, total: r.total })),
        why: [...byRule.values()].filter((r) => r.points !== 0).sort((a, b) => b.lastAt - a.lastAt),
        recent: ledger
          .slice(-20)
          .reverse()
          .map((r) => ({
            id: r.id,
            at: r.at,
            score: r.score,
            rule: r.rule_name,
            points: r.points,
            total: r.total,
            reason: r.reason
          }))
      };
    },

    ledgerSums: (leadId: string) => scoringRepo.ledgerSums(db, leadId),

    /** The scoring lab saved rules itself: the next event reads them afresh. */
    invalidateRules() {
      cache = null;
    }
  };
}

export type ScoringService = ReturnType<typeof createScoringService>;
