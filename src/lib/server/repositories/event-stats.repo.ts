import { sql } from 'kysely';
import type { Db } from '../db/database';
import { pagePathSql } from '../segments/page-path';
import { mergeRecentSql, RECENT_DAYS } from '../segments/recent-days';

/**
 * The per-lead event counters segments read (lead_event_stats with its `recent` days,
 * lead_event_days), kept by the event dispatcher as it reads each event (migration
 * 20261125T1600 explains why not a trigger; 20261125T1700 why `recent`).
 * A machine hit is not counted; merges, late machine flags and deletes of counted events are
 * followed by the triggers of that migration.
 */
const ACTIVITY = sql.raw(`('email_opened', 'email_clicked', 'page_viewed', 'form_submitted', 'webinar_attended', 'demo_requested')`);
const DAY_MS = 86_400_000;
const DAY = sql.raw(String(DAY_MS));
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
      SELECT E.lead_id, E.type, E.occurred_at / ${DAY}, count(*) FROM events E WHERE ${upTo} GROUP BY E.lead_id, E.type, 3`.execute(db);
    await sql`UPDATE lead_event_stats SET recent = r.recent FROM (
        SELECT lead_id, type, json_group_array(d ORDER BY d DESC) AS recent FROM (
          SELECT E.lead_id, E.type, E.occurred_at / ${DAY} AS d, row_number() OVER (PARTITION BY E.lead_id, E.type ORDER BY E.occurred_at DESC) AS k
          FROM events E WHERE ${upTo})
        WHERE k <= ${sql.raw(String(RECENT_DAYS))} GROUP BY lead_id, type) AS r
      WHERE lead_event_stats.lead_id = r.lead_id AND lead_event_stats.type = r.type AND lead_event_stats.path = ''`.execute(db);
    await sql`INSERT INTO settings (key, value, updated_at) VALUES (${STATS_FROM_KEY}, ${String(through)}, 0)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`.execute(db);
  },

  /**
   * Counts the event at `seq` (its rowid) for its lead; called once per event, with the cursor.
   * Two statements: the type's row (with its latest days), the page path's and the '$activity'
   * row in one upsert, and the day's row.
   */
  async countEvent(db: Db, seq: number) {
    await sql`INSERT INTO lead_event_stats (lead_id, type, path, n, last_at, recent)
      SELECT * FROM (
        SELECT E.lead_id, E.type, '', 1, E.occurred_at, json_array(E.occurred_at / ${DAY}) FROM events E WHERE E.rowid = ${seq} AND ${PERSON}
        UNION ALL
        SELECT E.lead_id, E.type, ${PATH}, 1, E.occurred_at, NULL FROM events E WHERE E.rowid = ${seq} AND E.type = 'page_viewed' AND ${PERSON}
        UNION ALL
        SELECT E.lead_id, '$activity', '', 1, E.occurred_at, NULL FROM events E WHERE E.rowid = ${seq} AND E.type IN ${ACTIVITY} AND ${PERSON}
      ) WHERE true
      ON CONFLICT DO UPDATE SET n = n + 1, last_at = max(last_at, excluded.last_at), recent = ${sql.raw(mergeRecentSql)}`.execute(db);
    await sql`INSERT INTO lead_event_days (lead_id, type, day, n)
      SELECT E.lead_id, E.type, E.occurred_at / ${DAY}, 1 FROM events E WHERE E.rowid = ${seq} AND ${PERSON}
      ON CONFLICT DO UPDATE SET n = n + 1`.execute(db);
  }
};
