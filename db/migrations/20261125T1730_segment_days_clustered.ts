import { sql, type Kysely } from 'kysely';

/**
 * lead_event_days the same way as lead_event_stats in 20261125T1720, for the same reason (pages
 * dirtied per counted event, paid at commit): it was a rowid table with a primary-key index and
 * the (type, day, lead_id, n) index, three B-trees for every counted event. Now WITHOUT ROWID keyed
 * (type, day, lead_id), which is also the order the "n times in D days" fallback reads (one range
 * of the window, n in the row), plus lead_event_days_lead (lead_id, type, day) for one lead's
 * window: two B-trees for a new day row, one for another event that day.
 *
 * The triggers of 20261125T1720 name the table in their bodies and keep working on the new one;
 * legacy_alter_table lets the rename go through without re-checking their text against the
 * dropped table. SQLite only.
 */
async function swap(db: Kysely<any>, create: string, indexes: string[]) {
  await sql.raw(create.replace('CREATE TABLE lead_event_days', 'CREATE TABLE lead_event_days_swap')).execute(db);
  await sql`INSERT INTO lead_event_days_swap (lead_id, type, day, n) SELECT lead_id, type, day, n FROM lead_event_days`.execute(db);
  await sql`DROP TABLE lead_event_days`.execute(db);
  await sql`PRAGMA legacy_alter_table = ON`.execute(db);
  await sql`ALTER TABLE lead_event_days_swap RENAME TO lead_event_days`.execute(db);
  await sql`PRAGMA legacy_alter_table = OFF`.execute(db);
  for (const i of indexes) await sql.raw(i).execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  const isSqlite = await sql`select sqlite_version()`.execute(db).then(
    () => true,
    () => false
  );
  if (!isSqlite) return;
  await swap(
    db,
    `CREATE TABLE lead_event_days (lead_id TEXT NOT NULL, type TEXT NOT NULL, day INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (type, day, lead_id)) WITHOUT ROWID`,
    [`CREATE INDEX lead_event_days_lead ON lead_event_days (lead_id, type, day)`]
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  const isSqlite = await sql`select sqlite_version()`.execute(db).then(
    () => true,
    () => false
  );
  if (!isSqlite) return;
  await swap(
    db,
    `CREATE TABLE lead_event_days (lead_id TEXT NOT NULL, type TEXT NOT NULL, day INTEGER NOT NULL, n INTEGER NOT NULL, CONSTRAINT lead_event_days_pk PRIMARY KEY (lead_id, type, day))`,
    [`CREATE INDEX lead_event_days_type ON lead_event_days (type, day, lead_id, n)`]
  );
}
