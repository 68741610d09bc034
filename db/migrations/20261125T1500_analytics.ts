import { sql, type Kysely } from 'kysely';

/**
 * Analytics: `analytics_stage_changes` is every `stage_changed` event with its JSON already
 * taken apart (from, to, by, amount), so the funnel, channel and revenue views read a narrow
 * indexed table instead of parsing JSON over millions of events. SQLite triggers keep it current
 * as events are written, moved by a lead merge or deleted with their lead: no rebuild job and no
 * change to the many places that write stage changes. (On PostgreSQL the same three triggers
 * would be written in PL/pgSQL; the app runs SQLite today.)
 * Also indexes the time columns the views filter on.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('analytics_stage_changes')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('lead_id', 'text', (c) => c.notNull())
    .addColumn('from_stage', 'text')
    .addColumn('to_stage', 'text', (c) => c.notNull())
    .addColumn('by_whom', 'text')
    .addColumn('amount', 'real') // rubles, on a change to customer
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('analytics_stage_changes_lead').on('analytics_stage_changes').columns(['lead_id', 'at']).execute();
  await db.schema.createIndex('analytics_stage_changes_to').on('analytics_stage_changes').columns(['to_stage', 'at']).execute();

  const isSqlite = await sql`select sqlite_version()`
    .execute(db)
    .then(() => true)
    .catch(() => false);
  if (isSqlite) await createStageTriggers(db);

  await db.schema.createIndex('handoffs_assigned').on('handoffs').column('assigned_at').execute();
  await db.schema.createIndex('workflow_instances_enrolled').on('workflow_instances').column('enrolled_at').execute();
  await db.schema.createIndex('messages_created').on('messages').column('created_at').execute();
}

async function createStageTriggers(db: Kysely<any>) {
  await sql`
    CREATE TRIGGER analytics_stage_changed_insert AFTER INSERT ON events
    WHEN NEW.type = 'stage_changed' AND NEW.lead_id IS NOT NULL AND json_valid(NEW.properties)
      AND json_extract(NEW.properties, '$.to') IS NOT NULL
    BEGIN
      INSERT OR REPLACE INTO analytics_stage_changes (event_id, lead_id, from_stage, to_stage, by_whom, amount, at)
      VALUES (NEW.id, NEW.lead_id, json_extract(NEW.properties, '$.from'), json_extract(NEW.properties, '$.to'),
              json_extract(NEW.properties, '$.by'), json_extract(NEW.properties, '$.amount'), NEW.occurred_at);
    END`.execute(db);
  // A merge moves the twin's events to the survivor; its stage history goes with them.
  await sql`
    CREATE TRIGGER analytics_stage_changed_move AFTER UPDATE OF lead_id ON events
    WHEN NEW.type = 'stage_changed'
    BEGIN
      UPDATE analytics_stage_changes SET lead_id = NEW.lead_id WHERE event_id = NEW.id;
    END`.execute(db);
  await sql`
    CREATE TRIGGER analytics_stage_changed_delete AFTER DELETE ON events
    WHEN OLD.type = 'stage_changed'
    BEGIN
      DELETE FROM analytics_stage_changes WHERE event_id = OLD.id;
    END`.execute(db);
  await sql`
    INSERT INTO analytics_stage_changes (event_id, lead_id, from_stage, to_stage, by_whom, amount, at)
    SELECT id, lead_id, json_extract(properties, '$.from'), json_extract(properties, '$.to'), json_extract(properties, '$.by'),
           json_extract(properties, '$.amount'), occurred_at
    FROM events
    WHERE type = 'stage_changed' AND lead_id IS NOT NULL AND json_valid(properties) AND json_extract(properties, '$.to') IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['analytics_stage_changed_insert', 'analytics_stage_changed_move', 'analytics_stage_changed_delete'])
    await sql`DROP TRIGGER IF EXISTS ${sql.raw(t)}`.execute(db);
  await db.schema.dropIndex('messages_created').ifExists().execute();
  await db.schema.dropIndex('workflow_instances_enrolled').ifExists().execute();
  await db.schema.dropIndex('handoffs_assigned').ifExists().execute();
  await db.schema.dropTable('analytics_stage_changes').ifExists().execute();
}
