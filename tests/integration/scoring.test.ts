import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { eventsRepo } from '../../src/lib/server/repositories/events.repo';
import { appRouter } from '../../src/lib/server/trpc/router';
import { createCallerFactory } from '../../src/lib/server/trpc/init';
import { toUser, usersRepo } from '../../src/lib/server/repositories/users.repo';
import { apiEventSchema } from '../../src/lib/shared/api';
import { InputError } from '../../src/lib/server/services/deps';

const DAY = 86_400_000;
const system = { id: null, label: 'test' };
let app: TestApp;

beforeEach(async () => {
  app = await createTestApp();
});
afterEach(() => app.close());

const lead = (fields: Record<string, unknown>) => app.captureLead(fields);

/** What tracking appends for a pixel or redirect hit. */
async function hit(leadId: string, type: 'email_opened' | 'email_clicked', machine = false) {
  const now = app.clock.now();
  await eventsRepo.append(app.deps.db, {
    id: app.deps.ids.newId(),
    lead_id: leadId,
    type,
    properties: JSON.stringify({ messageId: 'm1', machine }),
    source: 'email',
    actor_id: null,
    occurred_at: now,
    received_at: now,
    dedupe_key: null
  });
}

const scores = (leadId: string) => app.services.scoring.leadScores(leadId);

async function ledgerExplains(leadId: string) {
  const s = await scores(leadId);
  const sums = await app.services.scoring.ledgerSums(leadId);
  expect(sums).toEqual({ fit: s.fit, engagement: s.engagement });
}

async function callerFor(role: 'admin' | 'marketer' | 'sales') {
  const { id } = await app.makeUser(role);
  const user = toUser((await usersRepo.findById(app.deps.db, id))!);
  return createCallerFactory(appRouter)({ app, user, ip: '127.0.0.1' }).scoring;
}

describe('fit score', () => {
  it('sums the matching attribute rules, grades the lead and explains it rule by rule', async () => {
    const id = await lead({
      email: 'ivan@acme.ru',
      job_title: 'Коммерческий директор',
      company_size: '200-500',
      industry: 'IT',
      region: 'Москва'
    });
    const s = await scores(id);
    // title 20 + size 50–999 15 + industry 10 + region 5 + work email 15
    expect(s).toMatchObject({ fit: 65, grade: 'A', engagement: 0 });
    expect(s.why.map((w) => w.name).sort()).toEqual([
      'Company 50–999 people',
      'Executive title',
      'Served region',
      'Target industry',
      'Work email (not a free mailbox)'
    ]);
    await ledgerExplains(id);
  });

  it('gives a free mailbox nothing and takes points from competitors and students', async () => {
    const free = await lead({ email: 'ivan@gmail.com', job_title: 'CEO' });
    const rival = await lead({ email: 'spy@competitor.example', job_title: 'CEO' });
    const student = await lead({ email: 'anna@mit.edu' });
    expect((await scores(free)).fit).toBe(20);
    expect(await scores(rival)).toMatchObject({ fit: 20 + 15 - 50, grade: 'D' });
    expect((await scores(student)).fit).toBe(15 - 20);
    for (const id of [free, rival, student]) await ledgerExplains(id);
  });

  it('is recomputed when a field changes, recording only the difference', async () => {
    const id = await lead({ email: 'ivan@acme.ru', job_title: 'Director of Sales' });
    expect((await scores(id)).fit).toBe(35);
    const { actor } = await app.makeUser('marketer');
    await app.services.leads.update(actor, id, { job_title: 'Менеджер' });
    await app.services.engine.runUntilIdle();
    const s = await scores(id);
    expect(s.fit).toBe(15);
    expect(s.recent[0]).toMatchObject({
      score: 'fit',
      rule: 'Executive title',
      points: -20,
      total: 15,
      reason: 'no longer matches'
    });
    await ledgerExplains(id);
  });
});

describe('engagement score', () => {
  it('scores human opens up to the daily cap and clicks, and never machine hits', async () => {
    const id = await lead({ email: 'ivan@gmail.com' });
    for (let i = 0; i < 5; i++) await hit(id, 'email_opened');
    await hit(id, 'email_opened', true);
    await hit(id, 'email_clicked', true);
    await app.services.engine.runUntilIdle();
    expect((await scores(id)).engagement).toBe(15); // 5 opens × 5, capped at 15 a day
    await hit(id, 'email_clicked');
    await app.services.engine.runUntilIdle();
    expect((await scores(id)).engagement).toBe(25);
    const machineRows = await app.deps.db
      .selectFrom('score_ledger')
      .innerJoin('events', 'events.id', 'score_ledger.event_id')
      .select('events.properties')
      .where('score_ledger.lead_id', '=', id)
      .execute();
    expect(machineRows.every((r) => JSON.parse(r.properties).machine === false)).toBe(true);
    expect(machineRows).toHaveLength(4); // 3 opens until the cap, 1 click

    app.clock.advance(DAY + 1);
    await hit(id, 'email_opened');
    await app.services.engine.runUntilIdle();
    expect((await scores(id)).engagement).toBe(30); // a new day, a fresh cap
    await ledgerExplains(id);
  });

  it('halves after 30 days without activity, and the decay is a ledger row', async () => {
    const id = await lead({ email: 'ivan@gmail.com' });
    await hit(id, 'email_clicked');
    await hit(id, 'email_clicked');
    await app.services.engine.runUntilIdle();
    expect((await scores(id)).engagement).toBe(20);
    app.clock.advance(10 * DAY);
    await app.services.scoring.applyDecay();
    expect((await scores(id)).engagement).toBe(16); // 20 × 0.5^(10/30) ≈ 15.9
    app.clock.advance(20 * DAY);
    expect(await app.services.scoring.applyDecay()).toBe(1);
    const s = await scores(id);
    expect(s.engagement).toBe(10);
    expect(s.recent[0]).toMatchObject({ score: 'engagement', rule: 'decay', points: -6, total: 10 });
    expect(s.recent[0].reason).toMatch(/30 days/);
    expect(await app.services.scoring.applyDecay()).toBe(0); // nothing more to take within the same hour
    await ledgerExplains(id);
  });

  it('scores a negative rule and a page visit by URL, never below zero', async () => {
    const id = await lead({ email: 'ivan@gmail.com' });
    const actor = { id: null, label: 'api-key:site' };
    await app.services.events.ingest(
      actor,
      apiEventSchema.parse({
        leadId: id,
        type: 'page_viewed',
        properties: { url: 'https://x.ru/pricing?plan=pro' }
      })
    );
    await app.services.engine.runUntilIdle();
    expect((await scores(id)).engagement).toBe(16); // pricing 15 + any page 1
    await app.services.events.ingest(
      actor,
      apiEventSchema.parse({ leadId: id, type: 'page_viewed', properties: { url: 'https://x.ru/careers' } })
    );
    await app.services.engine.runUntilIdle();
    expect((await scores(id)).engagement).toBe(0); // 16 + 1 − 25, floored at zero
    await ledgerExplains(id);
  });
});

describe('automatic MQL', () => {
  it('moves a lead over both thresholds to MQL with a stage_changed event that starts a lifecycle flow', async () => {
    await app.services.engine.publish(system, {
      slug: 'on-mql',
      name: 'On MQL',
      trigger: { type: 'lifecycle_changed', stage: 'mql' },
      start: 'done',
      nodes: { done: { kind: 'exit' } }
    });
    const id = await lead({ email: 'ivan@acme.ru', job_title: 'CEO', company_size: '120' }); // fit 50
    await hit(id, 'email_clicked');
    await hit(id, 'email_clicked');
    await app.services.engine.runUntilIdle();
    expect((await app.services.leads.get(id)) as { lead: { stage: string } }).toMatchObject({
      lead: { stage: 'subscriber' }
    }); // engagement 20 < 30
    await app.services.events.ingest(
      { id: null, label: 'api-key:CRM' },
      apiEventSchema.parse({ leadId: id, type: 'demo_requested' })
    );
    await app.services.engine.runUntilIdle();

    const s = await scores(id);
    expect(s).toMatchObject({ fit: 50, engagement: 50, stage: 'mql' });
    const changed = await app.deps.db
      .selectFrom('events')
      .selectAll()
      .where('lead_id', '=', id)
      .where('type', '=', 'stage_changed')
      .execute();
    expect(changed).toHaveLength(1);
    expect(JSON.parse(changed[0].properties)).toMatchObject({
      field: 'stage',
      from: 'subscriber',
      to: 'mql',
      by: 'scoring'
    });
    const instances = await app.deps.db
      .selectFrom('workflow_instances')
      .selectAll()
      .where('lead_id', '=', id)
      .execute();
    expect(instances).toHaveLength(1);

    // Already MQL: more engagement does not move it again.
    await hit(id, 'email_clicked');
    await app.services.engine.runUntilIdle();
    expect(
      await app.deps.db
        .selectFrom('events')
        .select('id')
        .where('lead_id', '=', id)
        .where('type', '=', 'stage_changed')
        .execute()
    ).toHaveLength(1);
    await ledgerExplains(id);
  });
});

describe('recycled leads', () => {
  it('become MQL again only when they fall below the thresholds and re-earn them', async () => {
    const id = await lead({ email: 'ivan@acme.ru', job_title: 'CEO', company_size: '120' }); // fit 50
    await app.services.events.ingest(
      { id: null, label: 'api-key:CRM' },
      apiEventSchema.parse({ leadId: id, type: 'demo_requested' })
    );
    await hit(id, 'email_clicked');
    await app.services.engine.runUntilIdle();
    expect(await scores(id)).toMatchObject({ engagement: 40, stage: 'mql' });
    // Sales sent it back to nurture (the hand-off suite covers how); it still meets the thresholds.
    await app.deps.db.updateTable('leads').set({ stage: 'recycled' }).where('id', '=', id).execute();
    await hit(id, 'email_clicked');
    await app.services.engine.runUntilIdle();
    expect(await scores(id)).toMatchObject({ engagement: 50, stage: 'recycled' }); // the old interest does not hand it back

    app.clock.advance(61 * DAY); // a little over two half-lives: 50 → 12, below the threshold of 30
    await app.services.scoring.applyDecay();
    expect(await scores(id)).toMatchObject({ engagement: 12, stage: 'recycled' });
    await app.services.events.ingest(
      { id: null, label: 'api-key:CRM' },
      apiEventSchema.parse({ leadId: id, type: 'webinar_attended' })
    );
    await app.services.engine.runUntilIdle();
    expect(await scores(id)).toMatchObject({ engagement: 37, stage: 'mql' }); // re-earned: 12 + 25
    const moves = await app.deps.db
      .selectFrom('events')
      .select('properties')
      .where('lead_id', '=', id)
      .where('type', '=', 'stage_changed')
      .execute();
    expect(moves.map((m) => JSON.parse(m.properties) as { from: string; to: string; by: string })).toEqual([
      expect.objectContaining({ from: 'subscriber', to: 'mql', by: 'scoring' }),
      expect.objectContaining({ from: 'recycled', to: 'mql', by: 'scoring' })
    ]);
    await ledgerExplains(id);
  });
});

describe('rules', () => {
  it('are readable by every role and changed by admins only, through the lab (versioned, audited, rescored)', async () => {
    const sales = await callerFor('sales');
    const current = await sales.rules();
    expect(current.settings).toEqual({ fitThreshold: 40, engagementThreshold: 30, halfLifeDays: 30 });
    // No second way to save rules without a version and a rescore.
    expect(Object.keys(appRouter._def.procedures).filter((p) => p.startsWith('scoring.'))).toEqual(['scoring.rules', 'scoring.leadScores']);

    // Opens worth 40 with engagement threshold 10: one open makes a fitting lead MQL.
    const { actor } = await app.makeUser('admin');
    const rules = current.rules.map((r) => (r.id === 'eng-open' ? { ...r, points: 40, cap: undefined } : r));
    await (await app.services.lab.save(actor, { rules, settings: { ...current.settings, engagementThreshold: 10 } })).done;
    const audit = await app.deps.db.selectFrom('audit_log').select('action').where('action', '=', 'scoring.lab_save').execute();
    expect(audit).toHaveLength(1);
    const id = await lead({ email: 'ivan@acme.ru', job_title: 'CEO', company_size: '120' });
    await hit(id, 'email_opened');
    await app.services.engine.runUntilIdle();
    expect(await scores(id)).toMatchObject({ engagement: 40, stage: 'mql' });
  });

  it('refuses a rule that cannot be applied, naming the field, and stores nothing', async () => {
    const { actor } = await app.makeUser('admin');
    const current = await app.services.scoring.rules();
    const rules = current.rules.map((r) => (r.id === 'fit-industry' ? { ...r, values: [] } : r));
    const err = await app.services.lab.save(actor, { rules, settings: current.settings }).catch((e: InputError) => e);
    expect(err).toBeInstanceOf(InputError);
    const idx = current.rules.findIndex((r) => r.id === 'fit-industry');
    expect((err as InputError).issues).toContainEqual({ field: `rules.${idx}.values`, message: 'needs at least one value' });
    expect((await app.services.scoring.rules()).rules).toEqual(current.rules); // nothing stored
  });
});
