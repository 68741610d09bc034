import type { Config } from '../config';
import type { Deps } from './deps';
import type { Delivery } from '../email/delivery';
import { messageIdDomain, messageIdHeaderFor } from '../email/message-headers';
import { textToHtml } from '../email/render';

/** A plain message to a member of staff (a rep, a manager): not a lead, so no tracking or unsubscribe. */
export interface StaffMail {
  /** Unique per notice: a retried notice never sends twice. */
  key: string;
  to: string;
  toName: string | null;
  subject: string;
  text: string;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Staff notices go through the email channel's delivery (SMTP when configured, else the Mailbox),
 * as transactional messages keyed by the notice, so the exactly-once bookkeeping is the same.
 */
export function createStaffMailer(deps: Deps, config: Pick<Config, 'SMTP_FROM' | 'DKIM_DOMAIN'>, delivery: Delivery) {
  const from = config.SMTP_FROM;
  const domain = messageIdDomain(from, config.DKIM_DOMAIN);
  return {
    async send(mail: StaffMail) {
      const id = await deps.db.transaction().execute((trx) =>
        delivery.queue(trx, { messageKey: mail.key, leadId: null, to: mail.to, toName: mail.toName, template: 'handoff', kind: 'transactional', workflowId: null, nodeId: null, subject: mail.subject })
      );
      return delivery.deliver(id, async () => ({
        id,
        messageKey: mail.key,
        from,
        to: mail.to,
        toName: mail.toName,
        subject: mail.subject,
        html: `<div style="font-family:sans-serif">${textToHtml(escapeHtml(mail.text))}</div>`,
        text: mail.text,
        headers: {},
        messageIdHeader: messageIdHeaderFor(mail.key, domain)
      }));
    }
  };
}

export type StaffMailer = ReturnType<typeof createStaffMailer>;
