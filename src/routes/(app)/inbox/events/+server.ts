import { error } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import { getApp } from '$lib/server/runtime';

/**
 * Server-sent events for the sales inbox (`?scope=me`, the default) and the manager board
 * (`?scope=board`). Each message only says that something changed; the page re-queries through
 * tRPC, so the stream never carries data the caller's role could not read anyway.
 */
const PING_MS = 20_000;
const RETRY_MS = 3_000;

// Open streams end when the process is asked to stop: otherwise the HTTP server's drain in
// scripts/start.js would wait its full grace period for browsers that never hang up.
const open = new Set<() => void>();
let hooked = false;
function closeAllOnShutdown() {
  if (hooked) return;
  hooked = true;
  const closeAll = () => [...open].forEach((close) => close());
  process.once('SIGTERM', closeAll);
  process.once('SIGINT', closeAll);
}

export const GET: RequestHandler = ({ locals, url, request }) => {
  const user = locals.user;
  if (!user) error(401, 'Sign in first');
  const board = url.searchParams.get('scope') === 'board';
  const mayBoard = user.role === 'admin' || (user.role === 'sales' && user.isManager);
  if (board ? !mayBoard : user.role === 'marketer') error(403, `Your role (${user.role}) has no sales inbox`);

  const { handoff } = getApp().services;
  const encoder = new TextEncoder();
  let close = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const send = (chunk: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(chunk));
        } catch {
          close();
        }
      };
      const unsubscribe = handoff.subscribe(board ? 'board' : user.id, (change) => send(`event: change\ndata: ${JSON.stringify(change)}\n\n`));
      const ping = setInterval(() => send(': ping\n\n'), PING_MS);
      close = () => {
        if (closed) return;
        closed = true;
        clearInterval(ping);
        unsubscribe();
        open.delete(close);
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      open.add(close);
      closeAllOnShutdown();
      request.signal.addEventListener('abort', close, { once: true });
      // `ready` tells a reconnecting page to re-query what it may have missed while away.
      send(`retry: ${RETRY_MS}\nevent: ready\ndata: {}\n\n`);
    },
    cancel() {
      close();
    }
  });
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    }
  });
};
