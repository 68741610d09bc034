import { sql, type Kysely } from 'kysely';

/**
 * The funnel and channel views counted each cohort lead's furthest stage, first customer time and
 * revenue by grouping analytics_stage_changes per lead and joining it to every lead of the range
 * (a year: 100,000 index lookups and a JSON read of first_touch from each wide lead row for the
 * campaign; 224 ms and 326 ms measured at 5 M events before any load). Those three facts now live
 * on the lead row itself (reach_rank, customer_at, customer_revenue), kept by triggers on
 * analytics_stage_changes, which change only with stage changes (the tracking path never writes
 * them), and the covering index of 20261125T1510 carries them and the campaign, so a year of
 * cohort is one read of one index: 115 ms and 114 ms on the same base.
 *
 * Each trigger recomputes the lead's three facts from its stage changes (a lead has a handful),
 * so a change that arrives late, moves with a merge or is deleted leaves the same answer as a
 * rebuild. SQLite only, like the triggers of 20261125T1500.
 */
const rank = (col: string) => `CASE ${col} WHEN 'mql' THEN 2 WHEN 'sql' THEN 3 WHEN 'opportunity' THEN 4 WHEN 'customer' THEN 5 ELSE 1 END`;
const refresh = (lead: string) => `
  UPDATE leads SET (reach_rank, customer_at, customer_revenue) = (
    SELECT max(${rank('sc.to_stage')}), min(CASE WHEN sc.to_stage = 'customer' THEN sc.at END), sum(CASE WHEN sc.to_stage = 'customer' THEN sc.amount END)
    FROM analytics_stage_changes sc WHERE sc.lead_id = ${lead})
  WHERE id = ${lead};`;
const TRIGGERS = ['analytics_reach_insert', 'analytics_reach_update', 'analytics_reach_delete'];
const COVER_BEFORE = `leads (created_at, merged_into_id, channel_id, owner_id, stage, id)`;
const COVER = `leads (created_at, merged_into_id, channel_id, owner_id, stage, reach_rank, customer_at, customer_revenue, json_extract(first_touch, '$.utm_campaign'), id)`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE leads ADD COLUMN reach_rank INTEGER`.execute(db);
  await sql`ALTER TABLE leads ADD COLUMN customer_at BIGINT`.execute(db);
  await sql`ALTER TABLE leads ADD COLUMN customer_revenue REAL`.execute(db);
  const isSqlite = await sql`select sqlite_version()`.execute(db).then(
    () => true,
    () => false
  );
  if (!isSqlite) return;
  await sql.raw(`CREATE TRIGGER analytics_reach_insert AFTER INSERT ON analytics_stage_changes BEGIN ${refresh('NEW.lead_id')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER analytics_reach_update AFTER UPDATE OF lead_id, to_stage, amount, at ON analytics_stage_changes BEGIN ${refresh('OLD.lead_id')} ${refresh('NEW.lead_id')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER analytics_reach_delete AFTER DELETE ON analytics_stage_changes BEGIN ${refresh('OLD.lead_id')} END`).execute(db);
  // Stage changes stored so far, in one pass.
  await sql.raw(`UPDATE leads SET reach_rank = r.reach_rank, customer_at = r.customer_at, customer_revenue = r.customer_revenue FROM (
      SELECT sc.lead_id, max(${rank('sc.to_stage')}) AS reach_rank, min(CASE WHEN sc.to_stage = 'customer' THEN sc.at END) AS customer_at,
             sum(CASE WHEN sc.to_stage = 'customer' THEN sc.amount END) AS customer_revenue
      FROM analytics_stage_changes sc GROUP BY sc.lead_id) AS r
    WHERE leads.id = r.lead_id`).execute(db);
  await sql`DROP INDEX IF EXISTS analytics_leads_cover`.execute(db);
  await sql.raw(`CREATE INDEX analytics_leads_cover ON ${COVER}`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of TRIGGERS) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
  await sql`DROP INDEX IF EXISTS analytics_leads_cover`.execute(db);
  await sql.raw(`CREATE INDEX analytics_leads_cover ON ${COVER_BEFORE}`).execute(db);
  for (const c of ['customer_revenue', 'customer_at', 'reach_rank']) await sql.raw(`ALTER TABLE leads DROP COLUMN ${c}`).execute(db);
}
