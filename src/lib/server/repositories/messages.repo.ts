import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { MailboxMessagesTable, MessagesTable } from '../db/schema';

/** A `messages` row as the delivery state machine inserts it; counters and times start empty. */
export type NewMessage = Pick<
  MessagesTable,
  'id' | 'message_key' | 'lead_id' | 'template' | 'workflow_id' | 'node_id' | 'to_address' | 'subject' | 'kind' | 'status' | 'created_at'
>;

/** Why an address is on the suppression list. */
export type SuppressionReason = 'unsubscribed' | 'bounced' | 'complained' | 'manual';

/**
 * One `messages` row per send, and the suppression list checked at send time. Every status
 * change is a compare-and-set on the current status, so two workers (or a retry racing a slow
 * attempt) cannot both move the same row: the loser's update touches no row and it backs off.
 */
export const messagesRepo = {
  /** Inserts a queued message; a repeated `message_key` inserts nothing and answers the existing id. */
  async insertQueued(db: Db, row: NewMessage): Promise<{ id: string; created: boolean }> {
    const r = await db
      .insertInto('messages')
      .values({ ...row, attempts: 0, opens: 0, machine_opens: 0, clicks: 0, machine_clicks: 0 })
      .onConflict((oc) => oc.column('message_key').doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) return { id: row.id, created: true };
    const existing = await db.selectFrom('messages').select('id').where('message_key', '=', row.message_key).executeTakeFirstOrThrow();
    return { id: existing.id, created: false };
  },

  findById(db: Db, id: string) {
    return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
  },

  findByKey(db: Db, messageKey: string) {
    return db.selectFrom('messages').selectAll().where('message_key', '=', messageKey).executeTakeFirst();
  },

  /** A provider's webhook names the Message-ID header it saw (`<key@domain>`). */
  findBySmtpMessageId(db: Db, smtpMessageId: string) {
    return db.selectFrom('messages').selectAll().where('smtp_message_id', '=', smtpMessageId).executeTakeFirst();
  },

  /** queued -> sending, counting the attempt. False when another worker got there first. */
  async claimForSending(db: Db, id: string, now: number): Promise<boolean> {
    const r = await db
      .updateTable('messages')
      .set({ status: 'sending', attempts: sql<number>`attempts + 1`, attempt_started_at: now })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  /**
   * Moves the row from `from` to a new status with the transport's answer. False when the row is
   * no longer in `from` (e.g. a slow attempt whose lease another worker already declared lapsed).
   */
  async transition(
    db: Db,
    id: string,
    from: string,
    patch: Partial<Pick<MessagesTable, 'status' | 'status_reason' | 'smtp_response' | 'smtp_message_id' | 'sent_at'>> & { status: string }
  ): Promise<boolean> {
    const r = await db.updateTable('messages').set(patch).where('id', '=', id).where('status', '=', from).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  /** A `sending` row whose attempt started before `startedBefore` is from a crashed attempt. */
  async markStaleSendingUnconfirmed(db: Db, id: string, startedBefore: number, reason: string): Promise<boolean> {
    const r = await db
      .updateTable('messages')
      .set({ status: 'unconfirmed', status_reason: reason })
      .where('id', '=', id)
      .where('status', '=', 'sending')
      .where('attempt_started_at', '<', startedBefore)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  async mailboxHas(db: Db, messageKey: string): Promise<boolean> {
    return !!(await db.selectFrom('mailbox_messages').select('id').where('message_key', '=', messageKey).executeTakeFirst());
  },

  /** The rendered subject, known only once the message is built (the queue stores the template's). */
  async setSubject(db: Db, id: string, subject: string) {
    await db.updateTable('messages').set({ subject }).where('id', '=', id).execute();
  },

  /** Sets the reason (and optionally the status) whatever the current status: for provider webhooks. */
  async annotate(db: Db, id: string, patch: Partial<Pick<MessagesTable, 'status' | 'status_reason'>>) {
    await db.updateTable('messages').set(patch).where('id', '=', id).execute();
  },

  /** Keeps a message for the in-app Mailbox (delivery off); a repeated key keeps the first copy. Answers true when stored. */
  async keepInMailbox(db: Db, row: MailboxMessagesTable): Promise<boolean> {
    const r = await db.insertInto('mailbox_messages').values(row).onConflict((oc) => oc.column('message_key').doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  /** The address's suppression reason, if any (`email` is compared lower-cased). */
  async suppressionOf(db: Db, email: string): Promise<SuppressionReason | null> {
    const row = await db.selectFrom('suppressions').select('reason').where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
    return (row?.reason as SuppressionReason | undefined) ?? null;
  },

  /**
   * Puts the address on the list. An existing entry is kept, except that a bounce or complaint
   * replaces an unsubscribe: transactional mail ignores unsubscribes but must stop on those.
   * Answers true when the list changed.
   */
  async suppress(db: Db, email: string, reason: SuppressionReason, source: string, now: number): Promise<boolean> {
    const strong = reason === 'bounced' || reason === 'complained';
    const r = await db
      .insertInto('suppressions')
      .values({ email: email.trim().toLowerCase(), reason, source, created_at: now })
      .onConflict((oc) =>
        strong
          ? oc.column('email').doUpdateSet({ reason, source, created_at: now }).where('suppressions.reason', '=', 'unsubscribed')
          : oc.column('email').doNothing()
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }
};
