import type { Db } from '../db/database';

/** Statuses that mean a message reached (or is reaching) the lead, so it counts toward the cap. */
const COUNTED = ['sent', 'unconfirmed', 'sending', 'kept'];

export const sendHistoryRepo = {
  /** What the send rules need to know of a lead: where it is. */
  async leadZoneFacts(db: Db, leadId: string) {
    return db.selectFrom('leads').select(['id', 'timezone', 'phone', 'city', 'country']).where('id', '=', leadId).executeTakeFirst();
  },
  /** When each marketing email to the lead went out since `since` (ms), across all flows. */
  async marketingSendTimes(db: Db, leadId: string, since: number): Promise<number[]> {
    const rows = await db
      .selectFrom('messages')
      .select((eb) => eb.fn.coalesce('sent_at', 'created_at').as('at'))
      .where('lead_id', '=', leadId)
      .where('kind', '=', 'marketing')
      .where('status', 'in', COUNTED)
      .where((eb) => eb(eb.fn.coalesce('sent_at', 'created_at'), '>=', since))
      .execute();
    return rows.map((r) => Number(r.at));
  }
};
