import type SQLite from 'better-sqlite3';
import type { EventsTable } from '../db/schema';

/**
 * Prepared statements for storing API events on SQLite (the hot path of `POST /api/v1/events`,
 * see events.service.ts for why it is raw). They are the same reads and write as
 * leadsRepo.findById / findIdsByIdentities and eventsRepo.append / findByDedupeKey, narrowed to
 * one lead reference and one event, so nothing is built per call.
 */
export function eventIngestStatements(sqlite: SQLite.Database) {
  const leadById = sqlite.prepare<[string], { id: string; merged_into_id: string | null }>(`SELECT id, merged_into_id FROM leads WHERE id = ?`);
  const leadIdByEmail = sqlite.prepare<[string], string>(`SELECT lead_id FROM lead_identities WHERE kind = 'email' AND value = ?`).pluck();
  // Positional parameters: binding by name costs a property lookup per column.
  const insert = sqlite.prepare(
    `INSERT INTO events (id, lead_id, type, properties, source, actor_id, occurred_at, received_at, dedupe_key)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`
  );
  const byDedupeKey = sqlite.prepare<[string], { id: string; lead_id: string | null }>(`SELECT id, lead_id FROM events WHERE dedupe_key = ?`);
  return {
    findLead: (id: string) => leadById.get(id),
    findLeadIdByEmail: (email: string) => leadIdByEmail.get(email) ?? null,
    /** Appends; a repeated dedupe key stores nothing and answers false. */
    append(r: EventsTable): boolean {
      return insert.run(r.id, r.lead_id, r.type, r.properties, r.source, r.actor_id, r.occurred_at, r.received_at, r.dedupe_key).changes > 0;
    },
    findByDedupeKey: (key: string) => byDedupeKey.get(key)
  };
}

export type EventIngestStatements = ReturnType<typeof eventIngestStatements>;
