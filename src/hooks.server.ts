import type { Handle, ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { paraglideMiddleware } from '$lib/paraglide/server';
import { getApp, startRuntime, stopRuntime } from '$lib/server/runtime';
import { SESSION_COOKIE } from '$lib/server/http/session-cookie';
import { createNodeApiHandler } from '$lib/server/http/api-node';
import { createNodeTrackHandler } from '$lib/server/http/tracking-node';

export const init: ServerInit = async () => {
  await startRuntime();
  // scripts/start.js awaits this on SIGTERM/SIGINT once the HTTP server has drained.
  (globalThis as { __nurtureStop?: () => Promise<void> }).__nurtureStop = stopRuntime;
  // scripts/start.js serves POST /api/v1/* with this before SvelteKit's handler (same core, no
  // Request/Response objects): see src/lib/server/http/api-node.ts.
  (globalThis as { __nurtureApi?: unknown }).__nurtureApi = createNodeApiHandler(getApp);
  // ... and GET /t/* (pixel, click redirect) and POST /u/<token> (one-click unsubscribe): tracking-node.ts.
  (globalThis as { __nurtureTrack?: unknown }).__nurtureTrack = createNodeTrackHandler(getApp);
  // adapter-node emits this after it stops taking requests; Kysely then waits for the open
  // transaction before the database closes.
  process.once('sveltekit:shutdown' as never, async () => {
    await stopRuntime();
  });
};

const handleLocale: Handle = ({ event, resolve }) =>
  paraglideMiddleware(event.request, ({ request, locale }) => {
    event.request = request;
    return resolve(event, { transformPageChunk: ({ html }) => html.replace('%paraglide.lang%', locale) });
  });

const handleSession: Handle = async ({ event, resolve }) => {
  event.locals.user = null;
  const token = event.cookies.get(SESSION_COOKIE);
  if (token) {
    event.locals.user = await getApp().services.auth.validateSession(token);
    if (!event.locals.user) event.cookies.delete(SESSION_COOKIE, { path: '/' });
  }
  return resolve(event);
};

const securityHeaders: Handle = async ({ event, resolve }) => {
  const res = await resolve(event);
  res.headers.set('X-Content-Type-Options', 'nosniff');
  res.headers.set('Referrer-Policy', 'strict-origin-when-cross-origin');
  // The hosted form page may be framed by customer sites; the app itself may not.
  if (!event.url.pathname.startsWith('/f/')) res.headers.set('X-Frame-Options', 'DENY');
  return res;
};

/**
 * The public REST API (/api/v1) authenticates by API key and answers JSON only, so it needs no
 * locale and no session. Skipping both saves a request clone per call, which `POST /api/v1/events`
 * needs to hold its throughput target (bench/api.bench.ts).
 */
const skipForRestApi =
  (h: Handle): Handle =>
  (input) =>
    input.event.url.pathname.startsWith('/api/v1/') ? input.resolve(input.event) : h(input);

export const handle = sequence(securityHeaders, skipForRestApi(handleLocale), skipForRestApi(handleSession));
