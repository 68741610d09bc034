/**
 * `npm run bench -- api [requests] [connections]`: `POST /api/v1/events` against the BUILT server,
 * started the way `npm start` does (`node scripts/start.js`; run `npm run build` first, BUILD_DIR
 * picks another build). A temp base gets an API key and 1,000 leads, the server starts as a child
 * process (SEED=none, WORKER=off unless BENCH_WORKER=on), autocannon sends events (half to known
 * emails, half unmatched, each with its own idempotency key), and after the server stops the
 * events table is counted: every 2xx must be exactly one stored row. Target: ≥ 2,000 req/s,
 * p99 < 50 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
const START_SCRIPT = fileURLToPath(new URL('../scripts/start.js', import.meta.url));
/** Extra node flags for the server, e.g. BENCH_SERVER_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_ARGS ?? '').split(/\s+/).filter(Boolean);
const WORKER = process.env.BENCH_WORKER === 'on' ? 'on' : 'off';
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
    server = await startServer(buildDir, dir);

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

async function startServer(buildDir: string, dataDir: string): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, BUILD_DIR: buildDir, DATA_DIR: dataDir, SEED: 'none', WORKER, PORT: String(PORT), HOST: '127.0.0.1' };
  delete env.DATABASE_URL; // DATA_DIR decides the file, the same one prepareBase wrote
  delete env.ORIGIN; // as `npm start` on a plain http://localhost
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, START_SCRIPT], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('server did not become healthy in 30 s');
}

/** User + system CPU of a process so far, from /proc (Linux), in ms. */
function processCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat; after the ") " split they sit at 11 and 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** SIGTERM, then wait: the server finishes open work and closes the database before we count. */
function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
