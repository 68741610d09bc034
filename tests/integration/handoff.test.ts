import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TRPCError } from '@trpc/server';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { eventsRepo } from '../../src/lib/server/repositories/events.repo';
import { toUser, usersRepo, type User } from '../../src/lib/server/repositories/users.repo';
import { appRouter } from '../../src/lib/server/trpc/router';
import { createCallerFactory } from '../../src/lib/server/trpc/init';
import { DEFAULT_HANDOFF_SETTINGS, type HandoffNotice, type HandoffSettings } from '../../src/lib/shared/handoff';
import { InputError } from '../../src/lib/server/services/deps';

const system = { id: null, label: 'test' };
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Moscow wall time as an instant (UTC+3 all year). */
const msk = (d: string, hm: string) => Date.parse(`${d}T${hm}:00+03:00`);
let app: TestApp;
let admin: User;

beforeEach(async () => {
  app = await createTestApp();
  await app.services.engine.loadWorkflowsDir('workflows', system);
  admin = await user('admin');
});
afterEach(() => app.close());

async function user(role: 'admin' | 'marketer' | 'sales', patch: { territory?: string; specializations?: string[]; is_manager?: number; email?: string } = {}) {
  const { id } = await app.makeUser(role, patch.email);
  const { specializations, email: _email, ...rest } = patch;
  const set = { ...rest, ...(specializations ? { specializations: JSON.stringify(specializations) } : {}) };
  if (Object.keys(set).length) await usersRepo.update(app.deps.db, id, set);
  return toUser((await usersRepo.findById(app.deps.db, id))!);
}

const caller = (u: User) => createCallerFactory(appRouter)({ app, user: u, ip: '127.0.0.1' }).handoff;
const hs = () => app.services.handoff;

async function settings(patch: (s: HandoffSettings) => void) {
  const s = structuredClone(await hs().settings());
  patch(s);
  await hs().updateSettings(system, s);
}

async function event(leadId: string, type: string, properties: Record<string, unknown> = {}) {
  const now = app.clock.now();
  await eventsRepo.append(app.deps.db, { id: app.deps.ids.newId(), lead_id: leadId, type, properties: JSON.stringify(properties), source: 'api', actor_id: null, occurred_at: now, received_at: now, dedupe_key: null });
}

let n = 0;
/** A good-fit lead (fit 50) whose demo request and form carry engagement (50) over the MQL line. */
async function mqlLead(fields: Record<string, unknown> = {}) {
  const r = await app.services.capture.capture({
    input: parseLeadInput({ email: `lead${++n}@acme${n}.ru`, name: `Лид ${n}`, company: `Acme ${n}`, job_title: 'Director', company_size: '200', ...fields }),
    source: 'api',
    actor: system
  });
  await app.services.engine.runUntilIdle();
  await event(r.leadId, 'form_submitted', { formSlug: 'demo' });
  await event(r.leadId, 'demo_requested');
  await app.services.engine.runUntilIdle();
  return r.leadId;
}

async function openOf(leadId: string) {
  const rows = await hs().leadHandoffs(admin, leadId);
  return rows.find((r) => r.status === 'open');
}

async function eventTypes(leadId: string) {
  return (await app.services.leads.timeline(leadId)).map((e) => e.type);
}

async function code(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    return (e as TRPCError).code ?? (e as Error).constructor.name;
  }
  return 'OK';
}

describe('assignment on MQL', () => {
  it('routes the new MQL to a rep at once, live, with why it qualified, and emails the rep', async () => {
    const rep = await user('sales', { email: 'rep@team.local' });
    const seen: HandoffNotice[] = [];
    const off = hs().subscribe(rep.id, (x) => seen.push(x));
    const leadId = await mqlLead();
    expect(seen).toEqual([]); // not while the engine's transaction may still be open
    expect(await hs().tick()).toBe(1); // the worker's round after the batch: notice, then the email
    off();

    expect(seen).toEqual([{ type: 'assigned', handoffId: expect.any(String) }]);
    const inbox = await caller(rep).inbox();
    expect(inbox.handoffs).toHaveLength(1);
    const h = inbox.handoffs[0];
    expect(h).toMatchObject({ leadId, fit: 50, engagement: 50, grade: 'B', attempt: 1, rule: 'round_robin (fallback)', breached: false, escalated: false });
    expect(h.why.map((w) => w.rule)).toEqual(expect.arrayContaining(['Requested a demo (API)', 'Form submitted', 'Executive title']));
    expect(h.dueAt).toBe(app.clock.now() + HOUR); // Monday 12:00 Moscow: an hour of business time
    const lead = await app.services.leads.get(leadId);
    expect(lead).toMatchObject({ lead: { stage: 'mql', ownerId: rep.id } });
    expect(await eventTypes(leadId)).toEqual(expect.arrayContaining(['stage_changed', 'handoff_assigned', 'owner_changed']));

    const mail = (await app.services.engine.mailboxMessages()).filter((x) => x.to_address === 'rep@team.local');
    expect(mail).toHaveLength(1);
    expect(mail[0].subject).toContain('Лид');
    expect(mail[0].body_text).toContain('• Запросил демо (API): +30'); // a shipped rule, in the rep's language
    expect(await hs().tick()).toBe(0); // once only

    // A second MQL of the same lead (the step running again) does not open another hand-off.
    const again = await app.services.handoff.leadHandoffs(admin, leadId);
    expect(again).toHaveLength(1);
  });

  it('round-robin alternates between the reps on shift, and the shift list limits it', async () => {
    const a = await user('sales');
    const b = await user('sales');
    const c = await user('sales');
    await settings((s) => {
      s.routing.chain = ['round_robin'];
      s.routing.onShift = [a.id, b.id];
    });
    const owners = [];
    for (let i = 0; i < 4; i++) {
      owners.push((await openOf(await mqlLead()))!.ownerId);
      app.clock.advance(MIN);
    }
    expect(new Set(owners)).toEqual(new Set([a.id, b.id]));
    expect(owners[0]).not.toBe(owners[1]);
    expect(owners[2]).toBe(owners[0]);
    expect(owners).not.toContain(c.id);
  });

  it('territory and specialization, falling back down the chain', async () => {
    const moscow = await user('sales', { territory: 'Москва' });
    const crm = await user('sales', { specializations: ['crm'] });
    await settings((s) => (s.routing.chain = ['territory', 'specialization', 'round_robin']));
    expect(await openOf(await mqlLead({ region: 'Москва' }))).toMatchObject({ ownerId: moscow.id, rule: 'territory' });
    expect(await openOf(await mqlLead({ region: 'Казань', attributes: { product_interest: 'CRM' } }))).toMatchObject({ ownerId: crm.id, rule: 'specialization (fallback)' });
    const other = await openOf(await mqlLead({ region: 'Казань' }));
    expect(other!.rule).toBe('round_robin (fallback)');
  });

  it('capacity: a full rep gets no more; with everyone full the lead waits unassigned on the board', async () => {
    const a = await user('sales');
    const b = await user('sales');
    const manager = await user('sales', { is_manager: 1 });
    await settings((s) => {
      s.routing.chain = ['capacity'];
      s.routing.capacity = 1;
      s.routing.onShift = [a.id, b.id];
    });
    const first = await openOf(await mqlLead());
    const second = await openOf(await mqlLead());
    expect(new Set([first!.ownerId, second!.ownerId])).toEqual(new Set([a.id, b.id]));
    const third = await openOf(await mqlLead());
    expect(third).toMatchObject({ ownerId: null, rule: 'all reps at capacity' });
    const board = await caller(manager).board();
    expect(board.unassigned).toBe(1);
    expect(board.reps.filter((r) => r.onShift).every((r) => r.atCapacity)).toBe(true);
  });
});

describe('SLA in business hours', () => {
  it('emails a reminder and an escalation whose steps committed without their emails (a crash in between) on the next round, once', async () => {
    const rep = await user('sales', { email: 'late@team.local' });
    await user('sales', { is_manager: 1, email: 'chief@team.local' });
    await settings((s) => {
      s.routing.chain = ['round_robin'];
      s.routing.onShift = [rep.id];
    });
    app.clock.set(msk('2026-01-20', '10:00')); // Tuesday
    const leadId = await mqlLead();
    await hs().tick(); // the assignment email
    const h = (await openOf(leadId))!;
    // What the SLA steps commit, with the process gone before it sent a thing; the escalation's
    // email even got queued, but never attempted.
    const now = app.clock.now();
    await app.deps.db.updateTable('handoffs').set({ breached: 1, reminded_at: now, escalated_at: now }).where('id', '=', h.id).execute();
    const chief = (await app.deps.db.selectFrom('users').select('id').where('email', '=', 'chief@team.local').executeTakeFirstOrThrow()).id;
    await app.deps.db.transaction().execute((trx) =>
      app.services.email.delivery.queue(trx, { messageKey: `handoff:${h.id}:escalated:${chief}`, leadId: null, to: 'chief@team.local', toName: null, template: 'handoff', kind: 'transactional', workflowId: null, nodeId: null, subject: 'escalated' })
    );
    const to = async (address: string) => (await app.services.engine.mailboxMessages()).filter((x) => x.to_address === address).length;
    expect([await to('late@team.local'), await to('chief@team.local')]).toEqual([1, 0]);

    app.clock.advance(60_000);
    await hs().tick();
    expect([await to('late@team.local'), await to('chief@team.local')]).toEqual([2, 1]);
    await hs().tick();
    app.clock.advance(3_600_000);
    await hs().tick();
    expect([await to('late@team.local'), await to('chief@team.local')]).toEqual([2, 1]);
  });

  it('a lead handed over on Friday evening is not breached over the weekend, then remind → escalate → reassign', async () => {
    const a = await user('sales', { email: 'a@team.local' });
    const b = await user('sales', { email: 'b@team.local' });
    const manager = await user('sales', { is_manager: 1, email: 'boss@team.local' });
    await settings((s) => {
      s.routing.chain = ['round_robin'];
      s.routing.onShift = [a.id, b.id];
    });
    app.clock.set(msk('2026-01-16', '17:30')); // Friday
    const leadId = await mqlLead();
    const first = (await openOf(leadId))!;
    expect(first.dueAt).toBe(msk('2026-01-19', '09:30')); // Monday
    await hs().tick(); // assignment email

    app.clock.set(msk('2026-01-18', '15:00')); // Sunday: nothing happens
    expect(await hs().tick()).toBe(0);

    const live: HandoffNotice[] = [];
    hs().subscribe(first.ownerId!, (x) => live.push(x));
    app.clock.set(msk('2026-01-19', '09:31'));
    expect(await hs().tick()).toBe(1);
    expect(await openOf(leadId)).toMatchObject({ breached: true, remindedAt: app.clock.now(), escalatedAt: null });
    expect(live).toContainEqual({ type: 'updated', handoffId: first.id });

    app.clock.set(msk('2026-01-19', '10:00')); // 30 business minutes after the breach
    expect(await hs().tick()).toBe(1);
    expect((await openOf(leadId))!.escalatedAt).toBe(app.clock.now());
    const boss = (await app.services.engine.mailboxMessages()).filter((x) => x.to_address === 'boss@team.local');
    expect(boss).toHaveLength(1);
    expect((await caller(manager).board()).handoffs[0]).toMatchObject({ leadId, escalated: true, breached: true });

    app.clock.set(msk('2026-01-19', '10:30'));
    expect(await hs().tick()).toBeGreaterThanOrEqual(1);
    const rows = await hs().leadHandoffs(admin, leadId);
    expect(rows.map((r) => [r.status, r.attempt])).toEqual([['open', 2], ['reassigned', 1]]);
    const second = rows[0];
    expect(second.ownerId).not.toBe(first.ownerId);
    expect(second.dueAt).toBe(msk('2026-01-19', '11:30'));
    const types = await eventTypes(leadId);
    for (const t of ['handoff_assigned', 'handoff_reminded', 'handoff_escalated', 'handoff_reassigned']) expect(types).toContain(t);
    // The first rep can no longer act on it; the new owner sees it.
    expect(await code(caller(first.ownerId === a.id ? a : b).accept({ handoffId: first.id, bant: { budget: '1', authority: 'x', need: 'y', timing: 'z' } }))).toBe('CONFLICT');
    expect((await caller(first.ownerId === a.id ? b : a).inbox()).handoffs.map((h) => h.id)).toEqual([second.id]);
  });
});

describe('decisions', () => {
  const bant = { budget: '2 млн ₽', authority: 'CEO decides', need: 'CRM migration', timing: 'Q2' };

  it('accept with BANT makes the lead SQL; two accepts at once: one wins, the other is told', async () => {
    const rep = await user('sales');
    const leadId = await mqlLead();
    const h = (await openOf(leadId))!;
    const results = await Promise.allSettled([caller(rep).accept({ handoffId: h.id, bant }), caller(rep).accept({ handoffId: h.id, bant })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as TRPCError).code).toBe('CONFLICT');
    expect((lost.reason as TRPCError).message).toMatch(/already accepted/);
    const lead = await app.services.leads.get(leadId);
    expect(lead).toMatchObject({ lead: { stage: 'sql', ownerId: rep.id } });
    const stage = (await app.services.leads.timeline(leadId)).find((e) => e.type === 'stage_changed' && e.properties.to === 'sql');
    expect(stage!.properties).toMatchObject({ from: 'mql', to: 'sql', by: 'handoff', bant });
    expect((await caller(rep).inbox()).handoffs).toHaveLength(0);
  });

  it('accept without full BANT is refused with the field named', async () => {
    const rep = await user('sales');
    const h = (await openOf(await mqlLead()))!;
    const err = await caller(rep)
      .accept({ handoffId: h.id, bant: { ...bant, authority: '' } })
      .catch((e: TRPCError) => e);
    expect((err as TRPCError).code).toBe('BAD_REQUEST');
    expect((err as TRPCError).message).toContain('authority');
  });

  it('reject sends the lead back to nurture with the reason; the nurture email follows, and the reason is reported', async () => {
    const rep = await user('sales');
    const marketer = await user('marketer');
    const leadId = await mqlLead();
    const h = (await openOf(leadId))!;
    await caller(rep).reject({ handoffId: h.id, reason: 'no_budget', note: 'next year' });
    await app.services.engine.runUntilIdle();
    expect(await app.services.leads.get(leadId)).toMatchObject({ lead: { stage: 'recycled', ownerId: null } });
    const ev = (await app.services.leads.timeline(leadId)).find((e) => e.type === 'handoff_rejected');
    expect(ev!.properties).toMatchObject({ reason: 'no_budget', note: 'next year' });

    // The hand-off flow waits a week, then the lead gets the nurture email.
    app.clock.advance(7 * DAY + HOUR);
    await app.services.engine.runUntilIdle();
    const sent = (await app.services.engine.mailboxMessages({ leadId })).map((x) => x.template);
    expect(sent).toContain('handoff-recycled-ru');

    const report = await caller(marketer).rejectReasons({ from: 0, to: app.clock.now() + 1 });
    expect(report.total).toBe(1);
    expect(report.byReason).toEqual([{ reason: 'no_budget', count: 1 }]);
    expect(report.byRule).toContainEqual({ reason: 'no_budget', rule: 'Requested a demo (API)', ruleId: 'eng-demo', count: 1 });
    expect(report.bySource).toEqual([{ reason: 'no_budget', source: 'API', count: 1 }]); // the lead's channel
  });

  it('recycle keeps the rep, creates a follow-up task that comes due in the inbox and by email', async () => {
    const rep = await user('sales', { email: 'rep2@team.local' });
    const leadId = await mqlLead();
    const h = (await openOf(leadId))!;
    const { taskId } = await caller(rep).recycle({ handoffId: h.id, followUpAt: app.clock.now() + 3 * DAY, note: 'call after the budget meeting' });
    expect(await app.services.leads.get(leadId)).toMatchObject({ lead: { stage: 'recycled', ownerId: rep.id } });
    expect(await eventTypes(leadId)).toContain('handoff_recycled');
    const inbox = await caller(rep).inbox();
    expect(inbox.tasks).toMatchObject([{ id: taskId, kind: 'follow_up', overdue: false }]);
    await hs().tick();
    const before = (await app.services.engine.mailboxMessages()).filter((x) => x.to_address === 'rep2@team.local').length;
    app.clock.advance(3 * DAY);
    expect(await hs().tick()).toBe(1);
    const after = (await app.services.engine.mailboxMessages()).filter((x) => x.to_address === 'rep2@team.local');
    expect(after.length).toBe(before + 1);
    expect(after[0].body_text).toContain('call after the budget meeting');
    await caller(rep).completeTask({ taskId });
    expect((await caller(rep).inbox()).tasks).toHaveLength(0);
    expect(await code(caller(rep).completeTask({ taskId }))).toBe('CONFLICT');
  });
});

describe('stage gates', () => {
  it('require the admin-configured fields, each named', async () => {
    const rep = await user('sales');
    const leadId = await mqlLead();
    const h = (await openOf(leadId))!;
    await caller(rep).accept({ handoffId: h.id, bant: { budget: 'b', authority: 'a', need: 'n', timing: 't' } });
    const c = caller(rep);
    const err = await c.changeStage({ leadId, to: 'opportunity', fields: {} }).catch((e: TRPCError) => e);
    expect((err as TRPCError).code).toBe('BAD_REQUEST');
    expect(((err as TRPCError).cause as InputError).issues).toEqual([{ field: 'fields.amount', message: expect.any(String) }]);
    await c.changeStage({ leadId, to: 'opportunity', fields: { amount: 500_000 } });
    const lost = await hs().changeStage(rep, { leadId, to: 'customer', fields: { amount: 450_000 } }).catch((e: InputError) => e);
    expect((lost as InputError).issues.map((i) => i.field)).toEqual(['fields.date', 'fields.reason']);
    await c.changeStage({ leadId, to: 'customer', fields: { amount: 450_000, date: '2026-02-01', reason: 'won on price' } });
    const won = (await app.services.leads.timeline(leadId)).find((e) => e.type === 'stage_changed' && e.properties.to === 'customer');
    expect(won!.properties).toMatchObject({ from: 'opportunity', to: 'customer', by: 'user', amount: 450_000, reason: 'won on price', date: '2026-02-01' });

    // The admin drops the amount requirement for opportunity.
    await caller(admin).updateSettings({ ...DEFAULT_HANDOFF_SETTINGS, stageRequirements: { ...DEFAULT_HANDOFF_SETTINGS.stageRequirements, opportunity: [] } });
    const other = await mqlLead();
    await caller(rep).accept({ handoffId: (await openOf(other))!.id, bant: { budget: 'b', authority: 'a', need: 'n', timing: 't' } });
    await c.changeStage({ leadId: other, to: 'opportunity', fields: {} });
  });

  it('settings refuse bad input with the field named', async () => {
    const bad = structuredClone(DEFAULT_HANDOFF_SETTINGS) as HandoffSettings;
    bad.sla.calendar.timeZone = 'Mars/Olympus';
    const err = await hs().updateSettings(system, bad).catch((e: InputError) => e);
    expect((err as InputError).issues[0].field).toBe('sla.calendar.timeZone');
    expect(await code(caller(await user('sales')).updateSettings(DEFAULT_HANDOFF_SETTINGS))).toBe('FORBIDDEN');
  });
});

describe('nurture pause', () => {
  it('marketing email waits while a rep works the lead and goes out when it is recycled', async () => {
    const rep = await user('sales');
    await app.services.engine.publish(system, {
      slug: 'ping-nurture',
      name: 'Ping nurture',
      trigger: { type: 'event', eventType: 'ping' },
      reentry: { mode: 'after_exit' },
      start: 'mail',
      nodes: { mail: { kind: 'send_email', template: 'win-back-ru', next: 'out' }, out: { kind: 'exit' } }
    });
    const leadId = await mqlLead();
    await event(leadId, 'ping');
    await app.services.engine.runUntilIdle();
    const held = await app.deps.db.selectFrom('workflow_outbox').selectAll().where('lead_id', '=', leadId).where('kind', '=', 'send_email').where('status', '=', 'pending').execute();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ status: 'pending', last_error: 'a sales rep is working this lead' });
    expect((await app.services.engine.mailboxMessages({ leadId })).map((x) => x.template)).not.toContain('win-back-ru');

    await caller(rep).recycle({ handoffId: (await openOf(leadId))!.id, followUpAt: app.clock.now() + DAY });
    await app.services.engine.runUntilIdle();
    expect((await app.services.engine.mailboxMessages({ leadId })).map((x) => x.template)).toContain('win-back-ru');
  });
});

describe('role scope', () => {
  it('a rep sees and decides only their own hand-offs', async () => {
    const a = await user('sales');
    const b = await user('sales');
    await settings((s) => {
      s.routing.chain = ['round_robin'];
      s.routing.onShift = [a.id];
    });
    const leadId = await mqlLead();
    const h = (await openOf(leadId))!;
    expect(h.ownerId).toBe(a.id);
    expect((await caller(b).inbox()).handoffs).toHaveLength(0);
    const bant = { budget: 'b', authority: 'a', need: 'n', timing: 't' };
    expect(await code(caller(b).accept({ handoffId: h.id, bant }))).toBe('FORBIDDEN');
    expect(await code(caller(b).reject({ handoffId: h.id, reason: 'bad_fit' }))).toBe('FORBIDDEN');
    expect(await code(caller(b).leadHandoffs({ leadId }))).toBe('FORBIDDEN');
    expect(await code(caller(b).changeStage({ leadId, to: 'sql', fields: bant }))).toBe('FORBIDDEN');
    expect(await code(caller(b).addTask({ leadId, kind: 'call_back', dueAt: app.clock.now() + DAY }))).toBe('FORBIDDEN');
    // A rep's board is their own: nothing of a's shows to b.
    expect(await caller(b).board()).toMatchObject({ handoffs: [], reps: [{ id: b.id }] });
    expect((await caller(a).board()).handoffs.map((x) => x.id)).toEqual([h.id]);
    expect(await code(caller(b).rejectReasons({ from: 0, to: 1 }))).toBe('FORBIDDEN');
    expect(await code(caller(await user('marketer')).accept({ handoffId: h.id, bant }))).toBe('FORBIDDEN');
    expect(await code(caller(a).leadHandoffs({ leadId }))).toBe('OK');
    expect(await code(caller(a).accept({ handoffId: h.id, bant }))).toBe('OK');
  });
});
