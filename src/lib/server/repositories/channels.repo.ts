import type { Db } from '../db/database';
import type { ChannelSpendTable, ChannelsTable } from '../db/schema';

export const channelsRepo = {
  findByName(db: Db, name: string) {
    return db.selectFrom('channels').selectAll().where('name', '=', name).executeTakeFirst();
  },
  /** A channel declared for these UTM tags (medium may be left open on the channel). */
  findByUtm(db: Db, source: string, medium: string | undefined) {
    return db
      .selectFrom('channels')
      .selectAll()
      .where((eb) => eb.fn('lower', ['utm_source']), '=', source)
      .where((eb) => eb.or([eb('utm_medium', 'is', null), eb(eb.fn('lower', ['utm_medium']), '=', medium ?? '')]))
      .orderBy('utm_medium', 'desc')
      .executeTakeFirst();
  },
  findById(db: Db, id: string) {
    return db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
  },
  async insert(db: Db, row: ChannelsTable) {
    await db.insertInto('channels').values(row).onConflict((oc) => oc.column('name').doNothing()).execute();
  },
  list(db: Db) {
    return db.selectFrom('channels').selectAll().orderBy('name').execute();
  },
  async addSpend(db: Db, row: ChannelSpendTable) {
    await db.insertInto('channel_spend').values(row).execute();
  },
  listSpend(db: Db, channelId?: string) {
    let q = db.selectFrom('channel_spend').selectAll().orderBy('period_start', 'desc');
    if (channelId) q = q.where('channel_id', '=', channelId);
    return q.execute();
  },
  async deleteSpend(db: Db, id: string) {
    await db.deleteFrom('channel_spend').where('id', '=', id).execute();
  },
  /**
   * Leads and spend per channel for [from, to). Spend of a period that straddles the range is
   * prorated by overlap, so a monthly budget viewed for one week counts a week's share.
   */
  async stats(db: Db, from: number, to: number) {
    const leads = await db
      .selectFrom('leads')
      .select(['channel_id', (eb) => eb.fn.countAll<number>().as('leads')])
      .where('merged_into_id', 'is', null)
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .groupBy('channel_id')
      .execute();
    const spend = await db
      .selectFrom('channel_spend')
      .selectAll()
      .where('period_end', '>', from)
      .where('period_start', '<', to)
      .execute();
    const spendBy = new Map<string, number>();
    for (const s of spend) {
      const overlap = Math.min(s.period_end, to) - Math.max(s.period_start, from);
      const len = Math.max(1, s.period_end - s.period_start);
      spendBy.set(s.channel_id, (spendBy.get(s.channel_id) ?? 0) + Math.round((s.amount_minor * overlap) / len));
    }
    return { leads: new Map(leads.map((l) => [l.channel_id, Number(l.leads)])), spend: spendBy };
  }
};
