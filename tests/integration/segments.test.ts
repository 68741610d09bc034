import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import { eventsRepo } from '../../src/lib/server/repositories/events.repo';
import { segmentsRepo } from '../../src/lib/server/repositories/segments.repo';
import { InputError } from '../../src/lib/server/services/deps';
import { compileSegment } from '../../src/lib/server/segments/compile';
import type { SegmentDefinition } from '../../src/lib/shared/segment';
import { STAGES } from '../../src/lib/shared/lead';
import { GATED_STAGES } from '../../src/lib/shared/handoff';

const DAY = 86_400_000;
const system = { id: null, label: 'test' };
let app: TestApp;

beforeEach(async () => {
  app = await createTestApp();
});
afterEach(() => app.close());

/** Deterministic random numbers, so a failure can be replayed. */
function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function lead(fields: Record<string, unknown>) {
  const r = await app.services.capture.capture({ input: parseLeadInput(fields), source: 'api', actor: system });
  return r.leadId;
}

async function event(leadId: string, type: string, props: Record<string, unknown> = {}) {
  const now = app.clock.now();
  await eventsRepo.append(app.deps.db, { id: app.deps.ids.newId(), lead_id: leadId, type, properties: JSON.stringify(props), source: 'test', actor_id: null, occurred_at: now, received_at: now, dedupe_key: null });
}

const settle = () => app.services.engine.runUntilIdle();
const group = (match: 'all' | 'any', ...conditions: SegmentDefinition['conditions']): SegmentDefinition => ({ kind: 'group', match, conditions });

async function makeSegment(name: string, definition: SegmentDefinition) {
  const { id } = await app.services.segments.create(system, { name, definition });
  await app.services.segments.idle();
  return id;
}

/** Who a full recompute would put in the segment right now, straight from the definition. */
async function truth(id: string) {
  const seg = await app.services.segments.get(id);
  return (await segmentsRepo.matchingIds(app.deps.db, compileSegment(seg.definition!, app.clock.now(), 'set'))).sort();
}
const members = async (id: string) => (await segmentsRepo.memberIds(app.deps.db, id)).sort();

describe('segment definitions', () => {
  it('refuses a condition on an unknown field, naming it', async () => {
    const bad = group('all', { kind: 'field', field: 'favourite_colour', op: 'eq', value: 'red' } as never);
    const err = await app.services.segments.preview(bad).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).issues[0]).toEqual({ field: 'definition.conditions.0.field', message: 'unknown field "favourite_colour"' });
  });

  it('answers zero for a contradiction, and counts what matches', async () => {
    await lead({ email: 'a@corp.ru', city: 'Казань' });
    await lead({ email: 'b@corp.ru', city: 'Москва' });
    await settle();
    const impossible = group('all', { kind: 'field', field: 'stage', op: 'in', values: ['mql'] }, { kind: 'field', field: 'stage', op: 'not_in', values: ['mql'] });
    expect((await app.services.segments.preview(impossible)).count).toBe(0);
    const between = group('all', { kind: 'field', field: 'fit_score', op: 'between', min: 50, max: 10 });
    expect((await app.services.segments.preview(between)).count).toBe(0);
    const kazan = await app.services.segments.preview(group('any', { kind: 'field', field: 'city', op: 'eq', value: 'Казань' }));
    expect(kazan.count).toBe(1);
    expect(kazan.sample[0].email).toBe('a@corp.ru');
    expect((await app.services.segments.preview(group('all'))).count).toBe(2);
  });

  it('counts behaviour: page views under a path, clicks in a window, inactivity', async () => {
    const a = await lead({ email: 'a@corp.ru' });
    const b = await lead({ email: 'b@corp.ru' });
    await event(a, 'page_viewed', { url: 'https://site.ru/pricing?x=1' });
    await event(a, 'page_viewed', { url: 'https://site.ru/pricing/enterprise' });
    await event(b, 'page_viewed', { url: 'https://site.ru/pricing' });
    await event(b, 'email_clicked', { machine: true });
    app.clock.advance(20 * DAY);
    await event(a, 'email_clicked', {});
    await settle();
    const count = async (d: SegmentDefinition) => (await app.services.segments.preview(d)).count;
    expect(await count(group('all', { kind: 'event', eventType: 'page_viewed', path: '/pricing', min: 2, negate: false }))).toBe(1);
    expect(await count(group('all', { kind: 'event', eventType: 'page_viewed', path: '/Pricing/', min: 1, negate: false }))).toBe(2);
    expect(await count(group('all', { kind: 'event', eventType: 'email_clicked', min: 1, withinDays: 14, negate: false }))).toBe(1);
    expect(await count(group('all', { kind: 'event', eventType: 'page_viewed', min: 2, withinDays: 14, negate: false }))).toBe(0);
    expect(await count(group('all', { kind: 'event', eventType: 'page_viewed', min: 2, withinDays: 30, negate: false }))).toBe(1);
    expect(await count(group('all', { kind: 'inactive', days: 14 }))).toBe(1); // b: nothing since day 0
    expect(await count(group('all', { kind: 'inactive', days: 60 }))).toBe(0); // known for 20 days only
  });

  it('counts "n times in the last D days" over whole UTC days, to the millisecond at the window edge, from the latest days or the day counters', async () => {
    const at = async (leadId: string, ms: number, n = 1) => {
      for (let i = 0; i < n; i++) await eventsRepo.append(app.deps.db, { id: app.deps.ids.newId(), lead_id: leadId, type: 'page_viewed', properties: '{}', source: 'test', actor_id: null, occurred_at: ms, received_at: ms, dedupe_key: null });
    };
    const a = await lead({ email: 'a@corp.ru' });
    const b = await lead({ email: 'b@corp.ru' });
    const c = await lead({ email: 'c@corp.ru' });
    await settle();
    const today = Math.floor(app.clock.now() / DAY);
    const first = (today - 7) * DAY; // "in the last 7 days" starts at 00:00 UTC seven days ago
    await at(a, first, 2); // on the edge: in
    await at(a, first + DAY - 1);
    await at(b, first - 1, 2); // a millisecond before: out
    await at(b, first);
    await at(c, first, 16); // 16 kept days: the 16th is on the edge
    await at(c, first - 1, 20); // 36 in all, 16 of them in the window
    await settle();
    const inWindow = (min: number) => group('all', { kind: 'event', eventType: 'page_viewed', min, withinDays: 7, negate: false });
    const count = async (d: SegmentDefinition) => (await app.services.segments.preview(d)).count;
    expect(await count(inWindow(3))).toBe(2); // a and c
    expect(await count(inWindow(2))).toBe(2);
    expect(await count(inWindow(16))).toBe(1); // c, from its 16 latest days
    expect(await count(inWindow(17))).toBe(0); // more than kept: the day counters say the same
    expect(await count(group('all', { kind: 'event', eventType: 'page_viewed', min: 17, withinDays: 8, negate: false }))).toBe(1);
    // The incremental path ('one' mode) agrees, and follows the edge as it passes.
    const ids = { three: await makeSegment('3 in 7 days', inWindow(3)), sixteen: await makeSegment('16 in 7 days', inWindow(16)) };
    expect(await members(ids.three)).toEqual([a, c].sort());
    expect(await members(ids.sixteen)).toEqual([c]);
    await at(b, first + 5 * DAY, 2);
    await settle();
    expect(await members(ids.three)).toEqual([a, b, c].sort());
    app.clock.advance(DAY); // the edge day leaves the window: b keeps two, a and c none
    await app.services.segments.sweep();
    await settle();
    expect(await members(ids.three)).toEqual([]);
    expect(await members(ids.sixteen)).toEqual([]);
    for (const id of Object.values(ids)) expect(await members(id)).toEqual(await truth(id));
  });
});

describe('incremental membership', () => {
  it('stays equal to a full recompute across field changes, events, decay and merges on random data', async () => {
    const rnd = mulberry32(20261125);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
    const owners = [(await app.makeUser('sales')).id, (await app.makeUser('sales')).id];
    const cities = ['Москва', 'Казань', 'Berlin', null];
    const leads: string[] = [];
    for (let i = 0; i < 40; i++) {
      leads.push(await lead({ email: `l${i}@${pick(['corp.ru', 'gmail.com', 'bank.ru'])}`, city: pick(cities) ?? undefined, job_title: pick(['CEO', 'инженер', 'Head of IT']), company_size: pick(['10', '200', '5000']), utm_source: pick(['yandex', 'vk', undefined]) }));
    }
    await settle();

    const defs: Record<string, SegmentDefinition> = {
      engagedNoOwner: group('all', { kind: 'field', field: 'engagement_score', op: 'gte', value: 15 }, { kind: 'field', field: 'owner_id', op: 'is_empty' }),
      moscowOrKazan: group('any', { kind: 'field', field: 'city', op: 'eq', value: 'Москва' }, { kind: 'field', field: 'city', op: 'eq', value: 'Казань' }),
      pricingTwice: group('all', { kind: 'event', eventType: 'page_viewed', path: '/pricing', min: 2, negate: false }),
      clickedRecently: group('all', { kind: 'event', eventType: 'email_clicked', min: 1, withinDays: 14, negate: false }),
      quiet: group('all', { kind: 'inactive', days: 30 }),
      mqlOrVk: group('any', { kind: 'field', field: 'stage', op: 'in', values: ['mql', 'sql'] }, group('all', { kind: 'field', field: 'utm_source', op: 'eq', value: 'vk' }, { kind: 'field', field: 'fit_score', op: 'gt', value: 10 })),
      ownedNotClicked: group('all', { kind: 'field', field: 'owner_id', op: 'is_set' }, { kind: 'event', eventType: 'email_clicked', min: 1, negate: true }),
      opened3: group('all', { kind: 'event', eventType: 'email_opened', min: 3, negate: false }),
      // From the latest days kept per lead (lead_event_stats.recent), checked against the events below.
      viewedTwiceIn10: group('all', { kind: 'event', eventType: 'page_viewed', min: 2, withinDays: 10, negate: false })
    };
    const segIds: Record<string, string> = {};
    for (const [name, d] of Object.entries(defs)) segIds[name] = await makeSegment(name, d);

    /** Leads with 2+ page views since 00:00 UTC ten days ago, counted from the events themselves. */
    const viewedTwiceFromEvents = async () => {
      const since = (Math.floor(app.clock.now() / DAY) - 10) * DAY;
      const rows = await app.deps.db.selectFrom('events as e').innerJoin('leads as l', 'l.id', 'e.lead_id').select('e.lead_id').where('e.type', '=', 'page_viewed').where('e.occurred_at', '>=', since).where('l.merged_into_id', 'is', null).groupBy('e.lead_id').having((h) => h.fn.countAll(), '>=', 2).execute();
      return rows.map((r) => r.lead_id!).sort();
    };
    const check = async (round: number) => {
      for (const [name, id] of Object.entries(segIds)) {
        expect(await members(id), `${name} after round ${round}`).toEqual(await truth(id));
        expect((await app.services.segments.get(id)).memberCount, `${name} count after round ${round}`).toBe((await truth(id)).length);
      }
      expect(await members(segIds.viewedTwiceIn10), `viewedTwiceIn10 against the events after round ${round}`).toEqual(await viewedTwiceFromEvents());
    };
    await check(0);
    // SQL and later ask for fields (BANT, amount...): those go through the card's stage form.
    const admin = await app.makeUser('admin');
    const adminUser = { id: admin.id, email: admin.actor.label, role: 'admin' as const, isManager: false };
    const fields = { budget: '1 млн ₽', authority: 'CEO', need: 'CRM', timing: 'Q1', amount: 100_000, date: '2026-02-01', reason: 'test' };
    const setStage = async (leadId: string, to: (typeof STAGES)[number]) => {
      if (!(GATED_STAGES as readonly string[]).includes(to)) return app.services.leads.update(system, leadId, { stage: to });
      await app.services.handoff.changeStage(adminUser, { leadId, to, fields }).catch((e: unknown) => {
        if (!(e instanceof InputError)) throw e; // already at that stage
      });
    };
    let live = [...leads];
    for (let round = 1; round <= 12; round++) {
      for (let k = 0; k < 25; k++) {
        const l = pick(live);
        const r = rnd();
        if (r < 0.35) await event(l, pick(['page_viewed', 'page_viewed', 'email_opened', 'email_clicked', 'form_submitted']), { url: pick(['/pricing', '/pricing/pro', '/blog', '/']) });
        else if (r < 0.5) await app.services.leads.update(system, l, { city: pick(cities) });
        else if (r < 0.6) await setStage(l, pick(STAGES));
        else if (r < 0.7) await app.services.leads.update(system, l, { owner_id: pick([...owners, null]) });
        else if (r < 0.72 && live.length > 10) {
          const other = pick(live.filter((x) => x !== l));
          await app.services.leads.merge(system, l, other);
          live = live.filter((x) => x !== other);
        }
      }
      app.clock.advance(Math.floor(rnd() * 6 * DAY));
      await settle();
      if (round % 3 === 0) await app.services.scoring.applyDecay(app.clock.now());
      // Time alone moved windows, inactivity and decayed engagement: that is the sweep's job.
      await app.services.segments.sweep();
      await settle();
      await check(round);
    }
    // The random walk really moved people in and out of every segment.
    const moves = await app.deps.db.selectFrom('events').select(['type', 'properties']).where('type', 'in', ['segment_entered', 'segment_left']).execute();
    for (const id of Object.values(segIds)) expect(moves.some((m) => m.type === 'segment_entered' && m.properties.includes(id))).toBe(true);
    expect(moves.some((m) => m.type === 'segment_left')).toBe(true);
  });

  it('is exact from events alone for segments that do not depend on time', async () => {
    const a = await lead({ email: 'a@corp.ru', city: 'Казань' });
    await settle();
    const id = await makeSegment('kazan-pricing', group('all', { kind: 'field', field: 'city', op: 'eq', value: 'Казань' }, { kind: 'event', eventType: 'page_viewed', path: '/pricing', min: 2, negate: false }));
    expect(await members(id)).toEqual([]);
    await event(a, 'page_viewed', { path: '/pricing' });
    await event(a, 'page_viewed', { path: '/pricing' });
    await settle();
    expect(await members(id)).toEqual([a]);
    await app.services.leads.update(system, a, { city: 'Москва' });
    await settle();
    expect(await members(id)).toEqual([]);
    const types = (await app.services.leads.timeline(a)).map((e) => e.type);
    expect(types.filter((t) => t === 'segment_entered' || t === 'segment_left')).toEqual(['segment_left', 'segment_entered']);
  });

  it('a merged lead leaves its segments and the survivor is re-evaluated', async () => {
    const a = await lead({ email: 'a@corp.ru' });
    const b = await lead({ email: 'b@corp.ru', city: 'Казань' });
    await settle();
    const id = await makeSegment('kazan', group('all', { kind: 'field', field: 'city', op: 'eq', value: 'Казань' }));
    expect(await members(id)).toEqual([b]);
    await app.services.leads.merge(system, a, b);
    await settle();
    expect(await members(id)).toEqual([a]);
    expect((await app.services.segments.get(id)).memberCount).toBe(1);
  });
});

describe('segments and flows', () => {
  it('entering a segment starts a flow whose trigger is that segment; startFlow enrolls current members', async () => {
    await app.deps.db.insertInto('email_templates').values({ id: 't1', slug: 'hello', name: 'hello', subject: 'Привет', body: 'Здравствуйте!', locale: 'ru', updated_at: 0 }).execute();
    const a = await lead({ email: 'a@corp.ru' });
    await settle();
    const id = await makeSegment('kazan', group('all', { kind: 'field', field: 'city', op: 'eq', value: 'Казань' }));
    await app.services.engine.publish(system, { slug: 'kazan-welcome', name: 'Kazan welcome', trigger: { type: 'segment_entered', segmentId: id }, start: 'done', nodes: { done: { kind: 'exit' } } } as never);
    await app.services.leads.update(system, a, { city: 'Казань' });
    await settle();
    const stats = await app.services.engine.stats('kazan-welcome');
    expect(stats.exited + stats.finished).toBe(1);

    await app.services.engine.publish(system, { slug: 'manual-hello', name: 'Manual hello', trigger: { type: 'manual' }, start: 'done', nodes: { done: { kind: 'exit' } } } as never);
    const r = await app.services.segments.startFlow(system, id, 'manual-hello');
    expect(r).toEqual({ members: 1, enrolled: 1 });
  });
});

describe('static lists', () => {
  it('are built from a selection and a CSV, fire entry events, and are refused conditions', async () => {
    const a = await lead({ email: 'a@corp.ru' });
    const b = await lead({ email: 'b@corp.ru', phone: '+7 999 123-45-67' });
    const c = await lead({ email: 'c@corp.ru' });
    await settle();
    const { id, added } = await app.services.segments.createStatic(system, { name: 'VIP', leadIds: [a, 'nope'] });
    expect(added).toBe(1);
    const csv = 'Name;Phone\nB;8 999 123 45 67\nX;+7 000\n';
    const r = await app.services.segments.importStaticCsv(system, id, 'email\nC@corp.ru\nghost@corp.ru\n');
    expect(r).toMatchObject({ added: 1, matched: 1, unmatched: 1, unmatchedSample: ['ghost@corp.ru'] });
    const r2 = await app.services.segments.importStaticCsv(system, id, csv.replaceAll(';', ','));
    expect(r2).toMatchObject({ added: 1, unmatched: 1 });
    expect(await members(id)).toEqual([a, b, c].sort());
    expect((await app.services.segments.get(id)).memberCount).toBe(3);
    await expect(app.services.segments.addToStatic(system, await makeSegment('dyn', group('all')), [a])).rejects.toBeInstanceOf(InputError);
    // Static lists filter the lead list like any segment.
    const list = await app.services.leads.list({ segmentId: id, sort: 'created', dir: 'desc', page: 1, pageSize: 50 } as never);
    expect(list.total).toBe(3);
  });
});
