import type { Db } from '../db/database';
import type { HandoffsTable, LeadsTable } from '../db/schema';
import type { Role } from '../repositories/users.repo';
import { handoffsRepo } from '../repositories/handoffs.repo';
import { leadsRepo } from '../repositories/leads.repo';
import { eventsRepo } from '../repositories/events.repo';
import { scoringRepo } from '../repositories/scoring.repo';
import { settingsRepo } from '../repositories/settings.repo';
import { auditRepo } from '../repositories/audit.repo';
import { parseJson } from '../repositories/json';
import { ConflictError, InputError, NotFoundError, type Actor, type Deps } from './deps';
import type { StaffMailer } from './handoff-mail';
import { createLiveBus, type LiveBus } from '../live-bus';
import { addBusinessMinutes, businessMsBetween } from '../handoff/business-hours';
import { routeLead, type RoutingRep } from '../handoff/routing';
import { missingStageFields } from '../handoff/stage-gates';
import { ruleLabel } from '../../shared/scoring-names';
import { qualifiedFrom, storedQualified, whyFromLedger, type Qualified, type WhyItem } from '../handoff/why';
import { gradeOf } from '../../shared/scoring';
import { formatDateTime } from '../../shared/format';
import {
  DEFAULT_HANDOFF_SETTINGS,
  acceptInputSchema,
  addTaskInputSchema,
  changeStageInputSchema,
  HANDOFF_SETTINGS_KEY,
  completeTaskInputSchema,
  handoffSettingsSchema,
  periodSchema,
  recycleInputSchema,
  rejectInputSchema,
  type HandoffNotice,
  type HandoffSettings,
  type StageFields
} from '../../shared/handoff';
import { m } from '../../paraglide/messages';

/** Stages that end a hand-off as accepted when a rep moves the lead there from the card. */
const ACCEPTING_STAGES = new Set(['sql', 'opportunity', 'customer']);
const SLA_BATCH = 100;
const MAIL_BATCH = 50;
/** A staff email not sent within a day (a long outage) is dropped; the in-app notice stays. */
const MAIL_STALE_MS = 86_400_000;

/** The caller: a signed-in user (the router passes ctx.user). */
export interface HandoffUser {
  id: string;
  email: string;
  role: Role;
  isManager: boolean;
}

/** The caller may not touch this hand-off or lead (another rep's); the router answers FORBIDDEN. */
export class ForbiddenError extends Error {}

type Locale = 'en' | 'ru';
const localeOf = (l: string | null | undefined): Locale => (l === 'en' ? 'en' : 'ru');
const leadLabel = (l: { name: string | null; email: string | null; company?: string | null }) => l.name ?? l.email ?? l.company ?? '—';

export interface HandoffSummary {
  fit: number;
  engagement: number;
  grade: string;
  qualified: Qualified | null;
  source: string;
  why: WhyItem[];
}

function parseIssues(error: { issues: { path: PropertyKey[]; message: string }[] }) {
  return new InputError(error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(root)', message: i.message })));
}

function parseOrThrow<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw parseIssues(r.error);
  return r.data;
}

/**
 * The MQL→SQL hand-off: routes a new MQL to a rep, runs the SLA in business hours (remind,
 * escalate, reassign), lets the rep accept (BANT → SQL), reject or recycle, keeps reps' tasks, and
 * tells open inboxes and the manager board about every change as it happens.
 */
export function createHandoffService(deps: Deps, opts: { mailer: StaffMailer; publicUrl: string; live?: LiveBus }) {
  const { db, clock, ids } = deps;
  // The app's bus reaches the serving thread when the worker (which assigns) runs in its own thread.
  const live = opts.live ?? createLiveBus(`handoff:${ids.newId()}`);
  const topic = (key: string) => `handoff:${key}`;
  /** Notices raised inside someone else's transaction (the engine's outbox batch), sent once it has committed. */
  let afterCommit: [string, HandoffNotice][] = [];
  const inboxUrl = `${opts.publicUrl}/inbox`;
  const boardUrl = `${opts.publicUrl}/inbox/board`;

  /** Called after the change is committed, so a listener that re-reads sees it (from any thread). */
  function emit(notices: [string, HandoffNotice][]) {
    for (const [key, n] of notices) live.publish(topic(key), n);
  }

  /** Sends what the engine's batch raised; the worker calls this after the batch commits. */
  function flushAfterCommit() {
    const pending = afterCommit;
    afterCommit = [];
    emit(pending);
    return pending.length;
  }

  async function loadSettings(on: Db): Promise<HandoffSettings> {
    const stored = handoffSettingsSchema.safeParse(await settingsRepo.get(on, HANDOFF_SETTINGS_KEY, DEFAULT_HANDOFF_SETTINGS));
    return stored.success ? stored.data : DEFAULT_HANDOFF_SETTINGS;
  }

  async function appendEvent(trx: Db, leadId: string, type: string, properties: Record<string, unknown>, actorId: string | null, now: number) {
    await eventsRepo.append(trx, { id: ids.newId(), lead_id: leadId, type, properties: JSON.stringify(properties), source: 'handoff', actor_id: actorId, occurred_at: now, received_at: now, dedupe_key: null });
  }

  async function notifyInApp(trx: Db, userId: string, leadId: string, key: string, message: string, now: number) {
    await trx
      .insertInto('notifications')
      .values({ id: ids.newId(), notice_key: key, user_id: userId, role: null, lead_id: leadId, message, created_at: now, read_at: null })
      .onConflict((oc) => oc.column('notice_key').doNothing())
      .execute();
  }

  async function summaryOf(trx: Db, lead: LeadsTable): Promise<HandoffSummary> {
    const ledger = await scoringRepo.ledgerForLead(trx, lead.id);
    const mql = await trx
      .selectFrom('events')
      .select('properties')
      .where('lead_id', '=', lead.id)
      .where('type', '=', 'stage_changed')
      .orderBy('occurred_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    const props = parseJson<Record<string, unknown>>(mql?.properties ?? '{}', {});
    return {
      fit: lead.fit_score,
      engagement: lead.engagement_score,
      grade: gradeOf(lead.fit_score),
      qualified: qualifiedFrom(props),
      source: lead.source,
      why: whyFromLedger(ledger)
    };
  }

  async function eligibleReps(trx: Db, s: HandoffSettings) {
    const rows = await handoffsRepo.repsWithLoad(trx);
    const onShift = s.routing.onShift ? new Set(s.routing.onShift) : null;
    return rows
      .filter((r) => !onShift || onShift.has(r.id))
      .map((r) => ({ ...r, open: Number(r.open ?? 0), lastAssignedAt: Number(r.last_assigned_at ?? 0), specializations: parseJson<string[]>(r.specializations, []) }));
  }

  /**
   * Opens a hand-off for the lead: routes it, sets the SLA deadline in business time, makes the
   * rep the lead's owner and records it on the timeline. Runs inside the caller's transaction.
   */
  async function openHandoff(trx: Db, lead: LeadsTable, s: HandoffSettings, attempt: number, exclude: Set<string>, now: number, notices: [string, HandoffNotice][]) {
    const reps = await eligibleReps(trx, s);
    const attrs = parseJson<Record<string, unknown>>(lead.attributes, {});
    const interest = attrs[s.routing.interestAttribute];
    const routed = routeLead({ region: lead.region, interest: typeof interest === 'string' ? interest : null }, reps as RoutingRep[], { chain: s.routing.chain, capacity: s.routing.capacity }, exclude);
    const summary = await summaryOf(trx, lead);
    const row: HandoffsTable = {
      id: ids.newId(),
      lead_id: lead.id,
      owner_id: routed.ownerId,
      status: 'open',
      rule: routed.rule,
      attempt,
      assigned_at: now,
      due_at: addBusinessMinutes(now, s.sla.minutes, s.sla.calendar),
      first_action_at: null,
      reminded_at: null,
      escalated_at: null,
      breached: 0,
      reason: null,
      note: null,
      follow_up_at: null,
      closed_at: null,
      summary: JSON.stringify(summary),
      created_at: now,
      updated_at: now
    };
    await handoffsRepo.insert(trx, row);
    const owner = reps.find((r) => r.id === routed.ownerId);
    await appendEvent(trx, lead.id, 'handoff_assigned', { handoffId: row.id, ownerId: row.owner_id, ownerName: owner?.name ?? null, rule: row.rule, attempt, dueAt: row.due_at }, null, now);
    if (routed.ownerId && routed.ownerId !== lead.owner_id) {
      await leadsRepo.update(trx, lead.id, { owner_id: routed.ownerId, updated_at: now });
      await appendEvent(trx, lead.id, 'owner_changed', { field: 'owner_id', from: lead.owner_id, to: routed.ownerId, by: 'handoff' }, null, now);
    }
    if (owner) {
      await notifyInApp(trx, owner.id, lead.id, `handoff:${row.id}:assigned`, m.handoff_notice_assigned({ lead: leadLabel(lead) }, { locale: localeOf(owner.locale) }), now);
      notices.push([owner.id, { type: 'assigned', handoffId: row.id }]);
    }
    notices.push(['board', { type: 'assigned', handoffId: row.id }]);
    return row;
  }

  /** The flow's `handoff` step (engine effect): one open hand-off per lead, however often it runs. */
  async function assignFromFlow(trx: Db, leadId: string, meta: { workflowId?: string } = {}) {
    const lead = await leadsRepo.findById(trx, leadId);
    if (!lead || lead.merged_into_id) return { skipped: 'lead gone' };
    const open = await handoffsRepo.openForLead(trx, leadId);
    if (open) return { unchanged: true, handoffId: open.id };
    const notices: [string, HandoffNotice][] = [];
    const row = await openHandoff(trx, lead, await loadSettings(trx), 1, new Set(), clock.now(), notices);
    // Still inside the engine's transaction: a listener re-reading now might not see the row yet.
    afterCommit.push(...notices);
    return { handoffId: row.id, ownerId: row.owner_id, rule: row.rule, workflowId: meta.workflowId ?? null };
  }

  const isManagerOrAdmin = (u: HandoffUser) => u.role === 'admin' || (u.role === 'sales' && u.isManager);

  /** Sales reps see only their own leads; everyone else sees all. */
  async function assertLeadInScope(on: Db, user: HandoffUser, lead: LeadsTable) {
    if (user.role !== 'sales' || user.isManager) return;
    if (lead.owner_id === user.id) return;
    const open = await handoffsRepo.openForLead(on, lead.id);
    if (open?.owner_id === user.id) return;
    throw new ForbiddenError('This lead belongs to another rep');
  }

  async function requireLead(on: Db, id: string) {
    const lead = await leadsRepo.findById(on, id);
    if (!lead || lead.merged_into_id) throw new NotFoundError('No such lead');
    return lead;
  }

  /** Moves the lead's stage with the fields its gate asks for, on the timeline as `stage_changed`. */
  async function moveStage(trx: Db, lead: LeadsTable, to: string, fields: StageFields, by: 'user' | 'handoff', actorId: string | null, s: HandoffSettings, now: number, patch: Partial<LeadsTable> = {}) {
    const missing = missingStageFields(to, fields, s.stageRequirements);
    if (missing.length) throw new InputError(missing);
    const attrs = parseJson<Record<string, unknown>>(lead.attributes, {});
    const bant = fields.budget !== undefined || fields.authority !== undefined || fields.need !== undefined || fields.timing !== undefined;
    if (bant) Object.assign(attrs, { bant_budget: fields.budget ?? null, bant_authority: fields.authority ?? null, bant_need: fields.need ?? null, bant_timing: fields.timing ?? null });
    if (fields.amount !== undefined) attrs.deal_amount = fields.amount;
    if (fields.date !== undefined) attrs.close_date = fields.date;
    if (fields.reason !== undefined && (to === 'customer' || to === 'disqualified')) attrs.close_reason = fields.reason;
    await leadsRepo.update(trx, lead.id, { stage: to, attributes: JSON.stringify(attrs), updated_at: now, ...patch });
    await appendEvent(
      trx,
      lead.id,
      'stage_changed',
      {
        field: 'stage',
        from: lead.stage,
        to,
        by,
        ...(fields.amount !== undefined ? { amount: fields.amount } : {}),
        ...(fields.reason ? { reason: fields.reason } : {}),
        ...(fields.date ? { date: fields.date } : {}),
        ...(bant ? { bant: { budget: fields.budget, authority: fields.authority, need: fields.need, timing: fields.timing } } : {})
      },
      actorId,
      now
    );
  }

  /** Reads an open hand-off for a decision by `user`; refuses others' hand-offs and closed ones. */
  async function requireOpenFor(trx: Db, user: HandoffUser, handoffId: string, ownerOnly: boolean) {
    const row = await handoffsRepo.findById(trx, handoffId);
    if (!row) throw new NotFoundError('No such hand-off');
    const mine = row.owner_id === user.id;
    if (!mine && (ownerOnly || !isManagerOrAdmin(user))) throw new ForbiddenError('This hand-off is assigned to another rep');
    if (row.status !== 'open') {
      const word = row.status === 'reassigned' ? 'was reassigned to another rep' : `was already ${row.status}`;
      throw new ConflictError(`This lead ${word}; refresh your inbox`);
    }
    return row;
  }

  /** Closes an open hand-off; a concurrent decision that got there first makes this one a CONFLICT. */
  async function closeHandoff(trx: Db, row: HandoffsTable, patch: Partial<HandoffsTable>, now: number) {
    const closed = await handoffsRepo.updateIfOpen(trx, row.id, { first_action_at: row.first_action_at ?? now, closed_at: now, updated_at: now, ...patch });
    if (!closed) throw new ConflictError('Someone else acted on this lead a moment ago; refresh your inbox');
  }

  const closedNotices = (row: HandoffsTable): [string, HandoffNotice][] => [
    ...(row.owner_id ? [[row.owner_id, { type: 'removed', handoffId: row.id }] as [string, HandoffNotice]] : []),
    ['board', { type: 'removed', handoffId: row.id }]
  ];

  /** Sends held marketing steps of a lead again now (they were deferred while a rep worked it). */
  async function resumeNurture(trx: Db, leadId: string, now: number) {
    await trx
      .updateTable('workflow_outbox')
      .set({ next_attempt_at: now })
      .where('lead_id', '=', leadId)
      .where('status', '=', 'pending')
      .where('kind', '=', 'send_email')
      .where('next_attempt_at', '>', now)
      .execute();
  }

  function toView(r: Awaited<ReturnType<typeof handoffsRepo.openWithLeads>>[number], now: number, s: HandoffSettings) {
    const summary = parseJson<Partial<HandoffSummary>>(r.summary, {});
    return {
      id: r.id,
      leadId: r.lead_id,
      name: r.name,
      company: r.company,
      email: r.email,
      phone: r.phone,
      fit: r.fit_score,
      engagement: r.engagement_score,
      grade: gradeOf(r.fit_score),
      channel: r.channel_name ?? r.source,
      source: r.source,
      region: r.region,
      ownerId: r.owner_id,
      ownerName: r.owner_name,
      assignedAt: r.assigned_at,
      dueAt: r.due_at,
      waitingMs: now - r.assigned_at,
      businessWaitingMs: businessMsBetween(r.assigned_at, now, s.sla.calendar),
      breached: !!r.breached || now >= r.due_at,
      reminded: r.reminded_at !== null,
      escalated: r.escalated_at !== null,
      attempt: r.attempt,
      rule: r.rule,
      qualified: storedQualified(summary.qualified),
      why: summary.why ?? []
    };
  }

  // ---------- SLA job ----------

  interface Mail {
    key: string;
    to: string;
    toName: string | null;
    subject: string;
    text: string;
  }

  /** One SLA pass over a breached hand-off: remind, then escalate, then reassign, each once. */
  async function slaStep(trx: Db, id: string, now: number, s: HandoffSettings, notices: [string, HandoffNotice][]) {
    const row = await handoffsRepo.findById(trx, id);
    if (!row || row.status !== 'open' || row.due_at > now) return 0;
    const lead = await leadsRepo.findById(trx, row.lead_id);
    if (!lead) return 0;
    const cal = s.sla.calendar;
    const at = (minutes: number) => addBusinessMinutes(row.due_at, minutes, cal);
    const patch: Partial<HandoffsTable> = {};
    let steps = 0;
    const owner = row.owner_id ? await trx.selectFrom('users').select(['id', 'name', 'email', 'locale']).where('id', '=', row.owner_id).executeTakeFirst() : undefined;
    const repName = owner?.name ?? m.handoff_unassigned({}, { locale: 'ru' });
    if (!row.breached) patch.breached = 1;
    if (owner && row.reminded_at === null && now >= at(s.sla.remindAfterMinutes)) {
      patch.reminded_at = now;
      steps++;
      const locale = localeOf(owner.locale);
      await appendEvent(trx, lead.id, 'handoff_reminded', { handoffId: row.id, ownerId: owner.id, dueAt: row.due_at }, null, now);
      await notifyInApp(trx, owner.id, lead.id, `handoff:${row.id}:reminded`, m.handoff_notice_reminded({ lead: leadLabel(lead) }, { locale }), now);
      notices.push([owner.id, { type: 'updated', handoffId: row.id }]);
    }
    const escalating = row.escalated_at === null && now >= at(s.sla.escalateAfterMinutes);
    if (escalating) {
      patch.escalated_at = now;
      steps++;
      const managers = await handoffsRepo.managers(trx);
      await appendEvent(trx, lead.id, 'handoff_escalated', { handoffId: row.id, ownerId: row.owner_id, managerIds: managers.map((x) => x.id), dueAt: row.due_at }, null, now);
      for (const mg of managers) {
        const locale = localeOf(mg.locale);
        const vars = { rep: repName, lead: leadLabel(lead), company: lead.company ?? '—', due: formatDateTime(row.due_at, locale, cal.timeZone), url: boardUrl };
        await notifyInApp(trx, mg.id, lead.id, `handoff:${row.id}:escalated:${mg.id}`, m.handoff_notice_escalated(vars, { locale }), now);
      }
    }
    const reassign = (row.escalated_at !== null || escalating) && row.attempt < s.sla.maxAttempts && now >= at(s.sla.reassignAfterMinutes);
    if (Object.keys(patch).length) await handoffsRepo.updateIfOpen(trx, row.id, { ...patch, updated_at: now });
    if (reassign) {
      steps++;
      await handoffsRepo.updateIfOpen(trx, row.id, { status: 'reassigned', closed_at: now, updated_at: now });
      const exclude = new Set(await handoffsRepo.previousOwners(trx, lead.id));
      const next = await openHandoff(trx, lead, s, row.attempt + 1, exclude, now, notices);
      await appendEvent(trx, lead.id, 'handoff_reassigned', { handoffId: row.id, nextHandoffId: next.id, from: row.owner_id, to: next.owner_id, rule: next.rule, attempt: next.attempt }, null, now);
      notices.push(...closedNotices(row));
    } else if (steps) notices.push(['board', { type: 'updated', handoffId: row.id }]);
    return steps;
  }

  async function runSlaSteps(now: number) {
    const s = await loadSettings(db);
    const rows = await handoffsRepo.breachedOpen(db, now, SLA_BATCH, s.sla.maxAttempts);
    let steps = 0;
    for (const r of rows) {
      const notices: [string, HandoffNotice][] = [];
      steps += await db.transaction().execute((trx) => slaStep(trx, r.id, now, s, notices));
      emit(notices);
    }
    return steps;
  }

  async function sendMails(mails: Mail[]) {
    for (const mail of mails) {
      try {
        await opts.mailer.send(mail);
      } catch (e) {
        console.error(`[handoff] notice ${mail.key} not sent: ${(e as Error).message}`);
      }
    }
  }

  /** The assignment email (lead summary and why), once per hand-off, sent outside the assigning transaction. */
  async function mailNewAssignments(now: number) {
    const s = await loadSettings(db);
    const rows = await handoffsRepo.unmailedAssignments(db, now, MAIL_BATCH);
    const mails: Mail[] = rows.map((r) => {
      const locale = localeOf(r.owner_locale);
      const summary = parseJson<Partial<HandoffSummary>>(r.summary, {});
      const qualified = storedQualified(summary.qualified);
      const why = (summary.why ?? []).map((w) => `• ${ruleLabel(w.ruleId, w.rule, locale)}: +${w.points}`).join('\n') || (qualified ? m.handoff_qualified(qualified, { locale }) : '—');
      const vars = {
        rep: r.owner_name,
        lead: leadLabel(r),
        company: r.company ?? '—',
        rule: r.rule,
        why,
        fit: String(r.fit_score),
        engagement: String(r.engagement_score),
        grade: gradeOf(r.fit_score),
        email: r.email ?? '—',
        phone: r.phone ?? '—',
        due: formatDateTime(r.due_at, locale, s.sla.calendar.timeZone),
        url: inboxUrl
      };
      return { key: `handoff:${r.id}:assigned`, to: r.owner_email, toName: r.owner_name, subject: m.handoff_mail_assigned_subject(vars, { locale }), text: m.handoff_mail_assigned_body(vars, { locale }) };
    });
    await sendMails(mails);
    return mails.length;
  }

  /**
   * Emails for the SLA steps and due tasks already committed: reminders to the rep, escalations to
   * each manager, task reminders. Sent from what the steps stored, not from inside them, so a crash
   * between a step's commit and its email delays the email to the next round instead of losing it;
   * message keys keep each one to a single send. Older than MAIL_STALE_MS, the in-app notice is enough.
   */
  async function mailCommittedNotices(now: number) {
    const s = await loadSettings(db);
    const since = now - MAIL_STALE_MS;
    const cal = s.sla.calendar;
    const mails: Mail[] = [];
    for (const r of await handoffsRepo.unmailedReminders(db, now, since, MAIL_BATCH)) {
      const locale = localeOf(r.owner_locale);
      const vars = { rep: r.owner_name, lead: leadLabel(r), company: r.company ?? '—', due: formatDateTime(r.due_at, locale, cal.timeZone), url: inboxUrl };
      mails.push({ key: `handoff:${r.id}:reminded`, to: r.owner_email, toName: r.owner_name, subject: m.handoff_mail_reminder_subject(vars, { locale }), text: m.handoff_mail_reminder_body(vars, { locale }) });
    }
    for (const r of await handoffsRepo.unmailedEscalations(db, now, since, MAIL_BATCH)) {
      const locale = localeOf(r.manager_locale);
      const vars = { rep: r.owner_name ?? m.handoff_unassigned({}, { locale }), lead: leadLabel(r), company: r.company ?? '—', due: formatDateTime(r.due_at, locale, cal.timeZone), url: boardUrl };
      mails.push({ key: `handoff:${r.id}:escalated:${r.manager_id}`, to: r.manager_email, toName: r.manager_name, subject: m.handoff_mail_escalated_subject(vars, { locale }), text: m.handoff_mail_escalated_body(vars, { locale }) });
    }
    for (const t of await handoffsRepo.unmailedTasks(db, now, since, MAIL_BATCH)) {
      const locale = localeOf(t.owner_locale);
      const vars = taskVars(t, locale);
      mails.push({ key: `task:${t.id}:due`, to: t.owner_email, toName: t.owner_name, subject: m.handoff_mail_task_subject(vars, { locale }), text: m.handoff_mail_task_body(vars, { locale }) });
    }
    await sendMails(mails);
  }

  const taskVars = (t: { kind: string; owner_name: string; note: string | null; phone: string | null; email: string | null; company: string | null; name: string | null }, locale: Locale) => ({
    rep: t.owner_name,
    kind: t.kind === 'call_back' ? m.handoff_task_call_back({}, { locale }) : m.handoff_task_follow_up({}, { locale }),
    lead: leadLabel(t),
    company: t.company ?? '—',
    note: t.note ?? '—',
    phone: t.phone ?? '—',
    email: t.email ?? '—',
    url: inboxUrl
  });

  /** Tasks that came due: an in-app notice and a live inbox update, once each (the email follows in mailCommittedNotices). */
  async function notifyDueTasks(now: number) {
    const rows = await handoffsRepo.dueUnnotifiedTasks(db, now, MAIL_BATCH);
    const notices: [string, HandoffNotice][] = [];
    for (const t of rows) {
      const locale = localeOf(t.owner_locale);
      const claimed = await db.transaction().execute(async (trx) => {
        if (!(await handoffsRepo.markTaskNotified(trx, t.id, now))) return false;
        await notifyInApp(trx, t.owner_id, t.lead_id, `task:${t.id}:due`, m.handoff_notice_task(taskVars(t, locale), { locale }), now);
        return true;
      });
      if (claimed) notices.push([t.owner_id, { type: 'task', taskId: t.id }]);
    }
    emit(notices);
    return notices.length;
  }

  return {
    assignFromFlow,

    flushAfterCommit,

    /**
     * Recomputes the stored summary (scores, why it qualified) of the open hand-offs from their
     * leads as they are now: for hand-offs written without one (the demo seed's history, scored
     * after it was written).
     */
    async resummarizeOpen() {
      const open = await db.selectFrom('handoffs').select(['id', 'lead_id']).where('status', '=', 'open').execute();
      for (const h of open) {
        const lead = await leadsRepo.findById(db, h.lead_id);
        if (lead) await db.updateTable('handoffs').set({ summary: JSON.stringify(await summaryOf(db, lead)) }).where('id', '=', h.id).execute();
      }
      return open.length;
    },

    /**
     * The worker's round, after the engine's batches have committed: live notices of new
     * assignments, SLA steps, assignment emails, due tasks, then the emails of committed steps.
     * Answers how many steps, assignment emails and task notices it did.
     */
    async tick(now = clock.now()) {
      flushAfterCommit();
      const done = (await runSlaSteps(now)) + (await mailNewAssignments(now)) + (await notifyDueTasks(now));
      await mailCommittedNotices(now);
      return done;
    },

    /** Live changes of one rep's inbox (`userId`) or of the manager board (`'board'`). */
    subscribe(key: string, listener: (n: HandoffNotice) => void) {
      return live.subscribe(topic(key), (n) => listener(n as HandoffNotice));
    },

    async inbox(user: HandoffUser) {
      const now = clock.now();
      const s = await loadSettings(db);
      const [rows, tasks] = await Promise.all([handoffsRepo.openWithLeads(db, user.id), handoffsRepo.openTasks(db, user.id)]);
      const handoffs = rows.map((r) => toView(r, now, s)).sort((a, b) => b.fit + b.engagement - (a.fit + a.engagement) || a.assignedAt - b.assignedAt);
      return {
        now,
        handoffs,
        tasks: tasks.map((t) => ({ id: t.id, leadId: t.lead_id, handoffId: t.handoff_id, kind: t.kind, dueAt: t.due_at, note: t.note, name: t.name, company: t.company, email: t.email, phone: t.phone, overdue: t.due_at <= now }))
      };
    },

    /** Managers and admins see everyone's open hand-offs; a rep's board holds only their own (role scope). */
    async board(user: HandoffUser) {
      const everyone = isManagerOrAdmin(user);
      const now = clock.now();
      const s = await loadSettings(db);
      const [rows, allReps] = await Promise.all([handoffsRepo.openWithLeads(db, everyone ? undefined : user.id), eligibleRepsAll()]);
      const reps = everyone ? allReps : allReps.filter((r) => r.id === user.id);
      const handoffs = rows.map((r) => toView(r, now, s)).sort((a, b) => a.dueAt - b.dueAt);
      const onShift = s.routing.onShift ? new Set(s.routing.onShift) : null;
      return {
        now,
        handoffs,
        unassigned: handoffs.filter((h) => !h.ownerId).length,
        breached: handoffs.filter((h) => h.breached).length,
        reps: reps.map((r) => ({ id: r.id, name: r.name, email: r.email, isManager: !!r.is_manager, territory: r.territory, specializations: r.specializations, open: r.open, capacity: s.routing.capacity, onShift: !onShift || onShift.has(r.id), atCapacity: s.routing.capacity !== null && r.open >= s.routing.capacity }))
      };
    },

    /** Reject and recycle reasons in a period, per reason × scoring rule × source: scoring's feedback. */
    async rejectReasons(user: HandoffUser, raw: unknown) {
      if (user.role === 'sales' && !user.isManager) throw new ForbiddenError('Only managers, marketers and admins see this report');
      const { from, to } = parseOrThrow(periodSchema, raw);
      if (to <= from) throw new InputError([{ field: 'to', message: 'must be after from' }]);
      const rows = await handoffsRepo.closedWithReasons(db, from, to);
      const count = <K extends string>(keyOf: (r: (typeof rows)[number]) => [K, Record<string, string>][]) => {
        const map = new Map<string, Record<string, string | number>>();
        for (const r of rows)
          for (const [k, fields] of keyOf(r)) {
            const cur = map.get(k) ?? { ...fields, count: 0 };
            cur.count = Number(cur.count) + 1;
            map.set(k, cur);
          }
        return [...map.values()].sort((a, b) => Number(b.count) - Number(a.count));
      };
      const reasonOf = (r: (typeof rows)[number]) => (r.status === 'recycled' ? 'recycled' : r.reason ?? 'other');
      const sourceOf = (r: (typeof rows)[number]) => r.channel_name ?? r.source;
      return {
        from,
        to,
        total: rows.length,
        byReason: count((r) => [[reasonOf(r), { reason: reasonOf(r) }]]),
        byRule: count((r) => {
          const why = parseJson<Partial<HandoffSummary>>(r.summary, {}).why ?? [];
          return why.map((w) => [`${reasonOf(r)}\u0000${w.rule}`, { reason: reasonOf(r), rule: w.rule, ruleId: w.ruleId ?? '' }] as [string, Record<string, string>]);
        }),
        bySource: count((r) => [[`${reasonOf(r)}\u0000${sourceOf(r)}`, { reason: reasonOf(r), source: sourceOf(r) }]])
      };
    },

    settings: () => loadSettings(db),

    async updateSettings(actor: Actor, raw: unknown) {
      const s = parseOrThrow(handoffSettingsSchema, raw);
      if (s.routing.onShift) {
        const reps = new Set((await handoffsRepo.repsWithLoad(db)).map((r) => r.id));
        const unknown = s.routing.onShift.findIndex((id) => !reps.has(id));
        if (unknown >= 0) throw new InputError([{ field: `routing.onShift.${unknown}`, message: 'is not an active sales rep' }]);
      }
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        await settingsRepo.set(trx, HANDOFF_SETTINGS_KEY, s, now);
        await auditRepo.record(trx, ids.newId(), now, { actorId: actor.id, actorLabel: actor.label, action: 'handoff.update_settings', entity: 'handoff', details: s });
      });
      emit([['board', { type: 'updated' }]]);
      return s;
    },

    async leadHandoffs(user: HandoffUser, leadId: string) {
      const lead = await requireLead(db, leadId);
      if (user.role === 'sales' && !user.isManager && lead.owner_id !== user.id) {
        const mine = (await handoffsRepo.previousOwners(db, leadId)).includes(user.id);
        if (!mine) throw new ForbiddenError('This lead belongs to another rep');
      }
      const rows = await handoffsRepo.forLead(db, leadId);
      return rows.map((r) => ({
        id: r.id,
        status: r.status,
        ownerId: r.owner_id,
        ownerName: r.owner_name,
        rule: r.rule,
        attempt: r.attempt,
        assignedAt: r.assigned_at,
        dueAt: r.due_at,
        firstActionAt: r.first_action_at,
        remindedAt: r.reminded_at,
        escalatedAt: r.escalated_at,
        breached: !!r.breached,
        reason: r.reason,
        note: r.note,
        followUpAt: r.follow_up_at,
        closedAt: r.closed_at,
        summary: parseJson<Partial<HandoffSummary>>(r.summary, {})
      }));
    },

    /** The owner accepts with BANT: the lead becomes SQL. A second accept gets CONFLICT. */
    async accept(user: HandoffUser, raw: unknown) {
      const input = parseOrThrow(acceptInputSchema, raw);
      const now = clock.now();
      const row = await db.transaction().execute(async (trx) => {
        const row = await requireOpenFor(trx, user, input.handoffId, true);
        const s = await loadSettings(trx);
        const lead = await requireLead(trx, row.lead_id);
        await closeHandoff(trx, row, { status: 'accepted' }, now);
        await moveStage(trx, lead, 'sql', input.bant, 'handoff', user.id, s, now, { owner_id: user.id });
        await appendEvent(trx, lead.id, 'handoff_accepted', { handoffId: row.id, ownerId: user.id, bant: input.bant, waitedMs: now - row.assigned_at }, user.id, now);
        return row;
      });
      emit(closedNotices(row));
      return { handoffId: row.id, leadId: row.lead_id, stage: 'sql' as const };
    },

    /** Rejects with a reason: the lead goes back to nurture (stage recycled) and the reason feeds the report. */
    async reject(user: HandoffUser, raw: unknown) {
      const input = parseOrThrow(rejectInputSchema, raw);
      const now = clock.now();
      const row = await db.transaction().execute(async (trx) => {
        const row = await requireOpenFor(trx, user, input.handoffId, false);
        const s = await loadSettings(trx);
        const lead = await requireLead(trx, row.lead_id);
        await closeHandoff(trx, row, { status: 'rejected', reason: input.reason, note: input.note ?? null }, now);
        await moveStage(trx, lead, 'recycled', { reason: `rejected: ${input.reason}` }, 'handoff', user.id, s, now, { owner_id: null });
        await appendEvent(trx, lead.id, 'handoff_rejected', { handoffId: row.id, ownerId: row.owner_id, reason: input.reason, note: input.note ?? null, rule: row.rule }, user.id, now);
        await resumeNurture(trx, lead.id, now);
        return row;
      });
      emit(closedNotices(row));
      return { handoffId: row.id, leadId: row.lead_id, stage: 'recycled' as const };
    },

    /** Back to nurture with a follow-up date: the rep keeps the lead and gets a follow-up task. */
    async recycle(user: HandoffUser, raw: unknown) {
      const input = parseOrThrow(recycleInputSchema, raw);
      const now = clock.now();
      if (input.followUpAt <= now) throw new InputError([{ field: 'followUpAt', message: 'must be in the future' }]);
      const taskId = ids.newId();
      const row = await db.transaction().execute(async (trx) => {
        const row = await requireOpenFor(trx, user, input.handoffId, false);
        const s = await loadSettings(trx);
        const lead = await requireLead(trx, row.lead_id);
        await closeHandoff(trx, row, { status: 'recycled', note: input.note ?? null, follow_up_at: input.followUpAt }, now);
        await moveStage(trx, lead, 'recycled', { reason: 'recycled by sales' }, 'handoff', user.id, s, now);
        await handoffsRepo.insertTask(trx, { id: taskId, owner_id: row.owner_id ?? user.id, lead_id: lead.id, handoff_id: row.id, kind: 'follow_up', due_at: input.followUpAt, note: input.note ?? null, done_at: null, notified_at: null, created_at: now });
        await appendEvent(trx, lead.id, 'handoff_recycled', { handoffId: row.id, ownerId: row.owner_id, followUpAt: input.followUpAt, note: input.note ?? null, rule: row.rule }, user.id, now);
        await resumeNurture(trx, lead.id, now);
        return row;
      });
      emit([...closedNotices(row), [row.owner_id ?? user.id, { type: 'task', taskId }]]);
      return { handoffId: row.id, leadId: row.lead_id, stage: 'recycled' as const, taskId };
    },

    async addTask(user: HandoffUser, raw: unknown) {
      const input = parseOrThrow(addTaskInputSchema, raw);
      const lead = await requireLead(db, input.leadId);
      await assertLeadInScope(db, user, lead);
      const now = clock.now();
      const id = ids.newId();
      const open = await handoffsRepo.openForLead(db, lead.id);
      await handoffsRepo.insertTask(db, { id, owner_id: user.id, lead_id: lead.id, handoff_id: open?.id ?? null, kind: input.kind, due_at: input.dueAt, note: input.note ?? null, done_at: null, notified_at: null, created_at: now });
      emit([[user.id, { type: 'task', taskId: id }]]);
      return { taskId: id };
    },

    async completeTask(user: HandoffUser, raw: unknown) {
      const { taskId } = parseOrThrow(completeTaskInputSchema, raw);
      const task = await handoffsRepo.findTask(db, taskId);
      if (!task) throw new NotFoundError('No such task');
      if (task.owner_id !== user.id && user.role !== 'admin') throw new ForbiddenError('This task belongs to another rep');
      if (!(await handoffsRepo.completeTask(db, taskId, clock.now()))) throw new ConflictError('This task is already done');
      emit([[task.owner_id, { type: 'task', taskId }]]);
      return { taskId };
    },

    /**
     * A stage change from the card, with the fields the stage requires (errors name each missing
     * field). Moving a lead with an open hand-off forward closes the hand-off as accepted.
     */
    async changeStage(user: HandoffUser, raw: unknown) {
      const input = parseOrThrow(changeStageInputSchema, raw);
      const now = clock.now();
      const result = await db.transaction().execute(async (trx) => {
        const lead = await requireLead(trx, input.leadId);
        await assertLeadInScope(trx, user, lead);
        if (lead.stage === input.to) throw new InputError([{ field: 'to', message: `the lead is already ${input.to}` }]);
        const s = await loadSettings(trx);
        const open = await handoffsRepo.openForLead(trx, lead.id);
        if (open && !ACCEPTING_STAGES.has(input.to)) throw new InputError([{ field: 'to', message: 'the lead has an open hand-off: reject or recycle it from the inbox' }]);
        if (open && open.owner_id !== user.id && !isManagerOrAdmin(user)) throw new ForbiddenError('This hand-off is assigned to another rep');
        await moveStage(trx, lead, input.to, input.fields, 'user', user.id, s, now);
        if (open) {
          await closeHandoff(trx, open, { status: 'accepted' }, now);
          await appendEvent(trx, lead.id, 'handoff_accepted', { handoffId: open.id, ownerId: open.owner_id, by: user.id, stage: input.to, waitedMs: now - open.assigned_at }, user.id, now);
        }
        return { open, from: lead.stage };
      });
      if (result.open) emit(closedNotices(result.open));
      return { leadId: input.leadId, from: result.from, to: input.to };
    }
  };

  async function eligibleRepsAll() {
    const rows = await handoffsRepo.repsWithLoad(db);
    return rows.map((r) => ({ ...r, open: Number(r.open ?? 0), specializations: parseJson<string[]>(r.specializations, []) }));
  }
}

export type HandoffService = ReturnType<typeof createHandoffService>;
