import type { Kysely } from 'kysely';

/**
 * Scoring lab: every rule set an admin saves (or rolls back to) is kept as a numbered version, so
 * a change can be undone; a rescore job row reports the progress of rescoring every lead after it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('scoring_rule_sets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull().unique())
    .addColumn('rules', 'text', (c) => c.notNull()) // JSON: ScoringRule[]
    .addColumn('settings', 'text', (c) => c.notNull()) // JSON: ScoringSettings
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('restored_from', 'integer') // the version a rollback brought back
    .addColumn('created_by', 'text')
    .addColumn('created_label', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('rescore_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('rule_set_id', 'text', (c) => c.notNull().references('scoring_rule_sets.id'))
    .addColumn('status', 'text', (c) => c.notNull()) // running | done | failed
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('processed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('changed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ledger_rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('became_mql', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('left_mql', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('started_by', 'text')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema.createIndex('rescore_jobs_started').on('rescore_jobs').column('started_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rescore_jobs').execute();
  await db.schema.dropTable('scoring_rule_sets').execute();
}
