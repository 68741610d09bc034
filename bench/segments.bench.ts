/**
 * `npm run bench -- segments [leads] [events]`: segment counts and incremental membership over
 * 100,000 leads and 5,000,000 events (defaults) in a temp SQLite file. Data goes in through raw
 * prepared inserts in large transactions; the per-lead counters (kept by the dispatcher as
 * events arrive, in production) are then rebuilt in bulk for that history. Targets: every segment count (the builder's preview: count + sample) < 500 ms,
 * incremental membership >= 2,000 events/s with 10 active segments.
 * SEGMENTS_BENCH_DB=<file> builds the base once and reuses it (see below and bench/README.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';
import { createEngine } from '../src/lib/server/engine/engine';
import { settingsRepo } from '../src/lib/server/repositories/settings.repo';
import { eventStatsRepo } from '../src/lib/server/repositories/event-stats.repo';
import type { SegmentDefinition } from '../src/lib/shared/segment';

const DAY = 86_400_000;
const CITIES = ['Москва', 'Санкт-Петербург', 'Казань', 'Новосибирск', 'Екатеринбург', 'London', 'Berlin'];
const STAGES = ['subscriber', 'lead', 'mql', 'sql', 'customer'];
const UTM = ['yandex', 'vk', 'google', 'partner', null];
const PAGES = ['/', '/pricing', '/pricing/enterprise', '/blog/post-1', '/blog/post-2', '/features', '/careers', '/contacts'];
/** Event mix: type and cumulative share. */
const MIX: [string, number][] = [
  ['page_viewed', 0.45],
  ['email_sent', 0.62],
  ['email_opened', 0.84],
  ['email_clicked', 0.92],
  ['form_submitted', 0.95],
  ['webinar_attended', 0.97],
  ['workflow_enrolled', 1]
];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const g = (match: 'all' | 'any', ...conditions: SegmentDefinition['conditions']): SegmentDefinition => ({ kind: 'group', match, conditions });

/** Ten segments of the kinds marketers build; the first is the "engaged leads without an owner". */
const SEGMENTS: Record<string, SegmentDefinition> = {
  'engaged, no owner': g('all', { kind: 'field', field: 'engagement_score', op: 'gte', value: 30 }, { kind: 'field', field: 'owner_id', op: 'is_empty' }),
  'clicked an email in 14 days': g('all', { kind: 'event', eventType: 'email_clicked', min: 1, withinDays: 14, negate: false }),
  'visited /pricing twice': g('all', { kind: 'event', eventType: 'page_viewed', path: '/pricing', min: 2, negate: false }),
  'no activity for 60 days': g('all', { kind: 'inactive', days: 60 }),
  'Moscow or Kazan, fit >= 20': g('all', { kind: 'field', field: 'city', op: 'in', values: ['Москва', 'Казань'] }, { kind: 'field', field: 'fit_score', op: 'gte', value: 20 }),
  'opened 40+ emails, lead or MQL': g('all', { kind: 'event', eventType: 'email_opened', min: 40, negate: false }, { kind: 'field', field: 'stage', op: 'in', values: ['lead', 'mql'] }),
  '3+ page views in 30 days': g('all', { kind: 'event', eventType: 'page_viewed', min: 3, withinDays: 30, negate: false }),
  'yandex, never clicked': g('all', { kind: 'field', field: 'utm_source', op: 'eq', value: 'yandex' }, { kind: 'event', eventType: 'email_clicked', min: 1, negate: true }),
  'webinar or form, or SQL': g('any', { kind: 'event', eventType: 'webinar_attended', min: 1, negate: false }, g('all', { kind: 'event', eventType: 'form_submitted', min: 2, negate: false }, { kind: 'field', field: 'stage', op: 'in', values: ['sql'] })),
  'corporate email, consented': g('all', { kind: 'field', field: 'email_domain', op: 'not_in', values: ['gmail.com', 'mail.ru', 'yandex.ru'] }, { kind: 'field', field: 'consent_marketing', op: 'is_true' })
};

export default async function segmentsBench(args: string[]) {
  const leadCount = Number(args[0] ?? 100_000);
  const eventCount = Number(args[1] ?? 5_000_000);
  const incremental = Number(args[2] ?? 20_000);
  // SEGMENTS_BENCH_DB=<file> keeps the loaded base (leads, events, counters; no segments yet)
  // between runs: built once, then migrated in place and copied, because the run below writes
  // segments, memberships and new events that the next run must not find.
  const kept = process.env.SEGMENTS_BENCH_DB;
  const dir = fs.mkdtempSync(path.join(kept ? path.dirname(kept) : os.tmpdir(), 'nurture-bench-segments-'));
  const file = path.join(dir, 'bench.db');
  const reuse = !!kept && fs.existsSync(kept);
  if (reuse) {
    let t = performance.now();
    const base = await createApp({ config: loadConfig({ DATABASE_URL: kept, SEED: 'none' }) });
    base.database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    await base.close();
    console.log(`reusing ${kept}: opened and migrated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    fs.copyFileSync(kept, file);
    console.log(`  copied to ${file} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const app = await createApp({ config: loadConfig({ DATABASE_URL: file, SEED: 'none' }) });
  const sqlite = app.database.sqlite;
  // Loading 5 M events touches five B-trees keyed at random (lead, type, time, the summary): give
  // SQLite enough page cache to keep them in memory, as a production box would.
  sqlite.pragma('cache_size = -2000000');
  const actor = { id: null, label: 'bench' };
  // On a reused base "now" is when it was built, so the windows cut the history the same way.
  const now = reuse ? Number((sqlite.prepare(`SELECT value FROM settings WHERE key = 'bench.now'`).get() as { value: string }).value) : Date.now();
  const rnd = rng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  try {
    if (!reuse) await load();
    else console.log(`${leadCount.toLocaleString('en')} leads and ${(sqlite.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n.toLocaleString('en')} events in the base`);
    await measure();
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  async function load() {
    const owners: string[] = [];
    for (let i = 0; i < 8; i++) owners.push(await app.services.auth.createUser(actor, { email: `rep${i}@bench.local`, name: `Rep ${i}`, password: 'bench-password-1', role: 'sales' }));

    let t = performance.now();
    const insLead = sqlite.prepare(`INSERT INTO leads (id, email, name, city, stage, owner_id, source, first_touch, fit_score, engagement_score, consent_marketing, search_text, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, 'form', ?, ?, ?, ?, '', ?, ?)`);
    const leadIds: string[] = [];
    sqlite.transaction(() => {
      for (let i = 0; i < leadCount; i++) {
        const id = `lead${String(i).padStart(7, '0')}`;
        leadIds.push(id);
        const created = now - Math.floor(rnd() * 400 * DAY);
        const utm = pick(UTM);
        insLead.run(id, `user${i}@${pick(['gmail.com', 'mail.ru', 'corp.ru', 'bank.ru', 'yandex.ru'])}`, `Lead ${i}`, pick(CITIES), pick(STAGES), rnd() < 0.5 ? pick(owners) : null, JSON.stringify(utm ? { utm_source: utm } : {}), Math.floor(rnd() * 60), Math.floor(rnd() * 100), rnd() < 0.6 ? 1 : 0, created, created);
      }
    })();
    console.log(`${leadCount.toLocaleString('en')} leads inserted in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    t = performance.now();
    const insEvent = sqlite.prepare(`INSERT INTO events (id, lead_id, type, properties, source, occurred_at, received_at) VALUES (?, ?, ?, ?, 'bench', ?, ?)`);
    const BATCH = 250_000;
    for (let start = 0; start < eventCount; start += BATCH) {
      sqlite.transaction(() => {
        for (let i = start; i < Math.min(eventCount, start + BATCH); i++) {
          const r = rnd();
          const type = MIX.find(([, c]) => r < c)![0];
          const at = now - Math.floor(rnd() * rnd() * 365 * DAY); // recent days are busier
          const props = type === 'page_viewed' ? `{"url":"https://site.ru${pick(PAGES)}"}` : '{}';
          insEvent.run(`ev${i.toString(36)}`, leadIds[Math.floor(rnd() * leadCount)], type, props, at, at);
        }
      })();
      if ((start / BATCH) % 4 === 3) console.log(`  ${(start + BATCH).toLocaleString('en')} events, ${((performance.now() - t) / 1000).toFixed(0)} s`);
    }
    const loadS = (performance.now() - t) / 1000;
    console.log(`${eventCount.toLocaleString('en')} events inserted in ${loadS.toFixed(0)} s (${Math.round(eventCount / loadS).toLocaleString('en')}/s)`);
    // The engine starts after the loaded history: only the events below are new to it.
    const maxRow = (sqlite.prepare('SELECT max(rowid) AS m FROM events').get() as { m: number }).m;
    t = performance.now();
    await eventStatsRepo.rebuild(app.deps.db, maxRow);
    console.log(`per-lead counters rebuilt for the history in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    sqlite.exec('ANALYZE');
    await settingsRepo.set(app.deps.db, 'engine.eventCursor', maxRow, now);
    await settingsRepo.set(app.deps.db, 'bench.now', now, now);
    if (kept) {
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
      fs.copyFileSync(file, kept);
      console.log(`base kept in ${kept}`);
    }
  }

  async function measure() {
    const leadIds = (sqlite.prepare('SELECT id FROM leads ORDER BY id').pluck().all() as string[]);
    const insEvent = sqlite.prepare(`INSERT INTO events (id, lead_id, type, properties, source, occurred_at, received_at) VALUES (?, ?, ?, ?, 'bench', ?, ?)`);
    let t: number;

    console.log('\nSegment counts (builder preview: count + 10-lead sample), median of 5:');
    console.log('| segment | matches | median ms | max ms |');
    console.log('|---|---:|---:|---:|');
    const previewMs: number[] = [];
    for (const [name, def] of Object.entries(SEGMENTS)) {
      const times: number[] = [];
      let count = 0;
      for (let i = 0; i < 5; i++) {
        const s = performance.now();
        count = (await app.services.segments.preview(def)).count;
        times.push(performance.now() - s);
      }
      previewMs.push(median(times));
      console.log(`| ${name} | ${count.toLocaleString('en')} | ${median(times).toFixed(0)} | ${Math.max(...times).toFixed(0)} |`);
    }

    console.log('\nFull recompute of each new segment (membership rows + segment_entered events written):');
    const segIds: string[] = [];
    t = performance.now();
    for (const [name, def] of Object.entries(SEGMENTS)) {
      const s = performance.now();
      const { id } = await app.services.segments.create(actor, { name, definition: def });
      await app.services.segments.idle();
      segIds.push(id);
      const seg = await app.services.segments.get(id);
      console.log(`  ${name}: ${seg.memberCount.toLocaleString('en')} members in ${((performance.now() - s) / 1000).toFixed(1)} s`);
    }
    console.log(`  all 10: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    // Those entries are events too; the incremental runs below should only see new activity.
    await settingsRepo.set(app.deps.db, 'engine.eventCursor', (sqlite.prepare('SELECT max(rowid) AS m FROM events').get() as { m: number }).m, now);

    /** New activity as it would arrive: page views, opens, clicks, forms, and field edits. */
    const appendIncoming = (n: number, seed: number) => {
      const r2 = rng(seed);
      const updCity = sqlite.prepare('UPDATE leads SET city = ?, updated_at = ? WHERE id = ?');
      sqlite.transaction(() => {
        for (let i = 0; i < n; i++) {
          const lead = leadIds[Math.floor(r2() * leadIds.length)];
          const r = r2();
          const id = `in${seed}-${i}`;
          if (r < 0.1) {
            const city = CITIES[Math.floor(r2() * CITIES.length)];
            updCity.run(city, now, lead);
            insEvent.run(id, lead, 'field_changed', JSON.stringify({ field: 'city', from: null, to: city }), now, now);
          } else {
            const type = MIX.find(([, c]) => r < c)![0];
            insEvent.run(id, lead, type, type === 'page_viewed' ? `{"url":"https://site.ru${PAGES[Math.floor(r2() * PAGES.length)]}"}` : '{}', now, now);
          }
        }
      })();
    };

    const drain = async (engine: ReturnType<typeof createEngine>) => {
      const s = performance.now();
      let n = 0;
      for (let k; (k = await engine.dispatchEvents(500, 1_000)); ) n += k;
      return { n, s: (performance.now() - s) / 1000 };
    };

    console.log(`\nIncremental membership, ${incremental.toLocaleString('en')} new events, 10 active segments:`);
    // 1. The segment hook alone, in dispatcher-sized transactions.
    appendIncoming(incremental, 7);
    const fresh = app.deps.db.selectFrom('events').select(['id', 'lead_id', 'type', 'properties']).where('id', 'like', 'in7-%').execute();
    const rows = await fresh;
    t = performance.now();
    for (let i = 0; i < rows.length; i += 500) {
      await app.deps.db.transaction().execute(async (trx) => {
        for (const e of rows.slice(i, i + 500)) await app.services.segments.onEvent(trx, e, JSON.parse(e.properties));
      });
    }
    const hookS = (performance.now() - t) / 1000;
    console.log(`  segment re-evaluation alone: ${Math.round(rows.length / hookS).toLocaleString('en')} events/s (${(hookS * 1e6 / rows.length).toFixed(0)} µs an event)`);
    await settingsRepo.set(app.deps.db, 'engine.eventCursor', (sqlite.prepare('SELECT max(rowid) AS m FROM events').get() as { m: number }).m, now);

    // 2. The whole dispatcher (scoring + segments + flows), and the same without segments.
    appendIncoming(incremental, 8);
    const withSeg = await drain(app.services.engine);
    console.log(`  whole dispatcher with segments: ${Math.round(withSeg.n / withSeg.s).toLocaleString('en')} events/s (${withSeg.n.toLocaleString('en')} events incl. segment_entered/left, ${withSeg.s.toFixed(1)} s)`);
    appendIncoming(incremental, 9);
    const bare = createEngine(app.deps, { email: app.services.email, scoring: app.services.scoring });
    const withoutSeg = await drain(bare);
    console.log(`  whole dispatcher without segments: ${Math.round(withoutSeg.n / withoutSeg.s).toLocaleString('en')} events/s`);

    t = performance.now();
    const changed = await app.services.segments.sweep();
    console.log(`\nSweep of the time-dependent segments (windows, inactivity, decaying engagement; ${segIds.length} segments in all): ${((performance.now() - t) / 1000).toFixed(1)} s, ${changed} membership changes`);
    console.log(`\nslowest segment count: ${Math.max(...previewMs).toFixed(0)} ms (target < 500 ms)`);
  }
}
