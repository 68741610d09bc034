import type SQLite from 'better-sqlite3';
import type { Db } from '../db/database';
import type { RescoreJobsTable, ScoreLedgerTable, ScoringRuleSetsTable } from '../db/schema';

/** One lead as the lab reads it: the attributes fit rules look at, its stage and scores now. */
export interface LabLead {
  id: string;
  email: string | null;
  job_title: string | null;
  company_size: string | null;
  industry: string | null;
  region: string | null;
  country: string | null;
  city: string | null;
  company: string | null;
  stage: string;
  fit_score: number;
  engagement_score: number;
  created_at: number;
}

/**
 * The facts the lab scores an event by, as SQL over an events row: the what-if's packed read and
 * the rescore's page read share them, so the preview and the save score the same facts. The text
 * tests (instr) are exact, since a key stands in the JSON text as "key", and spare the JSON
 * parse on the many rows without it.
 */
const FACT_URL = `CASE WHEN instr(properties, '"url"') AND json_type(properties, '$.url') = 'text' THEN json_extract(properties, '$.url')
  WHEN instr(properties, '"path"') AND json_type(properties, '$.path') = 'text' THEN json_extract(properties, '$.path')
  WHEN instr(properties, '"page"') AND json_type(properties, '$.page') = 'text' THEN json_extract(properties, '$.page') END`;
const FACT_MACHINE = `(instr(properties, '"machine"') > 0 AND json_type(properties, '$.machine') = 'true')`;
const FACT_ADJUST = `CASE WHEN type = 'score_changed' AND json_extract(properties, '$.score') = 'engagement' AND coalesce(json_extract(properties, '$.by'), '') <> 'scoring'
  THEN json_extract(properties, '$.to') - json_extract(properties, '$.from') END`;

/**
 * Every lead event in a rowid range, in table order (a sequential read, no index), packed by
 * SQLite into one string: event fields joined by U+001F, events by U+001E (parsed by
 * scoring/event-facts.ts). One string per 100k events instead of 100k row arrays cut the read of a
 * million events from 2.3 s to about 1 s (most of the cost was better-sqlite3 building a JS array
 * and strings per row). Only URLs are free text, so only they have the two separators stripped.
 * Exported for the lab's parallel reader, which runs it on a second connection.
 */
export const EVENT_FACTS_SQL = `SELECT group_concat(lead_id || char(31) || type || char(31) || occurred_at || char(31) ||
    coalesce(replace(replace(${FACT_URL}, char(30), ''), char(31), ''), '') || char(31) ||
    ${FACT_MACHINE} || char(31) || coalesce(${FACT_ADJUST}, ''), char(30))
  FROM events WHERE rowid BETWEEN ? AND ? AND lead_id IS NOT NULL`;

export interface LabEventRow {
  lead_id: string;
  type: string;
  occurred_at: number;
  url: string | null;
  machine: number;
  adjust: number | null;
}

export interface LedgerSumRow {
  lead_id: string;
  score: 'fit' | 'engagement';
  rule_id: string | null;
  points: number;
}

/** Rule-set versions and rescore jobs: small tables, through Kysely. */
export const scoringLabRepo = {
  listVersions(db: Db, limit = 50) {
    return db.selectFrom('scoring_rule_sets').selectAll().orderBy('version', 'desc').limit(limit).execute();
  },
  getVersion(db: Db, version: number) {
    return db.selectFrom('scoring_rule_sets').selectAll().where('version', '=', version).executeTakeFirst();
  },
  async maxVersion(db: Db): Promise<number> {
    const r = await db
      .selectFrom('scoring_rule_sets')
      .select((eb) => eb.fn.max('version').as('v'))
      .executeTakeFirst();
    return Number(r?.v ?? 0);
  },
  async insertVersion(db: Db, row: ScoringRuleSetsTable) {
    await db.insertInto('scoring_rule_sets').values(row).execute();
  },
  async insertJob(db: Db, row: RescoreJobsTable) {
    await db.insertInto('rescore_jobs').values(row).execute();
  },
  getJob(db: Db, id: string) {
    return db.selectFrom('rescore_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  },
  latestJob(db: Db) {
    return db
      .selectFrom('rescore_jobs')
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  },
  async finishJob(
    db: Db,
    id: string,
    patch: { status: 'done' | 'failed'; error?: string | null; finished_at: number }
  ) {
    await db.updateTable('rescore_jobs').set(patch).where('id', '=', id).execute();
  },
  /** Jobs left `running` by a process that stopped: they will not finish by themselves. */
  async failAbandoned(db: Db, keep: string[], now: number) {
    let q = db
      .updateTable('rescore_jobs')
      .set({ status: 'failed', error: 'interrupted (the server restarted)', finished_at: now })
      .where('status', '=', 'running');
    if (keep.length) q = q.where('id', 'not in', keep);
    await q.execute();
  },
  async countLeads(db: Db): Promise<number> {
    const r = await db
      .selectFrom('leads')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('merged_into_id', 'is', null)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }
};

/**
 * The lab's hot path on the raw better-sqlite3 handle: rows stream as arrays-of-values through
 * prepared statements (Kysely builds an object per row, which cost most of the budget over 100,000
 * leads and a million events). Callers hold Kysely's connection while using these, so nothing else
 * runs on the connection meanwhile.
 */
export function labStatements(sqlite: SQLite.Database) {
  const leadsPage = sqlite.prepare(
    `SELECT id, email, job_title, company_size, industry, region, country, city, company, stage, fit_score, engagement_score, created_at
     FROM leads WHERE merged_into_id IS NULL AND id > ? ORDER BY id LIMIT ?`
  );
  const allLeads = sqlite.prepare(
    `SELECT id, email, job_title, company_size, industry, region, country, city, company, stage, fit_score, engagement_score, created_at FROM leads WHERE merged_into_id IS NULL`
  );
  const eventFacts = sqlite.prepare(EVENT_FACTS_SQL);
  const maxEventRowid = sqlite.prepare(`SELECT coalesce(max(rowid), 0) FROM events`).pluck();
  const mergedCount = sqlite.prepare(`SELECT count(*) AS n FROM leads WHERE merged_into_id IS NOT NULL`);
  const hasTable = (name: string) =>
    !!sqlite.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name);
  // The events a page of leads needs, oldest first per lead (the events_lead index gives the order).
  // Properties are read in SQL (the FACT_ expressions) so no row's JSON is parsed in JavaScript.
  const eventStatements = new Map<string, SQLite.Statement>();
  const eventsFor = (types: string[]) => {
    const key = types.join('\u0000');
    let stmt = eventStatements.get(key);
    if (!stmt) {
      if (eventStatements.size > 50) eventStatements.clear();
      const inList = types.map(() => '?').join(',');
      stmt = sqlite.prepare(
        `SELECT lead_id, type, occurred_at, ${FACT_URL} AS url, ${FACT_MACHINE} AS machine, ${FACT_ADJUST} AS adjust
         FROM events
         WHERE lead_id >= ? AND lead_id <= ? AND type IN (${inList || "''"}, 'score_changed')
         ORDER BY lead_id, occurred_at`
      );
      eventStatements.set(key, stmt);
    }
    return stmt;
  };
  const ledgerSums = sqlite.prepare(
    `SELECT lead_id, score, rule_id, sum(points) AS points FROM score_ledger WHERE lead_id >= ? AND lead_id <= ? GROUP BY lead_id, score, rule_id`
  );
  const openHandoffs = hasTable('handoffs')
    ? sqlite.prepare(
        `SELECT DISTINCT lead_id FROM handoffs WHERE status = 'open' AND lead_id >= ? AND lead_id <= ?`
      )
    : null;
  // From the stage-change summary the analytics keep by trigger (indexed by stage), not the events' JSON.
  // The latest move into MQL per lead (SQLite takes by_whom from the row holding max(at)).
  const mqlMoves = sqlite.prepare(
    `SELECT lead_id, by_whom, max(at) AS at FROM analytics_stage_changes WHERE to_stage = 'mql' AND lead_id BETWEEN ? AND ? GROUP BY lead_id`
  );
  const customers = sqlite.prepare(
    `SELECT lead_id, min(at) AS at FROM analytics_stage_changes WHERE to_stage = 'customer' AND lead_id IS NOT NULL GROUP BY lead_id`
  );
  const rejected = hasTable('handoffs')
    ? sqlite.prepare(
        `SELECT lead_id, max(coalesce(closed_at, updated_at)) AS at FROM handoffs WHERE status = 'rejected' GROUP BY lead_id`
      )
    : null;
  const dataVersion = sqlite.prepare(
    `SELECT (SELECT coalesce(max(rowid), 0) FROM events) AS events, (SELECT count(*) FROM leads) AS leads, (SELECT coalesce(max(rowid), 0) FROM score_ledger) AS ledger`
  );

  const updateLead = sqlite.prepare(
    `UPDATE leads SET fit_score = ?, engagement_score = ?, stage = ?, updated_at = ? WHERE id = ?`
  );
  const insertLedger = sqlite.prepare(
    `INSERT INTO score_ledger (id, lead_id, score, rule_id, rule_name, points, total, reason, event_id, at) VALUES (@id, @lead_id, @score, @rule_id, @rule_name, @points, @total, @reason, @event_id, @at)`
  );
  const insertEvent = sqlite.prepare(
    `INSERT INTO events (id, lead_id, type, properties, source, actor_id, occurred_at, received_at, dedupe_key) VALUES (?, ?, 'stage_changed', ?, 'scoring', NULL, ?, ?, NULL)`
  );
  const upsertEngagement = sqlite.prepare(
    `INSERT INTO lead_engagement (lead_id, engaged_at, base) VALUES (?, ?, ?) ON CONFLICT (lead_id) DO UPDATE SET engaged_at = excluded.engaged_at, base = excluded.base`
  );
  const deleteEngagement = sqlite.prepare(`DELETE FROM lead_engagement WHERE lead_id = ?`);
  const jobProgress = sqlite.prepare(
    `UPDATE rescore_jobs SET processed = processed + ?, changed = changed + ?, ledger_rows = ledger_rows + ?, became_mql = became_mql + ?, left_mql = left_mql + ? WHERE id = ?`
  );

  return {
    /** Every lead that is not merged away, in table order. */
    allLeads: () => allLeads.all() as LabLead[],
    /** The packed events with rowids in [from, through] (see EVENT_FACTS_SQL), or null when there are none. */
    packedEventFacts: (from: number, through: number) =>
      eventFacts.pluck().get(from, through) as string | null,
    maxEventRowid: () => maxEventRowid.get() as number,
    mergedCount: () => (mergedCount.get() as { n: number }).n,
    leadsPage: (afterId: string, limit: number) => leadsPage.all(afterId, limit) as LabLead[],
    eventsFor: (types: string[], firstId: string, lastId: string) =>
      eventsFor(types).iterate(firstId, lastId, ...types) as IterableIterator<LabEventRow>,
    ledgerSums: (firstId: string, lastId: string) => ledgerSums.all(firstId, lastId) as LedgerSumRow[],
    /**
     * Leads in an id range a person holds at MQL: a rep works an open hand-off, or the latest move
     * into MQL was not made by scoring (a user, the API, an import). The lab never demotes these.
     */
    heldAtMql: (firstId: string, lastId: string) => {
      const held = new Set(
        ((openHandoffs?.all(firstId, lastId) ?? []) as { lead_id: string }[]).map((r) => r.lead_id)
      );
      for (const r of mqlMoves.all(firstId, lastId) as { lead_id: string; by_whom: string | null }[])
        if (r.by_whom !== 'scoring') held.add(r.lead_id);
      return held;
    },
    /** Leads that became customers, with when (the first time). */
    customers: () => customers.all() as { lead_id: string; at: number }[],
    /** Leads sales rejected, with when; none until the hand-off table exists. */
    rejected: () => (rejected?.all() ?? []) as { lead_id: string; at: number }[],
    hasHandoffs: () => rejected !== null,
    /** Changes whenever events, leads or the ledger change: the what-if cache's key. */
    dataVersion: () => JSON.stringify(dataVersion.get()),
    updateLead: (id: string, fit: number, engagement: number, stage: string, now: number) =>
      updateLead.run(fit, engagement, stage, now, id),
    insertLedger: (row: ScoreLedgerTable) => insertLedger.run(row),
    insertStageEvent: (id: string, leadId: string, properties: string, now: number) =>
      insertEvent.run(id, leadId, properties, now, now),
    setEngagement: (leadId: string, engagedAt: number | null, base: number) =>
      engagedAt === null ? deleteEngagement.run(leadId) : upsertEngagement.run(leadId, engagedAt, base),
    jobProgress: (
      jobId: string,
      d: { processed: number; changed: number; ledgerRows: number; becameMql: number; leftMql: number }
    ) => jobProgress.run(d.processed, d.changed, d.ledgerRows, d.becameMql, d.leftMql, jobId)
  };
}

export type LabStatements = ReturnType<typeof labStatements>;
