import { sql, type Kysely } from 'kysely';

/**
 * The per-lead event counters (lead_event_stats, lead_event_days) were kept by an AFTER INSERT
 * trigger on `events`: four upserts inside every tracking hit's and API event's write, which
 * halved the open pixel's throughput (bench/track.bench.ts: 0.19 -> 0.32 ms of CPU per hit).
 * From now on the event dispatcher counts each event as it reads it (same transaction that moves
 * its cursor, in the worker thread), so ingest pays nothing for them.
 *
 * An event is counted once it is at or below the mark `segments.statsFrom` (counted by the old
 * trigger or the backfill) or at or below the dispatcher's cursor (counted by the dispatcher,
 * which skips the engine's own `workflow_step` rows). The update and delete triggers take back
 * only what was counted; an event changed before it is dispatched is counted in its new state.
 * SQLite only, like the triggers this replaces. Frozen copies of the SQL of 20261125T1410.
 */
const ACTIVITY = `('email_opened', 'email_clicked', 'page_viewed', 'form_submitted', 'webinar_attended', 'demo_requested')`;
const DAY_MS = 86_400_000;

function pagePath(alias: string): string {
  const raw = `coalesce(json_extract(${alias}.properties, '$.path'), json_extract(${alias}.properties, '$.url'), json_extract(${alias}.properties, '$.page'), '')`;
  const afterScheme = `substr(${raw}, instr(${raw}, '://') + 3)`;
  const noHost = `(CASE WHEN instr(${raw}, '://') > 0 THEN CASE WHEN instr(${afterScheme}, '/') > 0 THEN substr(${afterScheme}, instr(${afterScheme}, '/')) ELSE '/' END ELSE ${raw} END)`;
  const cut = `CASE WHEN instr(${noHost}, '?') > 0 THEN instr(${noHost}, '?') - 1 WHEN instr(${noHost}, '#') > 0 THEN instr(${noHost}, '#') - 1 ELSE length(${noHost}) END`;
  return `coalesce(nullif(lower(rtrim(substr(${noHost}, 1, ${cut}), '/')), ''), '/')`;
}

const mark = (key: string) => `coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = '${key}'), 0)`;
const counted = (E: string) =>
  `${E}.lead_id IS NOT NULL AND coalesce(json_extract(${E}.properties, '$.machine'), 0) NOT IN (1, 'true')
   AND (${E}.rowid <= ${mark('segments.statsFrom')} OR (${E}.type != 'workflow_step' AND ${E}.rowid <= ${mark('engine.eventCursor')}))`;
const upsert = `ON CONFLICT DO UPDATE SET n = n + 1, last_at = max(last_at, excluded.last_at);`;

function add(E: string) {
  return `
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at) VALUES (${E}.lead_id, ${E}.type, '', 1, ${E}.occurred_at) ${upsert}
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT ${E}.lead_id, ${E}.type, ${pagePath(E)}, 1, ${E}.occurred_at WHERE ${E}.type = 'page_viewed' ${upsert}
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT ${E}.lead_id, '$activity', '', 1, ${E}.occurred_at WHERE ${E}.type IN ${ACTIVITY} ${upsert}
    INSERT INTO lead_event_days (lead_id, type, day, n) VALUES (${E}.lead_id, ${E}.type, ${E}.occurred_at / ${DAY_MS}, 1)
      ON CONFLICT DO UPDATE SET n = n + 1;`;
}

function remove(E: string) {
  return `
    UPDATE lead_event_stats SET n = n - 1 WHERE lead_id = ${E}.lead_id AND type = ${E}.type AND path = '';
    UPDATE lead_event_stats SET n = n - 1 WHERE ${E}.type = 'page_viewed' AND lead_id = ${E}.lead_id AND type = ${E}.type AND path = ${pagePath(E)};
    UPDATE lead_event_stats SET n = n - 1 WHERE ${E}.type IN ${ACTIVITY} AND lead_id = ${E}.lead_id AND type = '$activity' AND path = '';
    UPDATE lead_event_days SET n = n - 1 WHERE lead_id = ${E}.lead_id AND type = ${E}.type AND day = ${E}.occurred_at / ${DAY_MS};`;
}

const TRIGGERS = ['events_stats_insert', 'events_stats_delete', 'events_stats_update_out', 'events_stats_update_in'];

export async function up(db: Kysely<any>): Promise<void> {
  const isSqlite = await sql`select sqlite_version()`.execute(db).then(
    () => true,
    () => false
  );
  if (!isSqlite) return;
  for (const t of TRIGGERS) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
  // Everything stored so far was counted by the old trigger.
  await sql`INSERT INTO settings (key, value, updated_at) SELECT 'segments.statsFrom', CAST(coalesce(max(rowid), 0) AS TEXT), 0 FROM events WHERE true
    ON CONFLICT (key) DO UPDATE SET value = excluded.value`.execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_delete AFTER DELETE ON events WHEN ${counted('OLD')} BEGIN ${remove('OLD')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_update_out AFTER UPDATE OF lead_id, properties ON events WHEN ${counted('OLD')} BEGIN ${remove('OLD')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_update_in AFTER UPDATE OF lead_id, properties ON events WHEN ${counted('NEW')} BEGIN ${add('NEW')} END`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // Counting moves back to an insert trigger only by re-running 20261125T1410's up().
  for (const t of TRIGGERS) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
  await sql`DELETE FROM settings WHERE key = 'segments.statsFrom'`.execute(db);
}
