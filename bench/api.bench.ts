/**
 * `npm run bench -- api [requests] [connections]`: `POST /api/v1/events` against the BUILT server,
 * started the way `npm start` does (`node scripts/start.js`; run `npm run build` first, BUILD_DIR
 * picks another build). A temp base gets an API key and 1,000 leads, the server starts as a child
 * process (SEED=none, WORKER=off unless BENCH_WORKER=on (in the serving thread) or thread (npm start's default)), autocannon sends events (half to known
 * emails, half unmatched, each with its own idempotency key), and after the server stops the
 * events table is counted: every 2xx must be exactly one stored row. Target: ≥ 2,000 req/s,
 * p99 < 50 ms.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { processCpuMs, startServer, stopServer } from './support/server';
import SQLite from 'better-sqlite3';
import { createApp } from '../src/lib/server/app';
import { loadConfig } from '../src/lib/server/config';
import { parseLeadInput } from '../src/lib/server/services/capture.service';

/** The slice of autocannon's programmatic API used here (the package ships no types). */
interface AutocannonRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  setupRequest: (req: AutocannonRequest & { body?: string }) => AutocannonRequest & { body: string };
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  duration: number;
  non2xx: number;
  '2xx': number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  amount: number;
  requests: AutocannonRequest[];
  timeout?: number;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const PORT = Number(process.env.BENCH_PORT ?? 4300);
/** Extra node flags for the server, e.g. BENCH_SERVER_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_ARGS ?? '').split(/\s+/).filter(Boolean);
const WORKER = process.env.BENCH_WORKER === 'on' || process.env.BENCH_WORKER === 'thread' ? process.env.BENCH_WORKER : 'off';
const KNOWN_LEADS = 1000;
const EVENT_TYPE = 'bench_event';

export default async function apiBench(args: string[]) {
  const total = Number(args[0] ?? 50_000);
  const connections = Number(args[1] ?? 50);
  const buildDir = path.resolve(process.env.BUILD_DIR ?? 'build');
  if (!fs.existsSync(path.join(buildDir, 'handler.js'))) throw new Error(`No built server in ${buildDir}: run \`npm run build\` first (or set BUILD_DIR).`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-bench-api-'));
  const dbFile = path.join(dir, 'nurture.db');
  let server: ChildProcess | undefined;
  try {
    const { key, emails } = await prepareBase(dbFile);
    server = await startServer({ buildDir, dataDir: dir, port: PORT, worker: WORKER, nodeArgs: SERVER_NODE_ARGS });

    let n = 0;
    const loadBefore = os.loadavg()[0];
    const cpuBefore = processCpuMs(server.pid!);
    const started = Date.now();
    const result = await autocannon({
      url: `http://127.0.0.1:${PORT}`,
      connections,
      amount: total,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/events',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          setupRequest: (req) => {
            const i = n++;
            const email = i % 2 === 0 ? emails[i % emails.length] : `stranger-${i}@unknown.example`;
            return { ...req, body: JSON.stringify({ email, type: EVENT_TYPE, properties: { page: `/pricing?i=${i}` }, idempotencyKey: `bench-${i}` }) };
          }
        }
      ]
    });
    const seconds = (Date.now() - started) / 1000;
    // CPU the server spent per request: steadier than req/s when other work shares the machine.
    const serverCpuMsPerReq = (processCpuMs(server.pid!) - cpuBefore) / result.requests.total;
    await stopServer(server);
    server = undefined;

    const db = new SQLite(dbFile, { readonly: true });
    const stored = db.prepare('select count(*) as n, count(lead_id) as matched from events where type = ?').get(EVENT_TYPE) as { n: number; matched: number };
    db.close();

    const ok = result['2xx'];
    const rps = ok / seconds;
    const lost = ok - stored.n;
    console.log(
      JSON.stringify(
        {
          cores: os.cpus().length,
          node: process.version,
          worker: WORKER,
          connections,
          requests: result.requests.total,
          seconds: Number(seconds.toFixed(2)),
          reqPerSec: Math.round(rps),
          autocannonAvgReqPerSec: Math.round(result.requests.average),
          serverCpuMsPerReq: Number(serverCpuMsPerReq.toFixed(3)),
          // The 1-minute load when the run started and when it ended (this run's own load included).
          loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(os.loadavg()[0].toFixed(2)) },
          latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
          ok2xx: ok,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          storedEvents: stored.n,
          storedMatched: stored.matched,
          storedUnmatched: stored.n - stored.matched,
          lost
        },
        null,
        2
      )
    );
    const pass = rps >= 2000 && result.latency.p99 < 50 && lost === 0 && result.non2xx === 0;
    console.log(pass ? 'PASS: ≥ 2,000 req/s, p99 < 50 ms, no event lost' : 'FAIL: below target (≥ 2,000 req/s, p99 < 50 ms, no loss, no errors)');
    if (!pass) process.exitCode = 1;
  } finally {
    if (server) await stopServer(server);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** An API key and the known leads, written through the app's own services on the server's file. */
async function prepareBase(dbFile: string) {
  const app = await createApp({ config: loadConfig({ DATABASE_URL: dbFile, SEED: 'none' }) });
  try {
    const { key } = await app.services.apiKeys.create({ id: null, label: 'bench' }, 'bench');
    const emails: string[] = [];
    for (let i = 0; i < KNOWN_LEADS; i++) {
      const email = `lead-${i}@bench.example`;
      await app.services.capture.capture({ input: parseLeadInput({ email, name: `Лид ${i}` }), source: 'api', actor: { id: null, label: 'bench' } });
      emails.push(email);
    }
    return { key, emails };
  } finally {
    await app.close();
  }
}

