import type { Db } from '../db/database';
import type { EventsTable } from '../db/schema';
import { parseJson } from './json';

export interface LeadEvent {
  id: string;
  leadId: string | null;
  type: string;
  properties: Record<string, unknown>;
  source: string;
  actorId: string | null;
  occurredAt: number;
  receivedAt: number;
}

export const eventsRepo = {
  /** Appends; a repeated dedupe key stores nothing and answers false. */
  async append(db: Db, row: EventsTable): Promise<boolean> {
    const r = await db
      .insertInto('events')
      .values(row)
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },
  async appendMany(db: Db, rows: EventsTable[]) {
    // 9 columns a row keeps each statement well under SQLite's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 500) {
      await db.insertInto('events').values(rows.slice(i, i + 500)).execute();
    }
  },
  findByDedupeKey(db: Db, key: string) {
    return db.selectFrom('events').select(['id', 'lead_id']).where('dedupe_key', '=', key).executeTakeFirst();
  },
  async listForLead(db: Db, leadId: string, limit = 200, before?: number): Promise<LeadEvent[]> {
    let q = db
      .selectFrom('events')
      .selectAll()
      .where('lead_id', '=', leadId)
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (before !== undefined) q = q.where('occurred_at', '<', before);
    const rows = await q.execute();
    return rows.map(toEvent);
  },
  async reassignLead(db: Db, fromLeadId: string, toLeadId: string) {
    await db.updateTable('events').set({ lead_id: toLeadId }).where('lead_id', '=', fromLeadId).execute();
  }
};

export function toEvent(r: EventsTable): LeadEvent {
  return {
    id: r.id,
    leadId: r.lead_id,
    type: r.type,
    properties: parseJson<Record<string, unknown>>(r.properties, {}),
    source: r.source,
    actorId: r.actor_id,
    occurredAt: r.occurred_at,
    receivedAt: r.received_at
  };
}
