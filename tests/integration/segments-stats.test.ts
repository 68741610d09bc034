import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

async function lead(id: string) {
  const now = app.clock.now();
  await app.deps.db.insertInto('leads').values({ id, email: `${id}@x.ru`, source: 'manual', created_at: now, updated_at: now } as never).execute();
}
async function event(id: string, leadId: string, type: string, props: Record<string, unknown> = {}, at = app.clock.now()) {
  await app.deps.db.insertInto('events').values({ id, lead_id: leadId, type, properties: JSON.stringify(props), source: 'test', actor_id: null, occurred_at: at, received_at: at, dedupe_key: null }).execute();
}
/** The dispatcher counts events as it reads them (migration 20261125T1600). */
const dispatch = () => app.services.engine.dispatchEvents(10_000);
const stats = (leadId: string) => app.deps.db.selectFrom('lead_event_stats').select(['type', 'path', 'n', 'last_at']).where('lead_id', '=', leadId).orderBy('type').orderBy('path').execute();

describe('lead_event_stats, counted by the dispatcher and corrected by triggers', () => {
  it('counts events by type and page views by normalized path, skipping machine hits', async () => {
    await lead('a');
    await event('e1', 'a', 'page_viewed', { url: 'https://site.ru/Pricing/?utm_source=x' }, 1000);
    await event('e2', 'a', 'page_viewed', { path: '/pricing' }, 2000);
    await event('e3', 'a', 'page_viewed', { url: 'https://site.ru' }, 1500);
    await event('e4', 'a', 'email_opened', { machine: true }, 3000);
    await event('e5', 'a', 'email_opened', {}, 2500);
    // Ingest does not count (no insert trigger): the dispatcher does, once.
    expect(await stats('a')).toEqual([]);
    await dispatch();
    await dispatch();
    expect(await stats('a')).toEqual([
      { type: '$activity', path: '', n: 4, last_at: 2500 },
      { type: 'email_opened', path: '', n: 1, last_at: 2500 },
      { type: 'page_viewed', path: '', n: 3, last_at: 2000 },
      { type: 'page_viewed', path: '/', n: 1, last_at: 1500 },
      { type: 'page_viewed', path: '/pricing', n: 2, last_at: 2000 }
    ]);
  });

  it('follows events moved by a merge, flagged as machine later, and deleted', async () => {
    await lead('b');
    await event('f1', 'b', 'email_opened', {}, 5000);
    await dispatch();
    await app.deps.db.updateTable('events').set({ lead_id: 'a' }).where('lead_id', '=', 'b').execute();
    expect((await stats('a')).find((r) => r.type === 'email_opened')).toEqual({ type: 'email_opened', path: '', n: 2, last_at: 5000 });
    expect((await stats('b')).map((r) => r.n)).toEqual([0, 0]);
    await sql`UPDATE events SET properties = json_set(properties, '$.machine', json('true')) WHERE id = 'e5'`.execute(app.deps.db);
    expect((await stats('a')).find((r) => r.type === 'email_opened')?.n).toBe(1);
    await app.deps.db.deleteFrom('events').where('id', '=', 'e2').execute();
    expect((await stats('a')).find((r) => r.path === '/pricing')?.n).toBe(1);
    // Per-day counters follow the same moves (all these events are on day 0 of the epoch).
    const days = await app.deps.db.selectFrom('lead_event_days').select(['lead_id', 'type', 'day', 'n']).where('n', '>', 0).orderBy('lead_id').orderBy('type').execute();
    expect(days).toEqual([
      { lead_id: 'a', type: 'email_opened', day: 0, n: 1 },
      { lead_id: 'a', type: 'page_viewed', day: 0, n: 2 }
    ]);
    expect((await stats('a')).find((r) => r.type === '$activity')?.n).toBe(3);
  });

  it('counts an event changed before it was dispatched in its new state, once', async () => {
    await lead('c');
    await lead('d');
    await event('g1', 'c', 'email_clicked', {}, 7000);
    await event('g2', 'c', 'email_clicked', {}, 7100);
    // Flagged as a scanner click and moved by a merge before the dispatcher saw them.
    await sql`UPDATE events SET properties = json_set(properties, '$.machine', json('true')) WHERE id = 'g1'`.execute(app.deps.db);
    await app.deps.db.updateTable('events').set({ lead_id: 'd' }).where('id', '=', 'g2').execute();
    expect(await stats('c')).toEqual([]);
    expect(await stats('d')).toEqual([]);
    await dispatch();
    expect(await stats('c')).toEqual([]);
    expect(await stats('d')).toEqual([
      { type: '$activity', path: '', n: 1, last_at: 7100 },
      { type: 'email_clicked', path: '', n: 1, last_at: 7100 }
    ]);
  });
});

describe('lead_event_stats.recent: the days of the latest events per lead and type', () => {
  const DAY = 86_400_000;
  const recent = async (leadId: string, type = 'email_opened') =>
    JSON.parse((await app.deps.db.selectFrom('lead_event_stats').select('recent').where('lead_id', '=', leadId).where('type', '=', type).where('path', '=', '').executeTakeFirstOrThrow()).recent ?? 'null') as number[];
  const days = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => from - i);

  it('keeps the latest 16 days newest first, whatever order events arrive in, and recomputes what is taken away', async () => {
    await lead('r');
    await lead('q');
    // Twenty opens (not page views: the path test below counts those) on days 100..119, stored out of time order.
    const order = [7, 3, 19, 0, 12, 5, 18, 1, 9, 14, 2, 17, 6, 11, 4, 16, 8, 13, 10, 15];
    for (const d of order) await event(`r${d}`, 'r', 'email_opened', {}, (100 + d) * DAY + 5000);
    await dispatch();
    expect(await recent('r')).toEqual(days(119, 104));
    // Two on one day count twice; an older one than the 16th changes nothing.
    await event('r19b', 'r', 'email_opened', {}, 119 * DAY + 9000);
    await event('rold', 'r', 'email_opened', {}, 50 * DAY);
    await dispatch();
    expect(await recent('r')).toEqual([119, ...days(119, 105)]);
    // Taken away from the top: the next ones come back from the events.
    await app.deps.db.deleteFrom('events').where('id', 'in', ['r19', 'r19b']).execute();
    expect(await recent('r')).toEqual(days(118, 103));
    await sql`UPDATE events SET properties = json_set(properties, '$.machine', json('true')) WHERE id = 'r18'`.execute(app.deps.db);
    expect(await recent('r')).toEqual(days(117, 102));
    // A merge moves days 100..104 to q, which had one open on day 130.
    await event('q1', 'q', 'email_opened', {}, 130 * DAY);
    await dispatch();
    await app.deps.db.updateTable('events').set({ lead_id: 'q' }).where('id', 'in', ['r0', 'r1', 'r2', 'r3', 'r4']).execute();
    expect(await recent('q')).toEqual([130, 104, 103, 102, 101, 100]);
    expect(await recent('r')).toEqual([...days(117, 105), 50]);
    // An event not dispatched yet is left to the dispatcher, which merges it once.
    await event('q2', 'q', 'email_opened', {}, 131 * DAY);
    await app.deps.db.updateTable('events').set({ lead_id: 'q' }).where('id', '=', 'r5').execute();
    expect(await recent('q')).toEqual([130, 105, 104, 103, 102, 101, 100]);
    await dispatch();
    expect(await recent('q')).toEqual([131, 130, 105, 104, 103, 102, 101, 100]);
    // '$activity' keeps no days (nor do page paths).
    const others = await app.deps.db.selectFrom('lead_event_stats').select('recent').where('lead_id', '=', 'q').where('type', '=', '$activity').execute();
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((o) => o.recent === null)).toBe(true);
  });
});

describe('eventStatsRepo.rebuild', () => {
  it('recounts the history in bulk to what the dispatcher and triggers kept', async () => {
    const { eventStatsRepo } = await import('../../src/lib/server/repositories/event-stats.repo');
    const all = () => app.deps.db.selectFrom('lead_event_stats').select(['lead_id', 'type', 'path', 'n', 'last_at', 'recent']).where('n', '>', 0).orderBy('lead_id').orderBy('type').orderBy('path').execute();
    const days = () => app.deps.db.selectFrom('lead_event_days').select(['lead_id', 'type', 'day', 'n']).where('n', '>', 0).orderBy('lead_id').orderBy('type').orderBy('day').execute();
    await dispatch();
    const [kept, keptDays] = [await all(), await days()];
    expect(kept.length).toBeGreaterThan(3);
    const { m } = (await sql<{ m: number }>`SELECT max(rowid) AS m FROM events`.execute(app.deps.db)).rows[0];
    await eventStatsRepo.rebuild(app.deps.db, m);
    // last_at may differ only where a counted event was later taken away (documented).
    expect((await all()).map(({ last_at: _, ...r }) => r)).toEqual(kept.map(({ last_at: _, ...r }) => r));
    expect(await days()).toEqual(keptDays);
  });
});

describe('pagePathSql', () => {
  it('agrees with the paths the dispatcher stored', async () => {
    const { pagePathSql } = await import('../../src/lib/server/segments/page-path');
    const rows = await sql<{ stored: string; computed: string }>`
      SELECT s.path AS stored, ${sql.raw(pagePathSql('E'))} AS computed FROM events E
      JOIN lead_event_stats s ON s.lead_id = E.lead_id AND s.type = E.type AND s.path != ''
      WHERE E.type = 'page_viewed' AND s.path = ${sql.raw(pagePathSql('E'))}`.execute(app.deps.db);
    expect(rows.rows.length).toBeGreaterThan(0);
    const all = await sql<{ computed: string }>`SELECT ${sql.raw(pagePathSql('E'))} AS computed FROM events E WHERE E.type = 'page_viewed' ORDER BY E.id`.execute(app.deps.db);
    expect(all.rows.map((r) => r.computed)).toEqual(['/pricing', '/']);
  });
});
