import type { Db } from '../db/database';
import type { EmailTemplatesTable, MailboxMessagesTable, MessagesTable } from '../db/schema';

/** The columns a test send sets; the rest take their defaults (no attempts, opens or clicks yet). */
export type TestMessage = Pick<MessagesTable, 'id' | 'message_key' | 'lead_id' | 'template' | 'to_address' | 'subject' | 'kind' | 'status' | 'status_reason' | 'created_at'>;

export type TemplateRow = Omit<EmailTemplatesTable, 'kind'> & { kind: string };

export const templatesRepo = {
  async list(db: Db): Promise<TemplateRow[]> {
    return db.selectFrom('email_templates').selectAll().orderBy('slug').execute();
  },
  async bySlug(db: Db, slug: string): Promise<TemplateRow | undefined> {
    return db.selectFrom('email_templates').selectAll().where('slug', '=', slug).executeTakeFirst();
  },
  async bySlugs(db: Db, slugs: string[]): Promise<TemplateRow[]> {
    if (!slugs.length) return [];
    return db.selectFrom('email_templates').selectAll().where('slug', 'in', slugs).execute();
  },
  async insert(db: Db, row: TemplateRow) {
    await db.insertInto('email_templates').values(row).execute();
  },
  /** Inserts unless the slug exists; true when inserted. */
  async insertIfAbsent(db: Db, row: TemplateRow): Promise<boolean> {
    const r = await db.insertInto('email_templates').values(row).onConflict((oc) => oc.column('slug').doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },
  async update(db: Db, id: string, patch: Partial<TemplateRow>) {
    await db.updateTable('email_templates').set(patch).where('id', '=', id).execute();
  },
  /** Each flow's published definition, to see which templates its send_email steps use. */
  async currentFlowDefinitions(db: Db) {
    return db
      .selectFrom('workflows')
      .innerJoin('workflow_versions', 'workflow_versions.id', 'workflows.current_version_id')
      .select(['workflows.slug', 'workflows.name', 'workflow_versions.definition'])
      .execute();
  },
  /** Leads to preview a template as: by name, email or company. */
  async searchLeads(db: Db, text: string, limit: number) {
    let q = db.selectFrom('leads').select(['id', 'name', 'email', 'company']).where('merged_into_id', 'is', null);
    // LIKE wildcards are dropped rather than escaped, as in the lead list's search.
    if (text) q = q.where('search_text', 'like', `%${text.toLowerCase().replace(/[%_]/g, '')}%`);
    return q.orderBy('created_at', 'desc').limit(limit).execute();
  },
  async leadById(db: Db, id: string) {
    return db.selectFrom('leads').selectAll().where('id', '=', id).executeTakeFirst();
  },
  async userById(db: Db, id: string) {
    return db.selectFrom('users').select(['name', 'email']).where('id', '=', id).executeTakeFirst();
  },
  /** A test send: a `messages` row and its copy in the in-app Mailbox, together. */
  async insertTestMessage(db: Db, message: TestMessage, mailbox: MailboxMessagesTable) {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('messages').values({ ...message, attempts: 0, opens: 0, machine_opens: 0, clicks: 0, machine_clicks: 0 }).execute();
      await trx.insertInto('mailbox_messages').values(mailbox).execute();
    });
  }
};
