import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database';

/**
 * All of analytics' SQL. Every query reads a time range [from, to) in ms and the same filters
 * (channel, owner, segment) on the lead, aggregates in SQLite and hands back small grouped rows;
 * time buckets come back as UTC hour numbers that the service folds into local days, weeks and
 * months. Stage history comes from `analytics_stage_changes` (kept by triggers on `events`,
 * db/migrations/20261125T1500_analytics.ts), never from parsing event JSON at read time.
 */
export interface AnalyticsFilter {
  from: number;
  to: number;
  channelId?: string;
  ownerId?: string;
  segmentId?: string;
}

const HOUR = sql.lit(3_600_000);

/** Stage rank inside the funnel (subscriber/lead 1 ... customer 5); other stages rank 1. */
const rankOf = (col: RawBuilder<unknown>) =>
  sql`CASE ${col} WHEN 'mql' THEN 2 WHEN 'sql' THEN 3 WHEN 'opportunity' THEN 4 WHEN 'customer' THEN 5 ELSE 1 END`;

/** `AND ...` clauses narrowing the lead aliased `l`; the owner may be the hand-off's (sales view). */
function leadFilter(f: AnalyticsFilter, ownerColumn: RawBuilder<unknown> = sql`l.owner_id`) {
  const parts: RawBuilder<unknown>[] = [sql`l.merged_into_id IS NULL`];
  if (f.channelId) parts.push(f.channelId === 'none' ? sql`l.channel_id IS NULL` : sql`l.channel_id = ${f.channelId}`);
  if (f.ownerId) parts.push(f.ownerId === 'none' ? sql`${ownerColumn} IS NULL` : sql`${ownerColumn} = ${f.ownerId}`);
  if (f.segmentId) parts.push(sql`l.id IN (SELECT lead_id FROM segment_members WHERE segment_id = ${f.segmentId})`);
  return sql.join(parts, sql` AND `);
}

const hasLeadFilter = (f: AnalyticsFilter) => !!(f.channelId || f.ownerId || f.segmentId);

/**
 * One row per lead captured in the range: how far it got, when it became a customer, its revenue.
 * Those come from the lead row (reach_rank, customer_at, customer_revenue, kept by triggers on
 * analytics_stage_changes: db/migrations/20261125T1710_analytics_lead_reach.ts), so a year of
 * leads, the campaign included, is read from analytics_leads_cover alone. MATERIALIZED keeps
 * SQLite on that index: merged into a GROUP BY channel it picks the channel index and reads
 * every lead row instead (3x slower at 100,000 leads).
 */
function cohortCte(f: AnalyticsFilter, withCampaign = false) {
  return sql`
    per AS MATERIALIZED (
      SELECT l.id, l.channel_id, l.created_at,
             ${withCampaign ? sql`json_extract(l.first_touch, '$.utm_campaign')` : sql`NULL`} AS campaign,
             max(coalesce(l.reach_rank, 1), ${rankOf(sql`l.stage`)}) AS r, l.customer_at, coalesce(l.customer_revenue, 0) AS revenue
      FROM leads l
      WHERE l.created_at >= ${f.from} AND l.created_at < ${f.to} AND ${leadFilter(f)}
    )`;
}

export interface ReachRow {
  leads: number;
  mql: number;
  sql: number;
  opportunity: number;
  customers: number;
  revenue: number;
}

const reachColumns = sql`count(*) AS leads, coalesce(sum(r >= 2), 0) AS mql, coalesce(sum(r >= 3), 0) AS sql, coalesce(sum(r >= 4), 0) AS opportunity,
  coalesce(sum(r >= 5), 0) AS customers, coalesce(sum(revenue), 0) AS revenue`;

export const analyticsRepo = {
  /** New leads per UTC hour and channel. */
  async newLeadsByHour(db: Db, f: AnalyticsFilter) {
    const r = await sql<{ hour: number; channel_id: string | null; n: number }>`
      SELECT l.created_at / ${HOUR} AS hour, l.channel_id, count(*) AS n FROM leads l
      WHERE l.created_at >= ${f.from} AND l.created_at < ${f.to} AND ${leadFilter(f)}
      GROUP BY hour, l.channel_id`.execute(db);
    return r.rows;
  },

  /** Changes into MQL, SQL and customer per UTC hour, with revenue on customer changes. */
  async stageChangesByHour(db: Db, f: AnalyticsFilter) {
    const r = await sql<{ hour: number; to_stage: string; n: number; amount: number }>`
      SELECT sc.at / ${HOUR} AS hour, sc.to_stage, count(*) AS n, coalesce(sum(sc.amount), 0) AS amount
      FROM analytics_stage_changes sc JOIN leads l ON l.id = sc.lead_id
      WHERE sc.to_stage IN ('mql', 'sql', 'customer') AND sc.at >= ${f.from} AND sc.at < ${f.to} AND ${leadFilter(f)}
      GROUP BY hour, sc.to_stage`.execute(db);
    return r.rows;
  },

  /** The cohort captured in the range, per UTC hour of capture: how many reached each stage, and lead→customer cycle times. */
  async cohortByHour(db: Db, f: AnalyticsFilter) {
    const r = await sql<ReachRow & { hour: number; cycle_sum: number; cycle_n: number }>`
      WITH ${cohortCte(f)}
      SELECT created_at / ${HOUR} AS hour, ${reachColumns},
             coalesce(sum(customer_at - created_at), 0) AS cycle_sum, count(customer_at) AS cycle_n
      FROM per GROUP BY hour`.execute(db);
    return r.rows;
  },

  /** The cohort captured in the range per channel and campaign (utm_campaign of the first touch). */
  async cohortByChannel(db: Db, f: AnalyticsFilter) {
    const r = await sql<ReachRow & { channel_id: string | null; campaign: string | null }>`
      WITH ${cohortCte(f, true)}
      SELECT channel_id, campaign, ${reachColumns} FROM per GROUP BY channel_id, campaign`.execute(db);
    return r.rows;
  },

  /**
   * Time spent in each stage by the cohort: every change closes the stage it left, measured from
   * the lead's previous change (or its capture for the first).
   */
  async timeInStage(db: Db, f: AnalyticsFilter) {
    const r = await sql<{ stage: string; n: number; total: number }>`
      SELECT from_stage AS stage, count(*) AS n, sum(max(0, at - prev)) AS total FROM (
        SELECT x.from_stage, x.at, coalesce(x.prev, l.created_at) AS prev
        FROM (
          -- In (lead_id, at) index order the window needs no sort.
          SELECT lead_id, from_stage, at, lag(at) OVER (PARTITION BY lead_id ORDER BY at) AS prev FROM analytics_stage_changes
        ) x JOIN leads l ON l.id = x.lead_id
        WHERE l.created_at >= ${f.from} AND l.created_at < ${f.to} AND ${leadFilter(f)}
      ) WHERE from_stage IS NOT NULL GROUP BY from_stage`.execute(db);
    return r.rows;
  },

  /**
   * Hand-offs assigned in the range, one row each, with whether (and for how much) the lead
   * became a customer (from the lead row, see cohortCte). The owner filter means the hand-off's owner here.
   */
  async handoffs(db: Db, f: AnalyticsFilter) {
    const r = await sql<{
      owner_id: string | null;
      status: string;
      reason: string | null;
      assigned_at: number;
      first_action_at: number | null;
      breached: number;
      customer_at: number | null;
      revenue: number | null;
    }>`
      SELECT h.owner_id, h.status, h.reason, h.assigned_at, h.first_action_at, h.breached, l.customer_at, l.customer_revenue AS revenue
      FROM handoffs h JOIN leads l ON l.id = h.lead_id
      WHERE h.assigned_at >= ${f.from} AND h.assigned_at < ${f.to} AND ${leadFilter(f, sql`h.owner_id`)}`.execute(db);
    return r.rows;
  },

  /** Messages created in the range (tests excluded) per flow, step and template. */
  async emailByStep(db: Db, f: AnalyticsFilter) {
    const join = hasLeadFilter(f) ? sql`JOIN leads l ON l.id = m.lead_id AND ${leadFilter(f)}` : sql``;
    const r = await sql<{
      workflow_id: string | null;
      node_id: string | null;
      template: string | null;
      queued: number;
      sent: number;
      delivered: number;
      bounces: number;
      opened: number;
      opens: number;
      machine_opened: number;
      machine_opens: number;
      clicked: number;
      clicks: number;
      machine_clicks: number;
    }>`
      SELECT m.workflow_id, m.node_id, m.template, count(*) AS queued,
             sum(m.sent_at IS NOT NULL OR (m.status = 'failed' AND m.status_reason LIKE '%bounce%')) AS sent,
             sum(m.status IN ('sent', 'kept')) AS delivered,
             sum(m.status = 'failed' AND m.status_reason LIKE '%bounce%') AS bounces,
             sum(m.opens > 0) AS opened, sum(m.opens) AS opens,
             sum(m.opens = 0 AND m.machine_opens > 0) AS machine_opened, sum(m.machine_opens) AS machine_opens,
             sum(m.clicks > 0) AS clicked, sum(m.clicks) AS clicks, sum(m.machine_clicks) AS machine_clicks
      FROM messages m ${join}
      WHERE m.created_at >= ${f.from} AND m.created_at < ${f.to} AND m.kind != 'test'
      GROUP BY m.workflow_id, m.node_id, m.template`.execute(db);
    return r.rows;
  },

  /** Unsubscribes that came from messages created in the range, per flow, step and template. */
  async unsubscribesByStep(db: Db, f: AnalyticsFilter) {
    const join = hasLeadFilter(f) ? sql`JOIN leads l ON l.id = m.lead_id AND ${leadFilter(f)}` : sql``;
    const r = await sql<{ workflow_id: string | null; node_id: string | null; template: string | null; n: number }>`
      SELECT m.workflow_id, m.node_id, m.template, count(DISTINCT m.id) AS n
      FROM events e JOIN messages m ON m.id = json_extract(e.properties, '$.messageId') ${join}
      WHERE e.type = 'unsubscribed' AND e.occurred_at >= ${f.from}
        AND m.created_at >= ${f.from} AND m.created_at < ${f.to} AND m.kind != 'test'
      GROUP BY m.workflow_id, m.node_id, m.template`.execute(db);
    return r.rows;
  },

  /** Instances enrolled in the range per flow, status and the node they are at (or ended on). */
  async flowInstances(db: Db, f: AnalyticsFilter) {
    const join = hasLeadFilter(f) ? sql`JOIN leads l ON l.id = i.lead_id AND ${leadFilter(f)}` : sql``;
    const r = await sql<{ workflow_id: string; status: string; node: string | null; n: number }>`
      SELECT i.workflow_id, i.status, i.current_node AS node, count(*) AS n
      FROM workflow_instances i ${join}
      WHERE i.enrolled_at >= ${f.from} AND i.enrolled_at < ${f.to}
      GROUP BY i.workflow_id, i.status, i.current_node`.execute(db);
    return r.rows;
  },

  /** Flows with the definition of their published version (for node labels). */
  async flows(db: Db) {
    return db
      .selectFrom('workflows as w')
      .leftJoin('workflow_versions as v', 'v.id', 'w.current_version_id')
      .select(['w.id', 'w.name', 'w.slug', 'v.definition'])
      .orderBy('w.name')
      .execute();
  },

  /** Spend rows overlapping the range, in kopecks, for proration by the service. */
  async spend(db: Db, f: AnalyticsFilter) {
    let q = db
      .selectFrom('channel_spend')
      .select(['channel_id', 'period_start', 'period_end', 'amount_minor'])
      .where('period_end', '>', f.from)
      .where('period_start', '<', f.to);
    if (f.channelId) q = q.where('channel_id', '=', f.channelId);
    return q.execute();
  },

  channels(db: Db) {
    return db.selectFrom('channels').select(['id', 'name']).orderBy('name').execute();
  },

  /** Everyone who can own a lead: sales users, plus any user already holding leads or hand-offs. */
  owners(db: Db) {
    return db.selectFrom('users').select(['id', 'name', 'role', 'is_manager']).orderBy('name').execute();
  },

  segments(db: Db) {
    return db.selectFrom('segments').select(['id', 'name']).orderBy('name').execute();
  }
};
