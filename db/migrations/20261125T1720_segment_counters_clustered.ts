import { sql, type Kysely } from 'kysely';

/**
 * The per-lead counters cost the dispatcher more with every million events, and mostly at commit:
 * at 100,000 leads and 5 M events a batch of 450 events dirtied ~4,500 pages scattered over
 * lead_event_stats' four B-trees (the rowid table, its primary key, the count and the last-time
 * indexes), and the COMMIT that wrote them to the WAL took 222 µs an event, more than everything
 * the dispatcher did for it (bench/segments.bench.ts, profiled per statement). Each counted event
 * updates two or three rows (its type, '$activity', a page path), and n, last_at and `recent`
 * were keys of the two secondary indexes, so every update moved entries in both.
 *
 * Now the table is WITHOUT ROWID with the key (type, path, lead_id): an update rewrites one leaf
 * of one B-tree. The set queries of segments scan one type's rows in that order (the old covering
 * indexes were ordered the same way up to n or last_at, which only narrowed ranges that are most
 * of the leads anyway); the per-lead lookups give all three key columns, and page paths of one lead
 * are found through lead_event_stats_lead (lead_id, type, path), whose entries never change once
 * made. The triggers of 20261125T1700 are dropped for the swap and made again unchanged (frozen
 * copy below). SQLite only.
 */
const RECENT_DAYS = 16;
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

/** The latest RECENT_DAYS days of counted events of (lead, type), newest first; '[]' if none. */
const recentOf = (lead: string, type: string) => `(SELECT json_group_array(d ORDER BY d DESC) FROM (
    SELECT R.occurred_at / ${DAY_MS} AS d FROM events R WHERE R.lead_id = ${lead} AND R.type = ${type} AND ${counted('R')}
    ORDER BY R.occurred_at DESC LIMIT ${RECENT_DAYS}))`;
const recompute = (E: string) => `
    UPDATE lead_event_stats SET recent = ${recentOf(`${E}.lead_id`, `${E}.type`)} WHERE lead_id = ${E}.lead_id AND type = ${E}.type AND path = '';`;

function add(E: string) {
  return `
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at) VALUES (${E}.lead_id, ${E}.type, '', 1, ${E}.occurred_at) ${upsert}
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT ${E}.lead_id, ${E}.type, ${pagePath(E)}, 1, ${E}.occurred_at WHERE ${E}.type = 'page_viewed' ${upsert}
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT ${E}.lead_id, '$activity', '', 1, ${E}.occurred_at WHERE ${E}.type IN ${ACTIVITY} ${upsert}
    INSERT INTO lead_event_days (lead_id, type, day, n) VALUES (${E}.lead_id, ${E}.type, ${E}.occurred_at / ${DAY_MS}, 1)
      ON CONFLICT DO UPDATE SET n = n + 1;${recompute(E)}`;
}

function remove(E: string) {
  return `
    UPDATE lead_event_stats SET n = n - 1 WHERE lead_id = ${E}.lead_id AND type = ${E}.type AND path = '';
    UPDATE lead_event_stats SET n = n - 1 WHERE ${E}.type = 'page_viewed' AND lead_id = ${E}.lead_id AND type = ${E}.type AND path = ${pagePath(E)};
    UPDATE lead_event_stats SET n = n - 1 WHERE ${E}.type IN ${ACTIVITY} AND lead_id = ${E}.lead_id AND type = '$activity' AND path = '';
    UPDATE lead_event_days SET n = n - 1 WHERE lead_id = ${E}.lead_id AND type = ${E}.type AND day = ${E}.occurred_at / ${DAY_MS};${recompute(E)}`;
}

const TRIGGERS = ['events_stats_delete', 'events_stats_update_out', 'events_stats_update_in'];

async function createTriggers(db: Kysely<any>) {
  for (const t of TRIGGERS) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_delete AFTER DELETE ON events WHEN ${counted('OLD')} BEGIN ${remove('OLD')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_update_out AFTER UPDATE OF lead_id, properties ON events WHEN ${counted('OLD')} BEGIN ${remove('OLD')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_update_in AFTER UPDATE OF lead_id, properties ON events WHEN ${counted('NEW')} BEGIN ${add('NEW')} END`).execute(db);
}


export async function up(db: Kysely<any>): Promise<void> {
  const isSqlite = await sql`select sqlite_version()`.execute(db).then(
    () => true,
    () => false
  );
  if (!isSqlite) return;
  for (const t of TRIGGERS) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
  await sql`CREATE TABLE lead_event_stats_clustered (
      lead_id TEXT NOT NULL, type TEXT NOT NULL, path TEXT NOT NULL DEFAULT '', n INTEGER NOT NULL, last_at BIGINT NOT NULL, recent TEXT,
      PRIMARY KEY (type, path, lead_id)) WITHOUT ROWID`.execute(db);
  await sql`INSERT INTO lead_event_stats_clustered (lead_id, type, path, n, last_at, recent)
    SELECT lead_id, type, path, n, last_at, recent FROM lead_event_stats ORDER BY type, path, lead_id`.execute(db);
  await sql`DROP TABLE lead_event_stats`.execute(db);
  await sql`ALTER TABLE lead_event_stats_clustered RENAME TO lead_event_stats`.execute(db);
  await sql`CREATE INDEX lead_event_stats_lead ON lead_event_stats (lead_id, type, path)`.execute(db);
  await createTriggers(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const isSqlite = await sql`select sqlite_version()`.execute(db).then(
    () => true,
    () => false
  );
  if (!isSqlite) return;
  for (const t of TRIGGERS) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
  await sql`CREATE TABLE lead_event_stats_rowid (
      lead_id TEXT NOT NULL, type TEXT NOT NULL, path TEXT NOT NULL DEFAULT '', n INTEGER NOT NULL, last_at BIGINT NOT NULL, recent TEXT,
      CONSTRAINT lead_event_stats_pk PRIMARY KEY (lead_id, type, path))`.execute(db);
  await sql`INSERT INTO lead_event_stats_rowid SELECT lead_id, type, path, n, last_at, recent FROM lead_event_stats`.execute(db);
  await sql`DROP TABLE lead_event_stats`.execute(db);
  await sql`ALTER TABLE lead_event_stats_rowid RENAME TO lead_event_stats`.execute(db);
  await sql`CREATE INDEX lead_event_stats_count ON lead_event_stats (type, path, n, lead_id, recent)`.execute(db);
  await sql`CREATE INDEX lead_event_stats_last ON lead_event_stats (type, path, last_at, lead_id)`.execute(db);
  await createTriggers(db);
}
