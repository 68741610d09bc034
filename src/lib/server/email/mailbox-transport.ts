import type { Deps } from '../services/deps';
import { messagesRepo } from '../repositories/messages.repo';
import type { Transport } from './contract';
import { assertNoLineBreaks } from './message-headers';

/**
 * Delivery off (no SMTP_URL): every message is kept in `mailbox_messages` for the in-app Mailbox,
 * so the demo works on a machine with no mail server. Keyed by the message key like a real send,
 * so a repeated step keeps one copy; the lead, template and step come from the `messages` row.
 */
export function createMailboxTransport(deps: Pick<Deps, 'db' | 'clock' | 'ids'>): Transport {
  return {
    name: 'mailbox',
    async send(m) {
      try {
        assertNoLineBreaks('subject', m.subject);
        assertNoLineBreaks('recipient name', m.toName);
      } catch (e) {
        return { ok: false, temporary: false, response: `refused before sending: ${(e as Error).message}` };
      }
      const row = await messagesRepo.findById(deps.db, m.id);
      const kept = await messagesRepo.keepInMailbox(deps.db, {
        id: deps.ids.newId(),
        message_key: m.messageKey,
        lead_id: row?.lead_id ?? null,
        to_address: m.to,
        subject: m.subject,
        body_text: m.text,
        body_html: m.html,
        template: row?.template ?? null,
        workflow_id: row?.workflow_id ?? null,
        node_id: row?.node_id ?? null,
        created_at: deps.clock.now()
      });
      return { ok: true, response: kept ? 'kept in the Mailbox (delivery off)' : 'already in the Mailbox (delivery off)' };
    },
    delivered: (messageKey) => messagesRepo.mailboxHas(deps.db, messageKey),
    async close() {}
  };
}
