import type { Kysely } from 'kysely';

/**
 * The designer's drafts: one working copy per flow, saved (and autosaved) apart from the published
 * versions. `revision` goes up by one on every save, so a save based on an older revision is
 * refused instead of silently overwriting someone else's work.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('workflow_drafts')
    .addColumn('workflow_id', 'text', (c) => c.primaryKey().references('workflows.id').onDelete('cascade'))
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('updated_label', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('workflow_drafts').ifExists().execute();
}
