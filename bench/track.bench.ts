/**
 * `npm run bench -- track [requests=60000] [connections=50] [kill-after-ms=4000] [rate]`: the open pixel
 * and click redirect against the BUILT server, started the way `npm start` does (`node
 * scripts/start.js`; build first, BUILD_DIR picks another build). A temp base gets leads that
 * consented to tracking, one sent message each with three stored links; the server starts as a
 * child process (SEED=none, WORKER=off unless BENCH_WORKER=on (in the serving thread) or thread (npm start's default), a known TRACKING_SECRET) and
 * autocannon sends a mix of pixel fetches and link follows with valid tokens.
 *
 * 1. Throughput: req/s, p50/p99, answers that are not 200/302; after a clean stop every answered
 *    hit must be one stored event and one counter step.
 * 2. Crash: a second run is SIGKILLed mid-way; the server restarts on the same file, and every hit
 *    the client got a 200/302 for must be stored ("answered ⇒ stored").
 * Target: ≥ 3,000 req/s, p99 < 50 ms, nothing lost. Without `rate` autocannon sends as fast as
 * the server answers (saturation: the latency then includes queueing); with it, it offers that many
 * requests per second, to read the latency at the target rate.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { processCpuMs, startServer, stopServer } from './support/server';
import SQLite from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { createApp } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';
import { signToken } from '../src/lib/server/email/tokens';

/** The slice of autocannon's programmatic API used here (the package ships no types). */
interface AutocannonRequest {
  method: 'GET';
  path: string;
  headers: Record<string, string>;
  setupRequest: (req: AutocannonRequest) => AutocannonRequest;
  onResponse: (status: number) => void;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  duration: number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
  errors: number;
  timeouts: number;
}
type Autocannon = (
  opts: { url: string; connections: number; amount: number; overallRate?: number; requests: AutocannonRequest[]; timeout?: number },
  cb: (err: Error | null, result: AutocannonResult) => void
) => { stop(): void };
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const PORT = Number(process.env.BENCH_PORT ?? 4320);
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_ARGS ?? '').split(/\s+/).filter(Boolean);
const WORKER = process.env.BENCH_WORKER === 'on' || process.env.BENCH_WORKER === 'thread' ? process.env.BENCH_WORKER : 'off';
const SECRET = 'bench-tracking-secret-0123456789abcdef';
const MESSAGES = 20_000;
const LINKS_PER_MESSAGE = 3;
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

export default async function trackBench(args: string[]) {
  const total = Number(args[0] ?? 60_000);
  const connections = Number(args[1] ?? 50);
  const killAfterMs = Number(args[2] ?? 4000);
  const rate = args[3] ? Number(args[3]) : undefined;
  const buildDir = path.resolve(process.env.BUILD_DIR ?? 'build');
  if (!fs.existsSync(path.join(buildDir, 'handler.js'))) throw new Error(`No built server in ${buildDir}: run \`npm run build\` first (or set BUILD_DIR).`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-bench-track-'));
  const dbFile = path.join(dir, 'nurture.db');
  let server: ChildProcess | undefined;
  try {
    const paths = await prepareBase(dbFile);

    // 1. Throughput, then a clean stop and a count.
    server = await startServer({ buildDir, dataDir: dir, port: PORT, worker: WORKER, nodeArgs: SERVER_NODE_ARGS, env: { TRACKING_SECRET: SECRET } });
    const loadBefore = os.loadavg()[0];
    const cpuBefore = processCpuMs(server.pid!);
    const run1 = await hammer(paths, total, connections, rate);
    const serverCpuMsPerReq = (processCpuMs(server.pid!) - cpuBefore) / run1.result.requests.total;
    const loadAfter = os.loadavg()[0];
    await stopServer(server);
    server = undefined;
    const after1 = countStored(dbFile);

    // 2. SIGKILL mid-run, restart, count again.
    server = await startServer({ buildDir, dataDir: dir, port: PORT, worker: WORKER, nodeArgs: SERVER_NODE_ARGS, env: { TRACKING_SECRET: SECRET } });
    const killed = server;
    const kill = setTimeout(() => killed.kill('SIGKILL'), killAfterMs);
    const run2 = await hammer(paths, total, connections, rate, killed);
    clearTimeout(kill);
    server = await startServer({ buildDir, dataDir: dir, port: PORT, worker: WORKER, nodeArgs: SERVER_NODE_ARGS, env: { TRACKING_SECRET: SECRET } }); // recovers the WAL like any restart
    await stopServer(server);
    server = undefined;
    const after2 = countStored(dbFile);

    const seconds = run1.seconds;
    const answered1 = run1.answered;
    const rps = answered1 / seconds;
    const stored2 = after2.events - after1.events;
    const report = {
      cores: os.cpus().length,
      node: process.version,
      worker: WORKER,
      connections,
      offeredRate: rate ?? 'max',
      throughput: {
        requests: run1.result.requests.total,
        seconds: Number(seconds.toFixed(2)),
        reqPerSec: Math.round(rps),
        serverCpuMsPerReq: Number(serverCpuMsPerReq.toFixed(3)),
        loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadAfter.toFixed(2)) },
        latencyMs: { p50: run1.result.latency.p50, p90: run1.result.latency.p90, p99: run1.result.latency.p99, max: run1.result.latency.max },
        pixel200: run1.result['2xx'],
        redirect302: run1.result['3xx'],
        other: run1.result['4xx'] + run1.result['5xx'],
        errors: run1.result.errors,
        timeouts: run1.result.timeouts,
        storedEvents: after1.events,
        counterSteps: after1.counters,
        lost: answered1 - after1.events
      },
      sigkill: {
        killedAfterMs: killAfterMs,
        answeredBeforeKill: run2.answered,
        storedAfterRestart: stored2,
        counterSteps: after2.counters - after1.counters,
        // Stored but never answered (in flight at the kill) is allowed; answered but not stored is not.
        lost: Math.max(0, run2.answered - stored2),
        storedUnanswered: Math.max(0, stored2 - run2.answered)
      }
    };
    console.log(JSON.stringify(report, null, 2));
    const consistent = after1.events === after1.counters && after2.events === after2.counters;
    const pass = rps >= 3000 && run1.result.latency.p99 < 50 && report.throughput.lost === 0 && report.throughput.other === 0 && report.sigkill.lost === 0 && consistent;
    console.log(pass ? 'PASS: ≥ 3,000 req/s, p99 < 50 ms, no hit lost (clean stop and SIGKILL)' : 'FAIL: below target (≥ 3,000 req/s, p99 < 50 ms, no loss, events = counters)');
    if (!pass) process.exitCode = 1;
  } finally {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Leads, sent messages and their links written straight into the server's file; answers the URL paths to hit. */
async function prepareBase(dbFile: string): Promise<string[]> {
  const app = await createApp({ config: loadConfig({ DATABASE_URL: dbFile, SEED: 'none', TRACKING_SECRET: SECRET }) });
  await app.close(); // migrated; the rows go in through one raw transaction, which is faster
  const db = new SQLite(dbFile);
  const now = Date.now();
  const sentAt = now - 86_400_000; // a day ago: no hit counts as "too soon after sending"
  const paths: string[] = [];
  const insertLead = db.prepare(`INSERT INTO leads (id, email, name, consent_marketing, consent_tracking, source, created_at, updated_at) VALUES (?, ?, ?, 1, 1, 'api', ?, ?)`);
  const insertMessage = db.prepare(
    `INSERT INTO messages (id, message_key, lead_id, template, to_address, subject, kind, status, attempts, created_at, sent_at) VALUES (?, ?, ?, 'bench', ?, 'Bench', 'marketing', 'sent', 1, ?, ?)`
  );
  const insertLink = db.prepare(`INSERT INTO message_links (id, message_id, position, url) VALUES (?, ?, ?, ?)`);
  db.transaction(() => {
    for (let i = 0; i < MESSAGES; i++) {
      const leadId = uuidv7();
      const messageId = uuidv7();
      const email = `lead-${i}@bench.example`;
      insertLead.run(leadId, email, `Лид ${i}`, now, now);
      insertMessage.run(messageId, `bench:${i}`, leadId, email, sentAt, sentAt);
      paths.push(`/t/o/${signToken(SECRET, { kind: 'o', messageId }, now)}`);
      for (let l = 0; l < LINKS_PER_MESSAGE; l++) {
        const linkId = uuidv7();
        insertLink.run(linkId, messageId, l, `https://shop.example.ru/p/${i}/${l}?utm_source=bench`);
        paths.push(`/t/c/${signToken(SECRET, { kind: 'c', messageId, linkId }, now)}`);
      }
    }
  })();
  db.close();
  // Pixel and click alternate; consecutive requests go to different messages.
  const pixels = paths.filter((p) => p.startsWith('/t/o/'));
  const clicks = paths.filter((p) => p.startsWith('/t/c/'));
  const mixed: string[] = [];
  for (let i = 0; i < clicks.length; i++) mixed.push(pixels[(i * 7919) % pixels.length], clicks[(i * 104_729) % clicks.length]);
  return mixed;
}

/** Runs autocannon; with `victim`, stops it shortly after that server process dies. */
function hammer(paths: string[], amount: number, connections: number, rate: number | undefined, victim?: ChildProcess) {
  let n = 0;
  let answered = 0;
  const started = Date.now();
  return new Promise<{ result: AutocannonResult; answered: number; seconds: number }>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${PORT}`,
        connections,
        amount,
        ...(rate ? { overallRate: rate } : {}),
        timeout: 10,
        requests: [
          {
            method: 'GET',
            path: paths[0],
            headers: { 'user-agent': UA },
            setupRequest: (req) => ({ ...req, path: paths[n++ % paths.length] }),
            // Counted per response as it arrives: these are the hits the server answered.
            onResponse: (status) => {
              if (status === 200 || status === 302) answered++;
            }
          }
        ]
      },
      (err, result) => (err ? reject(err) : resolve({ result, answered, seconds: (Date.now() - started) / 1000 }))
    );
    victim?.once('exit', () => setTimeout(() => instance.stop(), 300));
  });
}

function countStored(dbFile: string) {
  const db = new SQLite(dbFile, { readonly: true });
  const events = (db.prepare(`SELECT count(*) AS n FROM events WHERE type IN ('email_opened', 'email_clicked')`).get() as { n: number }).n;
  const counters = (db.prepare(`SELECT coalesce(sum(opens + machine_opens + clicks + machine_clicks), 0) AS n FROM messages`).get() as { n: number }).n;
  db.close();
  return { events, counters };
}

