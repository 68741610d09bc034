/**
 * `npm run bench -- analytics [leads] [events]`: every analytics view over 100,000 leads and
 * 5,000,000 events (plus stage changes, hand-offs, messages and flow instances) in a temp SQLite
 * file, timed through the same service calls the pages make. Target: each view < 500 ms.
 * Data is written with raw prepared inserts in big transactions; the segments' per-event
 * summary triggers are dropped in this throwaway file only, since analytics never reads them
 * and they would triple the set-up time. The analytics trigger stays, so stage changes reach
 * `analytics_stage_changes` the way they do in the app.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';
import { dayOf, formatDay } from '../src/lib/components/channels/date-range';
import type { AnalyticsInput } from '../src/lib/components/analytics/filters';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const DAY = 86_400_000;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)];

export default async function analyticsBench(args: string[]) {
  const leadCount = Number(args[0] ?? 100_000);
  const eventCount = Number(args[1] ?? 5_000_000);
  // ANALYTICS_BENCH_DB=<file> keeps the generated base between runs (built once, then reused).
  const kept = process.env.ANALYTICS_BENCH_DB;
  const dir = kept ? path.dirname(kept) : fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-bench-analytics-'));
  const file = kept ?? path.join(dir, 'bench.db');
  const reuse = !!kept && fs.existsSync(file);
  const app = await createApp({ config: loadConfig({ DATABASE_URL: file, SEED: 'none' }) });
  const sqlite = app.database.sqlite;
  try {
    if (!reuse) await generate();
    await measure();
  } finally {
    await app.close();
    if (!kept) fs.rmSync(dir, { recursive: true, force: true });
  }

  async function generate() {
    for (const t of sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'events_stats_%'`).pluck().all() as string[])
      sqlite.exec(`DROP TRIGGER ${t}`);
    const actor = { id: null, label: 'bench' };
    const reps: string[] = [];
    for (let i = 0; i < 10; i++)
      reps.push(await app.services.auth.createUser(actor, { email: `rep${i}@bench.local`, name: `Rep ${i}`, password: 'bench-password-1', role: 'sales' }));
    const channels: string[] = [];
    for (const name of ['Яндекс Директ', 'Конференции', 'VK Реклама', 'Google Ads', 'Партнёры', 'Сайт']) channels.push(await app.services.channels.create(actor, { name, kind: 'paid' }));
    const now = Date.now();
    const start = now - 365 * DAY;
    for (const c of channels)
      for (let m = 0; m < 12; m++) await app.services.channels.addSpend(actor, { channelId: c, periodStart: start + m * 30 * DAY, periodEnd: start + (m + 1) * 30 * DAY, amount: 100000 });
    sqlite.exec(`INSERT INTO workflows (id, slug, name, status, current_version_id, trigger_type, trigger_key, created_at, updated_at) VALUES
      ('wf1', 'welcome', 'Welcome', 'active', 'wf1v', 'manual', NULL, ${start}, ${start}), ('wf2', 'nurture', 'Nurture', 'active', 'wf2v', 'manual', NULL, ${start}, ${start})`);
    const def = JSON.stringify({ nodes: { e1: { kind: 'send_email' }, e2: { kind: 'send_email' }, w: { kind: 'wait' }, g: { kind: 'goal' }, x: { kind: 'exit' } } });
    sqlite.prepare(`INSERT INTO workflow_versions (id, workflow_id, version, definition, published_by, published_at) VALUES (?, ?, 1, ?, NULL, ?)`).run('wf1v', 'wf1', def, start);
    sqlite.prepare(`INSERT INTO workflow_versions (id, workflow_id, version, definition, published_by, published_at) VALUES (?, ?, 1, ?, NULL, ?)`).run('wf2v', 'wf2', def, start);

    const rand = rng(7);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    const t0 = performance.now();
    const insLead = sqlite.prepare(`INSERT INTO leads (id, email, name, stage, owner_id, source, channel_id, first_touch, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'api', ?, ?, ?, ?)`);
    const insEvent = sqlite.prepare(`INSERT INTO events (id, lead_id, type, properties, source, occurred_at, received_at) VALUES (?, ?, ?, ?, 'bench', ?, ?)`);
    const insHandoff = sqlite.prepare(`INSERT INTO handoffs (id, lead_id, owner_id, status, rule, attempt, assigned_at, due_at, first_action_at, breached, reason, summary, created_at, updated_at)
      VALUES (?, ?, ?, ?, 'round_robin', 1, ?, ?, ?, ?, ?, '{}', ?, ?)`);
    const insMessage = sqlite.prepare(`INSERT INTO messages (id, message_key, lead_id, template, workflow_id, node_id, to_address, subject, kind, status, status_reason, attempts, created_at, sent_at, opens, machine_opens, clicks, machine_clicks)
      VALUES (?, ?, ?, ?, ?, ?, ?, 'Hi', 'marketing', ?, ?, 1, ?, ?, ?, ?, ?, 0)`);
    const insInstance = sqlite.prepare(`INSERT INTO workflow_instances (id, workflow_id, version_id, lead_id, status, current_node, snapshot, version, enrolled_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '{}', 0, ?, ?)`);
    const leads: { id: string; at: number }[] = [];
    let ev = 0;
    let stageEvents = 0;
    let handoffs = 0;
    let messages = 0;
    const STAGES = ['mql', 'sql', 'opportunity', 'customer'];
    sqlite.transaction(() => {
      for (let i = 0; i < leadCount; i++) {
        const id = `lead-${String(i).padStart(7, '0')}`;
        const at = start + Math.floor(rand() * 360 * DAY);
        const ci = Math.floor(rand() * channels.length);
        // Reach: 30% MQL, then about a third of each step goes on; one channel converts better.
        let reached = 0;
        const boost = ci === 1 ? 1.25 : 1;
        if (rand() < 0.3) reached = 1;
        while (reached > 0 && reached < 4 && rand() < 0.4 * boost) reached++;
        const owner = reached >= 1 ? pick(reps) : null;
        insLead.run(id, `${id}@bench.local`, id, reached ? STAGES[reached - 1] : 'subscriber', owner, channels[ci], JSON.stringify({ utm_campaign: pick(['spring', 'autumn', 'webinar']) }), at, at);
        leads.push({ id, at });
        insEvent.run(`ev-${ev++}`, id, 'lead_created', '{}', at, at);
        let t = at;
        let from = 'subscriber';
        for (let s = 0; s < reached; s++) {
          t += Math.floor(rand() * 10 * DAY);
          const to = STAGES[s];
          insEvent.run(`ev-${ev++}`, id, 'stage_changed', JSON.stringify({ field: 'stage', from, to, by: 'user', ...(to === 'customer' ? { amount: 50000 + Math.floor(rand() * 500000) } : {}) }), t, t);
          stageEvents++;
          from = to;
          if (to === 'mql') {
            const wait = Math.floor(rand() * rand() * 48 * 3_600_000);
            const status = reached >= 2 ? 'accepted' : pick(['rejected', 'recycled', 'open', 'reassigned']);
            insHandoff.run(`h-${handoffs++}`, id, owner, status, t, t + 4 * 3_600_000, t + wait, wait > 4 * 3_600_000 ? 1 : 0, status === 'rejected' ? pick(['bad_fit', 'no_budget', 'other']) : null, t, t);
          }
        }
        if (rand() < 0.5) {
          const wf = rand() < 0.5 ? 'wf1' : 'wf2';
          insInstance.run(`i-${i}`, wf, `${wf}v`, id, pick(['active', 'finished', 'goal', 'exited']), pick(['e1', 'e2', 'w', 'g', 'x']), at, at);
          for (const node of ['e1', 'e2']) {
            const opened = rand() < 0.35;
            insMessage.run(`m-${messages}`, `m-${messages}`, id, `${wf}-${node}`, wf, node, `${id}@bench.local`, rand() < 0.02 ? 'failed' : 'sent', null, at + DAY, at + DAY, opened ? 1 : 0, rand() < 0.2 ? 1 : 0, opened && rand() < 0.3 ? 1 : 0);
            messages++;
            if (rand() < 0.005) insEvent.run(`ev-${ev++}`, id, 'unsubscribed', JSON.stringify({ messageId: `m-${messages - 1}` }), at + 2 * DAY, at + 2 * DAY);
          }
        }
      }
    })();
    const TYPES = ['page_viewed', 'page_viewed', 'page_viewed', 'email_opened', 'email_clicked', 'form_submitted'];
    const BATCH = 200_000;
    while (ev < eventCount) {
      sqlite.transaction(() => {
        for (let k = 0; k < BATCH && ev < eventCount; k++) {
          const l = leads[Math.floor(rand() * leads.length)];
          const at = l.at + Math.floor(rand() * 30 * DAY);
          insEvent.run(`ev-${ev++}`, l.id, pick(TYPES), '{"url":"/pricing"}', at, at);
        }
      })();
    }
    sqlite.exec('ANALYZE');
    const built = (performance.now() - t0) / 1000;
    const scCount = sqlite.prepare('SELECT count(*) FROM analytics_stage_changes').pluck().get();
    console.log(`built in ${built.toFixed(0)} s: ${leadCount} leads, ${ev} events (${stageEvents} stage changes, ${scCount} in analytics_stage_changes), ${handoffs} hand-offs, ${messages} messages`);
  }

  async function measure() {
    const now = Number(sqlite.prepare('SELECT max(created_at) FROM leads').pluck().get());
    const channels = sqlite.prepare('SELECT id FROM channels ORDER BY name').pluck().all() as string[];
    const reps = sqlite.prepare(`SELECT id FROM users WHERE role = 'sales' ORDER BY email`).pluck().all() as string[];

    const day = (ms: number) => formatDay(dayOf(ms));
    const ranges: [string, AnalyticsInput][] = [
      ['30 days', { from: day(now - 30 * DAY), to: day(now) }],
      ['90 days', { from: day(now - 90 * DAY), to: day(now) }],
      ['365 days', { from: day(now - 365 * DAY), to: day(now) }],
      ['90 days, one channel', { from: day(now - 90 * DAY), to: day(now), channelId: channels[0] }],
      ['90 days, one owner', { from: day(now - 90 * DAY), to: day(now), ownerId: reps[0] }]
    ];
    const a = app.services.analytics;
    const views: [string, (i: AnalyticsInput) => Promise<unknown>][] = [
      ['overview', (i) => a.overview(i)],
      ['funnel', (i) => a.funnel(i)],
      ['channels', (i) => a.channels(i)],
      ['sales', (i) => a.sales(i)],
      ['email', (i) => a.email(i)],
      ['flows', (i) => a.flows(i)]
    ];
    const RUNS = Number(process.env.RUNS ?? 7);
    console.log('view       | range                  | p50 ms | p99 ms');
    let worst = 0;
    for (const [name, fn] of views) {
      for (const [label, input] of ranges) {
        const times: number[] = [];
        for (let r = 0; r < RUNS; r++) {
          const s = performance.now();
          await fn(input);
          times.push(performance.now() - s);
        }
        worst = Math.max(worst, pct(times, 0.99));
        console.log(`${name.padEnd(10)} | ${label.padEnd(22)} | ${pct(times, 0.5).toFixed(0).padStart(6)} | ${pct(times, 0.99).toFixed(0).padStart(6)}`);
      }
    }
    console.log(`worst p99 ${worst.toFixed(0)} ms (target < 500 ms)`);
  }
}
