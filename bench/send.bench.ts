/**
 * `npm run bench -- send [--messages N] [--pool N] [--concurrency N] [--nagle]`: N flow emails
 * (default 20,000) through `delivery.deliver` and the SMTP pool transport to a local smtp-server
 * sink, over a temp SQLite file opened like production (WAL, NORMAL).
 *
 * The sink runs in a child process (it is the "other machine": its parsing must not share the
 * bench's core). Per message the bench does what the outbox will: the `messages` row is queued
 * inside a transaction (timed apart), then `deliver` reads it, checks suppressions, commits
 * `sending`, sends over SMTP, and commits `sent` with the `email_sent` event on the lead.
 * Target ≥ 500 messages/s, and exactly one received message per message key: the sink counts
 * by Message-ID header, and every row must end `sent`.
 * `--nagle` leaves Nagle's algorithm on (TCP_NODELAY off) to show what it costs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';
import { FakeClock } from '../src/lib/server/ports';
import { leadsRepo } from '../src/lib/server/repositories/leads.repo';
import { newLeadRow } from '../src/lib/server/services/lead-merge';
import { createDelivery } from '../src/lib/server/email/delivery';
import { createSmtpTransport } from '../src/lib/server/email/smtp-transport';
import { messageIdHeaderFor } from '../src/lib/server/email/message-headers';
import type { OutgoingMessage } from '../src/lib/server/email/contract';
import { startSmtpSink } from '../tests/support/smtp-sink';

const SINK_PORT = 2530;
const DOMAIN = 'bench.nurture.example';
const FROM = '"Команда Nurture" <hello@bench.nurture.example>';

type SinkReport = { accepted: number; connections: number; counts: [string, number][]; cpuMs: number };

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

/** The child: a sink that keeps only counts by Message-ID, answering the parent over IPC. */
async function runSinkChild() {
  const sink = await startSmtpSink({ port: SINK_PORT, parse: false });
  process.on('message', async (msg: string) => {
    if (msg === 'report') {
      const cpu = process.cpuUsage();
      const report: SinkReport = { accepted: sink.accepted(), connections: sink.connections(), counts: [...sink.countsByMessageId], cpuMs: (cpu.user + cpu.system) / 1000 };
      process.send!(report);
    } else if (msg === 'close') {
      await sink.close();
      process.exit(0);
    }
  });
  process.send!('ready');
}

function startSinkChild(): Promise<ChildProcess> {
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, SEND_BENCH_SINK: '1' }, execArgv: process.execArgv, stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve(child) : reject(new Error(`sink child said ${String(m)}`))));
    child.once('exit', (code) => reject(new Error(`sink child exited with ${code}`)));
  });
}

const ask = (child: ChildProcess) =>
  new Promise<SinkReport>((resolve) => {
    child.once('message', (m) => resolve(m as SinkReport));
    child.send('report');
  });

export default async function sendBench(args: string[]) {
  const total = arg(args, '--messages', 20_000);
  const poolSize = arg(args, '--pool', 10);
  const concurrency = arg(args, '--concurrency', 200);
  const nagle = args.includes('--nagle');
  const loadBefore = os.loadavg();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-send-bench-'));
  const config = loadConfig({ DATABASE_URL: path.join(dir, 'bench.db'), SEED: 'none', WORKER: 'off' });
  const clock = new FakeClock(Date.now());
  const app = await createApp({ config, clock });
  const child = await startSinkChild();
  const transport = createSmtpTransport({ url: `smtp://127.0.0.1:${SINK_PORT}`, from: FROM, poolSize, noDelay: !nagle });
  const delivery = createDelivery(app.deps, transport);

  try {
    // Leads (not timed): every message goes to its own lead, like one step of a flow.
    const leadIds: string[] = [];
    for (let i = 0; i < total; i += 1000) {
      const rows = [];
      for (let j = i; j < Math.min(total, i + 1000); j++) {
        const id = app.deps.ids.newId();
        leadIds.push(id);
        rows.push(newLeadRow({ id, input: { email: `lead.${j}@bench.example`, phone: undefined, name: `Иван Петров ${j}` }, source: 'api', channelId: null, touch: {}, now: clock.now(), ownerId: null }));
      }
      await leadsRepo.insertMany(app.deps.db, rows);
    }

    // Queue: what the outbox transaction writes per send_email effect (here 500 a transaction).
    const tQueue = performance.now();
    const ids: string[] = new Array(total);
    const keyOf = (i: number) => `bench-instance-${i}:3:1`;
    for (let i = 0; i < total; i += 500) {
      await app.deps.db.transaction().execute(async (trx) => {
        for (let j = i; j < Math.min(total, i + 500); j++) {
          ids[j] = await delivery.queue(trx, { messageKey: keyOf(j), leadId: leadIds[j], to: `lead.${j}@bench.example`, toName: `Иван Петров ${j}`, template: 'bench-hello', kind: 'marketing', workflowId: 'wf-bench', nodeId: 'mail', subject: 'Добро пожаловать!' });
        }
      });
    }
    const queueMs = performance.now() - tQueue;

    const build = (j: number) => async (): Promise<OutgoingMessage> => ({
      id: ids[j],
      messageKey: keyOf(j),
      from: FROM,
      to: `lead.${j}@bench.example`,
      toName: `Иван Петров ${j}`,
      subject: 'Добро пожаловать!',
      html: `<p>Здравствуйте, Иван Петров ${j}!</p><p><a href="https://bench.nurture.example/t/c/${j}">Посмотреть вебинар</a></p>`,
      text: `Здравствуйте, Иван Петров ${j}!\n\nПосмотреть вебинар: https://bench.nurture.example/t/c/${j}\n`,
      headers: { 'List-Unsubscribe': `<https://bench.nurture.example/u/${j}>, <mailto:unsubscribe@bench.nurture.example?subject=${j}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      messageIdHeader: messageIdHeaderFor(keyOf(j), DOMAIN)
    });

    // Deliver: `concurrency` sends in flight over `poolSize` SMTP connections.
    const statuses = new Map<string, number>();
    let next = 0;
    const cpu0 = process.cpuUsage();
    const tSend = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const j = next++;
          const r = await delivery.deliver(ids[j], build(j));
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      })
    );
    const sendMs = performance.now() - tSend;
    const cpu = process.cpuUsage(cpu0);

    const report = await ask(child);
    const counts = new Map(report.counts);
    const expected = new Set(Array.from({ length: total }, (_, j) => messageIdHeaderFor(keyOf(j), DOMAIN)));
    const dupes = [...counts].filter(([, n]) => n > 1).length;
    const missing = [...expected].filter((id) => !counts.has(id)).length;
    const strangers = [...counts.keys()].filter((id) => !expected.has(id)).length;
    const rows = await app.deps.db.selectFrom('messages').select(({ fn }) => ['status', fn.countAll<number>().as('n')]).groupBy('status').execute();
    const events = await app.deps.db.selectFrom('events').select(({ fn }) => fn.countAll<number>().as('n')).where('type', '=', 'email_sent').executeTakeFirstOrThrow();

    const rate = total / (sendMs / 1000);
    const exactlyOnce = report.accepted === total && dupes === 0 && missing === 0 && strangers === 0 && rows.length === 1 && rows[0].status === 'sent' && Number(events.n) === total;
    console.log(`send: ${total} messages, pool ${poolSize} connections (TCP_NODELAY ${nagle ? 'off' : 'on'}), ${concurrency} in flight; nproc ${os.availableParallelism()}`);
    console.log(`  load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`  queue (rows in transactions of 500): ${queueMs.toFixed(0)} ms (${Math.round(total / (queueMs / 1000))} rows/s)`);
    console.log(`  deliver: ${(sendMs / 1000).toFixed(2)} s, ${rate.toFixed(0)} messages/s (target ≥ 500) ${rate >= 500 ? 'MET' : 'NOT MET'}`);
    console.log(`  CPU: bench ${((cpu.user + cpu.system) / 1000 / total).toFixed(3)} ms/message; sink child ${(report.cpuMs / total).toFixed(3)} ms/message; sink saw ${report.connections} connections`);
    console.log(`  results: ${[...statuses].map(([s, n]) => `${s} ${n}`).join(', ')}; rows: ${rows.map((r) => `${r.status} ${r.n}`).join(', ')}; email_sent events ${events.n}`);
    console.log(`  sink: accepted ${report.accepted}, distinct Message-IDs ${counts.size}, duplicates ${dupes}, missing ${missing}, unknown ${strangers}: exactly once ${exactlyOnce ? 'YES' : 'NO'}`);
    if (!exactlyOnce) process.exitCode = 1;
  } finally {
    await transport.close();
    child.send('close');
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.SEND_BENCH_SINK === '1') void runSinkChild();
