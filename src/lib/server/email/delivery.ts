import type { Db } from '../db/database';
import type { MessagesTable } from '../db/schema';
import { eventsRepo } from '../repositories/events.repo';
import { messagesRepo, type SuppressionReason } from '../repositories/messages.repo';
import type { Deps } from '../services/deps';
import type { DeliveryResult, OutgoingMessage, SendRequest, Transport } from './contract';
import { assertNoLineBreaks, HeaderInjectionError } from './message-headers';

/**
 * The send state machine over `messages` rows:
 *
 *   queued --claim--> sending --250--> sent (kept, when delivery is off)
 *                        |----5xx----> failed (+ suppressed address on a hard bounce)
 *                        |----4xx----> queued again, with a retry time (failed after maxAttempts)
 *                        '--crash----> unconfirmed (found stale by the next attempt; never re-sent)
 *   queued --suppressed address--> suppressed
 *
 * `sending` is committed before the transport is called, so a process that dies after the
 * server's 250 but before recording it leaves a `sending` row behind. The next attempt cannot
 * tell whether the server took the message, and sending it again could mail the same step to the
 * same lead twice, so it records `unconfirmed` instead: at most once, never twice. The Message-ID
 * (`<messageKey@domain>`) is the same for every attempt, so a receiver can still dedupe the one
 * case that remains: a connection lost after DATA, which is retried as temporary.
 */
export type MessageStatus = 'queued' | 'sending' | 'sent' | 'kept' | 'failed' | 'suppressed' | 'unconfirmed' | 'skipped' | 'deferred';

export interface DeliveryOptions {
  /** A `sending` row whose attempt started longer ago than this was left by a crash (default 120 s, beyond the SMTP timeouts). */
  sendingLeaseMs?: number;
  /** Attempts (temporary failures included) before a message is failed for good (default 8). */
  maxAttempts?: number;
  /** First retry delay after a temporary failure, doubled per attempt up to an hour (default 30 s). */
  retryBaseMs?: number;
  /** Write `email_sent` / `email_bounced` events on the lead's timeline (default true). */
  leadEvents?: boolean;
}

export interface DeliverResult {
  status: MessageStatus;
  /** When a `queued` message (temporary failure) should be tried again. */
  retryAt?: number;
  /** The transport's answer or why nothing was sent. */
  detail?: string;
}

export type QueueRequest = SendRequest & { subject: string };

/** Which suppression reasons stop a send of each kind: transactional mail ignores unsubscribes. */
function suppressionStops(kind: string, reason: SuppressionReason): boolean {
  return kind === 'marketing' ? true : reason === 'bounced' || reason === 'complained';
}

export function createDelivery(deps: Pick<Deps, 'db' | 'clock' | 'ids' | 'random'>, transport: Transport, options: DeliveryOptions = {}) {
  const { db, clock, ids, random } = deps;
  const leaseMs = options.sendingLeaseMs ?? 120_000;
  const maxAttempts = options.maxAttempts ?? 8;
  const retryBaseMs = options.retryBaseMs ?? 30_000;
  const leadEvents = options.leadEvents ?? true;

  function retryDelay(attempts: number) {
    const base = Math.min(3_600_000, retryBaseMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(base * (1 + random.next() * 0.2)); // jitter: retries of one outage spread out
  }

  async function leadEvent(on: Db, row: MessagesTable, type: string, properties: Record<string, unknown>) {
    if (!leadEvents || !row.lead_id) return;
    const now = clock.now();
    await eventsRepo.append(on, {
      id: ids.newId(),
      lead_id: row.lead_id,
      type,
      properties: JSON.stringify({ messageId: row.id, messageKey: row.message_key, subject: row.subject, template: row.template, workflowId: row.workflow_id, nodeId: row.node_id, ...properties }),
      source: 'email',
      actor_id: null,
      occurred_at: now,
      received_at: now,
      dedupe_key: `${type}:${row.id}`
    });
  }

  /** Records the transport's answer on a row this attempt holds in `sending`. */
  async function complete(queued: MessagesTable, message: OutgoingMessage, result: DeliveryResult): Promise<DeliverResult> {
    // The row was read before rendering; the timeline wants the subject as sent.
    const row = { ...queued, subject: message.subject };
    const now = clock.now();
    const smtp_response = result.response.slice(0, 1000);
    if (result.ok) {
      const status = transport.name === 'mailbox' ? 'kept' : 'sent';
      await db.transaction().execute(async (trx) => {
        const moved = await messagesRepo.transition(trx, row.id, 'sending', { status, status_reason: null, smtp_response, smtp_message_id: message.messageIdHeader, sent_at: now });
        if (moved) await leadEvent(trx, row, 'email_sent', { smtpMessageId: message.messageIdHeader, kept: status === 'kept' });
      });
      return { status, detail: result.response };
    }
    if (result.temporary && row.attempts + 1 < maxAttempts) {
      const retryAt = now + retryDelay(row.attempts + 1);
      await messagesRepo.transition(db, row.id, 'sending', { status: 'queued', status_reason: `temporary failure, retry after ${new Date(retryAt).toISOString()}`, smtp_response });
      return { status: 'queued', retryAt, detail: result.response };
    }
    const hardBounce = !result.temporary && !!result.hardBounce;
    const reason = result.temporary ? `gave up after ${row.attempts + 1} attempts` : hardBounce ? 'hard bounce' : 'permanent failure';
    await db.transaction().execute(async (trx) => {
      const moved = await messagesRepo.transition(trx, row.id, 'sending', { status: 'failed', status_reason: reason, smtp_response });
      if (moved && hardBounce) {
        await messagesRepo.suppress(trx, row.to_address, 'bounced', `smtp:${row.id}`, now);
        await leadEvent(trx, row, 'email_bounced', { hard: true, response: smtp_response, via: 'smtp' });
      }
    });
    return { status: 'failed', detail: result.response };
  }

  return {
    /**
     * Creates the `queued` row for a send, inside the caller's (outbox) transaction. The message
     * key is unique: a step that runs again gets the id of its first row and nothing new.
     */
    async queue(trx: Db, req: QueueRequest): Promise<string> {
      const r = await messagesRepo.insertQueued(trx, {
        id: ids.newId(),
        message_key: req.messageKey,
        lead_id: req.leadId,
        template: req.template,
        workflow_id: req.workflowId,
        node_id: req.nodeId,
        to_address: req.to.trim(),
        subject: req.subject,
        kind: req.kind,
        status: 'queued',
        created_at: clock.now()
      });
      return r.id;
    },

    /**
     * Sends a queued message once, outside any transaction. `build` renders it (only when it is
     * really going out). A message already sent, failed, suppressed or unconfirmed is answered
     * with its status and not sent; one `sending` under a live lease is left to its attempt.
     * If the transport throws (a crash in the middle), the row stays `sending` on purpose.
     */
    async deliver(messageId: string, build: () => Promise<OutgoingMessage>): Promise<DeliverResult> {
      const row = await messagesRepo.findById(db, messageId);
      if (!row) throw new Error(`message ${messageId} does not exist`);
      if (row.status === 'sending') {
        const now = clock.now();
        if ((row.attempt_started_at ?? 0) > now - leaseMs) return { status: 'sending', detail: 'another attempt is in progress' };
        if (transport.delivered) {
          // This transport can tell whether the interrupted attempt got through: finish it exactly once.
          if (await transport.delivered(row.message_key)) {
            const status = transport.name === 'mailbox' ? 'kept' : 'sent';
            await db.transaction().execute(async (trx) => {
              if (await messagesRepo.transition(trx, row.id, 'sending', { status, status_reason: 'completed after an interrupted attempt', sent_at: now }))
                await leadEvent(trx, row, 'email_sent', { kept: status === 'kept' });
            });
            return { status };
          }
          await messagesRepo.transition(db, row.id, 'sending', { status: 'queued', status_reason: 'an interrupted attempt never reached the transport; sending again' });
          return this.deliver(messageId, build);
        }
        const marked = await messagesRepo.markStaleSendingUnconfirmed(db, row.id, now - leaseMs, 'an earlier attempt stopped after handing the message to the transport; not sent again');
        return marked ? { status: 'unconfirmed' } : { status: ((await messagesRepo.findById(db, row.id))?.status ?? 'sending') as MessageStatus };
      }
      if (row.status !== 'queued') return { status: row.status as MessageStatus, detail: row.status_reason ?? undefined };

      // Checked here, after the queue, so an unsubscribe or bounce since queueing is honoured.
      const suppression = await messagesRepo.suppressionOf(db, row.to_address);
      if (suppression && suppressionStops(row.kind, suppression)) {
        await messagesRepo.transition(db, row.id, 'queued', { status: 'suppressed', status_reason: suppression });
        return { status: 'suppressed', detail: suppression };
      }

      const message = await build();
      if (message.id !== row.id || message.messageKey !== row.message_key || message.to.trim().toLowerCase() !== row.to_address.toLowerCase())
        throw new Error(`build() for message ${row.id} answered another message (${message.id}, ${message.messageKey}, ${message.to})`);
      try {
        assertNoLineBreaks('subject', message.subject);
        assertNoLineBreaks('from', message.from);
        assertNoLineBreaks('recipient name', message.toName);
        for (const [k, v] of Object.entries(message.headers)) assertNoLineBreaks(`header ${k}`, `${k}${v}`);
      } catch (e) {
        if (!(e instanceof HeaderInjectionError)) throw e;
        await messagesRepo.transition(db, row.id, 'queued', { status: 'failed', status_reason: e.message });
        return { status: 'failed', detail: e.message };
      }

      if (!(await messagesRepo.claimForSending(db, row.id, clock.now()))) {
        const now = await messagesRepo.findById(db, row.id);
        return { status: (now?.status ?? 'queued') as MessageStatus, detail: 'claimed by another attempt' };
      }
      const result = await transport.send(message);
      return complete(row, message, result);
    }
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
