import type { Kysely } from 'kysely';

/**
 * score_ledger had two indexes led by lead_id: (lead_id, at) and (lead_id, rule_id, at). Every
 * ledger query names one lead or a lead range first (a cap's sum per rule, a lead's history, the
 * lab's sums per page), which the second serves; a lead's history sorts its few hundred rows by
 * time instead. Each scored event writes one or two ledger rows into the dispatcher's
 * transaction, and each index is a random-keyed B-tree page dirtied at commit: one fewer per row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('score_ledger_lead').ifExists().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('score_ledger_lead').ifNotExists().on('score_ledger').columns(['lead_id', 'at']).execute();
}
