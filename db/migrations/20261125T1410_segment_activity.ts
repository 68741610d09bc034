import { sql, type Kysely } from 'kysely';
import { pagePathSql } from '../../src/lib/server/segments/page-path';

/**
 * Two more summaries for segment counts over millions of events, measured to be needed at 100,000
 * leads and 5 M events (bench/segments.bench.ts):
 * - lead_event_days: events per lead, type and UTC day, so "3 page views in the last 30 days"
 *   sums a few day rows instead of scanning every event of the window (6.5 s before);
 * - a '$activity' row per lead in lead_event_stats: the last time the lead did anything a person
 *   does, so "no activity for 60 days" reads one row per lead, not one per activity type.
 * The triggers of 20261125T1400_segments are replaced by ones that keep all three. SQLite only,
 * like those (PostgreSQL would need PL/pgSQL triggers, not written yet).
 */
const ACTIVITY = `('email_opened', 'email_clicked', 'page_viewed', 'form_submitted', 'webinar_attended', 'demo_requested')`;
const DAY_MS = 86_400_000;

const counted = (E: string) => `${E}.lead_id IS NOT NULL AND coalesce(json_extract(${E}.properties, '$.machine'), 0) NOT IN (1, 'true')`;
const upsert = `ON CONFLICT DO UPDATE SET n = n + 1, last_at = max(last_at, excluded.last_at);`;

function add(E: string) {
  return `
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at) VALUES (${E}.lead_id, ${E}.type, '', 1, ${E}.occurred_at) ${upsert}
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT ${E}.lead_id, ${E}.type, ${pagePathSql(E)}, 1, ${E}.occurred_at WHERE ${E}.type = 'page_viewed' ${upsert}
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT ${E}.lead_id, '$activity', '', 1, ${E}.occurred_at WHERE ${E}.type IN ${ACTIVITY} ${upsert}
    INSERT INTO lead_event_days (lead_id, type, day, n) VALUES (${E}.lead_id, ${E}.type, ${E}.occurred_at / ${DAY_MS}, 1)
      ON CONFLICT DO UPDATE SET n = n + 1;`;
}

// Taking an event away cannot know the previous last time; last_at stays as it was, which only
// matters for an event flagged as a machine hit after the fact (seconds after it arrived).
function remove(E: string) {
  return `
    UPDATE lead_event_stats SET n = n - 1 WHERE lead_id = ${E}.lead_id AND type = ${E}.type AND path = '';
    UPDATE lead_event_stats SET n = n - 1 WHERE ${E}.type = 'page_viewed' AND lead_id = ${E}.lead_id AND type = ${E}.type AND path = ${pagePathSql(E)};
    UPDATE lead_event_stats SET n = n - 1 WHERE ${E}.type IN ${ACTIVITY} AND lead_id = ${E}.lead_id AND type = '$activity' AND path = '';
    UPDATE lead_event_days SET n = n - 1 WHERE lead_id = ${E}.lead_id AND type = ${E}.type AND day = ${E}.occurred_at / ${DAY_MS};`;
}

const TRIGGERS = ['events_stats_insert', 'events_stats_delete', 'events_stats_update_out', 'events_stats_update_in'];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('lead_event_days')
    .addColumn('lead_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('day', 'integer', (c) => c.notNull()) // UTC days since the epoch
    .addColumn('n', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('lead_event_days_pk', ['lead_id', 'type', 'day'])
    .execute();
  await db.schema.createIndex('lead_event_days_type').on('lead_event_days').columns(['type', 'day', 'lead_id', 'n']).execute();

  const isSqlite = await sql`select sqlite_version()`.execute(db).then(() => true, () => false);
  if (!isSqlite) return;
  for (const t of TRIGGERS) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_insert AFTER INSERT ON events WHEN ${counted('NEW')} BEGIN ${add('NEW')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_delete AFTER DELETE ON events WHEN ${counted('OLD')} BEGIN ${remove('OLD')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_update_out AFTER UPDATE OF lead_id, properties ON events WHEN ${counted('OLD')} BEGIN ${remove('OLD')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_update_in AFTER UPDATE OF lead_id, properties ON events WHEN ${counted('NEW')} BEGIN ${add('NEW')} END`).execute(db);
  // Events stored before this migration.
  await sql.raw(`INSERT INTO lead_event_days (lead_id, type, day, n)
    SELECT lead_id, type, occurred_at / ${DAY_MS}, count(*) FROM events E WHERE ${counted('E')} GROUP BY lead_id, type, occurred_at / ${DAY_MS}`).execute(db);
  await sql.raw(`INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
    SELECT lead_id, '$activity', '', sum(n), max(last_at) FROM lead_event_stats WHERE path = '' AND type IN ${ACTIVITY} GROUP BY lead_id`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of TRIGGERS) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
  await sql.raw(`DELETE FROM lead_event_stats WHERE type = '$activity'`).execute(db);
  await db.schema.dropTable('lead_event_days').ifExists().execute();
}
