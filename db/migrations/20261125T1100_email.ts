import type { Kysely } from 'kysely';

/**
 * The email channel: templates gain an HTML body and a kind, every send is a `messages` row with
 * its tracked links, and suppressions / preferences are checked at send time.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('email_templates').addColumn('preheader', 'text').execute();
  // Liquid HTML; when null the plain body is used as text and wrapped in the layout.
  await db.schema.alterTable('email_templates').addColumn('html', 'text').execute();
  // marketing (windows, caps, unsubscribe apply) or transactional (only hard bounces and complaints).
  await db.schema.alterTable('email_templates').addColumn('kind', 'text', (c) => c.notNull().defaultTo('marketing')).execute();
  await db.schema.alterTable('email_templates').addColumn('topic', 'text').execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_key', 'text', (c) => c.notNull().unique()) // the effect key: one message per step
    .addColumn('lead_id', 'text', (c) => c.references('leads.id').onDelete('set null'))
    .addColumn('template', 'text')
    .addColumn('workflow_id', 'text')
    .addColumn('node_id', 'text')
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull()) // marketing, transactional, test
    // queued, sending, sent, failed, suppressed, skipped, deferred, kept (delivery off), unconfirmed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('smtp_message_id', 'text')
    .addColumn('smtp_response', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addColumn('first_open_at', 'bigint')
    .addColumn('first_click_at', 'bigint')
    .addColumn('opens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('machine_opens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('clicks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('machine_clicks', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('messages_lead').on('messages').columns(['lead_id', 'created_at']).execute();
  await db.schema.createIndex('messages_status').on('messages').columns(['status', 'created_at']).execute();
  await db.schema.createIndex('messages_to').on('messages').columns(['to_address', 'created_at']).execute();

  // Click destinations: a redirect goes only to a URL that was in the email (no open redirect).
  await db.schema
    .createTable('message_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('message_links_message').on('message_links').column('message_id').execute();

  await db.schema
    .createTable('suppressions')
    .addColumn('email', 'text', (c) => c.primaryKey())
    .addColumn('reason', 'text', (c) => c.notNull()) // unsubscribed, bounced, complained, manual
    .addColumn('source', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('email_preferences')
    .addColumn('lead_id', 'text', (c) => c.notNull().references('leads.id').onDelete('cascade'))
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('subscribed', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('email_preferences_pk', ['lead_id', 'topic'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['email_preferences', 'suppressions', 'message_links', 'messages']) await db.schema.dropTable(t).ifExists().execute();
  for (const c of ['topic', 'kind', 'html', 'preheader']) await db.schema.alterTable('email_templates').dropColumn(c).execute();
}
