import { sql, type Kysely } from 'kysely';

/**
 * The MQL→SQL hand-off: one `handoffs` row per assignment of a lead to a rep (a reassignment
 * closes the row as `reassigned` and opens the next attempt), and the reps' own tasks (call back,
 * follow up). Routing and SLA settings live in `settings` under `handoff.settings`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('handoffs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('lead_id', 'text', (c) => c.notNull().references('leads.id').onDelete('cascade'))
    .addColumn('owner_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    // open | accepted | rejected | recycled | reassigned
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull()) // the routing rule that chose the owner
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('assigned_at', 'bigint', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull()) // SLA deadline (business hours already applied)
    .addColumn('first_action_at', 'bigint')
    .addColumn('reminded_at', 'bigint')
    .addColumn('escalated_at', 'bigint')
    .addColumn('breached', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reason', 'text') // bad_fit | no_budget | wrong_contact | duplicate | other
    .addColumn('note', 'text')
    .addColumn('follow_up_at', 'bigint')
    .addColumn('closed_at', 'bigint')
    .addColumn('summary', 'text', (c) => c.notNull().defaultTo('{}')) // JSON: why the lead qualified
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('handoffs_owner_status').on('handoffs').columns(['owner_id', 'status']).execute();
  await db.schema.createIndex('handoffs_status_due').on('handoffs').columns(['status', 'due_at']).execute();
  await db.schema.createIndex('handoffs_lead').on('handoffs').columns(['lead_id', 'created_at']).execute();
  await db.schema.createIndex('handoffs_closed').on('handoffs').columns(['status', 'closed_at']).execute();
  // At most one open hand-off per lead: a second MQL (or a retried effect) cannot double-assign.
  await db.schema
    .createIndex('handoffs_one_open')
    .on('handoffs')
    .column('lead_id')
    .unique()
    .where(sql.ref('status'), '=', 'open')
    .execute();

  await db.schema
    .createTable('rep_tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('lead_id', 'text', (c) => c.notNull().references('leads.id').onDelete('cascade'))
    .addColumn('handoff_id', 'text', (c) => c.references('handoffs.id').onDelete('set null'))
    .addColumn('kind', 'text', (c) => c.notNull()) // call_back | follow_up
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('done_at', 'bigint')
    // When the rep was reminded by email that the task is due (null: not yet).
    .addColumn('notified_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rep_tasks_owner').on('rep_tasks').columns(['owner_id', 'done_at', 'due_at']).execute();
  await db.schema.createIndex('rep_tasks_due').on('rep_tasks').columns(['done_at', 'notified_at', 'due_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rep_tasks').execute();
  await db.schema.dropTable('handoffs').execute();
}
