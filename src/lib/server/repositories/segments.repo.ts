import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database';
import type { SegmentsTable } from '../db/schema';

const ID_CHUNK = 500;
const LEAD_PLACEHOLDER = '\u0000lead';

export const segmentsRepo = {
  list(db: Db) {
    return db.selectFrom('segments').selectAll().orderBy('created_at', 'desc').execute();
  },
  findById(db: Db, id: string) {
    return db.selectFrom('segments').selectAll().where('id', '=', id).executeTakeFirst();
  },
  /** Dynamic segments, for the incremental index. */
  listDynamic(db: Db) {
    return db.selectFrom('segments').select(['id', 'definition', 'updated_at']).where('kind', '=', 'dynamic').execute();
  },
  /** Newest change to any segment: the incremental index reloads when it moves. */
  async stamp(db: Db): Promise<string> {
    const r = await db.selectFrom('segments').select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(max(updated_at), 0)`.as('at')]).executeTakeFirst();
    return `${r?.n ?? 0}:${r?.at ?? 0}`;
  },
  async insert(db: Db, row: SegmentsTable) {
    await db.insertInto('segments').values(row).execute();
  },
  async update(db: Db, id: string, patch: Partial<SegmentsTable>) {
    await db.updateTable('segments').set(patch).where('id', '=', id).execute();
  },
  async delete(db: Db, id: string) {
    await db.deleteFrom('segments').where('id', '=', id).execute();
  },
  async addCount(db: Db, id: string, delta: number) {
    if (delta) await db.updateTable('segments').set({ member_count: sql`member_count + ${delta}` }).where('id', '=', id).execute();
  },

  /** How many live leads match a compiled predicate ('set' mode). */
  async count(db: Db, pred: RawBuilder<unknown>): Promise<number> {
    const r = await db.selectFrom('leads').select(sql<number>`count(*)`.as('n')).where('leads.merged_into_id', 'is', null).where(pred as RawBuilder<boolean>).executeTakeFirst();
    return Number(r?.n ?? 0);
  },
  /** Ids of every live lead matching ('set' mode). */
  async matchingIds(db: Db, pred: RawBuilder<unknown>): Promise<string[]> {
    const rows = await db.selectFrom('leads').select('leads.id').where('leads.merged_into_id', 'is', null).where(pred as RawBuilder<boolean>).execute();
    return rows.map((r) => r.id);
  },
  /**
   * The builder's preview: how many live leads match and the newest few, from one evaluation of
   * the predicate (count and sample as two statements evaluated the subqueries twice).
   */
  async preview(db: Db, pred: RawBuilder<unknown>, limit: number) {
    const r = await sql<{ total: number; id: string; name: string | null; email: string | null; company: string | null; stage: string; fit_score: number; engagement_score: number; city: string | null; owner_name: string | null }>`
      WITH m AS MATERIALIZED (SELECT leads.id, leads.created_at FROM leads WHERE leads.merged_into_id IS NULL AND ${pred})
      SELECT (SELECT count(*) FROM m) AS total, l.id, l.name, l.email, l.company, l.stage, l.fit_score, l.engagement_score, l.city, u.name AS owner_name
      FROM (SELECT id, created_at FROM m ORDER BY created_at DESC LIMIT ${limit}) t
      JOIN leads l ON l.id = t.id LEFT JOIN users u ON u.id = l.owner_id
      ORDER BY t.created_at DESC`.execute(db);
    return { count: Number(r.rows[0]?.total ?? 0), sample: r.rows.map(({ total: _, ...lead }) => lead) };
  },
  /** A few matching leads to show beside the count, newest first. */
  sample(db: Db, pred: RawBuilder<unknown>, limit: number) {
    return db
      .selectFrom('leads')
      .leftJoin('users', 'users.id', 'leads.owner_id')
      .select(['leads.id', 'leads.name', 'leads.email', 'leads.company', 'leads.stage', 'leads.fit_score', 'leads.engagement_score', 'leads.city', 'users.name as owner_name'])
      .where('leads.merged_into_id', 'is', null)
      .where(pred as RawBuilder<boolean>)
      .orderBy('leads.created_at', 'desc')
      .limit(limit)
      .execute();
  },
  /**
   * Prepares the evaluation of several segments' predicates ('one' mode) for one lead in one
   * statement: value N is 1 when the lead is in segment N; null when the lead is gone or merged
   * away. Compiled once and reused with only the lead id swapped: building the SQL cost more than
   * running it (about 40 µs a segment).
   */
  prepareEvaluation(db: Db, preds: RawBuilder<unknown>[]) {
    const compiled = db
      .selectFrom('leads')
      .select(preds.map((p, i) => sql<number>`CASE WHEN ${p} THEN 1 ELSE 0 END`.as(`s${i}`)))
      .where('leads.id', '=', LEAD_PLACEHOLDER)
      .where('leads.merged_into_id', 'is', null)
      .compile();
    const at = compiled.parameters.lastIndexOf(LEAD_PLACEHOLDER);
    return async (on: Db, leadId: string): Promise<number[] | null> => {
      const parameters = [...compiled.parameters];
      parameters[at] = leadId;
      const { rows } = await on.executeQuery<Record<string, unknown>>({ ...compiled, parameters });
      return rows[0] ? preds.map((_, i) => Number(rows[0][`s${i}`])) : null;
    };
  },
  /** Which of these leads match ('one' mode): a full recompute re-checks each batch as it writes. */
  async matchingAmong(db: Db, leadIds: string[], pred: RawBuilder<unknown>): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < leadIds.length; i += ID_CHUNK) {
      const rows = await db
        .selectFrom('leads')
        .select('leads.id')
        .where('leads.id', 'in', leadIds.slice(i, i + ID_CHUNK))
        .where('leads.merged_into_id', 'is', null)
        .where(pred as RawBuilder<boolean>)
        .execute();
      for (const r of rows) out.add(r.id);
    }
    return out;
  },

  async memberIds(db: Db, segmentId: string): Promise<string[]> {
    const rows = await db.selectFrom('segment_members').select('lead_id').where('segment_id', '=', segmentId).execute();
    return rows.map((r) => r.lead_id);
  },
  async segmentsOfLead(db: Db, leadId: string): Promise<Set<string>> {
    const rows = await db.selectFrom('segment_members').select('segment_id').where('lead_id', '=', leadId).execute();
    return new Set(rows.map((r) => r.segment_id));
  },
  /** Adds members; answers the leads that were not members before. */
  async addMembers(db: Db, segmentId: string, leadIds: string[], now: number): Promise<string[]> {
    const added: string[] = [];
    for (let i = 0; i < leadIds.length; i += ID_CHUNK) {
      const rows = await db
        .insertInto('segment_members')
        .values(leadIds.slice(i, i + ID_CHUNK).map((lead_id) => ({ segment_id: segmentId, lead_id, entered_at: now })))
        .onConflict((oc) => oc.columns(['segment_id', 'lead_id']).doNothing())
        .returning('lead_id')
        .execute();
      for (const r of rows) added.push(r.lead_id);
    }
    return added;
  },
  /** Removes members; answers the leads that were members. */
  async removeMembers(db: Db, segmentId: string, leadIds: string[]): Promise<string[]> {
    const removed: string[] = [];
    for (let i = 0; i < leadIds.length; i += ID_CHUNK) {
      const rows = await db.deleteFrom('segment_members').where('segment_id', '=', segmentId).where('lead_id', 'in', leadIds.slice(i, i + ID_CHUNK)).returning('lead_id').execute();
      for (const r of rows) removed.push(r.lead_id);
    }
    return removed;
  },
  /** A merged-away lead leaves every segment (it is a tombstone now; the survivor is re-evaluated). */
  async removeLeadEverywhere(db: Db, leadId: string): Promise<string[]> {
    const rows = await db.deleteFrom('segment_members').where('lead_id', '=', leadId).returning('segment_id').execute();
    return rows.map((r) => r.segment_id);
  },
  async recountMembers(db: Db, segmentId: string) {
    await db
      .updateTable('segments')
      .set({ member_count: sql`(SELECT count(*) FROM segment_members WHERE segment_id = ${segmentId})` })
      .where('id', '=', segmentId)
      .execute();
  },
  /** Members page by page, for the CSV export and flow enrollment. */
  membersPage(db: Db, segmentId: string, afterLeadId: string, limit: number) {
    return db
      .selectFrom('segment_members as m')
      .innerJoin('leads', 'leads.id', 'm.lead_id')
      .leftJoin('users', 'users.id', 'leads.owner_id')
      .leftJoin('channels', 'channels.id', 'leads.channel_id')
      .selectAll('leads')
      .select(['users.name as owner_name', 'channels.name as channel_name', 'm.entered_at'])
      .where('m.segment_id', '=', segmentId)
      .where('m.lead_id', '>', afterLeadId)
      .orderBy('m.lead_id')
      .limit(limit)
      .execute();
  },
  /** Lead ids owning these emails or phones (through identities, so merged addresses still find their lead). */
  async leadIdsByIdentity(db: Db, values: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < values.length; i += ID_CHUNK) {
      const rows = await db.selectFrom('lead_identities').select(['value', 'lead_id']).where('value', 'in', values.slice(i, i + ID_CHUNK)).execute();
      for (const r of rows) out.set(r.value, r.lead_id);
    }
    return out;
  },
  async existingLeadIds(db: Db, ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const rows = await db.selectFrom('leads').select('id').where('id', 'in', ids.slice(i, i + ID_CHUNK)).where('merged_into_id', 'is', null).execute();
      for (const r of rows) out.push(r.id);
    }
    return out;
  },
  /** Segments a lead list can filter by: every segment, name and size. */
  options(db: Db) {
    return db.selectFrom('segments').select(['id', 'name', 'kind', 'member_count']).orderBy('name').execute();
  }
};
