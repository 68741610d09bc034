import { sql, type Kysely } from 'kysely';

/**
 * Live counts of a flow (the flow page polls them every few seconds, and a flow may hold 100,000
 * leads): leads that have passed a node are counted from the `workflow_step` path entries through
 * a partial index over the entry's flow, node and instance, and each email step's figures from the
 * `messages` of that flow and node through a covering index. Both are GROUP BYs over an index
 * range, never a scan of the whole events table.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter.constructor.name.startsWith('Postgres');
  const field = (name: string) => (postgres ? sql.raw(`(properties::jsonb ->> '${name}')`) : sql.raw(`json_extract(properties, '$.${name}')`));
  await sql`create index events_workflow_step on events (${field('workflowId')}, ${field('nodeId')}, ${field('instanceId')}) where type = 'workflow_step'`.execute(db);
  await db.schema
    .createIndex('messages_flow_node')
    .on('messages')
    .columns(['workflow_id', 'node_id', 'status', 'sent_at', 'opens', 'clicks', 'status_reason'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('messages_flow_node').ifExists().execute();
  await db.schema.dropIndex('events_workflow_step').ifExists().execute();
}
