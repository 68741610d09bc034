import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { TRPCError } from '@trpc/server';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { systemActor } from '../../src/lib/server/services/deps';
import { eventsRepo } from '../../src/lib/server/repositories/events.repo';
import { appRouter } from '../../src/lib/server/trpc/router';
import { createCallerFactory } from '../../src/lib/server/trpc/init';
import { toUser, usersRepo } from '../../src/lib/server/repositories/users.repo';
import { median, percentile } from '../../src/lib/server/analytics/stats';
import { bucketKeys } from '../../src/lib/server/analytics/buckets';
import type { AnalyticsInput } from '../../src/lib/components/analytics/filters';

/**
 * A small hand-made base (Moscow time; every event at 12:00 MSK = 09:00 UTC) and the figures
 * worked out by hand from it:
 *   channel A "Директ": a1 (2 Jan, spring), a2 (3 Jan, spring), a3 (5 Jan, winter), a4 (20 Jan, winter); spend 31,000 ₽ for January
 *   channel B "Конференции": b1 (4 Jan), b2 (6 Jan); spend 62,000 ₽ for January
 *   no channel: n1 (7 Jan)
 *   a1: mql 3 Jan, sql 5 Jan, customer 10 Jan (100,000 ₽) — 1 d as lead, 2 d as MQL, 5 d as SQL, cycle 8 d
 *   a2: mql 4 Jan (1 d)        b1: mql 5 Jan, sql 6 Jan, customer 8 Jan (300,000 ₽) — 1 d, 1 d, 2 d, cycle 4 d
 *   b2: mql 8 Jan (2 d)
 */
const DAY = 86_400_000;
const HOUR = 3_600_000;
const jan = (d: number, h = 9) => Date.UTC(2026, 0, d, h);
const JANUARY: AnalyticsInput = { from: '2026-01-01', to: '2026-01-31' };

let app: TestApp;
const lead: Record<string, string> = {};
const ch: Record<string, string> = {};
const rep: Record<string, string> = {};

async function capture(key: string, day: number, channelId: string | undefined, campaign?: string) {
  app.clock.set(jan(day));
  const r = await app.services.capture.capture({
    input: parseLeadInput({ email: `${key}@analytics.test`, name: key }),
    source: 'api',
    channelId,
    touch: campaign ? { utm_source: 'x', utm_campaign: campaign } : undefined,
    actor: systemActor
  });
  lead[key] = r.leadId;
}

async function stage(key: string, from: string, to: string, at: number, amount?: number) {
  await eventsRepo.append(app.deps.db, {
    id: app.deps.ids.newId(),
    lead_id: lead[key],
    type: 'stage_changed',
    properties: JSON.stringify({ field: 'stage', from, to, by: 'user', ...(amount ? { amount } : {}) }),
    source: 'manual',
    actor_id: null,
    occurred_at: at,
    received_at: at,
    dedupe_key: null
  });
  await app.deps.db.updateTable('leads').set({ stage: to }).where('id', '=', lead[key]).execute();
}

let handoffN = 0;
async function handoff(owner: string, key: string, status: string, waitMs: number | null, opts: { breached?: boolean; reason?: string } = {}) {
  const assigned = jan(10) + handoffN++ * HOUR;
  await app.deps.db
    .insertInto('handoffs')
    .values({
      id: app.deps.ids.newId(),
      lead_id: lead[key],
      owner_id: rep[owner],
      status: status as 'open',
      rule: 'round_robin',
      attempt: 1,
      assigned_at: assigned,
      due_at: assigned + 4 * HOUR,
      first_action_at: waitMs === null ? null : assigned + waitMs,
      reminded_at: null,
      escalated_at: null,
      breached: opts.breached ? 1 : 0,
      reason: opts.reason ?? null,
      note: null,
      follow_up_at: null,
      closed_at: status === 'open' ? null : assigned + (waitMs ?? 0),
      summary: '{}',
      created_at: assigned,
      updated_at: assigned
    })
    .execute();
}

let messageN = 0;
async function message(key: string, patch: Record<string, unknown>) {
  const id = `msg-${++messageN}`;
  await app.deps.db
    .insertInto('messages')
    .values({
      id,
      message_key: id,
      lead_id: lead[key],
      template: 'welcome-tpl',
      workflow_id: 'flow-1',
      node_id: 'welcome',
      to_address: `${key}@analytics.test`,
      subject: 'Hi',
      kind: 'marketing',
      status: 'sent',
      status_reason: null,
      smtp_message_id: null,
      smtp_response: null,
      attempts: 1,
      created_at: jan(9),
      sent_at: jan(9),
      first_open_at: null,
      first_click_at: null,
      opens: 0,
      machine_opens: 0,
      clicks: 0,
      machine_clicks: 0,
      attempt_started_at: null,
      ...patch
    })
    .execute();
  return id;
}

beforeAll(async () => {
  app = await createTestApp();
  const admin = await app.makeUser('admin');
  ch.A = await app.services.channels.create(admin.actor, { name: 'Директ', kind: 'paid' });
  ch.B = await app.services.channels.create(admin.actor, { name: 'Конференции', kind: 'offline' });
  // January in Moscow: 1 Jan 00:00 MSK to 1 Feb 00:00 MSK.
  const janStart = Date.UTC(2025, 11, 31, 21);
  const febStart = Date.UTC(2026, 0, 31, 21);
  await app.services.channels.addSpend(admin.actor, { channelId: ch.A, periodStart: janStart, periodEnd: febStart, amount: 31000 });
  await app.services.channels.addSpend(admin.actor, { channelId: ch.B, periodStart: janStart, periodEnd: febStart, amount: 62000 });
  await capture('a1', 2, ch.A, 'spring');
  await capture('a2', 3, ch.A, 'spring');
  await capture('b1', 4, ch.B);
  await capture('a3', 5, ch.A, 'winter');
  await capture('b2', 6, ch.B);
  await capture('n1', 7, undefined);
  // The resolver files channel-less API leads under "API"; this one stands for a lead of no channel at all.
  await app.deps.db.updateTable('leads').set({ channel_id: null }).where('id', '=', lead.n1).execute();
  await capture('a4', 20, ch.A, 'winter');
  await stage('a1', 'subscriber', 'mql', jan(3));
  await stage('a1', 'mql', 'sql', jan(5));
  await stage('a1', 'sql', 'customer', jan(10), 100000);
  await stage('a2', 'subscriber', 'mql', jan(4));
  await stage('b1', 'subscriber', 'mql', jan(5));
  await stage('b1', 'mql', 'sql', jan(6));
  await stage('b1', 'sql', 'customer', jan(8), 300000);
  await stage('b2', 'subscriber', 'mql', jan(8));

  rep.slow = (await app.makeUser('sales', 'slow@test.local')).id;
  rep.fast = (await app.makeUser('sales', 'fast@test.local')).id;
  await handoff('slow', 'a1', 'accepted', 2 * HOUR);
  await handoff('slow', 'a2', 'rejected', 4 * HOUR, { reason: 'no_budget' });
  await handoff('slow', 'a3', 'accepted', 10 * HOUR, { breached: true });
  await handoff('fast', 'b1', 'accepted', 10 * 60_000);
  await handoff('fast', 'b2', 'recycled', 30 * 60_000, { reason: 'bad_fit' });
  await app.deps.db.updateTable('leads').set({ owner_id: rep.fast }).where('id', 'in', [lead.b1, lead.b2]).execute();

  const now = jan(9);
  await app.deps.db.insertInto('workflows').values({ id: 'flow-1', slug: 'welcome', name: 'Welcome flow', status: 'active', current_version_id: 'flow-1-v1', trigger_type: 'manual', trigger_key: null, created_at: now, updated_at: now }).execute();
  await app.deps.db
    .insertInto('workflow_versions')
    .values({ id: 'flow-1-v1', workflow_id: 'flow-1', version: 1, definition: JSON.stringify({ nodes: { welcome: { kind: 'send_email', label: 'Welcome email' }, wait1: { kind: 'wait' }, won: { kind: 'goal' }, out: { kind: 'exit' } } }), published_by: null, published_at: now })
    .execute();
  const instance = (key: string, status: string, node: string) =>
    app.deps.db
      .insertInto('workflow_instances')
      .values({ id: `inst-${key}`, workflow_id: 'flow-1', version_id: 'flow-1-v1', lead_id: lead[key], status: status as 'active', current_node: node, snapshot: '{}', version: 0, awaiting: null, error: null, enrolled_at: now, updated_at: now, finished_at: null })
      .execute();
  await instance('a1', 'goal', 'won');
  await instance('a2', 'active', 'wait1');
  await instance('b2', 'exited', 'out');
  await instance('b1', 'goal', 'won');

  await message('a1', { opens: 2, first_open_at: jan(9, 10), clicks: 1, first_click_at: jan(9, 10) });
  await message('a2', { machine_opens: 1 });
  const unsubscribed = await message('b1', { opens: 1, first_open_at: jan(9, 11) });
  await message('b2', { status: 'failed', status_reason: 'hard bounce', sent_at: null });
  await message('a3', { kind: 'test', opens: 5 });
  await eventsRepo.append(app.deps.db, {
    id: app.deps.ids.newId(),
    lead_id: lead.b1,
    type: 'unsubscribed',
    properties: JSON.stringify({ messageId: unsubscribed, via: 'link' }),
    source: 'email',
    actor_id: null,
    occurred_at: jan(9, 12),
    received_at: jan(9, 12),
    dedupe_key: null
  });
});
afterAll(() => app.close());

describe('pure helpers', () => {
  it('median and nearest-rank p90', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([7], 0.9)).toBe(7);
    expect(median([])).toBeNull();
  });

  it('weeks start on Monday in Moscow', () => {
    expect(bucketKeys(jan(1, -3), jan(12, -3), 'week')).toEqual(['2025-12-29', '2026-01-05']);
    expect(bucketKeys(jan(1, -3), Date.UTC(2026, 2, 1, -3), 'month')).toEqual(['2026-01-01', '2026-02-01']);
  });
});

describe('analytics figures on a hand-counted base', () => {
  it('overview: new leads per week by channel, MQLs, SQLs, customers and revenue', async () => {
    const o = await app.services.analytics.overview({ ...JANUARY, grain: 'week' });
    expect(o.series.map((s) => [s.bucket, s.leads])).toEqual([
      ['2025-12-29', 3],
      ['2026-01-05', 3],
      ['2026-01-12', 0],
      ['2026-01-19', 1],
      ['2026-01-26', 0]
    ]);
    expect(o.series[0].byChannel).toEqual({ [ch.A]: 2, [ch.B]: 1 });
    expect(o.totals).toEqual({ leads: 7, mql: 4, sql: 2, customers: 2, revenue: 400000 });
    expect(o.channels.map((c) => [c.name, c.leads])).toEqual([
      ['Директ', 4],
      ['Конференции', 2],
      [null, 1]
    ]);
  });

  it('funnel: reached counts, conversion, drop-off, time in stage and the whole cycle', async () => {
    const f = await app.services.analytics.funnel(JANUARY);
    expect(f.steps.map((s) => s.count)).toEqual([7, 4, 2, 2, 2]);
    expect(f.steps[1].conversion).toBeCloseTo(4 / 7);
    expect(f.steps[2].conversion).toBe(0.5);
    expect(f.steps[2].dropOff).toBe(0.5);
    expect(f.timeInStage).toEqual([
      { stage: 'lead', leads: 4, avgMs: 1.25 * DAY },
      { stage: 'mql', leads: 2, avgMs: 1.5 * DAY },
      { stage: 'sql', leads: 2, avgMs: 3.5 * DAY },
      { stage: 'opportunity', leads: 0, avgMs: null }
    ]);
    expect(f.cycle).toEqual({ customers: 2, avgMs: 6 * DAY });
    expect(f.cohorts).toEqual([{ month: '2026-01-01', leads: 7, mql: 4, sql: 2, opportunity: 2, customers: 2, revenue: 400000, conversion: 2 / 7 }]);
  });

  it('channels: spend, cost per lead / MQL / SQL / customer, conversion, revenue, return on spend, campaigns', async () => {
    const c = await app.services.analytics.channels(JANUARY);
    const a = c.channels.find((x) => x.id === ch.A)!;
    const b = c.channels.find((x) => x.id === ch.B)!;
    expect(a).toMatchObject({ leads: 4, mql: 2, sql: 1, customers: 1, revenue: 100000, spend: 31000, costPerLead: 7750, costPerMql: 15500, costPerSql: 31000, costPerCustomer: 31000, conversion: 0.25 });
    expect(a.returnOnSpend).toBeCloseTo(100000 / 31000);
    expect(b).toMatchObject({ leads: 2, customers: 1, spend: 62000, costPerLead: 31000, costPerCustomer: 62000, conversion: 0.5 });
    expect(a.campaigns.map((x) => [x.campaign, x.leads, x.customers])).toEqual([
      ['spring', 2, 1],
      ['winter', 2, 0]
    ]);
    expect(c.highlights).toEqual({ cheapestCustomer: ch.A, mostLeads: ch.A, bestConversion: ch.B });
    expect(c.totals).toMatchObject({ leads: 7, spend: 93000, customers: 2 });
  });

  it('channels: a monthly budget viewed for ten days counts ten thirty-firsts of it', async () => {
    const c = await app.services.analytics.channels({ from: '2026-01-01', to: '2026-01-10' });
    const a = c.channels.find((x) => x.id === ch.A)!;
    expect(a.spend).toBe(10000);
    expect(a.leads).toBe(3);
    expect(a.costPerLead).toBeCloseTo(10000 / 3);
  });

  it('sales: median and p90 time to first action, breaches, outcomes with reasons, customers and revenue; slowest rep named', async () => {
    const s = await app.services.analytics.sales(JANUARY);
    const slow = s.reps.find((r) => r.ownerId === rep.slow)!;
    const fast = s.reps.find((r) => r.ownerId === rep.fast)!;
    expect(slow).toMatchObject({ received: 3, medianFirstActionMs: 4 * HOUR, p90FirstActionMs: 10 * HOUR, breaches: 1, accepted: 2, rejected: 1, customers: 1, revenue: 100000 });
    expect(slow.rejectRate).toBeCloseTo(1 / 3);
    expect(slow.reasons.no_budget).toBe(1);
    expect(fast).toMatchObject({ received: 2, medianFirstActionMs: 20 * 60_000, p90FirstActionMs: 30 * 60_000, breaches: 0, recycled: 1, recycleRate: 0.5, customers: 1, conversion: 0.5, revenue: 300000 });
    expect(fast.reasons.bad_fit).toBe(1);
    expect(s.slowest).toBe(rep.slow);
    const week = s.speed.find((w) => w.handoffs > 0)!;
    // 10 min, 30 min, 2 h, 4 h, 10 h
    expect(week).toMatchObject({ bucket: '2026-01-05', handoffs: 5, medianMs: 2 * HOUR, p90Ms: 10 * HOUR });
  });

  it('email: sent, delivered, bounces, human opens, click-to-open, unsubscribes; machine opens apart; tests left out', async () => {
    const e = await app.services.analytics.email(JANUARY);
    expect(e.steps).toHaveLength(1);
    expect(e.steps[0]).toMatchObject({ flow: 'Welcome flow', step: 'Welcome email', sent: 4, delivered: 3, bounces: 1, opened: 2, opens: 3, clicked: 1, clickToOpen: 0.5, unsubscribes: 1, machineOpened: 1, machineOpens: 1 });
  });

  it('flows: enrolled, active, goal, exited and the share of each end node', async () => {
    const [flow] = await app.services.analytics.flows(JANUARY);
    expect(flow).toMatchObject({ name: 'Welcome flow', enrolled: 4, active: 1, goal: 2, exited: 1, finished: 0 });
    expect(flow.paths[0]).toMatchObject({ node: 'won', label: 'won (goal)', leads: 2, share: 0.5 });
  });

  it('filters: channel, owner and segment narrow every view', async () => {
    const byChannel = await app.services.analytics.funnel({ ...JANUARY, channelId: ch.B });
    expect(byChannel.steps.map((s) => s.count)).toEqual([2, 2, 1, 1, 1]);
    const byOwner = await app.services.analytics.overview({ ...JANUARY, ownerId: rep.fast });
    expect(byOwner.totals).toMatchObject({ leads: 2, customers: 1, revenue: 300000 });
    const salesOfFast = await app.services.analytics.sales({ ...JANUARY, ownerId: rep.fast });
    expect(salesOfFast.reps.map((r) => r.ownerId)).toEqual([rep.fast]);
    const noChannel = await app.services.analytics.channels({ ...JANUARY, channelId: 'none' });
    expect(noChannel.channels.map((c) => [c.id, c.leads])).toEqual([['none', 1]]);

    const now = app.clock.now();
    await app.deps.db.insertInto('segments').values({ id: 'seg-1', name: 'Hot', description: null, kind: 'static', definition: null, member_count: 2, status: 'ready', progress: 1, last_full_at: null, last_sweep_at: null, created_by: null, created_at: now, updated_at: now }).execute();
    await app.deps.db.insertInto('segment_members').values([lead.a1, lead.a4].map((id) => ({ segment_id: 'seg-1', lead_id: id, entered_at: now }))).execute();
    const bySegment = await app.services.analytics.channels({ ...JANUARY, segmentId: 'seg-1' });
    expect(bySegment.totals).toMatchObject({ leads: 2, customers: 1, revenue: 100000 });
    const emailOfSegment = await app.services.analytics.email({ ...JANUARY, segmentId: 'seg-1' });
    expect(emailOfSegment.totals).toMatchObject({ sent: 1, opened: 1 });
  });

  it('keeps the stage history when a merge moves events and when a lead is deleted', async () => {
    // Each lead row's summary (migration 20261125T1710) is what its stage history says, always.
    const reachOf = async () =>
      (
        await sql<{ id: string; reach_rank: number | null; customer_at: number | null; customer_revenue: number | null }>`
          SELECT id, reach_rank, customer_at, customer_revenue FROM leads ORDER BY id`.execute(app.deps.db)
      ).rows;
    const fromHistory = async () =>
      (
        await sql<{ id: string; reach_rank: number | null; customer_at: number | null; customer_revenue: number | null }>`
          SELECT l.id, max(CASE WHEN sc.event_id IS NULL THEN NULL WHEN sc.to_stage = 'mql' THEN 2 WHEN sc.to_stage = 'sql' THEN 3 WHEN sc.to_stage = 'opportunity' THEN 4 WHEN sc.to_stage = 'customer' THEN 5 ELSE 1 END) AS reach_rank,
                 min(CASE WHEN sc.to_stage = 'customer' THEN sc.at END) AS customer_at, sum(CASE WHEN sc.to_stage = 'customer' THEN sc.amount END) AS customer_revenue
          FROM leads l LEFT JOIN analytics_stage_changes sc ON sc.lead_id = l.id GROUP BY l.id ORDER BY l.id`.execute(app.deps.db)
      ).rows;
    const before = await reachOf();
    expect(before.some((r) => r.customer_revenue! > 0)).toBe(true);
    expect(before).toEqual(await fromHistory());
    await app.deps.db.updateTable('events').set({ lead_id: lead.n1 }).where('lead_id', '=', lead.b2).where('type', '=', 'stage_changed').execute();
    const moved = await app.deps.db.selectFrom('analytics_stage_changes').select('lead_id').where('lead_id', '=', lead.n1).execute();
    expect(moved).toHaveLength(1);
    expect(await reachOf()).toEqual(await fromHistory());
    expect((await reachOf()).find((r) => r.id === lead.n1)?.reach_rank).toBe(2);
    expect((await reachOf()).find((r) => r.id === lead.b2)?.reach_rank).toBeNull();
    await app.deps.db.deleteFrom('events').where('lead_id', '=', lead.n1).where('type', '=', 'stage_changed').execute();
    const left = await app.deps.db.selectFrom('analytics_stage_changes').select('lead_id').where('lead_id', '=', lead.n1).execute();
    expect(left).toHaveLength(0);
    expect(await reachOf()).toEqual(await fromHistory());
    // put b2's MQL back for the other tests
    await stage('b2', 'subscriber', 'mql', jan(8));
  });
});

describe('analytics router', () => {
  const createCaller = createCallerFactory(appRouter);
  const callerFor = async (id: string) => createCaller({ app, user: toUser((await usersRepo.findById(app.deps.db, id))!), ip: '127.0.0.1' });

  it('lets a sales manager in and keeps a plain rep out', async () => {
    const rep1 = await callerFor(rep.slow);
    await expect(rep1.analytics.sales(JANUARY)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const manager = await app.makeUser('sales', 'boss@test.local');
    await app.deps.db.updateTable('users').set({ is_manager: 1 }).where('id', '=', manager.id).execute();
    const boss = await callerFor(manager.id);
    expect((await boss.analytics.sales(JANUARY)).slowest).toBe(rep.slow);
  });

  it('refuses a range whose end is before its start, naming the field', async () => {
    const marketer = await callerFor((await app.makeUser('marketer')).id);
    const err = await marketer.analytics.overview({ from: '2026-01-31', to: '2026-01-01' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('BAD_REQUEST');
    expect(String((err as TRPCError).message)).toMatch(/end is before the start/);
  });
});
