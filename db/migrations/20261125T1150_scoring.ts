import type { Kysely } from 'kysely';

/**
 * Scoring: the rules (one row each, the rule itself as JSON so new rule shapes need no
 * migration), the ledger that explains every score change, and per-lead engagement state for
 * decay (when the lead last engaged and its engagement right after that).
 * Default rules are written here, frozen with the migration; admins edit them afterwards.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('scoring_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull()) // fit | engagement
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('score_ledger')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('lead_id', 'text', (c) => c.notNull().references('leads.id').onDelete('cascade'))
    .addColumn('score', 'text', (c) => c.notNull()) // fit | engagement
    .addColumn('rule_id', 'text')
    .addColumn('rule_name', 'text', (c) => c.notNull())
    .addColumn('points', 'integer', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('score_ledger_lead').on('score_ledger').columns(['lead_id', 'at']).execute();
  // The per-period cap sums a lead's points from one rule since the period began.
  await db.schema.createIndex('score_ledger_rule').on('score_ledger').columns(['lead_id', 'rule_id', 'at']).execute();

  await db.schema
    .createTable('lead_engagement')
    .addColumn('lead_id', 'text', (c) => c.primaryKey().references('leads.id').onDelete('cascade'))
    .addColumn('engaged_at', 'bigint', (c) => c.notNull())
    .addColumn('base', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('lead_engagement_engaged_at').on('lead_engagement').column('engaged_at').execute();

  const FREE_MAIL = ['gmail.com', 'mail.ru', 'yandex.ru', 'ya.ru', 'bk.ru', 'list.ru', 'inbox.ru', 'rambler.ru', 'outlook.com', 'hotmail.com', 'yahoo.com', 'icloud.com'];
  const rules: Record<string, unknown>[] = [
    { id: 'fit-title-exec', kind: 'fit', name: 'Executive title', points: 20, field: 'job_title', op: 'contains_any', values: ['директор', 'director', 'ceo', 'head', 'руководитель', 'founder', 'основатель'] },
    { id: 'fit-size-mid', kind: 'fit', name: 'Company 50–999 people', points: 15, field: 'company_size', op: 'range', min: 50, max: 999 },
    { id: 'fit-size-large', kind: 'fit', name: 'Company 1000+ people', points: 20, field: 'company_size', op: 'range', min: 1000 },
    { id: 'fit-industry', kind: 'fit', name: 'Target industry', points: 10, field: 'industry', op: 'contains_any', values: ['it', 'software', 'saas', 'retail', 'финанс', 'ритейл', 'banking', 'банк'] },
    { id: 'fit-region', kind: 'fit', name: 'Served region', points: 5, field: 'region', op: 'contains_any', values: ['moscow', 'москва', 'санкт-петербург', 'saint petersburg', 'st. petersburg'] },
    { id: 'fit-work-email', kind: 'fit', name: 'Work email (not a free mailbox)', points: 15, field: 'email_domain', op: 'not_equals_any', values: FREE_MAIL },
    { id: 'fit-competitor', kind: 'fit', name: 'Competitor domain', points: -50, field: 'email_domain', op: 'equals_any', values: ['competitor.example', 'unisender.com', 'sendpulse.com'] },
    { id: 'fit-student', kind: 'fit', name: 'Student email', points: -20, field: 'email_domain', op: 'ends_with_any', values: ['.edu', 'student.', 'edu.ru', 'stud.'] },
    { id: 'eng-open', kind: 'engagement', name: 'Email opened', points: 5, eventType: 'email_opened', cap: { points: 15, period: 'day' } },
    { id: 'eng-click', kind: 'engagement', name: 'Email link clicked', points: 10, eventType: 'email_clicked', cap: { points: 30, period: 'day' } },
    { id: 'eng-form', kind: 'engagement', name: 'Form submitted', points: 20, eventType: 'form_submitted' },
    { id: 'eng-pricing', kind: 'engagement', name: 'Visited the pricing page', points: 15, eventType: 'page_viewed', urlContains: '/pricing', cap: { points: 30, period: 'week' } },
    { id: 'eng-page', kind: 'engagement', name: 'Visited a page', points: 1, eventType: 'page_viewed', cap: { points: 5, period: 'day' } },
    { id: 'eng-webinar', kind: 'engagement', name: 'Attended a webinar', points: 25, eventType: 'webinar_attended' },
    { id: 'eng-demo', kind: 'engagement', name: 'Requested a demo (API)', points: 30, eventType: 'demo_requested' },
    { id: 'eng-unsubscribed', kind: 'engagement', name: 'Unsubscribed', points: -30, eventType: 'unsubscribed' },
    { id: 'eng-jobs', kind: 'engagement', name: 'Job seeker (careers page)', points: -25, eventType: 'page_viewed', urlContains: '/careers', cap: { points: 25, period: 'month' } }
  ];
  await db
    .insertInto('scoring_rules')
    .values(rules.map((r, i) => ({ id: r.id, kind: r.kind, name: r.name, definition: JSON.stringify({ active: true, ...r }), position: i, updated_at: 0 })))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('lead_engagement').execute();
  await db.schema.dropTable('score_ledger').execute();
  await db.schema.dropTable('scoring_rules').execute();
}
