import type { Db } from '../db/database';
import type { LeadsTable } from '../db/schema';
import type { LeadListQuery } from '../../shared/lead-query';

export const leadsRepo = {
  findById(db: Db, id: string) {
    return db.selectFrom('leads').selectAll().where('id', '=', id).executeTakeFirst();
  },
  async insert(db: Db, row: LeadsTable) {
    await db.insertInto('leads').values(row).execute();
  },
  async insertMany(db: Db, rows: LeadsTable[]) {
    // 28 columns a row: 300 rows stay under SQLite's 32,766 bound parameters.
    for (let i = 0; i < rows.length; i += 300) {
      await db.insertInto('leads').values(rows.slice(i, i + 300)).execute();
    }
  },
  async update(db: Db, id: string, patch: Partial<LeadsTable>) {
    if (Object.keys(patch).length === 0) return;
    await db.updateTable('leads').set(patch).where('id', '=', id).execute();
  },
  async delete(db: Db, id: string) {
    await db.deleteFrom('leads').where('id', '=', id).execute();
  },

  /** Leads owning any of these identities, through the identity table so merged addresses still match. */
  async findIdsByIdentities(db: Db, emails: string[], phones: string[]) {
    if (emails.length === 0 && phones.length === 0) return [];
    return db
      .selectFrom('lead_identities')
      .select(['kind', 'value', 'lead_id'])
      .where((eb) =>
        eb.or([
          ...(emails.length ? [eb.and([eb('kind', '=', 'email'), eb('value', 'in', emails)])] : []),
          ...(phones.length ? [eb.and([eb('kind', '=', 'phone'), eb('value', 'in', phones)])] : [])
        ])
      )
      .execute();
  },
  async addIdentities(db: Db, rows: { kind: 'email' | 'phone'; value: string; lead_id: string; created_at: number }[]) {
    for (let i = 0; i < rows.length; i += 2000) {
      await db
        .insertInto('lead_identities')
        .values(rows.slice(i, i + 2000))
        .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
        .execute();
    }
  },
  async moveIdentities(db: Db, fromLeadId: string, toLeadId: string) {
    await db.updateTable('lead_identities').set({ lead_id: toLeadId }).where('lead_id', '=', fromLeadId).execute();
  },

  async list(db: Db, q: LeadListQuery) {
    let base = db.selectFrom('leads').where('leads.merged_into_id', 'is', null);
    if (q.search) {
      // LIKE wildcards in the query are dropped rather than escaped: nobody searches for a literal %.
      const needle = `%${q.search.toLowerCase().replace(/[%_]/g, '')}%`;
      const digits = q.search.replace(/\D/g, '');
      base = base.where((eb) =>
        eb.or([
          eb('leads.search_text', 'like', needle),
          ...(digits.length >= 4 ? [eb('leads.search_text', 'like', `%${digits}%`)] : [])
        ])
      );
    }
    if (q.stage?.length) base = base.where('leads.stage', 'in', q.stage);
    if (q.ownerId === 'none') base = base.where('leads.owner_id', 'is', null);
    else if (q.ownerId) base = base.where('leads.owner_id', '=', q.ownerId);
    if (q.channelId) base = base.where('leads.channel_id', '=', q.channelId);
    if (q.segmentId) base = base.where('leads.id', 'in', (eb) => eb.selectFrom('segment_members').select('segment_members.lead_id').where('segment_members.segment_id', '=', q.segmentId!));
    if (q.source) base = base.where('leads.source', '=', q.source);
    if (q.createdFrom !== undefined) base = base.where('leads.created_at', '>=', q.createdFrom);
    if (q.createdTo !== undefined) base = base.where('leads.created_at', '<', q.createdTo);

    const sortCol = {
      created: 'leads.created_at',
      updated: 'leads.updated_at',
      name: 'leads.name',
      email: 'leads.email',
      company: 'leads.company',
      stage: 'leads.stage',
      fit: 'leads.fit_score',
      engagement: 'leads.engagement_score'
    } as const;
    const rowsQ = base
      .leftJoin('users', 'users.id', 'leads.owner_id')
      .leftJoin('channels', 'channels.id', 'leads.channel_id')
      .selectAll('leads')
      .select(['users.name as owner_name', 'channels.name as channel_name'])
      .orderBy(sortCol[q.sort], q.dir)
      .orderBy('leads.id', q.dir)
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize);
    const countQ = base.select((eb) => eb.fn.countAll<number>().as('n'));
    const [rows, count] = await Promise.all([rowsQ.execute(), countQ.executeTakeFirstOrThrow()]);
    return { rows, total: Number(count.n) };
  }
};
