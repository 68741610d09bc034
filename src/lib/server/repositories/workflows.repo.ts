import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { EventsTable, WorkflowInstancesTable, WorkflowOutboxTable, WorkflowTimersTable, WorkflowVersionsTable, WorkflowsTable } from '../db/schema';
import { precompiled } from './precompiled';

/** What one step writes back to its instance. */
export type StepPatch = Pick<WorkflowInstancesTable, 'snapshot' | 'status' | 'current_node' | 'awaiting' | 'updated_at' | 'finished_at'>;

/*
 * The statements every workflow step runs, compiled once per connection handle (see
 * precompiled.ts): the engine bench spent as long building these with Kysely as SQLite spent
 * running them. Colder queries below stay ordinary Kysely.
 */
const q = {
  findInstance: precompiled(1, (db, id: string) => db.selectFrom('workflow_instances').selectAll().where('id', '=', id)),
  insertInstance: precompiled(13, (db, ...v: unknown[]) => {
    const [id, workflow_id, version_id, lead_id, status, current_node, snapshot, version, awaiting, error, enrolled_at, updated_at, finished_at] = v as never[];
    return db.insertInto('workflow_instances').values({ id, workflow_id, version_id, lead_id, status, current_node, snapshot, version, awaiting, error, enrolled_at, updated_at, finished_at });
  }),
  saveStep: precompiled(9, (db, ...v: unknown[]) => {
    const [snapshot, status, current_node, awaiting, updated_at, finished_at, nextVersion, id, expectedVersion] = v as never[];
    return db
      .updateTable('workflow_instances')
      .set({ snapshot, status, current_node, awaiting, updated_at, finished_at, version: nextVersion })
      .where('id', '=', id)
      .where('version', '=', expectedVersion);
  }),
  activeOfLead: precompiled(1, (db, leadId: string) => db.selectFrom('workflow_instances').selectAll().where('lead_id', '=', leadId).where('status', '=', 'active')),
  instancesOfLead: precompiled(1, (db, leadId: string) =>
    db.selectFrom('workflow_instances').select(['id', 'workflow_id', 'status', 'enrolled_at', 'finished_at']).where('lead_id', '=', leadId)
  ),
  upsertTimer: precompiled(6, (db, ...v: unknown[]) => {
    const [id, instance_id, timer_key, event, due_at, claimed_until] = v as never[];
    return db
      .insertInto('workflow_timers')
      .values({ id, instance_id, timer_key, event, due_at, claimed_until })
      .onConflict((oc) => oc.columns(['instance_id', 'timer_key']).doUpdateSet((eb) => ({ due_at: eb.ref('excluded.due_at'), event: eb.ref('excluded.event'), claimed_until: null })));
  }),
  deleteTimer: precompiled(2, (db, instanceId: string, key: string) => db.deleteFrom('workflow_timers').where('instance_id', '=', instanceId).where('timer_key', '=', key)),
  deleteTimerById: precompiled(1, (db, id: string) => db.deleteFrom('workflow_timers').where('id', '=', id)),
  deleteTimersOf: precompiled(1, (db, instanceId: string) => db.deleteFrom('workflow_timers').where('instance_id', '=', instanceId)),
  insertEffect: precompiled(16, (db, ...v: unknown[]) => {
    const [id, effect_key, instance_id, workflow_id, lead_id, node_id, kind, params, status, attempts, next_attempt_at, lease_until, last_error, result, created_at, done_at] = v as never[];
    return db
      .insertInto('workflow_outbox')
      .values({ id, effect_key, instance_id, workflow_id, lead_id, node_id, kind, params, status, attempts, next_attempt_at, lease_until, last_error, result, created_at, done_at })
      .onConflict((oc) => oc.column('effect_key').doNothing());
  }),
  appendEvent: precompiled(9, (db, ...v: unknown[]) => {
    const [id, lead_id, type, properties, source, actor_id, occurred_at, received_at, dedupe_key] = v as never[];
    return db.insertInto('events').values({ id, lead_id, type, properties, source, actor_id, occurred_at, received_at, dedupe_key });
  }),
  leadById: precompiled(1, (db, id: string) => db.selectFrom('leads').selectAll().where('id', '=', id)),
  templateBySlug: precompiled(1, (db, slug: string) => db.selectFrom('email_templates').selectAll().where('slug', '=', slug)),
  completeEffect: precompiled(5, (db, ...v: unknown[]) => {
    const [status, result, done_at, id, leaseUntil] = v as never[];
    return db
      .updateTable('workflow_outbox')
      .set({ status, result, done_at, lease_until: null })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('lease_until', '=', leaseUntil);
  })
};

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

  async insertInstance(db: Db, r: WorkflowInstancesTable) {
    await q.insertInstance(db, r.id, r.workflow_id, r.version_id, r.lead_id, r.status, r.current_node, r.snapshot, r.version, r.awaiting, r.error, r.enrolled_at, r.updated_at, r.finished_at);
  },
  async findInstance(db: Db, id: string): Promise<WorkflowInstancesTable | undefined> {
    return (await q.findInstance(db, id)).rows[0];
  },
  /**
   * The lead's latest instance of a flow, for re-entry rules. Filtered by lead only, on purpose:
   * with `workflow_id` in the WHERE, SQLite (no ANALYZE statistics) picked the flow index and read
   * every instance of the flow for each enrollment, which made enrolling N leads cost N² (the
   * engine bench fell from 1,600 to 670 steps/s between 3,000 and 10,000 leads). A lead has only a
   * handful of instances, so the flow is picked out here.
   */
  async latestInstanceFor(db: Db, workflowId: string, leadId: string) {
    const { rows } = await q.instancesOfLead(db, leadId);
    let latest: (typeof rows)[number] | undefined;
    // Ties (one clock tick) go to the larger id: ids are time-ordered UUIDv7.
    for (const r of rows)
      if (r.workflow_id === workflowId && (!latest || r.enrolled_at > latest.enrolled_at || (r.enrolled_at === latest.enrolled_at && r.id > latest.id))) latest = r;
    return latest && { id: latest.id, status: latest.status, enrolled_at: latest.enrolled_at, finished_at: latest.finished_at };
  },
  /** Writes a step's result only if nobody stepped the instance since it was read. */
  async saveStep(db: Db, id: string, expectedVersion: number, p: StepPatch): Promise<boolean> {
    const r = await q.saveStep(db, p.snapshot, p.status, p.current_node, p.awaiting, p.updated_at, p.finished_at, expectedVersion + 1, id, expectedVersion);
    return Number(r.numAffectedRows) === 1;
  },
  async markFailed(db: Db, id: string, error: string, now: number) {
    await db
      .updateTable('workflow_instances')
      .set({ status: 'failed', error: error.slice(0, 2000), updated_at: now, finished_at: now, awaiting: null })
      .where('id', '=', id)
      .execute();
  },
  async activeInstancesOfLead(db: Db, leadId: string, awaitingType?: string): Promise<WorkflowInstancesTable[]> {
    const { rows } = await q.activeOfLead(db, leadId);
    return awaitingType ? rows.filter((r) => r.awaiting?.includes(` ${awaitingType} `)) : rows;
  },
  async moveInstancesToLead(db: Db, fromLeadId: string, toLeadId: string) {
    await db.updateTable('workflow_instances').set({ lead_id: toLeadId }).where('lead_id', '=', fromLeadId).execute();
  },

  async upsertTimer(db: Db, r: WorkflowTimersTable) {
    await q.upsertTimer(db, r.id, r.instance_id, r.timer_key, r.event, r.due_at, r.claimed_until);
  },
  async deleteTimer(db: Db, instanceId: string, key: string) {
    await q.deleteTimer(db, instanceId, key);
  },
  async deleteTimerById(db: Db, id: string) {
    await q.deleteTimerById(db, id);
  },
  async deleteTimersOf(db: Db, instanceId: string) {
    await q.deleteTimersOf(db, instanceId);
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

  /** One precompiled insert per row: re-running a prepared statement beats building a multi-row one. */
  async insertEffects(db: Db, rows: WorkflowOutboxTable[]) {
    for (const r of rows)
      await q.insertEffect(db, r.id, r.effect_key, r.instance_id, r.workflow_id, r.lead_id, r.node_id, r.kind, r.params, r.status, r.attempts, r.next_attempt_at, r.lease_until, r.last_error, r.result, r.created_at, r.done_at);
  },
  /** Lead events the engine writes (path entries, effect outcomes); no dedupe key involved. */
  async appendEvents(db: Db, rows: EventsTable[]) {
    for (const r of rows) await q.appendEvent(db, r.id, r.lead_id, r.type, r.properties, r.source, r.actor_id, r.occurred_at, r.received_at, r.dedupe_key);
  },
  async emailTemplate(db: Db, slug: string) {
    return (await q.templateBySlug(db, slug)).rows[0];
  },
  /** The lead as a step sees it (facts, effect handlers). */
  async leadById(db: Db, id: string) {
    return (await q.leadById(db, id)).rows[0];
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
    const r = await q.completeEffect(db, status, JSON.stringify(result ?? null), now, id, leaseUntil);
    return Number(r.numAffectedRows) === 1;
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
  /** Reschedules an effect that is only early (a send window, a cap): this attempt does not count. */
  async deferEffect(db: Db, id: string, reason: string, until: number) {
    await db
      .updateTable('workflow_outbox')
      .set({ last_error: reason.slice(0, 2000), next_attempt_at: until, lease_until: null, attempts: sql`max(attempts - 1, 0)` })
      .where('id', '=', id)
      .where('status', '=', 'pending')
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

  /** One instance's path: its enrollment and every node it entered, in order, from the lead's timeline. */
  async instancePath(db: Db, leadId: string, instanceId: string) {
    return db
      .selectFrom('events')
      .select(['type', 'properties', 'occurred_at'])
      .where('lead_id', '=', leadId)
      .where('type', 'in', ['workflow_enrolled', 'workflow_step'])
      .where(sql<string>`json_extract(properties, '$.instanceId')`, '=', instanceId)
      .orderBy('occurred_at')
      .orderBy(sql`rowid`)
      .execute();
  },
  instanceEffects(db: Db, instanceId: string) {
    return db
      .selectFrom('workflow_outbox')
      .select(['node_id', 'kind', 'status', 'attempts', 'last_error', 'created_at', 'done_at'])
      .where('instance_id', '=', instanceId)
      .orderBy('created_at')
      .execute();
  },
  instanceTimers(db: Db, instanceId: string) {
    return db.selectFrom('workflow_timers').select(['timer_key', 'due_at']).where('instance_id', '=', instanceId).orderBy('due_at').execute();
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
  }
};
