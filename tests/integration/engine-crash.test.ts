/**
 * Crash test: the worker runs as a child process (the real `worker` command, tests/support/
 * crash-worker.ts) over a SQLite file while 1,000 leads flow through a drip with three emails, two
 * waits and a webhook; it is killed with SIGKILL at random moments and restarted until every lead
 * is through. Then every lead must have reached the end exactly once, every step's effect must
 * have completed exactly once, and the webhook receiver must have seen every effect key.
 *
 * Webhooks leave the process, so toward the remote they are at-least-once: a worker killed after
 * the POST and before recording it posts again after the restart. The `Idempotency-Key` header
 * (the effect key, `instance:version:index`) lets the receiver drop the repeat, and the outbox
 * records exactly one completion per key. Mailbox emails are written in the same transaction that
 * completes their effect, so they are exactly-once outright.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/lib/server/app';
import { loadConfig } from '../../src/lib/server/config';
import { parseLeadInput } from '../../src/lib/server/services/capture.service';
import type { WorkflowInput } from '../../src/lib/shared/workflow';
import { acceleratedClock } from '../support/accelerated-clock';

const LEADS = 1000;
/** The children's clock runs 60× faster: each one-minute wait passes in about a second. */
const SPEED = 60;
const KILLS = 6;
const system = { id: null, label: 'crash-test' };
const root = path.resolve(__dirname, '../..');

let dir: string;
let dbFile: string;
let app: App;
let server: http.Server;
let hookUrl: string;
/** Every webhook call the receiver saw, by Idempotency-Key. */
const calls = new Map<string, number>();
const epoch = Date.now();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-crash-'));
  dbFile = path.join(dir, 'crash.db');
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      calls.set(key, (calls.get(key) ?? 0) + 1);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  app = await createApp({ config: loadConfig({ DATABASE_URL: dbFile, SEED: 'none' }), clock: acceleratedClock(epoch, SPEED) });
});

afterAll(async () => {
  await app?.close();
  server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const drip: WorkflowInput = {
  slug: 'crash-drip',
  name: 'Crash drip',
  trigger: { type: 'lead_created' },
  start: 'e1',
  nodes: {
    e1: { kind: 'send_email', template: 'crash-1', next: 'w1' },
    w1: { kind: 'wait', wait: { type: 'duration', duration: { amount: 1, unit: 'minutes' } }, next: 'e2' },
    e2: { kind: 'send_email', template: 'crash-2', next: 'w2' },
    w2: { kind: 'wait', wait: { type: 'duration', duration: { amount: 1, unit: 'minutes' } }, next: 'hook' },
    hook: { kind: 'webhook', url: 'http://127.0.0.1:1/placeholder', next: 'e3' },
    e3: { kind: 'send_email', template: 'crash-3', next: 'done' },
    done: { kind: 'exit' }
  }
};
const NODES = Object.keys(drip.nodes).length;

interface Worker {
  child: ChildProcess;
  output: string[];
  started: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/crash-worker.ts', '--interval', '20'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: dbFile, WEBHOOK_ALLOW_HOSTS: '127.0.0.1', CRASH_EPOCH: String(epoch), CRASH_CLOCK_SPEED: String(SPEED) },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const output: string[] = [];
  const started = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      output.push(b.toString());
      if (output.join('').includes('[worker] started')) resolve();
    });
    child.once('exit', () => reject(new Error(`worker exited before starting:\n${output.join('')}`)));
  });
  started.catch(() => {});
  child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, output, started, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function remaining() {
  const db = app.deps.db;
  const active = await db.selectFrom('workflow_instances').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'active').executeTakeFirstOrThrow();
  const all = await db.selectFrom('workflow_instances').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const pending = await db.selectFrom('workflow_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
  return LEADS - Number(all.n) + Number(active.n) + Number(pending.n);
}

describe('workflow engine under SIGKILL', () => {
  it('takes 1,000 leads through a drip exactly once while the worker is killed and restarted', { timeout: 240_000 }, async () => {
    const db = app.deps.db;
    await db
      .insertInto('email_templates')
      .values([1, 2, 3].map((i) => ({ id: `tpl-${i}`, slug: `crash-${i}`, name: `crash ${i}`, subject: `Письмо ${i} для {{ lead.first_name }}`, body: 'Здравствуйте!', locale: 'ru', updated_at: 0 })))
      .execute();
    await app.services.engine.publish(system, { ...drip, nodes: { ...drip.nodes, hook: { kind: 'webhook', url: hookUrl, next: 'e3' } } });
    for (let i = 0; i < LEADS; i++)
      await app.services.capture.capture({ input: parseLeadInput({ email: `crash${i}@x.ru`, name: `Лид ${i}` }), source: 'api', actor: system });

    // Kill at random moments while work remains; each child gets 200-1500 ms after it is up.
    const killedWithWorkLeft: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const w = startWorker();
      await w.started;
      await sleep(200 + Math.random() * 1300);
      const left = await remaining();
      w.child.kill('SIGKILL');
      expect((await w.exited).signal).toBe('SIGKILL');
      if (left > 0) killedWithWorkLeft.push(left);
    }
    // The last worker runs to the end and is stopped cleanly.
    const last = startWorker();
    await last.started;
    const deadline = Date.now() + 150_000;
    while ((await remaining()) > 0) {
      if (Date.now() > deadline) throw new Error(`not finished in time; worker said:\n${last.output.join('')}`);
      await sleep(250);
    }
    last.child.kill('SIGTERM');
    expect(await last.exited).toEqual({ code: 0, signal: null });
    expect(last.output.join('')).toContain('[worker] stopped');
    // Most kills must have landed mid-flow, or the test proves little.
    expect(killedWithWorkLeft.length).toBeGreaterThanOrEqual(KILLS - 1);

    // Every lead reached the end, once.
    const instances = await db.selectFrom('workflow_instances').select(['id', 'lead_id', 'status', 'current_node']).execute();
    expect(instances).toHaveLength(LEADS);
    expect(new Set(instances.map((i) => i.lead_id)).size).toBe(LEADS);
    expect(instances.every((i) => i.status === 'exited' && i.current_node === 'done')).toBe(true);

    // Each instance walked each node exactly once (a replayed step would enter a node again).
    const path = await db
      .selectFrom('events')
      .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.count<number>(eb.fn('json_extract', ['properties', eb.val('$.instanceId')])).distinct().as('instances')])
      .where('type', '=', 'workflow_step')
      .executeTakeFirstOrThrow();
    expect(Number(path.n)).toBe(LEADS * NODES);
    expect(Number(path.instances)).toBe(LEADS);

    // Three emails per lead, one per step; the mailbox key is the effect key.
    const mails = await db.selectFrom('mailbox_messages').select(['lead_id', 'node_id', 'message_key']).execute();
    expect(mails).toHaveLength(3 * LEADS);
    const perLead = new Map<string, string[]>();
    for (const m of mails) perLead.set(m.lead_id!, [...(perLead.get(m.lead_id!) ?? []), m.node_id!]);
    expect(perLead.size).toBe(LEADS);
    for (const nodes of perLead.values()) expect(nodes.sort()).toEqual(['e1', 'e2', 'e3']);
    const sent = await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('type', '=', 'email_sent').executeTakeFirstOrThrow();
    expect(Number(sent.n)).toBe(3 * LEADS);

    // One outbox row per (instance, node), every one completed once.
    const effects = await db.selectFrom('workflow_outbox').select(['effect_key', 'instance_id', 'node_id', 'kind', 'status']).execute();
    expect(effects).toHaveLength(4 * LEADS);
    expect(effects.every((e) => e.status === 'done')).toBe(true);
    expect(new Set(effects.map((e) => `${e.instance_id}/${e.node_id}`)).size).toBe(4 * LEADS);
    expect(new Set(mails.map((m) => m.message_key))).toEqual(new Set(effects.filter((e) => e.kind === 'send_email').map((e) => e.effect_key)));

    // The receiver saw every webhook key (some perhaps twice: at-least-once), and no stray key.
    const hookKeys = effects.filter((e) => e.kind === 'webhook').map((e) => e.effect_key);
    expect(new Set(calls.keys())).toEqual(new Set(hookKeys));
    const repeats = [...calls.values()].filter((n) => n > 1).length;
    console.log(`[crash] ${KILLS} kills (${killedWithWorkLeft.length} mid-flow), ${repeats} webhook key(s) delivered more than once, deduplicated by Idempotency-Key`);
    expect(await db.selectFrom('workflow_timers').selectAll().execute()).toEqual([]);
  });
});
