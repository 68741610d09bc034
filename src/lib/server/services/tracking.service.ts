import type SQLite from 'better-sqlite3';
import type { Db } from '../db/database';
import { eventsRepo } from '../repositories/events.repo';
import { messagesRepo } from '../repositories/messages.repo';
import { trackingHitStatements, trackingRepo, type TrackedMessage, type TrackingHitStatements } from '../repositories/tracking.repo';
import { classifyClick, classifyOpen, SWEEP_WINDOW_MS, type Classification } from '../email/machine-detect';
import { verifyToken, type TokenKind } from '../email/tokens';
import { applyTracking, unsubscribeUrls, type ApplyTrackingInput, type TrackedEmail, type TrackingKeys, type UnsubscribeUrls } from '../email/tracking';
import { createSqliteGroupCommit } from './sqlite-group-commit';
import type { Deps } from './deps';

export interface TrackingOptions {
  /** TRACKING_SECRET; when unset one is generated once and kept in the settings table. */
  secret?: string;
  /** PUBLIC_URL (or http://localhost:PORT). */
  publicUrl: string;
}

/** Who fetched a pixel or followed a link, as far as the request tells. */
export interface HitMeta {
  userAgent?: string | null;
  ip?: string | null;
}

/** How the person reached the unsubscribe: the mail client's one-click POST, the page's button, or the preference page. */
export type UnsubscribeVia = 'one_click' | 'page' | 'preferences';

export interface PreferencesView {
  /** The address, partly hidden: the page may be reached by whoever got the email forwarded. */
  maskedEmail: string;
  unsubscribed: boolean;
  /** Topics of the marketing templates, each on unless the lead turned it off. */
  topics: { topic: string; subscribed: boolean }[];
}

interface Hit extends HitMeta {
  kind: 'o' | 'c';
  messageId: string;
  linkId?: string;
  now: number;
}
type HitOutcome = { url: string | null; machine: boolean } | null;

const SECRET_SETTING = 'tracking.secret';
export const ALL_TOPICS = 'all';

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  const local = email.slice(0, at);
  return `${local.slice(0, Math.min(2, local.length - 1))}***${email.slice(at)}`;
}

/**
 * Opens, clicks, unsubscribes and preferences. Hits (pixel, redirect) are the hot path: each is
 * one synchronous step in a group commit, and its promise settles only after the commit, so a hit
 * that got its answer is stored even if the process is killed right after (bench/track.bench.ts).
 */
export function createTrackingService(deps: Deps, opts: TrackingOptions, sqlite: SQLite.Database) {
  const { db, clock, ids, random } = deps;
  const publicUrl = opts.publicUrl.replace(/\/+$/, '');
  let secret = opts.secret;
  let loadingSecret: Promise<string> | undefined;
  function keySecret(): string | Promise<string> {
    if (secret) return secret;
    loadingSecret ??= trackingRepo.settingOnce(db, SECRET_SETTING, random.bytes(32).toString('base64url'), clock.now()).then((s) => (secret = s));
    return loadingSecret;
  }
  async function keys(): Promise<TrackingKeys> {
    return { publicUrl, secret: await keySecret() };
  }
  async function verified(token: string, kind: TokenKind) {
    const t = verifyToken(await keySecret(), token, clock.now());
    return t && t.kind === kind ? t : null;
  }

  const recordHit = createSqliteGroupCommit<Hit, HitOutcome>(db, sqlite, recordHitWith(trackingHitStatements(sqlite), ids.newId));

  async function messageOf(token: string): Promise<TrackedMessage | null> {
    const t = await verified(token, 'u');
    return (t && (await trackingRepo.findMessage(db, t.messageId))) || null;
  }

  /** Suppresses the address, takes back marketing consent and tells the timeline, once. */
  async function unsubscribeIn(trx: Db, msg: TrackedMessage, via: UnsubscribeVia, now: number) {
    const changed = await messagesRepo.suppress(trx, msg.to_address, 'unsubscribed', `${via}:${msg.id}`, now);
    if (!msg.lead_id) return changed;
    await trackingRepo.setMarketingConsent(trx, msg.lead_id, false, now);
    await trackingRepo.setPreference(trx, msg.lead_id, ALL_TOPICS, false, now);
    if (changed) await appendLeadEvent(trx, msg, 'unsubscribed', { via }, now);
    return changed;
  }

  async function appendLeadEvent(trx: Db, msg: TrackedMessage, type: string, properties: Record<string, unknown>, now: number) {
    await eventsRepo.append(trx, {
      id: ids.newId(),
      lead_id: msg.lead_id,
      type,
      properties: JSON.stringify({ messageId: msg.id, workflowId: msg.workflow_id, nodeId: msg.node_id, ...properties }),
      source: 'email',
      actor_id: null,
      occurred_at: now,
      received_at: now,
      dedupe_key: null
    });
  }

  return {
    keys,

    /** The tracking stage of a send: see applyTracking in email/tracking.ts. */
    async apply(input: Omit<ApplyTrackingInput, 'publicUrl' | 'secret' | 'ids' | 'now'>): Promise<TrackedEmail> {
      return applyTracking(db, { ...input, ...(await keys()), ids, now: clock.now() });
    },

    /** `{{ unsubscribe_url }}` and `{{ preferences_url }}` of a message, for the layout. */
    async unsubscribeUrls(messageId: string): Promise<UnsubscribeUrls> {
      return unsubscribeUrls(await keys(), messageId, clock.now());
    },

    /** The open pixel: false (and nothing stored) for a bad token or an unknown message. */
    async recordOpen(token: string, meta: HitMeta = {}): Promise<boolean> {
      const t = await verified(token, 'o');
      if (!t) return false;
      return (await recordHit({ kind: 'o', messageId: t.messageId, now: clock.now(), ...meta })) !== null;
    },

    /** The click redirect: the stored destination, or null (nothing stored) for a bad token or link. */
    async recordClick(token: string, meta: HitMeta = {}): Promise<string | null> {
      const t = await verified(token, 'c');
      if (!t) return null;
      return (await recordHit({ kind: 'c', messageId: t.messageId, linkId: t.linkId, now: clock.now(), ...meta }))?.url ?? null;
    },

    /** The unsubscribe and preference pages' data; reads only (a GET must change nothing). */
    async preferences(token: string): Promise<PreferencesView | null> {
      const msg = await messageOf(token);
      if (!msg) return null;
      const [suppression, topics, prefs] = await Promise.all([
        messagesRepo.suppressionOf(db, msg.to_address),
        trackingRepo.templateTopics(db),
        msg.lead_id ? trackingRepo.preferencesOf(db, msg.lead_id) : Promise.resolve(new Map<string, boolean>())
      ]);
      return {
        maskedEmail: maskEmail(msg.to_address),
        unsubscribed: suppression !== null || prefs.get(ALL_TOPICS) === false,
        topics: topics.map((topic) => ({ topic, subscribed: prefs.get(topic) ?? true }))
      };
    },

    /** RFC 8058 one-click, or the page's button: unsubscribes at once. False for a bad token. */
    async unsubscribe(token: string, via: UnsubscribeVia): Promise<boolean> {
      const msg = await messageOf(token);
      if (!msg) return false;
      await db.transaction().execute((trx) => unsubscribeIn(trx, msg, via, clock.now()));
      return true;
    },

    /**
     * The preference page's form: `all` off unsubscribes from everything; on again lifts an
     * unsubscribe (never a bounce or complaint); topics not listed in `subscribedTopics` are off.
     * Each change is an event on the lead's timeline. False for a bad token.
     */
    async savePreferences(token: string, choice: { all: boolean; subscribedTopics: string[] }): Promise<boolean> {
      const msg = await messageOf(token);
      if (!msg) return false;
      const now = clock.now();
      const known = await trackingRepo.templateTopics(db);
      const wanted = new Set(choice.subscribedTopics);
      await db.transaction().execute(async (trx) => {
        if (!choice.all) {
          await unsubscribeIn(trx, msg, 'preferences', now);
        } else if (await trackingRepo.liftUnsubscribe(trx, msg.to_address)) {
          if (msg.lead_id) {
            await trackingRepo.setMarketingConsent(trx, msg.lead_id, true, now);
            await appendLeadEvent(trx, msg, 'resubscribed', { via: 'preferences' }, now);
          }
        }
        if (!msg.lead_id) return;
        if (choice.all) await trackingRepo.setPreference(trx, msg.lead_id, ALL_TOPICS, true, now);
        const prefs = await trackingRepo.preferencesOf(trx, msg.lead_id);
        const changes: Record<string, boolean> = {};
        for (const topic of known) {
          const on = wanted.has(topic);
          if ((prefs.get(topic) ?? true) === on) continue;
          await trackingRepo.setPreference(trx, msg.lead_id, topic, on, now);
          changes[topic] = on;
        }
        if (Object.keys(changes).length) await appendLeadEvent(trx, msg, 'email_preferences_changed', { changes }, now);
      });
      return true;
    },

    /**
     * Why a send to this address must not go out, or null: the suppression list (transactional
     * mail stops only for bounces, complaints and manual blocks), then the lead's "all" and topic
     * preferences for marketing mail. For the send pipeline's gate, after the queue.
     */
    async sendBlock(r: { email: string; leadId: string | null; topic?: string | null; kind: 'marketing' | 'transactional' | 'test' }): Promise<string | null> {
      const suppressed = await messagesRepo.suppressionOf(db, r.email);
      if (suppressed && (r.kind !== 'transactional' || suppressed !== 'unsubscribed')) return `suppressed:${suppressed}`;
      if (r.kind === 'transactional' || !r.leadId) return null;
      const prefs = await trackingRepo.preferencesOf(db, r.leadId);
      if (prefs.get(ALL_TOPICS) === false) return 'unsubscribed';
      if (r.topic && prefs.get(r.topic) === false) return `topic_off:${r.topic}`;
      return null;
    }
  };
}

/** One hit, synchronously, inside the group commit's transaction. */
function recordHitWith(q: TrackingHitStatements, newId: () => string) {
  return (hit: Hit): HitOutcome => {
    const msg = q.message(hit.messageId);
    if (!msg) return null;
    const ctx = { now: hit.now, sentAt: msg.sent_at, userAgent: hit.userAgent, ip: hit.ip };
    let c: Classification;
    let url: string | null = null;
    if (hit.kind === 'o') {
      c = classifyOpen(ctx);
      q.countOpen(msg.id, c.machine, hit.now);
    } else {
      url = q.linkUrl(msg.id, hit.linkId!) ?? null;
      if (!url) return null;
      const recent = msg.lead_id ? q.recentClicks(msg.lead_id, hit.now - SWEEP_WINDOW_MS).filter((r) => r.messageId === msg.id) : [];
      const click = classifyClick({ ...ctx, linkId: hit.linkId!, recent });
      c = click;
      q.countClick(msg.id, c.machine, hit.now);
      const earlierHuman = click.sweepOf.filter((r) => !r.machine);
      if (msg.lead_id && earlierHuman.length) q.reflagClicks(msg.id, msg.lead_id, earlierHuman, 'link_sweep', msg.sent_at);
    }
    if (msg.lead_id) {
      const properties: Record<string, unknown> = { messageId: msg.id, workflowId: msg.workflow_id, nodeId: msg.node_id };
      if (hit.kind === 'c') Object.assign(properties, { linkId: hit.linkId, url });
      properties.machine = c.machine;
      if (c.reason) properties.machineReason = c.reason;
      q.appendEvent({
        id: newId(),
        lead_id: msg.lead_id,
        type: hit.kind === 'o' ? 'email_opened' : 'email_clicked',
        properties: JSON.stringify(properties),
        source: 'email',
        actor_id: null,
        occurred_at: hit.now,
        received_at: hit.now,
        dedupe_key: null
      });
    }
    return { url, machine: c.machine };
  };
}

export type TrackingService = ReturnType<typeof createTrackingService>;
