import type SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { EventsTable, MessageLinksTable } from '../db/schema';

/** What a tracking hit or an unsubscribe needs to know about a message. */
export interface TrackedMessage {
  id: string;
  /** The lead now (a merged lead's survivor), or null for a test send or a deleted lead. */
  lead_id: string | null;
  workflow_id: string | null;
  node_id: string | null;
  to_address: string;
  kind: string;
  /** `sent_at`, else `created_at` (kept in the Mailbox, never sent over SMTP). */
  sent_at: number;
}

const TRACKED_MESSAGE_SQL = `SELECT m.id, coalesce(l.merged_into_id, l.id) AS lead_id, m.workflow_id, m.node_id, m.to_address, m.kind,
  coalesce(m.sent_at, m.created_at) AS sent_at
  FROM messages m LEFT JOIN leads l ON l.id = m.lead_id WHERE m.id = ?`;

/** A stored click of a lead, as the sweep check reads it back. */
export interface StoredClick {
  eventId: string;
  messageId: string;
  linkId: string;
  at: number;
  machine: boolean;
}

/**
 * Prepared statements for the tracking hot path (open pixel, click redirect), run synchronously
 * inside a group commit (services/sqlite-group-commit.ts): a hit is a message read, a counter
 * update and an event insert, and through Kysely building those queries cost more than running them.
 */
export function trackingHitStatements(sqlite: SQLite.Database) {
  const message = sqlite.prepare<[string], TrackedMessage>(TRACKED_MESSAGE_SQL);
  const link = sqlite.prepare<[string, string], string>(`SELECT url FROM message_links WHERE id = ? AND message_id = ?`).pluck();
  // Through events_lead (lead_id, occurred_at): a lead has few clicks in two seconds. The `+` keeps
  // SQLite from picking events_type instead, which scans every lead's clicks of the period (measured:
  // half the CPU of a hit under load).
  const recentClicks = sqlite.prepare<[string, number], { id: string; occurred_at: number; properties: string }>(
    `SELECT id, occurred_at, properties FROM events WHERE lead_id = ? AND occurred_at >= ? AND +type = 'email_clicked'`
  );
  // first_*_at takes the hit's time only when it is a person's (the parameter is null for machines).
  const countOpen = sqlite.prepare(
    `UPDATE messages SET opens = opens + ?, machine_opens = machine_opens + ?, first_open_at = coalesce(first_open_at, ?) WHERE id = ?`
  );
  const countClick = sqlite.prepare(
    `UPDATE messages SET clicks = clicks + ?, machine_clicks = machine_clicks + ?, first_click_at = coalesce(first_click_at, ?) WHERE id = ?`
  );
  const insertEvent = sqlite.prepare(
    `INSERT INTO events (id, lead_id, type, properties, source, actor_id, occurred_at, received_at, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
  );
  const flagEventMachine = sqlite.prepare(`UPDATE events SET properties = json_set(properties, '$.machine', json('true'), '$.machineReason', ?) WHERE id = ?`);
  const firstHumanClick = sqlite
    .prepare<[string, number, string], number | null>(
      `SELECT min(occurred_at) FROM events WHERE lead_id = ? AND occurred_at >= ? AND +type = 'email_clicked'
       AND json_extract(properties, '$.messageId') = ? AND json_extract(properties, '$.machine') = 0`
    )
    .pluck();
  const setFirstClick = sqlite.prepare(`UPDATE messages SET first_click_at = ? WHERE id = ?`);

  return {
    message: (id: string) => message.get(id),
    linkUrl: (messageId: string, linkId: string) => link.get(linkId, messageId),
    recentClicks(leadId: string, since: number): StoredClick[] {
      return recentClicks.all(leadId, since).map((r) => {
        const p = JSON.parse(r.properties) as { messageId?: string; linkId?: string; machine?: boolean };
        return { eventId: r.id, messageId: String(p.messageId ?? ''), linkId: String(p.linkId ?? ''), at: r.occurred_at, machine: !!p.machine };
      });
    },
    countOpen(messageId: string, machine: boolean, at: number) {
      countOpen.run(machine ? 0 : 1, machine ? 1 : 0, machine ? null : at, messageId);
    },
    countClick(messageId: string, machine: boolean, at: number) {
      countClick.run(machine ? 0 : 1, machine ? 1 : 0, machine ? null : at, messageId);
    },
    appendEvent(r: EventsTable) {
      insertEvent.run(r.id, r.lead_id, r.type, r.properties, r.source, r.actor_id, r.occurred_at, r.received_at, r.dedupe_key);
    },
    /**
     * Clicks first taken for a person's that a later sweep showed were a scanner's: their events
     * say so, they move to the machine counter, and the first click time is read again.
     */
    reflagClicks(messageId: string, leadId: string, clicks: StoredClick[], reason: string, sentAt: number) {
      for (const c of clicks) flagEventMachine.run(reason, c.eventId);
      countClick.run(-clicks.length, clicks.length, null, messageId);
      setFirstClick.run(firstHumanClick.get(leadId, sentAt, messageId) ?? null, messageId);
    }
  };
}

export type TrackingHitStatements = ReturnType<typeof trackingHitStatements>;

export const trackingRepo = {
  findMessage(db: Db, id: string): Promise<TrackedMessage | undefined> {
    return db
      .selectFrom('messages as m')
      .leftJoin('leads as l', 'l.id', 'm.lead_id')
      .select([
        'm.id',
        sql<string | null>`coalesce(l.merged_into_id, l.id)`.as('lead_id'),
        'm.workflow_id',
        'm.node_id',
        'm.to_address',
        'm.kind',
        sql<number>`coalesce(m.sent_at, m.created_at)`.as('sent_at')
      ])
      .where('m.id', '=', id)
      .executeTakeFirst();
  },

  async insertLinks(db: Db, rows: MessageLinksTable[]) {
    // 4 columns a row: 500 rows stay far below SQLite's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('message_links').values(rows.slice(i, i + 500)).execute();
  },

  linksOf(db: Db, messageId: string) {
    return db.selectFrom('message_links').selectAll().where('message_id', '=', messageId).orderBy('position').execute();
  },

  /** Stores `value` under `key` unless a value is there already, and answers the one stored. */
  async settingOnce(db: Db, key: string, value: string, now: number): Promise<string> {
    await db
      .insertInto('settings')
      .values({ key, value: JSON.stringify(value), updated_at: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const r = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
    return JSON.parse(r.value) as string;
  },

  /** Topics marketing templates are filed under, for the preference page. */
  async templateTopics(db: Db): Promise<string[]> {
    const rows = await db.selectFrom('email_templates').select('topic').distinct().where('topic', 'is not', null).where('topic', '!=', '').orderBy('topic').execute();
    return rows.map((r) => r.topic!);
  },

  async preferencesOf(db: Db, leadId: string): Promise<Map<string, boolean>> {
    const rows = await db.selectFrom('email_preferences').select(['topic', 'subscribed']).where('lead_id', '=', leadId).execute();
    return new Map(rows.map((r) => [r.topic, r.subscribed === 1]));
  },

  async setPreference(db: Db, leadId: string, topic: string, subscribed: boolean, now: number) {
    const v = subscribed ? 1 : 0;
    await db
      .insertInto('email_preferences')
      .values({ lead_id: leadId, topic, subscribed: v, updated_at: now })
      .onConflict((oc) => oc.columns(['lead_id', 'topic']).doUpdateSet({ subscribed: v, updated_at: now }))
      .execute();
  },

  /** Lifts an unsubscribe (the person asked again); bounces, complaints and manual blocks stay. */
  async liftUnsubscribe(db: Db, email: string): Promise<boolean> {
    const r = await db.deleteFrom('suppressions').where('email', '=', email.trim().toLowerCase()).where('reason', '=', 'unsubscribed').executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },

  async setMarketingConsent(db: Db, leadId: string, consent: boolean, now: number) {
    await db.updateTable('leads').set({ consent_marketing: consent ? 1 : 0, updated_at: now }).where('id', '=', leadId).execute();
  }
};
