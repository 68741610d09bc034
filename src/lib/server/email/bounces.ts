import { z } from 'zod';
import { eventsRepo } from '../repositories/events.repo';
import { leadsRepo } from '../repositories/leads.repo';
import { messagesRepo } from '../repositories/messages.repo';
import { NotFoundError, type Deps } from '../services/deps';
import { normalizeEmail } from '../../shared/lead';

/**
 * Bounces and complaints reported after the fact by a mail provider's webhook (generic JSON).
 * A hard bounce or a complaint suppresses the address, so no later send (marketing or
 * transactional) goes to it; a soft bounce is only recorded. Providers repeat webhooks, so the
 * event on the lead is deduplicated by message, address and type.
 */
export const bounceReportSchema = z
  .object({
    /** Our `messages.id`, or the Message-ID header the provider saw (`<key@domain>`, brackets optional). */
    messageId: z.string().trim().min(1).max(300).optional(),
    email: z.string().trim().max(254).optional(),
    type: z.enum(['hard_bounce', 'soft_bounce', 'complaint']),
    /** The provider's diagnostic text, kept on the event. */
    detail: z.string().max(1000).optional()
  })
  .strict()
  .refine((b) => b.messageId || b.email, { message: 'give messageId or email', path: ['messageId'] });

export type BounceReport = z.infer<typeof bounceReportSchema>;

export interface BounceOutcome {
  email: string;
  messageId: string | null;
  leadId: string | null;
  /** True when this report put the address on the suppression list (false when it already was). */
  suppressed: boolean;
}

export function createBounceRecorder(deps: Pick<Deps, 'db' | 'clock' | 'ids'>) {
  const { db, clock, ids } = deps;

  async function findMessage(ref: string) {
    const byId = await messagesRepo.findById(db, ref);
    if (byId) return byId;
    const bare = ref.replace(/^<|>$/g, '');
    return messagesRepo.findBySmtpMessageId(db, `<${bare}>`);
  }

  return {
    /** Throws NotFoundError when the report names neither a known message nor an address. */
    async record(report: BounceReport, source: string): Promise<BounceOutcome> {
      const message = report.messageId ? await findMessage(report.messageId) : undefined;
      const given = report.email ? normalizeEmail(report.email) : undefined;
      if (given && !given.ok) throw new NotFoundError(`email: ${given.reason}`);
      const email = message?.to_address.toLowerCase() ?? (given?.ok ? given.value : undefined);
      if (!email) throw new NotFoundError(`no message ${report.messageId}`);
      const leadId = message?.lead_id ?? (await leadsRepo.findIdsByIdentities(db, [email], []))[0]?.lead_id ?? null;
      const now = clock.now();

      return db.transaction().execute(async (trx) => {
        const reason = report.type === 'complaint' ? 'complained' : 'bounced';
        const suppressed = report.type === 'soft_bounce' ? false : await messagesRepo.suppress(trx, email, reason, source, now);
        if (message) {
          const statusReason = report.type === 'hard_bounce' ? 'hard bounce (provider)' : report.type === 'complaint' ? 'complained (provider)' : 'soft bounce (provider)';
          // A hard bounce means it was never delivered; a complaint or soft bounce leaves the status.
          await messagesRepo.annotate(trx, message.id, report.type === 'hard_bounce' ? { status: 'failed', status_reason: statusReason } : { status_reason: statusReason });
        }
        if (leadId) {
          const type = report.type === 'complaint' ? 'email_complained' : 'email_bounced';
          await eventsRepo.append(trx, {
            id: ids.newId(),
            lead_id: leadId,
            type,
            // Only what is known, so the timeline shows no empty or false rows.
            properties: JSON.stringify({
              email,
              ...(message ? { messageId: message.id, subject: message.subject } : {}),
              ...(report.type === 'hard_bounce' ? { hard: true } : report.type === 'soft_bounce' ? { soft: true } : {}),
              ...(report.detail ? { detail: report.detail } : {}),
              via: 'webhook'
            }),
            source: 'email',
            actor_id: null,
            occurred_at: now,
            received_at: now,
            dedupe_key: `${type}:${message?.id ?? email}:${report.type}`
          });
        }
        return { email, messageId: message?.id ?? null, leadId, suppressed };
      });
    }
  };
}
