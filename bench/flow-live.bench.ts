/**
 * `npm run bench -- flow-live [--leads N] [--runs N]`: the flow page's live counts for a flow with
 * N enrolled leads (default 100,000), over a temp SQLite file opened like production (WAL, NORMAL).
 *
 * Seeding (not timed) writes, with raw prepared statements in one transaction: N leads, N instances
 * of a 7-node drip (40% waiting in the first wait, 35% in the click wait, 25% exited), every
 * instance's `workflow_step` path entries (≈ 4.5 per lead) and one `messages` row per email sent
 * (≈ 1.9 per lead, with opens, clicks and bounces sprinkled in), then ANALYZE is not run (the app
 * never runs it either). Then `flowRuntime.live.counts(slug)` (what the tRPC `flowRuntime.live`
 * procedure answers and the page polls every 2.5 s) runs `--runs` times (default 30): p50, p99 and
 * max. Target: < 1 s. One drill-down ("who is in the click wait now", 100 rows) is timed too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';
import { openDatabase } from '../src/lib/server/db/database';
import { FakeClock } from '../src/lib/server/ports';
import type { WorkflowInput } from '../src/lib/shared/workflow';

const FLOW: WorkflowInput = {
  slug: 'bench-live',
  name: 'Bench live',
  trigger: { type: 'manual' },
  start: 'e1',
  nodes: {
    e1: { kind: 'send_email', template: 'bench-1', next: 'w1' },
    w1: { kind: 'wait', wait: { type: 'duration', duration: { amount: 3, unit: 'days' } }, next: 'e2' },
    e2: { kind: 'send_email', template: 'bench-2', next: 'click' },
    click: { kind: 'wait_until', eventType: 'email_clicked', timeout: { amount: 5, unit: 'days' }, next: 'done', timeoutNext: 'e3' },
    e3: { kind: 'send_email', template: 'bench-3', next: 'done' },
    done: { kind: 'exit' }
  }
};

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

export default async function flowLiveBench(args: string[]) {
  const n = arg(args, '--leads', 100_000);
  const runs = arg(args, '--runs', 30);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flow-live-bench-'));
  const file = path.join(dir, 'bench.db');
  const clock = new FakeClock();
  const database = openDatabase(file);
  const app = await createApp({ config: loadConfig({ DATABASE_URL: file, SEED: 'none' }), clock, database });
  try {
    const now = clock.now();
    await app.deps.db
      .insertInto('email_templates')
      .values(['bench-1', 'bench-2', 'bench-3'].map((slug) => ({ id: slug, slug, name: slug, subject: 'Hi {{ lead.first_name }}', body: 'Hello', locale: 'en', updated_at: now })))
      .execute();
    const { workflowId, versionId } = await app.services.engine.publish({ id: null, label: 'bench' }, FLOW);

    const seedStarted = performance.now();
    const db = database.sqlite;
    const lead = db.prepare(
      `INSERT INTO leads (id, email, name, attributes, stage, consent_marketing, consent_tracking, source, first_touch, last_touch, fit_score, engagement_score, search_text, created_at, updated_at)
       VALUES (?, ?, ?, '{}', 'lead', 1, 1, 'bench', '{}', '{}', 0, 0, '', ?, ?)`
    );
    const inst = db.prepare(
      `INSERT INTO workflow_instances (id, workflow_id, version_id, lead_id, status, current_node, snapshot, version, awaiting, error, enrolled_at, updated_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, '{}', 1, ?, NULL, ?, ?, ?)`
    );
    const step = db.prepare(`INSERT INTO events (id, lead_id, type, properties, source, actor_id, occurred_at, received_at, dedupe_key) VALUES (?, ?, 'workflow_step', ?, 'workflow', NULL, ?, ?, NULL)`);
    const msg = db.prepare(
      `INSERT INTO messages (id, message_key, lead_id, template, workflow_id, node_id, to_address, subject, kind, status, status_reason, attempts, created_at, sent_at, opens, machine_opens, clicks, machine_clicks)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'Hi', 'marketing', ?, ?, 1, ?, ?, ?, 0, ?, 0)`
    );
    let steps = 0;
    let messages = 0;
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const leadId = `lead-${String(i).padStart(7, '0')}`;
        const instanceId = `inst-${String(i).padStart(7, '0')}`;
        const email = `lead${i}@bench.local`;
        lead.run(leadId, email, `Lead ${i}`, now, now);
        const r = i % 20;
        const path = r < 8 ? ['e1', 'w1'] : r < 15 ? ['e1', 'w1', 'e2', 'click'] : r < 18 ? ['e1', 'w1', 'e2', 'click', 'e3', 'done'] : ['e1', 'w1', 'e2', 'click', 'done'];
        const at = path[path.length - 1];
        const active = at !== 'done';
        inst.run(instanceId, workflowId, versionId, leadId, active ? 'active' : 'exited', at, at === 'click' ? ' email_clicked ' : null, now, now, active ? null : now);
        for (const node of path) {
          step.run(`step-${steps++}`, leadId, JSON.stringify({ workflowId, workflow: FLOW.slug, instanceId, nodeId: node, kind: FLOW.nodes[node].kind }), now, now);
          if (node.startsWith('e')) {
            const bounced = i % 97 === 0;
            msg.run(`msg-${messages}`, `${instanceId}:${messages}`, leadId, `bench-${node.slice(1)}`, workflowId, node, email, bounced ? 'failed' : 'sent', bounced ? 'hard bounce (smtp)' : null, now, bounced ? null : now, i % 3 === 0 ? 1 : 0, i % 7 === 0 ? 1 : 0);
            messages++;
          }
        }
      }
    })();
    const seedS = (performance.now() - seedStarted) / 1000;
    console.log(`seeded ${n.toLocaleString('en')} leads and instances, ${steps.toLocaleString('en')} path entries, ${messages.toLocaleString('en')} messages in ${seedS.toFixed(1)} s`);

    const live = app.services.flowRuntime.live;
    const first = performance.now();
    const c = await live.counts(FLOW.slug);
    const firstMs = performance.now() - first;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await live.counts(FLOW.slug);
      times.push(performance.now() - t);
    }
    const drill: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await live.leads(FLOW.slug, 'click', 'now', 100);
      drill.push(performance.now() - t);
    }
    console.log(`counts: w1 now ${c.perNode.w1.now}, click now ${c.perNode.click.now}, e1 sent ${c.perNode.e1.email?.sent}, e1 opens ${c.perNode.e1.email?.opens}, bounces ${c.perNode.e1.email?.bounces}, e2 passed ${c.perNode.e2.passed}`);
    console.log(`live counts, ${n.toLocaleString('en')} leads: first ${firstMs.toFixed(0)} ms; ${runs} runs p50 ${pct(times, 50).toFixed(0)} ms, p99 ${pct(times, 99).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (target < 1000 ms)`);
    console.log(`drill-down "in the click wait now" (100 leads): p50 ${pct(drill, 50).toFixed(1)} ms, max ${Math.max(...drill).toFixed(1)} ms`);
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
