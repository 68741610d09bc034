/**
 * `npm run bench -- handoff [handoffs] [backgroundPerSecond]`: time from the event that carries a
 * lead over the MQL threshold to the hand-off being visible to its rep, with background event load
 * through the real dispatcher and the worker in-process (a temp SQLite file, real clock, the shipped
 * mql-to-sql-handoff flow). Two figures per lead:
 *  - live: the rep's subscribe callback fires (what the inbox's event stream forwards);
 *  - inbox: the rep's inbox query, run on that notice, returns the hand-off.
 * Target: p99 < 1 s at 200 background events/s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';
import { toUser, usersRepo } from '../src/lib/server/repositories/users.repo';
import type { HandoffUser } from '../src/lib/server/services/handoff.service';
import { parseLeadInput } from '../src/lib/server/services/capture.service';

const system = { id: null, label: 'bench' };
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export default async function handoffBench(args: string[]) {
  const handoffs = Number(args[0] ?? 200);
  const backgroundRate = Number(args[1] ?? 200);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-bench-handoff-'));
  const app = await createApp({ config: loadConfig({ DATABASE_URL: path.join(dir, 'bench.db'), SEED: 'none', WORKER: 'off' }) });
  const { services } = app;
  await services.engine.loadWorkflowsDir(path.resolve('workflows'), system);
  // Round the clock so the SLA never gets in the way of what is measured; capacity off.
  const s = structuredClone(await services.handoff.settings());
  s.sla.calendar = { ...s.sla.calendar, days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59' };
  s.routing.capacity = null;
  await services.handoff.updateSettings(system, s);

  const reps: HandoffUser[] = [];
  for (let i = 0; i < 5; i++) {
    const id = await services.auth.createUser(system, { email: `rep${i}@bench.local`, name: `Rep ${i}`, password: 'password-123456', role: 'sales' });
    reps.push(toUser((await usersRepo.findById(app.deps.db, id))!));
  }

  // Background leads (free mailboxes: they never qualify) and target leads one event short of MQL.
  const background: string[] = [];
  const targets: string[] = [];
  for (let i = 0; i < 500; i++) background.push((await services.capture.capture({ input: parseLeadInput({ email: `bg${i}@gmail.com`, name: `Фон ${i}` }), source: 'api', actor: system })).leadId);
  for (let i = 0; i < handoffs; i++) {
    const r = await services.capture.capture({ input: parseLeadInput({ email: `t${i}@acme${i}.ru`, name: `Цель ${i}`, job_title: 'Коммерческий директор', company_size: '200-500' }), source: 'api', actor: system });
    targets.push(r.leadId);
    await services.events.ingest(system, { leadId: r.leadId, type: 'form_submitted', properties: { formSlug: 'demo' } });
  }
  await services.engine.runUntilIdle(100_000);
  console.log(`[handoff] ${background.length} background leads, ${targets.length} target leads at fit 50 / engagement 20; ${reps.length} reps`);

  const sentAt = new Map<string, number>();
  const live: number[] = [];
  const inbox: number[] = [];
  let seen = 0;
  const unsubscribe = reps.map((rep) =>
    services.handoff.subscribe(rep.id, (n) => {
      if (n.type !== 'assigned' || !n.handoffId) return;
      const t1 = performance.now();
      void services.handoff.inbox(rep).then((box) => {
        const h = box.handoffs.find((x) => x.id === n.handoffId);
        const t0 = h ? sentAt.get(h.leadId) : undefined;
        if (!h || t0 === undefined) return;
        live.push(t1 - t0);
        inbox.push(performance.now() - t0);
        seen++;
      });
    })
  );

  const worker = services.engine.startWorker();
  let backgroundSent = 0;
  let stop = false;
  // 200 events/s as ten-event bursts every 50 ms: page views and opens that score but never qualify.
  const load = (async () => {
    const started = performance.now();
    while (!stop) {
      const due = Math.floor(((performance.now() - started) / 1000) * backgroundRate);
      for (; backgroundSent < due; backgroundSent++) {
        const leadId = background[backgroundSent % background.length];
        await services.events.ingest(system, backgroundSent % 2 ? { leadId, type: 'page_viewed', properties: { url: `https://acme.ru/blog/${backgroundSent}` } } : { leadId, type: 'email_opened', properties: { messageId: `m${backgroundSent}` } });
      }
      await sleep(50);
    }
    return (backgroundSent / (performance.now() - started)) * 1000;
  })();

  await sleep(2000); // let the background load settle
  const gap = 100; // one qualifying event every 100 ms, between the background bursts
  for (const leadId of targets) {
    sentAt.set(leadId, performance.now());
    await services.events.ingest(system, { leadId, type: 'demo_requested', properties: {} });
    await sleep(gap);
  }
  const deadline = performance.now() + 10_000;
  while (seen < targets.length && performance.now() < deadline) await sleep(50);
  stop = true;
  const rate = await load;
  await worker.stop();
  unsubscribe.forEach((u) => u());

  const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(0)} ms, p99 ${pct(xs, 99).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
  console.log(`[handoff] background load ${rate.toFixed(0)} events/s through the dispatcher (worker in-process)`);
  console.log(`[handoff] ${seen}/${targets.length} hand-offs seen`);
  console.log(`[handoff] MQL event -> rep notified (subscribe): ${fmt(live)}`);
  console.log(`[handoff] MQL event -> inbox query returns it:   ${fmt(inbox)}`);
  const open = await app.deps.db.selectFrom('handoffs').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'open').executeTakeFirstOrThrow();
  console.log(`[handoff] open hand-offs in the base: ${open.n}; ${pct(inbox, 99) < 1000 && seen === targets.length ? 'target met (p99 < 1 s)' : 'TARGET MISSED'}`);
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
