import type { Kysely } from 'kysely';

/**
 * Delivery bookkeeping: when the current send attempt started (a `sending` row older than the
 * lease is from a crashed attempt and must not be sent again), and the HTML part of messages kept
 * in the in-app Mailbox when delivery is off.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('attempt_started_at', 'bigint').execute();
  await db.schema.alterTable('mailbox_messages').addColumn('body_html', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('mailbox_messages').dropColumn('body_html').execute();
  await db.schema.alterTable('messages').dropColumn('attempt_started_at').execute();
}
