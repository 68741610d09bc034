import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { WorkflowInstancesTable } from '../db/schema';

/** The path entry's fields, spelled exactly as the partial index `events_workflow_step` has them. */
const stepWorkflow = sql<string>`json_extract(properties, '$.workflowId')`;
const stepNode = sql<string>`json_extract(properties, '$.nodeId')`;
const stepInstance = sql<string>`json_extract(properties, '$.instanceId')`;

/** What each email step of a flow did, from its `messages` rows. */
export interface EmailNodeCounts {
  sent: number;
  delivered: number;
  opens: number;
  clicks: number;
  unsubscribes: number;
  bounces: number;
}

export type EmailMetric = keyof EmailNodeCounts;

/** Statuses of a message that went out (or was kept in the Mailbox with delivery off). */
const SENT_STATUSES = ['sent', 'kept', 'unconfirmed'];

/** The lead columns a count's drill-down lists. */
const leadColumns = ['leads.id', 'leads.name', 'leads.email', 'leads.company', 'leads.stage'] as const;

/**
 * SQL of the designer's runtime side: live counts per node, the leads behind a count, the
 * instances a publish moves between versions.
 */
export const flowRuntimeRepo = {
  /** Instances per node now (all versions), and per status. */
  async nodeCounts(db: Db, workflowId: string) {
    const rows = await db
      .selectFrom('workflow_instances')
      .select(['current_node', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('workflow_id', '=', workflowId)
      .groupBy(['status', 'current_node'])
      .execute();
    return rows.map((r) => ({ node: r.current_node, status: r.status, count: Number(r.n) }));
  },

  /** Distinct instances that ever entered each node, from the path entries (partial index). */
  async enteredCounts(db: Db, workflowId: string) {
    const rows = await db
      .selectFrom('events')
      .select([stepNode.as('node'), sql<number>`count(distinct ${stepInstance})`.as('n')])
      .where('type', '=', 'workflow_step')
      .where(stepWorkflow, '=', workflowId)
      .groupBy(stepNode)
      .execute();
    return rows.map((r) => ({ node: r.node, count: Number(r.n) }));
  },

  /** Sends, deliveries, human opens and clicks, bounces per email step; unsubscribes from the timeline. */
  async emailCounts(db: Db, workflowId: string): Promise<Map<string, EmailNodeCounts>> {
    const sent = sql<number>`status in (${sql.join(SENT_STATUSES)})`;
    const bounced = sql<number>`coalesce(status_reason, '') like '%bounce%'`;
    const rows = await db
      .selectFrom('messages')
      .select([
        'node_id',
        sql<number>`sum(${sent} or sent_at is not null)`.as('sent'),
        sql<number>`sum((${sent} or sent_at is not null) and not ${bounced} and status != 'failed')`.as('delivered'),
        sql<number>`sum(opens > 0)`.as('opens'),
        sql<number>`sum(clicks > 0)`.as('clicks'),
        sql<number>`sum(${bounced})`.as('bounces')
      ])
      .where('workflow_id', '=', workflowId)
      .groupBy('node_id')
      .execute();
    const out = new Map<string, EmailNodeCounts>();
    for (const r of rows)
      if (r.node_id)
        out.set(r.node_id, { sent: Number(r.sent), delivered: Number(r.delivered), opens: Number(r.opens), clicks: Number(r.clicks), bounces: Number(r.bounces), unsubscribes: 0 });
    const unsubs = await db
      .selectFrom('events')
      .select([sql<string>`json_extract(properties, '$.nodeId')`.as('node'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('type', '=', 'unsubscribed')
      .where(sql<string>`json_extract(properties, '$.workflowId')`, '=', workflowId)
      .groupBy(sql`json_extract(properties, '$.nodeId')`)
      .execute();
    for (const u of unsubs) {
      const c = u.node ? out.get(u.node) : undefined;
      if (c) c.unsubscribes = Number(u.n);
    }
    return out;
  },

  /** Leads resting in a node now. */
  leadsInNode(db: Db, workflowId: string, nodeId: string, limit: number) {
    return db
      .selectFrom('workflow_instances')
      .innerJoin('leads', 'leads.id', 'workflow_instances.lead_id')
      .select([...leadColumns, 'workflow_instances.id as instance_id', 'workflow_instances.updated_at as at'])
      .where('workflow_instances.workflow_id', '=', workflowId)
      .where('workflow_instances.status', '=', 'active')
      .where('workflow_instances.current_node', '=', nodeId)
      .orderBy('workflow_instances.updated_at', 'desc')
      .limit(limit)
      .execute();
  },

  /** Leads that entered a node and are no longer in it. */
  leadsPassedNode(db: Db, workflowId: string, nodeId: string, limit: number) {
    const entered = db
      .selectFrom('events')
      .select([stepInstance.as('instance_id'), sql<number>`max(occurred_at)`.as('at')])
      .where('type', '=', 'workflow_step')
      .where(stepWorkflow, '=', workflowId)
      .where(stepNode, '=', nodeId)
      .groupBy(stepInstance);
    return db
      .selectFrom(entered.as('e'))
      .innerJoin('workflow_instances as i', 'i.id', 'e.instance_id')
      .innerJoin('leads', 'leads.id', 'i.lead_id')
      .select([...leadColumns, 'i.id as instance_id', 'e.at as at'])
      .where((eb) => eb.or([eb('i.status', '!=', 'active'), eb('i.current_node', '!=', nodeId)]))
      .orderBy('e.at', 'desc')
      .limit(limit)
      .execute();
  },

  /** Leads behind one of an email step's figures. */
  leadsForEmailMetric(db: Db, workflowId: string, nodeId: string, metric: EmailMetric, limit: number) {
    let q = db
      .selectFrom('messages')
      .innerJoin('leads', 'leads.id', 'messages.lead_id')
      .select([...leadColumns, 'messages.id as message_id', 'messages.created_at as at'])
      .where('messages.workflow_id', '=', workflowId)
      .where('messages.node_id', '=', nodeId)
      .orderBy('messages.created_at', 'desc')
      .limit(limit);
    const bounced = sql<boolean>`coalesce(messages.status_reason, '') like '%bounce%'`;
    const sent = sql<boolean>`(messages.status in (${sql.join(SENT_STATUSES)}) or messages.sent_at is not null)`;
    switch (metric) {
      case 'sent':
        q = q.where(sent);
        break;
      case 'delivered':
        q = q.where(sql<boolean>`${sent} and not ${bounced} and messages.status != 'failed'`);
        break;
      case 'opens':
        q = q.where('messages.opens', '>', 0);
        break;
      case 'clicks':
        q = q.where('messages.clicks', '>', 0);
        break;
      case 'bounces':
        q = q.where(bounced);
        break;
      case 'unsubscribes':
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('events')
              .select('events.id')
              .where('events.type', '=', 'unsubscribed')
              .where('events.lead_id', '=', eb.ref('messages.lead_id'))
              .where(sql<string>`json_extract(events.properties, '$.messageId')`, '=', eb.ref('messages.id'))
          )
        );
        break;
    }
    return q.execute();
  },

  /** Active instances of one version per node: what a publish would leave or move. */
  async activeOnVersion(db: Db, workflowId: string, versionId: string) {
    const rows = await db
      .selectFrom('workflow_instances')
      .select(['current_node', (eb) => eb.fn.countAll<number>().as('n')])
      .where('workflow_id', '=', workflowId)
      .where('status', '=', 'active')
      .where('version_id', '=', versionId)
      .groupBy('current_node')
      .execute();
    return rows.map((r) => ({ node: r.current_node, count: Number(r.n) }));
  },

  /** Ids of a version's active instances, in id order after `afterId` (keyset pages for migration). */
  async activeIdsOnVersion(db: Db, workflowId: string, versionId: string, afterId: string, limit: number) {
    const rows = await db
      .selectFrom('workflow_instances')
      .select('id')
      .where('workflow_id', '=', workflowId)
      .where('status', '=', 'active')
      .where('version_id', '=', versionId)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  },

  /** Moves an instance to another version with the same optimistic check the executor's steps use. */
  async repin(
    db: Db,
    id: string,
    expectedVersion: number,
    patch: Pick<WorkflowInstancesTable, 'version_id' | 'snapshot' | 'current_node' | 'awaiting' | 'updated_at'>
  ): Promise<boolean> {
    const r = await db
      .updateTable('workflow_instances')
      .set({ ...patch, version: expectedVersion + 1 })
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .where('status', '=', 'active')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  timersOf(db: Db, instanceId: string) {
    return db.selectFrom('workflow_timers').selectAll().where('instance_id', '=', instanceId).execute();
  },

  async setTimerDue(db: Db, id: string, dueAt: number) {
    await db.updateTable('workflow_timers').set({ due_at: dueAt, claimed_until: null }).where('id', '=', id).execute();
  },

  versionByNumber(db: Db, workflowId: string, version: number) {
    return db.selectFrom('workflow_versions').selectAll().where('workflow_id', '=', workflowId).where('version', '=', version).executeTakeFirst();
  }
};
