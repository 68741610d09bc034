import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { WorkflowInstancesTable, WorkflowOutboxTable, WorkflowTimersTable, WorkflowVersionsTable, WorkflowsTable } from '../db/schema';

/** All SQL of the workflow engine: flows, versions, instances, timers and the effect outbox. */
export const workflowsRepo = {
  findBySlug(db: Db, slug: string) {
    return db.selectFrom('workflows').selectAll().where('slug', '=', slug).executeTakeFirst();
  },
  findById(db: Db, id: string) {
    return db.selectFrom('workflows').selectAll().where('id', '=', id).executeTakeFirst();
  },
  list(db: Db) {
    return db.selectFrom('workflows').selectAll().orderBy('name').execute();
  },
  async insert(db: Db, row: WorkflowsTable) {
    await db.insertInto('workflows').values(row).execute();
  },
  async update(db: Db, id: string, patch: Partial<WorkflowsTable>) {
    await db.updateTable('workflows').set(patch).where('id', '=', id).execute();
  },
  /** Active flows whose trigger is of this type and key (a null key matches any). */
  byTrigger(db: Db, type: string, key: string | null) {
    return db
      .selectFrom('workflows')
      .selectAll()
      .where('status', '=', 'active')
      .where('current_version_id', 'is not', null)
      .where('trigger_type', '=', type)
      .where((eb) => (key === null ? eb('trigger_key', 'is', null) : eb.or([eb('trigger_key', '=', key), eb('trigger_key', 'is', null)])))
      .execute();
  },

  async latestVersionNumber(db: Db, workflowId: string): Promise<number> {
    const r = await db
      .selectFrom('workflow_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('workflow_id', '=', workflowId)
      .executeTakeFirst();
    return Number(r?.v ?? 0);
  },
  async insertVersion(db: Db, row: WorkflowVersionsTable) {
    await db.insertInto('workflow_versions').values(row).execute();
  },
  findVersion(db: Db, id: string) {
    return db.selectFrom('workflow_versions').selectAll().where('id', '=', id).executeTakeFirst();
  },
  listVersions(db: Db, workflowId: string) {
    return db
      .selectFrom('workflow_versions')
      .select(['id', 'version', 'published_by', 'published_at'])
      .where('workflow_id', '=', workflowId)
      .orderBy('version', 'desc')
      .execute();
  },

  async insertInstance(db: Db, row: WorkflowInstancesTable) {
    await db.insertInto('workflow_instances').values(row).execute();
  },
  findInstance(db: Db, id: string) {
    return db.selectFrom('workflow_instances').selectAll().where('id', '=', id).executeTakeFirst();
  },
  /** The lead's latest instance of a flow, for re-entry rules. */
  latestInstanceFor(db: Db, workflowId: string, leadId: string) {
    return db
      .selectFrom('workflow_instances')
      .select(['id', 'status', 'enrolled_at', 'finished_at'])
      .where('workflow_id', '=', workflowId)
      .where('lead_id', '=', leadId)
      .orderBy('enrolled_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  },
  /** Writes a step's result only if nobody stepped the instance since it was read. */
  async saveStep(db: Db, id: string, expectedVersion: number, patch: Partial<WorkflowInstancesTable>): Promise<boolean> {
    const r = await db
      .updateTable('workflow_instances')
      .set({ ...patch, version: expectedVersion + 1 })
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async markFailed(db: Db, id: string, error: string, now: number) {
    await db
      .updateTable('workflow_instances')
      .set({ status: 'failed', error: error.slice(0, 2000), updated_at: now, finished_at: now, awaiting: null })
      .where('id', '=', id)
      .execute();
  },
  activeInstancesOfLead(db: Db, leadId: string, awaitingType?: string) {
    let q = db.selectFrom('workflow_instances').selectAll().where('lead_id', '=', leadId).where('status', '=', 'active');
    if (awaitingType) q = q.where('awaiting', 'like', `% ${awaitingType} %`);
    return q.execute();
  },
  async moveInstancesToLead(db: Db, fromLeadId: string, toLeadId: string) {
    await db.updateTable('workflow_instances').set({ lead_id: toLeadId }).where('lead_id', '=', fromLeadId).execute();
  },

  async upsertTimer(db: Db, row: WorkflowTimersTable) {
    await db
      .insertInto('workflow_timers')
      .values(row)
      .onConflict((oc) => oc.columns(['instance_id', 'timer_key']).doUpdateSet({ due_at: row.due_at, event: row.event, claimed_until: null }))
      .execute();
  },
  async deleteTimer(db: Db, instanceId: string, key: string) {
    await db.deleteFrom('workflow_timers').where('instance_id', '=', instanceId).where('timer_key', '=', key).execute();
  },
  async deleteTimerById(db: Db, id: string) {
    await db.deleteFrom('workflow_timers').where('id', '=', id).execute();
  },
  async deleteTimersOf(db: Db, instanceId: string) {
    await db.deleteFrom('workflow_timers').where('instance_id', '=', instanceId).execute();
  },
  /** Claims up to `limit` due timers with a lease, so a crashed worker's claims come back. */
  async claimDueTimers(db: Db, now: number, limit: number, leaseMs: number) {
    return db
      .updateTable('workflow_timers')
      .set({ claimed_until: now + leaseMs })
      .where(
        'id',
        'in',
        db
          .selectFrom('workflow_timers')
          .select('id')
          .where('due_at', '<=', now)
          .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
          .orderBy('due_at')
          .limit(limit)
      )
      .returningAll()
      .execute();
  },
  nextTimerDue(db: Db) {
    return db.selectFrom('workflow_timers').select((eb) => eb.fn.min('due_at').as('due')).executeTakeFirst();
  },

  async insertEffects(db: Db, rows: WorkflowOutboxTable[]) {
    if (!rows.length) return;
    await db.insertInto('workflow_outbox').values(rows).onConflict((oc) => oc.column('effect_key').doNothing()).execute();
  },
  async claimEffects(db: Db, now: number, limit: number, leaseMs: number) {
    return db
      .updateTable('workflow_outbox')
      .set({ lease_until: now + leaseMs, attempts: sql`attempts + 1` })
      .where(
        'id',
        'in',
        db
          .selectFrom('workflow_outbox')
          .select('id')
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', now)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
          .orderBy('next_attempt_at')
          .limit(limit)
      )
      .returningAll()
      .execute();
  },
  /** Completes an effect only while its lease is ours: a stale worker cannot overwrite a retry. */
  async completeEffect(db: Db, id: string, leaseUntil: number, status: 'done' | 'failed', result: unknown, now: number): Promise<boolean> {
    const r = await db
      .updateTable('workflow_outbox')
      .set({ status, result: JSON.stringify(result ?? null), done_at: now, lease_until: null })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('lease_until', '=', leaseUntil)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async retryEffect(db: Db, id: string, error: string, nextAttemptAt: number) {
    await db
      .updateTable('workflow_outbox')
      .set({ last_error: error.slice(0, 2000), next_attempt_at: nextAttemptAt, lease_until: null })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  },
  async failEffect(db: Db, id: string, error: string, now: number) {
    await db
      .updateTable('workflow_outbox')
      .set({ status: 'failed', last_error: error.slice(0, 2000), done_at: now, lease_until: null })
      .where('id', '=', id)
      .execute();
  },
  /** Puts a failed effect back in the queue (the "retry" button). */
  async requeueEffect(db: Db, id: string, now: number) {
    const r = await db
      .updateTable('workflow_outbox')
      .set({ status: 'pending', next_attempt_at: now, lease_until: null, done_at: null })
      .where('id', '=', id)
      .where('status', '=', 'failed')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  failedEffects(db: Db, workflowId?: string) {
    let q = db.selectFrom('workflow_outbox').selectAll().where('status', '=', 'failed').orderBy('created_at', 'desc').limit(200);
    if (workflowId) q = q.where('workflow_id', '=', workflowId);
    return q.execute();
  },

  /** Leads per node now, and how many finished, reached a goal, exited or failed. */
  async stats(db: Db, workflowId: string) {
    const byNode = await db
      .selectFrom('workflow_instances')
      .select(['current_node', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('workflow_id', '=', workflowId)
      .groupBy(['current_node', 'status'])
      .execute();
    return byNode.map((r) => ({ node: r.current_node, status: r.status, count: Number(r.n) }));
  }
};
  },

  /** Instances per flow and status, for the flows list. */
  async instanceCounts(db: Db) {
    const rows = await db
      .selectFrom('workflow_instances')
      .select(['workflow_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['workflow_id', 'status'])
      .execute();
    return rows.map((r) => ({ workflowId: r.workflow_id, status: r.status, count: Number(r.n) }));
  },
  /** Published versions with the publisher's name (null for the system and the CLI). */
  listVersionsWithAuthor(db: Db, workflowId: string) {
    return db
      .selectFrom('workflow_versions')
      .leftJoin('users', 'users.id', 'workflow_versions.published_by')
      .select(['workflow_versions.id', 'workflow_versions.version', 'workflow_versions.published_at', 'users.name as published_by_name'])
      .where('workflow_versions.workflow_id', '=', workflowId)
      .orderBy('workflow_versions.version', 'desc')
      .execute();
  },
  /** The in-app mailbox, newest first, with the lead's name and the flow that sent each message. */
  mailbox(db: Db, opts: { leadId?: string; limit: number }) {
    let q = db
      .selectFrom('mailbox_messages as m')
      .leftJoin('leads', 'leads.id', 'm.lead_id')
      .leftJoin('workflows', 'workflows.id', 'm.workflow_id')
      .select(['m.id', 'm.lead_id', 'm.to_address', 'm.subject', 'm.body_text', 'm.template', 'm.node_id', 'm.created_at', 'leads.name as lead_name', 'workflows.slug as workflow_slug', 'workflows.name as workflow_name'])
      .orderBy('m.created_at', 'desc')
      .orderBy('m.id', 'desc')
      .limit(opts.limit);
    if (opts.leadId) q = q.where('m.lead_id', '=', opts.leadId);
    return q.execute();
