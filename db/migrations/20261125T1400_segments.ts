import { sql, type Kysely } from 'kysely';

/**
 * Segments: a saved definition (dynamic) or a hand-picked list (static), their current members,
 * and a per-lead per-event-type summary that lets a segment over 5 million events count in
 * milliseconds ("opened 3 emails", "clicked in the last 14 days", "visited /pricing twice").
 *
 * lead_event_stats is kept by SQLite triggers on `events`, so every write path (API, tracking,
 * import, merges that move events, machine flags set after the fact) keeps it right in the same
 * transaction without each caller knowing. One row per (lead, type) with path '' counts all
 * events of the type; page views also count under their normalized path. Machine opens and
 * scanner clicks (properties.machine = true) are nobody's behaviour and are not counted.
 * The triggers are SQLite's; on PostgreSQL the same would be a PL/pgSQL trigger (not written yet).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('segments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('kind', 'text', (c) => c.notNull()) // dynamic | static
    .addColumn('definition', 'text') // JSON (lib/shared/segment.ts); null for static lists
    .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('ready')) // ready | computing
    .addColumn('progress', 'real', (c) => c.notNull().defaultTo(1))
    .addColumn('last_full_at', 'bigint')
    .addColumn('last_sweep_at', 'bigint')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('segment_members')
    .addColumn('segment_id', 'text', (c) => c.notNull().references('segments.id').onDelete('cascade'))
    .addColumn('lead_id', 'text', (c) => c.notNull().references('leads.id').onDelete('cascade'))
    .addColumn('entered_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('segment_members_pk', ['segment_id', 'lead_id'])
    .execute();
  await db.schema.createIndex('segment_members_lead').on('segment_members').column('lead_id').execute();

  await db.schema
    .createTable('lead_event_stats')
    .addColumn('lead_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('n', 'integer', (c) => c.notNull())
    .addColumn('last_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('lead_event_stats_pk', ['lead_id', 'type', 'path'])
    .execute();
  // Covering indexes for "n or more of type T (under path P)" and "T since time X".
  await db.schema.createIndex('lead_event_stats_count').on('lead_event_stats').columns(['type', 'path', 'n', 'lead_id']).execute();
  await db.schema.createIndex('lead_event_stats_last').on('lead_event_stats').columns(['type', 'path', 'last_at', 'lead_id']).execute();

  const isSqlite = await sql<{ v: string }>`select sqlite_version() as v`
    .execute(db)
    .then(() => true)
    .catch(() => false);
  if (!isSqlite) return;

  // A frozen copy of segments/page-path.ts: the path part of a page view's url, without query,
  // fragment or trailing slash, lower-cased (ASCII), so /Pricing?utm=x and https://x.ru/pricing/ agree.
  const raw = `coalesce(json_extract(E.properties, '$.path'), json_extract(E.properties, '$.url'), json_extract(E.properties, '$.page'), '')`;
  const noHost = `(CASE WHEN instr(${raw}, '://') > 0 THEN CASE WHEN instr(substr(${raw}, instr(${raw}, '://') + 3), '/') > 0 THEN substr(substr(${raw}, instr(${raw}, '://') + 3), instr(substr(${raw}, instr(${raw}, '://') + 3), '/')) ELSE '/' END ELSE ${raw} END)`;
  const pathSql = `coalesce(nullif(lower(rtrim(substr(${noHost}, 1, CASE WHEN instr(${noHost}, '?') > 0 THEN instr(${noHost}, '?') - 1 WHEN instr(${noHost}, '#') > 0 THEN instr(${noHost}, '#') - 1 ELSE length(${noHost}) END), '/')), ''), '/')`;
  const counted = (E: string) => `${E}.lead_id IS NOT NULL AND coalesce(json_extract(${E}.properties, '$.machine'), 0) NOT IN (1, 'true')`;
  const add = (E: string) => `
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at) VALUES (${E}.lead_id, ${E}.type, '', 1, ${E}.occurred_at)
      ON CONFLICT (lead_id, type, path) DO UPDATE SET n = n + 1, last_at = max(last_at, excluded.last_at);
    INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
      SELECT ${E}.lead_id, ${E}.type, ${pathSql.replaceAll('E.', `${E}.`)}, 1, ${E}.occurred_at WHERE ${E}.type = 'page_viewed'
      ON CONFLICT (lead_id, type, path) DO UPDATE SET n = n + 1, last_at = max(last_at, excluded.last_at);`;
  // Taking an event away cannot know the previous last time; last_at stays as it was, which only
  // matters for an event flagged as a machine hit after the fact (seconds after it arrived).
  const remove = (E: string) => `
    UPDATE lead_event_stats SET n = n - 1 WHERE lead_id = ${E}.lead_id AND type = ${E}.type AND path = '';
    UPDATE lead_event_stats SET n = n - 1 WHERE ${E}.type = 'page_viewed' AND lead_id = ${E}.lead_id AND type = ${E}.type AND path = ${pathSql.replaceAll('E.', `${E}.`)};`;
  await sql.raw(`CREATE TRIGGER events_stats_insert AFTER INSERT ON events WHEN ${counted('NEW')} BEGIN ${add('NEW')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_delete AFTER DELETE ON events WHEN ${counted('OLD')} BEGIN ${remove('OLD')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_update_out AFTER UPDATE OF lead_id, properties ON events WHEN ${counted('OLD')} BEGIN ${remove('OLD')} END`).execute(db);
  await sql.raw(`CREATE TRIGGER events_stats_update_in AFTER UPDATE OF lead_id, properties ON events WHEN ${counted('NEW')} BEGIN ${add('NEW')} END`).execute(db);
  // Events stored before this migration.
  await sql.raw(`INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
    SELECT lead_id, type, '', count(*), max(occurred_at) FROM events E WHERE ${counted('E')} GROUP BY lead_id, type`).execute(db);
  await sql.raw(`INSERT INTO lead_event_stats (lead_id, type, path, n, last_at)
    SELECT lead_id, type, p, count(*), max(occurred_at) FROM (SELECT lead_id, type, occurred_at, ${pathSql} AS p FROM events E WHERE E.type = 'page_viewed' AND ${counted('E')}) GROUP BY lead_id, type, p`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['events_stats_insert', 'events_stats_delete', 'events_stats_update_out', 'events_stats_update_in']) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
  await db.schema.dropTable('lead_event_stats').ifExists().execute();
  await db.schema.dropTable('segment_members').ifExists().execute();
  await db.schema.dropTable('segments').ifExists().execute();
}
