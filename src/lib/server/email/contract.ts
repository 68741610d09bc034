/**
 * The email channel's seams. A send goes through these stages, each its own module:
 *
 *   send-pipeline (gate)   suppression, preferences, send window and frequency cap -> send / defer / skip
 *   render                 template + lead -> subject, preheader, HTML in the shared layout, text part
 *   tracking               rewrite links to stored link ids, add the open pixel, unsubscribe headers
 *   transport              SMTP (nodemailer pool) or the in-app Mailbox when delivery is off
 *
 * Every send is a `messages` row created in the outbox transaction (status `queued`) and completed
 * after the transport answers; the effect key is the row's `message_key` and the Message-ID, so a
 * retried step never sends twice.
 */

/** What the render stage produces. */
export interface RenderedEmail {
  subject: string;
  preheader: string | null;
  html: string;
  text: string;
}

/** Whom and what for: resolved before rendering. */
export interface SendRequest {
  /** The effect key (`instance:version:index`) or a `test:<id>` key for "send a test". */
  messageKey: string;
  leadId: string | null;
  to: string;
  toName: string | null;
  template: string;
  kind: 'marketing' | 'transactional' | 'test';
  workflowId: string | null;
  nodeId: string | null;
  /** UTM parameters a flow asks to append to every link. */
  utm?: Record<string, string>;
}

/** A message ready for a transport: rendered, tracked, with its headers. */
export interface OutgoingMessage {
  /** `messages.id`: tokens in links and the pixel point here. */
  id: string;
  messageKey: string;
  from: string;
  to: string;
  toName: string | null;
  subject: string;
  html: string;
  text: string;
  /** e.g. List-Unsubscribe, List-Unsubscribe-Post. Values never contain CR or LF. */
  headers: Record<string, string>;
  /** `<messageKey@domain>`: the same for every retry of one step. */
  messageIdHeader: string;
}

/** How a transport attempt ended. `temporary` failures are retried with backoff. */
export type DeliveryResult =
  | { ok: true; response: string }
  | { ok: false; temporary: boolean; response: string; hardBounce?: boolean };

export interface Transport {
  /** `smtp` or `mailbox` (delivery off: kept for the in-app Mailbox). */
  readonly name: 'smtp' | 'mailbox';
  send(message: OutgoingMessage): Promise<DeliveryResult>;
  /**
   * Whether the transport already holds this message, for a transport that can know for sure
   * (the Mailbox can; an SMTP server cannot be asked). Lets a restart finish an interrupted
   * attempt exactly once instead of leaving it `unconfirmed`.
   */
  delivered?(messageKey: string): Promise<boolean>;
  close(): Promise<void>;
}
