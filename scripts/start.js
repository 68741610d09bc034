// Serves the built app (adapter-node's handler) with the project's defaults. `npm start` builds first.
//
// Why not `node build`: without ORIGIN, adapter-node assumes every request came over https, so on
// http://localhost SvelteKit takes each form POST (sign-in!) for a cross-site request and refuses it.
// Here the scheme comes from the socket itself, never from the client, so the CSRF check stays intact;
// behind a TLS proxy set ORIGIN (or PUBLIC_URL) as usual.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

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
const { handler } = await import(path.join(buildDir, 'handler.js'));

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

let stopping = false;
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
  await globalThis.__nurtureStop?.();
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
