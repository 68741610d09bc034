// Serves the built app (adapter-node's handler) with the project's defaults. `npm start` builds first.
//
// Why not `node build`: without ORIGIN, adapter-node assumes every request came over https, so on
// http://localhost SvelteKit takes each form POST (sign-in!) for a cross-site request and refuses it.
// Here the scheme comes from the socket itself, never from the client, so the CSRF check stays intact;
// behind a TLS proxy set ORIGIN (or PUBLIC_URL) as usual.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const buildDir = path.resolve(process.env.BUILD_DIR ?? 'build');
if (!fs.existsSync(path.join(buildDir, 'handler.js'))) {
  console.error(`No build in ${buildDir}: run \`npm run build\` (or \`npm start\`, which builds) first.`);
  process.exit(1);
}
process.env.BODY_SIZE_LIMIT ??= '512M';
if (!process.env.ORIGIN && process.env.PUBLIC_URL) process.env.ORIGIN = process.env.PUBLIC_URL;
const socketScheme = !process.env.ORIGIN && !process.env.PROTOCOL_HEADER;
if (socketScheme) process.env.PROTOCOL_HEADER = 'x-nurture-scheme';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '0.0.0.0';
// The workflow worker (event dispatch, scoring, timers, outbox) runs in a thread of this process
// by default: on two cores, tracking hits and API calls then never wait behind a dispatch round
// (bench/track.bench.ts). WORKER=on keeps it in this thread, WORKER=off runs none here.
const workerMode = process.env.WORKER ?? 'thread';
if (workerMode === 'thread') process.env.NURTURE_WORKER_THREAD = '1';
// Importing the handler runs the server's init hook: migrations, demo seed, example flows.
const { handler } = await import(path.join(buildDir, 'handler.js'));
let stopping = false;
let workerThread = workerMode === 'thread' ? startWorkerThread() : undefined;

function startWorkerThread() {
  const w = new Worker(new URL('./worker-thread.js', import.meta.url), {
    workerData: { buildDir },
    env: { ...process.env, NURTURE_ROLE: 'worker', NURTURE_WORKER_THREAD: '' }
  });
  w.on('error', (e) => console.error(`[nurture] worker thread failed: ${e?.stack ?? e}`));
  w.on('exit', (code) => {
    if (stopping) return;
    // A crashed worker loses nothing (timers, outbox and the event cursor are in the database).
    console.error(`[nurture] worker thread exited (${code}); restarting in 1 s`);
    setTimeout(() => {
      if (!stopping) workerThread = startWorkerThread();
    }, 1000);
  });
  return w;
}

async function stopWorkerThread() {
  const w = workerThread;
  if (!w) return;
  workerThread = undefined;
  const exited = new Promise((r) => w.once('exit', r));
  w.postMessage('stop');
  const force = setTimeout(() => w.terminate(), 15_000);
  await exited;
  clearTimeout(force);
}

const server = http.createServer((req, res) => {
  if (socketScheme) req.headers['x-nurture-scheme'] = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  // The public REST API's fast path (src/lib/server/http/api-node.ts, published by hooks.server.ts):
  // it answers its own POST /api/v1/* endpoints without SvelteKit's Request/Response machinery,
  // about half the CPU of each call, and returns false for everything else.
  if (req.method === 'POST' && globalThis.__nurtureApi?.(req, res)) return;
  // Open pixel, click redirect (GET /t/*) and one-click unsubscribe (POST /u/<token>): same idea,
  // src/lib/server/http/tracking-node.ts; hits must be cheap (bench/track.bench.ts).
  if (globalThis.__nurtureTrack?.(req, res)) return;
  handler(req, res, () => {
    res.statusCode = 404;
    res.end('Not found');
  });
});
server.listen(port, host, () => console.log(`[nurture] listening on http://${host}:${port}`));

async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`[nurture] ${signal}: no new requests; finishing open ones`);
  server.close();
  server.closeIdleConnections();
  const force = setTimeout(() => server.closeAllConnections(), 10_000);
  await new Promise((r) => server.once('close', r));
  clearTimeout(force);
  // Stops the workflow worker after its round and closes the database after the open transaction.
  await stopWorkerThread();
  await globalThis.__nurtureStop?.();
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
