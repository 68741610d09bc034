import type { Config } from '../config';
import type { Deps } from '../services/deps';
import { leadsRepo } from '../repositories/leads.repo';
import { messagesRepo } from '../repositories/messages.repo';
import { templatesRepo, type TemplateRow } from '../repositories/templates.repo';
import type { LeadsTable } from '../db/schema';
import type { TrackingService } from '../services/tracking.service';
import { scopeForLead, workspaceOf } from '../services/templates.service';
import type { OutgoingMessage, Transport } from './contract';
import { createDelivery, type DeliveryOptions } from './delivery';
import { createMailboxTransport } from './mailbox-transport';
import { messageIdDomain, messageIdHeaderFor } from './message-headers';
import { renderTemplate, TemplateError } from './render';
import { decideSend, sendRulesFromConfig } from './send-decision';
import { createSmtpTransport, smtpConfigFromEnv } from './smtp-transport';

/** One `send_email` step, as the workflow engine hands it over. */
export interface EmailStep {
  /** The effect key (`instance:version:index`): the message key and the Message-ID. */
  effectKey: string;
  leadId: string;
  workflowId: string | null;
  nodeId: string | null;
  template: string;
  transactional?: boolean;
  onCap?: 'wait' | 'skip';
  /** The step's own window; undefined uses the workspace's, '' none. */
  window?: string;
  utm?: Record<string, string>;
}

/** The step is not refused, only early: run it again at `until`. Not a failure, not an attempt. */
export class DeferredSend extends Error {
  constructor(
    public readonly until: number,
    reason: string
  ) {
    super(reason);
  }
}

/** The step cannot succeed by retrying (a missing or broken template): fail it with the reason. */
export class UnsendableStep extends Error {}

/**
 * The email channel's send path, stage by stage (see contract.ts): gate (suppression, preferences,
 * window, cap) → queue a `messages` row keyed by the step → render → track → transport, through
 * the exactly-once delivery state machine. Without SMTP_URL the transport is the in-app Mailbox.
 */
export function createEmailChannel(deps: Deps, config: Config, tracking: TrackingService, opts: { transport?: Transport; delivery?: DeliveryOptions } = {}) {
  const { db, clock } = deps;
  const smtp = smtpConfigFromEnv(config);
  const transport = opts.transport ?? (smtp ? createSmtpTransport(smtp) : createMailboxTransport(deps));
  const delivery = createDelivery(deps, transport, opts.delivery);
  const rules = sendRulesFromConfig(config);
  const workspace = workspaceOf(config);
  const from = config.SMTP_FROM;
  const domain = messageIdDomain(from, config.DKIM_DOMAIN);

  /** Renders and tracks one queued message, from the lead and template `sendStep` has just read. */
  async function build(messageId: string, step: EmailStep, lead: LeadsTable & { email: string }, template: TemplateRow, kind: 'marketing' | 'transactional'): Promise<OutgoingMessage> {
    const links = await tracking.unsubscribeUrls(messageId);
    const rendered = renderTemplate(template, await scopeForLead(db, lead, workspace, { unsubscribe_url: links.unsubscribeUrl, preferences_url: links.preferencesUrl }));
    await messagesRepo.setSubject(db, messageId, rendered.subject);
    const tracked = await tracking.apply({ messageId, html: rendered.html, text: rendered.text, trackingAllowed: !!lead.consent_tracking, utm: step.utm ?? null, kind });
    return {
      id: messageId,
      messageKey: step.effectKey,
      from,
      to: lead.email,
      toName: lead.name,
      subject: rendered.subject,
      html: tracked.html,
      text: tracked.text,
      headers: tracked.headers,
      messageIdHeader: messageIdHeaderFor(step.effectKey, domain)
    };
  }

  return {
    transport,
    delivery,

    /** Sends one step's email at most once; answers what happened, or throws DeferredSend / UnsendableStep. */
    async sendStep(step: EmailStep): Promise<Record<string, unknown>> {
      const lead = await leadsRepo.findById(db, step.leadId);
      if (!lead?.email) return { skipped: 'the lead has no email address' };
      const template = await templatesRepo.bySlug(db, step.template);
      if (!template) throw new UnsendableStep(`email template "${step.template}" does not exist`);
      const kind = step.transactional || template.kind === 'transactional' ? 'transactional' : 'marketing';
      const now = clock.now();

      const decision = await decideSend(db, { leadId: lead.id, kind, now, onCap: step.onCap, window: step.window === undefined ? undefined : step.window || null }, rules);
      if (decision.action === 'defer') throw new DeferredSend(decision.until, decision.detail);
      if (decision.action === 'skip') return { skipped: decision.detail };

      const messageId = await db.transaction().execute((trx) =>
        delivery.queue(trx, { messageKey: step.effectKey, leadId: lead.id, to: lead.email!, toName: lead.name, template: step.template, kind, workflowId: step.workflowId, nodeId: step.nodeId, utm: step.utm, subject: template.subject })
      );
      const blocked = await tracking.sendBlock({ email: lead.email, leadId: lead.id, topic: template.topic, kind });
      // Only a message still queued is stopped here; a step run again after a crash finds its final status below.
      if (blocked && (await messagesRepo.transition(db, messageId, 'queued', { status: 'suppressed', status_reason: blocked })))
        return { messageId, status: 'suppressed', detail: blocked };
      let result;
      try {
        result = await delivery.deliver(messageId, () => build(messageId, step, { ...lead, email: lead.email! }, template, kind));
      } catch (e) {
        if (e instanceof TemplateError) {
          await messagesRepo.transition(db, messageId, 'queued', { status: 'failed', status_reason: e.message });
          throw new UnsendableStep(e.message);
        }
        throw e;
      }
      if (result.status === 'queued') throw new DeferredSend(result.retryAt ?? now + 60_000, `temporary failure: ${result.detail ?? ''}`);
      if (result.status === 'sending') throw new DeferredSend(now + 60_000, 'another attempt is in progress');
      return { messageId, status: result.status, ...(result.detail ? { detail: result.detail.slice(0, 300) } : {}) };
    },

    /**
     * "Send a test" from the template editor: a rendered draft to any address, through the same
     * transport as real mail (SMTP when configured, else the Mailbox), without windows or caps.
     */
    async sendTest(t: { to: string; subject: string; html: string; text: string; leadId: string | null; template: string | null }) {
      const key = `test:${deps.ids.newId()}`;
      const id = await db.transaction().execute((trx) =>
        delivery.queue(trx, { messageKey: key, leadId: t.leadId, to: t.to, toName: null, template: t.template ?? '', kind: 'test', workflowId: null, nodeId: null, subject: t.subject })
      );
      const r = await delivery.deliver(id, async () => ({ id, messageKey: key, from, to: t.to, toName: null, subject: t.subject, html: t.html, text: t.text, headers: {}, messageIdHeader: messageIdHeaderFor(key, domain) }));
      return { id, status: r.status, detail: r.detail };
    },

    close: () => transport.close()
  };
}

export type EmailChannel = ReturnType<typeof createEmailChannel>;
