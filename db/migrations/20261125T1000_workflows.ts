import type { Kysely } from 'kysely';

/**
 * The durable workflow engine: flows and their immutable published versions, one instance per
 * enrollment with its persisted XState snapshot, timers for delayed events, an outbox of
 * effects keyed for exactly-once completion, the in-app mailbox (delivery off) and notices.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('workflows')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active')) // active, paused
    .addColumn('current_version_id', 'text')
    .addColumn('trigger_type', 'text')
    .addColumn('trigger_key', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workflows_trigger').on('workflows').columns(['trigger_type', 'trigger_key']).execute();

  await db.schema
    .createTable('workflow_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull().references('workflows.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('published_by', 'text')
    .addColumn('published_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('workflow_versions_unique', ['workflow_id', 'version'])
    .execute();

  await db.schema
    .createTable('workflow_instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull().references('workflows.id').onDelete('cascade'))
    .addColumn('version_id', 'text', (c) => c.notNull().references('workflow_versions.id'))
    .addColumn('lead_id', 'text', (c) => c.notNull().references('leads.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull()) // active, finished, goal, exited, failed
    .addColumn('current_node', 'text')
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0)) // optimistic concurrency
    .addColumn('awaiting', 'text') // event types the current node waits for, space separated
    .addColumn('error', 'text')
    .addColumn('enrolled_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema.createIndex('workflow_instances_lead').on('workflow_instances').columns(['lead_id', 'status']).execute();
  await db.schema.createIndex('workflow_instances_flow').on('workflow_instances').columns(['workflow_id', 'status', 'current_node']).execute();

  await db.schema
    .createTable('workflow_timers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('instance_id', 'text', (c) => c.notNull().references('workflow_instances.id').onDelete('cascade'))
    .addColumn('timer_key', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('claimed_until', 'bigint')
    .addUniqueConstraint('workflow_timers_unique', ['instance_id', 'timer_key'])
    .execute();
  await db.schema.createIndex('workflow_timers_due').on('workflow_timers').column('due_at').execute();

  await db.schema
    .createTable('workflow_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('effect_key', 'text', (c) => c.notNull().unique()) // instance:version:index
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('lead_id', 'text', (c) => c.notNull())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull()) // pending, done, failed
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('result', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('done_at', 'bigint')
    .execute();
  await db.schema.createIndex('workflow_outbox_pending').on('workflow_outbox').columns(['status', 'next_attempt_at']).execute();

  await db.schema
    .createTable('mailbox_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_key', 'text', (c) => c.notNull().unique()) // the effect key: one message per step
    .addColumn('lead_id', 'text', (c) => c.references('leads.id').onDelete('set null'))
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body_text', 'text', (c) => c.notNull())
    .addColumn('template', 'text')
    .addColumn('workflow_id', 'text')
    .addColumn('node_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mailbox_messages_created').on('mailbox_messages').column('created_at').execute();

  // Email templates (subject + Liquid body). Flows ship theirs in workflows/<slug>/emails/.
  await db.schema
    .createTable('email_templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull().defaultTo('ru'))
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('notice_key', 'text', (c) => c.unique())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('role', 'text')
    .addColumn('lead_id', 'text', (c) => c.references('leads.id').onDelete('cascade'))
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('read_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['notifications', 'email_templates', 'mailbox_messages', 'workflow_outbox', 'workflow_timers', 'workflow_instances', 'workflow_versions', 'workflows'])
    await db.schema.dropTable(t).ifExists().execute();
}
