/**
 * `npm run bench -- engine [--leads N] [--batch N] [--compare N] [--no-profile]`: the workflow
 * engine end to end on one process over a temp SQLite file opened like production (WAL, NORMAL).
 *
 * N leads (default 100,000) and their `lead_created` events are written first (not timed). Then:
 *  1. enroll:  the dispatcher reads the events and enrolls every lead in a 5-node flow
 *              (update_field → adjust_score → wait 1 day → send_email → exit); the data effects
 *              run inline and their field/score events are dispatched back to the instances;
 *  2. timers:  the fake clock moves one day, so N timers fall due at once; `runDueTimers` drains
 *              them (target < 40 s for 100,000, peak RSS < 300 MB);
 *  3. outbox:  `runOutbox` sends the N emails into the database mailbox, and the dispatcher reads
 *              the `email_sent` events.
 * Steps/s is node steps (a node entered: event → transition → persist → timers/outbox) over the
 * wall time of all three phases; target ≥ 3,000. Then a profiled run (time inside XState, JSON
 * and SQLite) and the same workload at batch sizes 1, 50 and 500 (`--compare N` leads, default
 * 10,000; 0 skips).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import type SQLite from 'better-sqlite3';
import { createApp, type App } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';
import { openDatabase, type Database } from '../src/lib/server/db/database';
import type { DB, EventsTable, LeadsTable } from '../src/lib/server/db/schema';
import { FakeClock } from '../src/lib/server/ports';
import { leadsRepo } from '../src/lib/server/repositories/leads.repo';
import { eventsRepo } from '../src/lib/server/repositories/events.repo';
import { newLeadRow } from '../src/lib/server/services/lead-merge';
import { engineProfile } from '../src/lib/server/engine/profile';
import type { WorkflowInput } from '../src/lib/shared/workflow';

const DAY = 86_400_000;
const FLOW: WorkflowInput = {
  slug: 'bench-nurture',
  name: 'Bench nurture',
  trigger: { type: 'lead_created' },
  start: 'tag',
  nodes: {
    tag: { kind: 'update_field', field: 'attr:nurture', value: 'bench', next: 'score' },
    score: { kind: 'adjust_score', score: 'engagement', points: 5, reason: 'entered nurture', next: 'wait' },
    wait: { kind: 'wait', wait: { type: 'duration', duration: { amount: 1, unit: 'days' } }, next: 'mail' },
    mail: { kind: 'send_email', template: 'bench-hello', next: 'end' },
    end: { kind: 'exit' }
  }
};
const NODES_PER_LEAD = Object.keys(FLOW.nodes).length;

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** SQLite's own time: Kysely gets statements whose every run is timed. */
let sqliteMs = 0;
/** Per SQL text, for `--statements`: where SQLite's time goes. */
const statementMs = new Map<string, { ms: number; n: number }>();
function openTimedDatabase(file: string): Database {
  const base = openDatabase(file);
  const raw = base.sqlite;
  const cache = new Map<string, unknown>();
  // Kysely's driver passes the parameters as one array, which better-sqlite3 binds as is.
  const prepare = (text: string) => {
    let s = cache.get(text);
    if (!s) {
      const st = raw.prepare(text);
      const byText = <R>(fn: (p: unknown[]) => R) => (p: unknown[]): R => {
        const t = performance.now();
        try {
          return fn(p);
        } finally {
          const ms = performance.now() - t;
          sqliteMs += ms;
          const e = statementMs.get(text) ?? { ms: 0, n: 0 };
          e.ms += ms;
          e.n++;
          statementMs.set(text, e);
        }
      };
      s = { reader: st.reader, all: byText((p) => st.all(p)), run: byText((p) => st.run(p)), iterate: (p: unknown[]) => st.iterate(p) };
      cache.set(text, s);
    }
    return s;
  };
  const wrapped = { prepare, close: () => raw.close() };
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: wrapped as unknown as SQLite.Database }) });
  return { db, sqlite: raw, close: () => db.destroy() };
}

class RssWatch {
  peak = 0;
  private timer = setInterval(() => this.sample(), 25);
  sample() {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }
  stop() {
    clearInterval(this.timer);
    this.sample();
    return this.peak / 1024 / 1024;
  }
}

interface Phase {
  name: string;
  ms: number;
  steps: number;
  nodes: number;
  rounds: number;
  effects: number;
  rssPeakMb: number;
}

interface RunResult {
  leads: number;
  batch: number;
  phases: Phase[];
  totalMs: number;
  steps: number;
  transitions: number;
  nodes: number;
  baselineRssMb: number;
  profile?: { transitionMs: number; jsonMs: number; sqliteMs: number };
  check: { exited: number; mails: number; pendingTimers: number; pendingEffects: number };
}

async function seed(app: App, leads: number, clock: FakeClock) {
  const now = clock.now();
  await app.deps.db
    .insertInto('email_templates')
    .values({ id: 'tpl-bench', slug: 'bench-hello', name: 'hello', subject: 'Здравствуйте, {{ lead.first_name }}', body: 'Спасибо за интерес, {{ lead.name }}!', locale: 'ru', updated_at: now })
    .execute();
  await app.services.engine.publish({ id: null, label: 'bench' }, FLOW);
  const CHUNK = 5000;
  for (let done = 0; done < leads; done += CHUNK) {
    const rows: LeadsTable[] = [];
    const events: EventsTable[] = [];
    for (let i = done; i < Math.min(leads, done + CHUNK); i++) {
      const id = `lead-${String(i).padStart(7, '0')}`;
      rows.push(newLeadRow({ id, input: { email: `lead.${i}@bench.example`, phone: undefined, name: `Иван Петров ${i}` }, source: 'api', channelId: null, touch: {}, now, ownerId: null }));
      events.push({ id: `ev-${i}`, lead_id: id, type: 'lead_created', properties: '{}', source: 'api', actor_id: null, occurred_at: now, received_at: now, dedupe_key: null });
    }
    await app.deps.db.transaction().execute(async (trx) => {
      await leadsRepo.insertMany(trx, rows);
      await eventsRepo.appendMany(trx, events);
    });
  }
}

async function drain(name: string, work: () => Promise<number>): Promise<Phase> {
  const rss = new RssWatch();
  const steps0 = engineProfile.steps;
  const nodes0 = engineProfile.nodes;
  const effects0 = engineProfile.effects;
  const t0 = performance.now();
  let rounds = 0;
  while ((await work()) > 0) {
    rounds++;
    rss.sample();
  }
  return { name, ms: performance.now() - t0, steps: engineProfile.steps - steps0, nodes: engineProfile.nodes - nodes0, effects: engineProfile.effects - effects0, rounds, rssPeakMb: rss.stop() };
}

async function runOnce(leads: number, batch: number, profile: boolean): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-bench-engine-'));
  const file = path.join(dir, 'bench.db');
  const database = profile ? openTimedDatabase(file) : openDatabase(file);
  const clock = new FakeClock();
  const app = await createApp({ config: loadConfig({ DATABASE_URL: file, SEED: 'none' }), clock, database });
  try {
    await seed(app, leads, clock);
    const engine = app.services.engine;
    global.gc?.();
    const baselineRssMb = process.memoryUsage.rss() / 1024 / 1024;
    engineProfile.reset();
    engineProfile.timing = profile;
    sqliteMs = 0;
    statementMs.clear();
    const phases: Phase[] = [];
    phases.push(await drain('enroll (dispatch lead_created + fact events)', () => engine.dispatchEvents(batch)));
    clock.advance(DAY + 1);
    phases.push(await drain('timers (all due at once)', () => engine.runDueTimers(batch)));
    phases.push(await drain('outbox (mailbox sends) + dispatch', async () => (await engine.runOutbox(batch)) + (await engine.dispatchEvents(batch))));
    engineProfile.timing = false;
    const db = app.deps.db;
    const count = async (q: Promise<{ n: number | string | bigint } | undefined>) => Number((await q)?.n ?? 0);
    const check = {
      exited: await count(db.selectFrom('workflow_instances').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'exited').executeTakeFirst()),
      mails: await count(db.selectFrom('mailbox_messages').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()),
      pendingTimers: await count(db.selectFrom('workflow_timers').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()),
      pendingEffects: await count(db.selectFrom('workflow_outbox').select((eb) => eb.fn.countAll().as('n')).where('status', '!=', 'done').executeTakeFirst())
    };
    return {
      leads,
      batch,
      baselineRssMb,
      phases,
      totalMs: phases.reduce((s, p) => s + p.ms, 0),
      steps: engineProfile.steps,
      transitions: engineProfile.transitions,
      nodes: engineProfile.nodes,
      profile: profile ? { transitionMs: engineProfile.transitionMs, jsonMs: engineProfile.jsonMs, sqliteMs } : undefined,
      check
    };
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let showStatements = false;
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function report(r: RunResult) {
  console.log(`\n${fmt(r.leads)} leads, batch ${r.batch}: ${fmt(r.totalMs / 1000, 1)} s, ${fmt(r.nodes)} node steps = ${fmt(r.nodes / (r.totalMs / 1000))} steps/s (${fmt(r.steps)} events into instances, ${fmt(r.transitions)} transitions)`);
  console.log(`RSS before the timed phases: ${fmt(r.baselineRssMb)} MB`);
  console.log('| phase | s | events into instances | node steps | steps/s | outbox effects run | peak RSS MB |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const p of r.phases)
    console.log(`| ${p.name} | ${fmt(p.ms / 1000, 1)} | ${fmt(p.steps)} | ${fmt(p.nodes)} | ${fmt(p.nodes / (p.ms / 1000))} | ${fmt(p.effects)} | ${fmt(p.rssPeakMb)} |`);
  const ok = r.check.exited === r.leads && r.check.mails === r.leads && r.check.pendingTimers === 0 && r.check.pendingEffects === 0 && r.nodes === r.leads * NODES_PER_LEAD;
  console.log(`check: ${r.check.exited} exited, ${r.check.mails} mails, ${r.check.pendingTimers} timers and ${r.check.pendingEffects} effects left → ${ok ? 'ok' : 'WRONG'}`);
  if (!ok) process.exitCode = 1;
  if (r.profile) {
    const { transitionMs, jsonMs, sqliteMs: sq } = r.profile;
    const other = r.totalMs - transitionMs - jsonMs - sq;
    const pct = (x: number) => `${fmt((100 * x) / r.totalMs)} %`;
    console.log('| where the time goes | s | share | µs per node step |');
    console.log('|---|---:|---:|---:|');
    for (const [name, ms] of [
      ['XState (resolve, transition, persist)', transitionMs],
      ['JSON (snapshots, facts)', jsonMs],
      ['SQLite (inside statements)', sq],
      ['rest (Kysely building, effect handlers, Liquid, glue)', other]
    ] as const)
      console.log(`| ${name} | ${fmt(ms / 1000, 2)} | ${pct(ms)} | ${fmt((1000 * ms) / r.nodes, 1)} |`);
    if (showStatements) {
      console.log('| slowest statements | s | runs |\n|---|---:|---:|');
      for (const [text, e] of [...statementMs].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12))
        console.log(`| ${text.replace(/\s+/g, ' ').slice(0, 160)} | ${fmt(e.ms / 1000, 2)} | ${fmt(e.n)} |`);
    }
  }
}

export default async function engineBench(args: string[]) {
  const leads = Number(arg(args, '--leads') ?? 100_000);
  const batch = Number(arg(args, '--batch') ?? 500);
  const compare = Number(arg(args, '--compare') ?? 10_000);
  const profile = !args.includes('--no-profile');
  showStatements = args.includes('--statements');
  console.log(`engine bench: node ${process.version}, ${os.cpus().length} CPUs (nproc ${os.availableParallelism()}), ${os.cpus()[0]?.model ?? ''}`);

  const main = await runOnce(leads, batch, false);
  report(main);
  const timers = main.phases[1];
  console.log(`\ntargets: ${fmt(main.nodes / (main.totalMs / 1000))} steps/s (≥ 3,000), ${fmt(timers.steps)} due timers drained in ${fmt(timers.ms / 1000, 1)} s (< 40 s), peak RSS ${fmt(Math.max(...main.phases.map((p) => p.rssPeakMb)))} MB (< 300)`);

  if (profile) report(await runOnce(Math.min(leads, compare || leads), batch, true));
  if (compare > 0) {
    console.log(`\nbatch size (steps per transaction), ${fmt(compare)} leads:`);
    console.log('| batch | enroll steps/s | timer steps/s | outbox effects/s | all, steps/s |');
    console.log('|---:|---:|---:|---:|---:|');
    for (const b of [1, 50, 500]) {
      const r = await runOnce(compare, b, false);
      const rate = (p: Phase) => fmt(p.nodes / (p.ms / 1000));
      console.log(`| ${b} | ${rate(r.phases[0])} | ${rate(r.phases[1])} | ${fmt(r.phases[2].effects / (r.phases[2].ms / 1000))} | ${fmt(r.nodes / (r.totalMs / 1000))} |`);
    }
  }
}
