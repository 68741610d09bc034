import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app';
import { parseTrackPath, parseUnsubscribePath, serveOneClickUnsubscribe, serveTrackHit, type TrackResponse } from './tracking-core';

/** Serves a request and answers true, or answers false and leaves it untouched for SvelteKit. */
export type NodeTrackHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** A one-click body is one short form field; anything much larger is not one. */
const BODY_LIMIT = 8 * 1024;

/**
 * The pixel, the click redirect and the one-click unsubscribe straight on node's req/res
 * (scripts/start.js tries this before SvelteKit; hooks.server.ts publishes it once the app runs).
 * Through SvelteKit a hit spent most of its CPU building Request/Response objects and running the
 * locale and session hooks it does not need; the pixel must take ≥ 3,000 hits/s (bench/track.bench.ts).
 *
 * One-click POSTs come from mail providers' servers with no Origin header, which SvelteKit's CSRF
 * check refuses for form bodies in a production build; the signed token is the authorisation here.
 */
export function createNodeTrackHandler(getApp: () => App): NodeTrackHandler {
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    let work: Promise<TrackResponse>;
    if (req.method === 'GET' || req.method === 'HEAD') {
      const hit = parseTrackPath(pathname);
      if (!hit) return false;
      work = serveTrackHit(getApp(), hit.kind, hit.token, { userAgent: req.headers['user-agent'] ?? null, ip: clientAddress(req) });
    } else if (req.method === 'POST') {
      const token = parseUnsubscribePath(pathname);
      if (!token) return false;
      work = readBody(req, BODY_LIMIT).then((body) =>
        body === null
          ? { status: 413, headers: { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }, body: 'Too large' }
          : serveOneClickUnsubscribe(getApp(), token, req.headers['content-type'], body)
      );
    } else return false;
    work.then(
      (r) => write(res, r, req.method === 'HEAD'),
      (e) => {
        if (req.destroyed && !req.complete) return;
        console.error('[nurture] tracking:', e);
        if (!res.headersSent) write(res, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Internal error' }, false);
        else res.destroy();
      }
    );
    return true;
  };
}

/**
 * The client's address as adapter-node sees it: ADDRESS_HEADER (with XFF_DEPTH for
 * x-forwarded-for) behind a proxy, else the socket. Machine detection reads it (Apple's ranges).
 */
function clientAddress(req: IncomingMessage): string | null {
  const header = process.env.ADDRESS_HEADER?.toLowerCase();
  if (header) {
    const v = req.headers[header];
    const value = Array.isArray(v) ? v.join(',') : v;
    if (value) {
      if (header !== 'x-forwarded-for') return value.trim();
      const hops = value.split(',').map((s) => s.trim());
      const depth = Number(process.env.XFF_DEPTH ?? 1);
      return hops[hops.length - depth] ?? null;
    }
  }
  return req.socket.remoteAddress ?? null;
}

function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks, size).toString('utf8')));
    req.on('error', reject);
  });
}

function write(res: ServerResponse, r: TrackResponse, headOnly: boolean) {
  const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
  res.writeHead(r.status, { ...r.headers, 'content-length': body.length });
  res.end(headOnly ? undefined : body);
}
