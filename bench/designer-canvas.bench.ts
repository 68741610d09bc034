/**
 * Canvas smoothness: opens a 150-node flow in the designer in Chromium (the built app, started as
 * `npm start` serves it) and drags nodes with real mouse moves while recording every frame's
 * duration (requestAnimationFrame deltas) and long tasks (PerformanceObserver). Target: no frame
 * longer than 50 ms while dragging.
 *
 *   npm run bench -- designer-canvas [--nodes 150] [--build build] [--port 4391] [--drags 3]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { createApp } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';
import { openDatabase } from '../src/lib/server/db/database';
import type { WorkflowInput } from '../src/lib/shared/workflow';
import { tidyLayout } from '../src/lib/components/designer/layout';
import { startServer, stopServer } from './support/server';

const arg = (args: string[], name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

/** A long nurture of blocks (email -> wait for a click -> branch on engagement), about `n` nodes. */
export function bigFlow(slug: string, n: number): WorkflowInput {
  const nodes: WorkflowInput['nodes'] = { done: { kind: 'exit' }, won: { kind: 'goal', goal: 'Engaged' } };
  const blocks = Math.ceil((n - 2) / 4);
  for (let i = blocks - 1; i >= 0; i--) {
    const next = i === blocks - 1 ? 'done' : `email_${i + 1}`;
    nodes[`email_${i}`] = { kind: 'send_email', label: `Nurture email ${i + 1}`, template: 'bench-1', next: `click_${i}` };
    nodes[`click_${i}`] = { kind: 'wait_until', eventType: 'email_clicked', timeout: { amount: 3, unit: 'days' }, next: `score_${i}`, timeoutNext: next };
    nodes[`score_${i}`] = { kind: 'adjust_score', score: 'engagement', points: 10, next: `hot_${i}` };
    nodes[`hot_${i}`] = { kind: 'branch', cases: [{ label: 'Hot', condition: { kind: 'score', score: 'engagement', op: 'gte', value: 60 }, next: 'won' }], elseNext: next };
  }
  const wf: WorkflowInput = { slug, name: `Bench ${n}`, trigger: { type: 'manual' }, reentry: { mode: 'never' }, goals: [], start: 'email_0', nodes };
  const pos = tidyLayout(wf);
  for (const [id, p] of Object.entries(pos)) wf.nodes[id] = { ...wf.nodes[id], position: p };
  return wf;
}

export default async function designerCanvasBench(args: string[]) {
  const n = Number(arg(args, '--nodes', '150'));
  const buildDir = path.resolve(arg(args, '--build', process.env.BUILD_DIR ?? 'build'));
  const port = Number(arg(args, '--port', '4391'));
  const drags = Number(arg(args, '--drags', '3'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'designer-bench-'));
  const config = loadConfig({ DATA_DIR: dir, SEED: 'none' });
  const slug = `bench-${n}`;

  // Prepare the base: a marketer, a template and the big flow as a draft.
  const database = openDatabase(config.databasePath);
  const app = await createApp({ config, database });
  const password = 'bench-password-123';
  await app.services.auth.createUser({ id: null, label: 'bench' }, { email: 'bench@nurture.test', name: 'Bench', password, role: 'marketer' });
  await app.deps.db.insertInto('email_templates').values({ id: 'bench-1', slug: 'bench-1', name: 'Bench', subject: 'Hi', body: 'Hello', locale: 'en', updated_at: Date.now() }).execute();
  const actor = { id: null, label: 'bench' };
  await app.services.designer.create(actor, { name: `Bench ${n}`, slug, trigger: { type: 'manual' } });
  const flow = bigFlow(slug, n);
  await app.services.designer.saveDraft(actor, slug, flow, 1);
  const session = await app.services.auth.signIn('bench@nurture.test', password, { ip: '127.0.0.1' });
  await app.close();
  if (!session) throw new Error('could not sign in');

  const server = await startServer({ buildDir, dataDir: dir, port, worker: 'off' });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies([{ name: 'nurture_session', value: session.token, url: `http://127.0.0.1:${port}` }]);
    const page = await context.newPage();
    const opened = performance.now();
    await page.goto(`http://127.0.0.1:${port}/workflows/${slug}/design`);
    await page.waitForFunction((count) => document.querySelectorAll('.svelte-flow__node').length >= count, Object.keys(flow.nodes).length, { timeout: 30_000 });
    const openMs = performance.now() - opened;
    await page.waitForTimeout(1500); // first server check and autosave settle

    // A string, not a function: tsx would wrap named functions in a helper the page does not have.
    await page.evaluate(`(() => {
      window.__frames = []; window.__long = []; window.__on = false;
      let last = performance.now();
      const tick = (t) => { if (window.__on) window.__frames.push(t - last); last = t; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
      new PerformanceObserver((list) => { if (window.__on) for (const e of list.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask' });
    })()`);

    const visible = await page.locator('.svelte-flow__node').evaluateAll((els) =>
      els
        .map((e) => ({ id: e.getAttribute('data-id')!, r: e.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && r.left > 420 && r.right < 1040 && r.top > 120 && r.bottom < 860)
        .map(({ id }) => id)
    );
    for (let d = 0; d < drags; d++) {
      const id = visible[(d * 7) % visible.length];
      const box = (await page.locator(`.svelte-flow__node[data-id="${id}"] .head`).boundingBox())!;
      const x = box.x + box.width / 2;
      const y = box.y + box.height / 2;
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.evaluate(() => ((window as unknown as { __on: boolean }).__on = true));
      // About two seconds of dragging, a mouse move every frame or so.
      for (let i = 0; i < 120; i++) await page.mouse.move(x + Math.sin(i / 10) * 160, y + Math.cos(i / 13) * 90);
      await page.evaluate(() => ((window as unknown as { __on: boolean }).__on = false));
      await page.mouse.up();
      await page.waitForTimeout(600); // drag stop writes positions, autosave and check follow
    }
    const { frames, long } = await page.evaluate(() => {
      const w = window as unknown as { __frames: number[]; __long: number[] };
      return { frames: w.__frames, long: w.__long };
    });
    console.log(`designer-canvas: ${Object.keys(flow.nodes).length} nodes, ${drags} drags, ${frames.length} frames measured`);
    console.log(`  open: ${openMs.toFixed(0)} ms until every node is drawn`);
    console.log(`  frame while dragging: p50 ${pct(frames, 50).toFixed(1)} ms, p95 ${pct(frames, 95).toFixed(1)} ms, max ${Math.max(...frames).toFixed(1)} ms; frames > 50 ms: ${frames.filter((f) => f > 50).length}`);
    console.log(`  long tasks while dragging: ${long.length}${long.length ? `, max ${Math.max(...long).toFixed(0)} ms` : ''}`);
  } finally {
    await browser.close();
    await stopServer(server);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
