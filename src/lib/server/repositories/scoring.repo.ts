import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { ScoreLedgerTable } from '../db/schema';

export const scoringRepo = {
  listRules(db: Db) {
    return db.selectFrom('scoring_rules').selectAll().orderBy('position').execute();
  },
  /** Replaces the whole rule set: the editor always saves every rule. */
  async replaceRules(db: Db, rules: { id: string; kind: 'fit' | 'engagement'; name: string; definition: string }[], now: number) {
    await db.deleteFrom('scoring_rules').execute();
    if (rules.length) await db.insertInto('scoring_rules').values(rules.map((r, i) => ({ ...r, position: i, updated_at: now }))).execute();
  },
  leadForScoring(db: Db, leadId: string) {
    return db
      .selectFrom('leads')
      .select(['id', 'email', 'job_title', 'company_size', 'industry', 'region', 'country', 'city', 'company', 'stage', 'fit_score', 'engagement_score', 'merged_into_id'])
      .where('id', '=', leadId)
      .executeTakeFirst();
  },
  async updateLeadScores(db: Db, leadId: string, set: { fit_score?: number; engagement_score?: number; stage?: string }, now: number) {
    await db.updateTable('leads').set({ ...set, updated_at: now }).where('id', '=', leadId).execute();
  },
  async appendLedger(db: Db, rows: ScoreLedgerTable[]) {
    if (rows.length) await db.insertInto('score_ledger').values(rows).execute();
  },
  /** Points a rule gave the lead since `since`: what a per-period cap has used up. */
  async rulePointsSince(db: Db, leadId: string, ruleId: string, since: number): Promise<number> {
    const r = await db
      .selectFrom('score_ledger')
      .select(sql<number>`coalesce(sum(points), 0)`.as('n'))
      .where('lead_id', '=', leadId)
      .where('rule_id', '=', ruleId)
      .where('at', '>', since)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  },
  /** What each fit rule currently contributes to the lead, from the ledger. */
  async fitByRule(db: Db, leadId: string): Promise<Map<string, { name: string; points: number }>> {
    const rows = await db
      .selectFrom('score_ledger')
      .select(['rule_id', sql<string>`max(rule_name)`.as('name'), sql<number>`sum(points)`.as('points')])
      .where('lead_id', '=', leadId)
      .where('score', '=', 'fit')
      .groupBy('rule_id')
      .execute();
    return new Map(rows.map((r) => [r.rule_id ?? '', { name: r.name, points: Number(r.points) }]));
  },
  async setEngaged(db: Db, leadId: string, engagedAt: number, base: number) {
    await db
      .insertInto('lead_engagement')
      .values({ lead_id: leadId, engaged_at: engagedAt, base })
      .onConflict((oc) => oc.column('lead_id').doUpdateSet({ engaged_at: engagedAt, base }))
      .execute();
  },
  /** Leads with engagement left that have not engaged since `before`: the decay job's work. */
  decayCandidates(db: Db, before: number, limit: number, afterLeadId = '') {
    return db
      .selectFrom('lead_engagement as e')
      .innerJoin('leads as l', 'l.id', 'e.lead_id')
      .select(['e.lead_id', 'e.engaged_at', 'e.base', 'l.engagement_score'])
      .where('e.engaged_at', '<', before)
      .where('l.engagement_score', '>', 0)
      .where('e.lead_id', '>', afterLeadId)
      .orderBy('e.lead_id')
      .limit(limit)
      .execute();
  },
  ledgerForLead(db: Db, leadId: string, since = 0) {
    return db.selectFrom('score_ledger').selectAll().where('lead_id', '=', leadId).where('at', '>=', since).orderBy('at').orderBy('id').execute();
  },
  async ledgerSums(db: Db, leadId: string) {
    const rows = await db
      .selectFrom('score_ledger')
      .select(['score', sql<number>`sum(points)`.as('points')])
      .where('lead_id', '=', leadId)
      .groupBy('score')
      .execute();
    return { fit: Number(rows.find((r) => r.score === 'fit')?.points ?? 0), engagement: Number(rows.find((r) => r.score === 'engagement')?.points ?? 0) };
  }
};
