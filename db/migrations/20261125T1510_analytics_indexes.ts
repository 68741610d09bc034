import { sql, type Kysely } from 'kysely';

/**
 * Covering indexes for the analytics views, measured on 100,000 leads and 5 million events
 * (bench/analytics.bench.ts): the cohort and new-lead queries read a year of leads from the index
 * alone instead of fetching each wide lead row (attributes, touches, search text), and the email
 * view groups a range of messages the same way.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX analytics_leads_cover ON leads (created_at, merged_into_id, channel_id, owner_id, stage, id)`.execute(db);
  await sql`CREATE INDEX analytics_messages_cover ON messages (created_at, kind, workflow_id, node_id, template, status, sent_at, opens, machine_opens, clicks, machine_clicks, status_reason, lead_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('analytics_messages_cover').ifExists().execute();
  await db.schema.dropIndex('analytics_leads_cover').ifExists().execute();
}
