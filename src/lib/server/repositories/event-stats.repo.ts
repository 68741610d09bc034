import { sql } from 'kysely';
import type { Db } from '../db/database';
import { pagePathSql } from '../segments/page-path';

/**
 * The per-lead event counters segments read (lead_event_stats, lead_event_days), kept by the
 * event dispatcher as it reads each event (migration 20261125T1600 explains why not a trigger).
 * A machine hit is not counted; merges, late machine flags and deletes of counted events are
 * followed by the triggers of that migration.
 */
const ACTIVITY = sql.raw(`('email_opened', 'email_clicked', 'page_viewed', 'form_submitted', 'webinar_attended', 'demo_requested')`);
const DAY_MS = 86_400_000;
const PATH = sql.raw(pagePathSql('E'));
const PERSON = sql.raw(`E.lead_id IS NOT NULL AND coalesce(json_extract(E.properties, '$.machine'), 0) NOT IN (1, 'true')`);

const STATS_FROM_KEY = 'segments.statsFrom';

export const eventStatsRepo = {
  /**
   * Recounts everything from the events up to rowid `through` (a bulk load, a repair) and marks
   * them counted; the dispatcher goes on from its cursor, which must not be below `through`.
   */
  async rebuild(db: Db, through: number) {
    const upTo = sql`E.rowid <= ${through} AND ${PERSON}`;
    await sql`DELETE FROM lead_event_stats`.execute(db);
    await sql`DELETE FROM lead_event_days`.execute(db);
    await sql`INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT E.lead_id, E.type, '', count(*), max(E.occurred_at) FROM events E WHERE ${upTo} GROUP BY E.lead_id, E.type`.execute(db);
    await sql`INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT E.lead_id, E.type, ${PATH}, count(*), max(E.occurred_at) FROM events E WHERE ${upTo} AND E.type = 'page_viewed' GROUP BY E.lead_id, E.type, 3`.execute(db);
    await sql`INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT E.lead_id, '$activity', '', count(*), max(E.occurred_at) FROM events E WHERE ${upTo} AND E.type IN ${ACTIVITY} GROUP BY E.lead_id`.execute(db);
    await sql`INSERT INTO lead_event_days (lead_id, type, day, n)
      SELECT E.lead_id, E.type, E.occurred_at / ${sql.raw(String(DAY_MS))}, count(*) FROM events E WHERE ${upTo} GROUP BY E.lead_id, E.type, 3`.execute(db);
    await sql`INSERT INTO settings (key, value, updated_at) VALUES (${STATS_FROM_KEY}, ${String(through)}, 0)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`.execute(db);
  },

  /** Counts the event at `seq` (its rowid) for its lead; called once per event, with the cursor. */
  async countEvent(db: Db, seq: number) {
    await sql`INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT E.lead_id, E.type, '', 1, E.occurred_at FROM events E WHERE E.rowid = ${seq} AND ${PERSON}
      ON CONFLICT DO UPDATE SET n = n + 1, last_at = max(last_at, excluded.last_at)`.execute(db);
    await sql`INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT E.lead_id, E.type, ${PATH}, 1, E.occurred_at FROM events E WHERE E.rowid = ${seq} AND E.type = 'page_viewed' AND ${PERSON}
      ON CONFLICT DO UPDATE SET n = n + 1, last_at = max(last_at, excluded.last_at)`.execute(db);
    await sql`INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT E.lead_id, '$activity', '', 1, E.occurred_at FROM events E WHERE E.rowid = ${seq} AND E.type IN ${ACTIVITY} AND ${PERSON}
      ON CONFLICT DO UPDATE SET n = n + 1, last_at = max(last_at, excluded.last_at)`.execute(db);
    await sql`INSERT INTO lead_event_days (lead_id, type, day, n)
      SELECT E.lead_id, E.type, E.occurred_at / ${sql.raw(String(DAY_MS))}, 1 FROM events E WHERE E.rowid = ${seq} AND ${PERSON}
      ON CONFLICT DO UPDATE SET n = n + 1`.execute(db);
  }
};
