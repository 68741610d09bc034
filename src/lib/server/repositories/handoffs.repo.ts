import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database';
import type { HandoffsTable, RepTasksTable } from '../db/schema';

/**
 * A staff notice's email is still to send: no message with its key has been sent (or settled as
 * failed, suppressed...), and no attempt is recent. Notices are queued after the step that decided
 * them has committed, so a crash in between leaves no message at all, and one between queueing and
 * sending leaves it `queued` with no attempt: both are picked up again here. A temporary failure
 * waits 2, 4, 8... minutes (at most an hour) since its last attempt.
 */
const mailPending = (key: RawBuilder<string>, now: number) =>
  sql<boolean>`NOT EXISTS (SELECT 1 FROM messages m WHERE m.message_key = ${key}
    AND (m.status NOT IN ('queued', 'sending') OR m.attempt_started_at >= ${now} - 60000 * min(60, 1 << m.attempts)))`;

/** SQL of the MQL→SQL hand-off: hand-off rows, reps' tasks, and the reads the inbox and board need. */
/** Hand-offs with their lead and owner: what a notice to the owner needs. */
const handoffsToOwner = (db: Db) =>
  db
    .selectFrom('handoffs as h')
    .innerJoin('leads as l', 'l.id', 'h.lead_id')
    .innerJoin('users as u', 'u.id', 'h.owner_id')
    .select(['h.id', 'h.due_at', 'l.name', 'l.email', 'l.company', 'u.email as owner_email', 'u.name as owner_name', 'u.locale as owner_locale']);

/** Open rep tasks with their lead and owner: what a task reminder needs. */
const openTasksToOwner = (db: Db) =>
  db
    .selectFrom('rep_tasks as t')
    .innerJoin('leads as l', 'l.id', 't.lead_id')
    .innerJoin('users as u', 'u.id', 't.owner_id')
    .selectAll('t')
    .select(['l.name', 'l.company', 'l.email', 'l.phone', 'u.email as owner_email', 'u.name as owner_name', 'u.locale as owner_locale'])
    .where('t.done_at', 'is', null);

export const handoffsRepo = {
  async insert(db: Db, row: HandoffsTable) {
    await db.insertInto('handoffs').values(row).execute();
  },
  findById(db: Db, id: string) {
    return db.selectFrom('handoffs').selectAll().where('id', '=', id).executeTakeFirst();
  },
  openForLead(db: Db, leadId: string) {
    return db.selectFrom('handoffs').selectAll().where('lead_id', '=', leadId).where('status', '=', 'open').executeTakeFirst();
  },
  forLead(db: Db, leadId: string) {
    return db
      .selectFrom('handoffs as h')
      .leftJoin('users as u', 'u.id', 'h.owner_id')
      .selectAll('h')
      .select(['u.name as owner_name', 'u.email as owner_email'])
      .where('h.lead_id', '=', leadId)
      .orderBy('h.created_at', 'desc')
      .execute();
  },
  /** Reps who already had this lead: a reassignment goes to someone else. */
  async previousOwners(db: Db, leadId: string): Promise<string[]> {
    const rows = await db.selectFrom('handoffs').select('owner_id').distinct().where('lead_id', '=', leadId).where('owner_id', 'is not', null).execute();
    return rows.map((r) => r.owner_id!);
  },
  /**
   * Updates an open hand-off only while it is still open: answers false when another request
   * (a concurrent accept, the SLA job) closed it first.
   */
  async updateIfOpen(db: Db, id: string, patch: Partial<HandoffsTable>): Promise<boolean> {
    const r = await db.updateTable('handoffs').set(patch).where('id', '=', id).where('status', '=', 'open').executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  /** Active sales reps with their open hand-offs and when each last got one. */
  repsWithLoad(db: Db) {
    return db
      .selectFrom('users as u')
      .select([
        'u.id',
        'u.name',
        'u.email',
        'u.locale',
        'u.territory',
        'u.specializations',
        'u.is_manager',
        (eb) => eb.selectFrom('handoffs as h').select(sql<number>`count(*)`.as('n')).where('h.owner_id', '=', eb.ref('u.id')).where('h.status', '=', 'open').as('open'),
        (eb) => eb.selectFrom('handoffs as h').select(sql<number>`coalesce(max(h.assigned_at), 0)`.as('t')).where('h.owner_id', '=', eb.ref('u.id')).as('last_assigned_at')
      ])
      .where('u.role', '=', 'sales')
      .where('u.active', '=', 1)
      .orderBy('u.created_at')
      .execute();
  },
  /** Sales managers and admins: whom an escalation reaches. */
  managers(db: Db) {
    return db
      .selectFrom('users')
      .select(['id', 'name', 'email', 'locale', 'role'])
      .where('active', '=', 1)
      .where((eb) => eb.or([eb.and([eb('role', '=', 'sales'), eb('is_manager', '=', 1)]), eb('role', '=', 'admin')]))
      .orderBy('created_at')
      .execute();
  },

  /** Open hand-offs with their lead, for the inbox (one owner) or the board (everyone). */
  openWithLeads(db: Db, ownerId?: string) {
    let q = db
      .selectFrom('handoffs as h')
      .innerJoin('leads as l', 'l.id', 'h.lead_id')
      .leftJoin('channels as c', 'c.id', 'l.channel_id')
      .leftJoin('users as u', 'u.id', 'h.owner_id')
      .selectAll('h')
      .select([
        'l.name',
        'l.company',
        'l.email',
        'l.phone',
        'l.fit_score',
        'l.engagement_score',
        'l.source',
        'l.region',
        'c.name as channel_name',
        'u.name as owner_name'
      ])
      .where('h.status', '=', 'open');
    if (ownerId) q = q.where('h.owner_id', '=', ownerId);
    return q.orderBy('h.assigned_at').execute();
  },
  /** Open hand-offs whose SLA deadline has passed: the SLA job's work list. */
  breachedOpen(db: Db, now: number, limit: number, maxAttempts: number) {
    return (
      db
        .selectFrom('handoffs')
        .selectAll()
        .where('status', '=', 'open')
        .where('due_at', '<=', now)
        // Escalated on the last allowed attempt: nothing more the job can do; it stays on the board.
        .where((eb) => eb.not(eb.and([eb('escalated_at', 'is not', null), eb('attempt', '>=', maxAttempts)])))
        .orderBy('due_at')
        .limit(limit)
        .execute()
    );
  },
  /** Open, owned hand-offs whose assignment email has not gone out yet (keyed `handoff:<id>:assigned`). */
  unmailedAssignments(db: Db, now: number, limit: number) {
    return handoffsToOwner(db)
      .select(['h.rule', 'h.summary', 'l.phone', 'l.fit_score', 'l.engagement_score'])
      .where('h.status', '=', 'open')
      .where(mailPending(sql<string>`'handoff:' || h.id || ':assigned'`, now))
      .orderBy('h.assigned_at')
      .limit(limit)
      .execute();
  },
  /** Open hand-offs reminded since `since` whose reminder email is still to send (`handoff:<id>:reminded`). */
  unmailedReminders(db: Db, now: number, since: number, limit: number) {
    return handoffsToOwner(db)
      .where('h.status', '=', 'open')
      .where('h.reminded_at', '>=', since)
      .where(mailPending(sql<string>`'handoff:' || h.id || ':reminded'`, now))
      .orderBy('h.reminded_at')
      .limit(limit)
      .execute();
  },
  /**
   * Escalations since `since`, one row per manager who was one at the time and has not had the
   * email yet (`handoff:<id>:escalated:<manager>`); the managers are those `managers` lists.
   */
  unmailedEscalations(db: Db, now: number, since: number, limit: number) {
    return db
      .selectFrom('handoffs as h')
      .innerJoin('leads as l', 'l.id', 'h.lead_id')
      .leftJoin('users as o', 'o.id', 'h.owner_id')
      .innerJoin('users as u', (j) => j.on('u.active', '=', 1).on((eb) => eb.or([eb.and([eb('u.role', '=', 'sales'), eb('u.is_manager', '=', 1)]), eb('u.role', '=', 'admin')])))
      .select(['h.id', 'h.due_at', 'l.name', 'l.email', 'l.company', 'o.name as owner_name', 'u.id as manager_id', 'u.email as manager_email', 'u.name as manager_name', 'u.locale as manager_locale'])
      .where('h.escalated_at', '>=', since)
      .whereRef('u.created_at', '<=', 'h.escalated_at')
      .where(mailPending(sql<string>`'handoff:' || h.id || ':escalated:' || u.id`, now))
      .orderBy('h.escalated_at')
      .limit(limit)
      .execute();
  },
  /** Open tasks notified since `since` whose email is still to send (`task:<id>:due`). */
  unmailedTasks(db: Db, now: number, since: number, limit: number) {
    return openTasksToOwner(db)
      .where('t.notified_at', '>=', since)
      .where(mailPending(sql<string>`'task:' || t.id || ':due'`, now))
      .limit(limit)
      .execute();
  },
  /** Hand-offs closed as rejected or recycled in a period, with the lead's source and channel. */
  closedWithReasons(db: Db, from: number, to: number) {
    return db
      .selectFrom('handoffs as h')
      .innerJoin('leads as l', 'l.id', 'h.lead_id')
      .leftJoin('channels as c', 'c.id', 'l.channel_id')
      .select(['h.id', 'h.status', 'h.reason', 'h.summary', 'h.rule', 'l.source', 'c.name as channel_name'])
      .where('h.status', 'in', ['rejected', 'recycled'])
      .where('h.closed_at', '>=', from)
      .where('h.closed_at', '<', to)
      .execute();
  },

  async insertTask(db: Db, row: RepTasksTable) {
    await db.insertInto('rep_tasks').values(row).execute();
  },
  findTask(db: Db, id: string) {
    return db.selectFrom('rep_tasks').selectAll().where('id', '=', id).executeTakeFirst();
  },
  async completeTask(db: Db, id: string, now: number): Promise<boolean> {
    const r = await db.updateTable('rep_tasks').set({ done_at: now }).where('id', '=', id).where('done_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },
  openTasks(db: Db, ownerId: string) {
    return db
      .selectFrom('rep_tasks as t')
      .innerJoin('leads as l', 'l.id', 't.lead_id')
      .selectAll('t')
      .select(['l.name', 'l.company', 'l.email', 'l.phone'])
      .where('t.owner_id', '=', ownerId)
      .where('t.done_at', 'is', null)
      .orderBy('t.due_at')
      .execute();
  },
  /** Tasks that came due and whose owner has not been emailed yet. */
  dueUnnotifiedTasks(db: Db, now: number, limit: number) {
    return openTasksToOwner(db)
      .where('t.notified_at', 'is', null)
      .where('t.due_at', '<=', now)
      .limit(limit)
      .execute();
  },
  async markTaskNotified(db: Db, id: string, now: number): Promise<boolean> {
    const r = await db.updateTable('rep_tasks').set({ notified_at: now }).where('id', '=', id).where('notified_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  /** Whether marketing email to this lead should wait: a rep is working it. */
  async repWorkingLead(db: Db, leadId: string, workedStages: readonly string[]): Promise<boolean> {
    const r = await db
      .selectFrom('leads as l')
      .select([
        'l.stage',
        (eb) => eb.exists(eb.selectFrom('handoffs as h').select('h.id').where('h.lead_id', '=', eb.ref('l.id')).where('h.status', '=', 'open')).as('open')
      ])
      .where('l.id', '=', leadId)
      .executeTakeFirst();
    return !!r && (workedStages.includes(r.stage) || !!r.open);
  }
};
