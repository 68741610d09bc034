import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { seedDemo } from '../../db/seeds/demo';
import { apiEventSchema } from '../../src/lib/shared/api';

/** What the README promises a new user of the demo base: checked on the seed itself. */
let app: TestApp;

beforeEach(async () => {
  app = await createTestApp();
  expect(await seedDemo(app)).toEqual({ leads: 240 });
});
afterEach(() => app.close());

describe('demo seed', () => {
  it('gives the scoring lab a scored history: nothing moves on an unedited draft, and the backtest finds customers', async () => {
    const live = await app.services.scoring.rules();
    const w = await app.services.lab.whatIf(live);
    expect(w.mql).toMatchObject({ become: 0, dropOut: 0 });
    expect(w.mql.now).toBeGreaterThan(30);
    expect(w.engagement.filter((b) => b.x0 >= 20).reduce((n, b) => n + b.now, 0)).toBeGreaterThan(20);
    expect(w.backtest.customers.now.marked).toBeGreaterThan(0);
    expect(w.backtest.rejected.total).toBeGreaterThan(0);
    expect((await app.services.lab.state()).versions.map((v) => v.note)).toContain('demo seed: scores from the seeded history');
  });

  it('takes Sophia Smith (Москва, fit 40) to the Moscow rep in three clicks, as the README shows', async () => {
    const { db } = app.deps;
    const sophia = await db.selectFrom('leads').select(['id', 'stage', 'region', 'fit_score']).where('email', '=', 'sophia.smith6@example.com').executeTakeFirstOrThrow();
    expect(sophia).toMatchObject({ stage: 'subscriber', region: 'Москва', fit_score: 40 });
    for (let i = 0; i < 3; i++) await app.services.events.ingest({ id: null, label: 'api-key:try' }, apiEventSchema.parse({ email: 'sophia.smith6@example.com', type: 'email_clicked' }));
    await app.services.engine.runUntilIdle();
    await app.services.handoff.tick();
    const h = await db
      .selectFrom('handoffs as h')
      .innerJoin('users as u', 'u.id', 'h.owner_id')
      .select(['h.status', 'u.email'])
      .where('h.lead_id', '=', sophia.id)
      .execute();
    expect(h).toEqual([{ status: 'open', email: 'sales@nurture.demo' }]);
  });

  it('seeds open hand-offs that say why their lead qualified and are late only past their deadline', async () => {
    const now = app.clock.now();
    const open = await app.deps.db.selectFrom('handoffs').select(['summary', 'due_at', 'breached', 'escalated_at']).where('status', '=', 'open').execute();
    expect(open.length).toBeGreaterThan(0);
    for (const h of open) {
      expect((JSON.parse(h.summary) as { why: unknown[] }).why.length).toBeGreaterThan(0);
      expect(h.breached === 1).toBe(h.due_at <= now);
      if (h.escalated_at !== null) expect(h.escalated_at).toBeLessThanOrEqual(now);
    }
  });
});
