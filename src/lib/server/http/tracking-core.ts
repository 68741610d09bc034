import type { App } from '../app';
import type { HitMeta, UnsubscribeVia } from '../services/tracking.service';

/**
 * The tracking endpoints with no framework in them: the open pixel (`GET /t/o/<token>`), the click
 * redirect (`GET /t/c/<token>`) and the RFC 8058 one-click unsubscribe (`POST /u/<token>`). The
 * raw Node fast path (tracking-node.ts, used by `npm start`) and the SvelteKit routes (`vite dev`)
 * both answer through here, so the rules live in one place.
 */
export interface TrackResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** The smallest transparent GIF (43 bytes). */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const TOKEN = /^[A-Za-z0-9_-]{1,700}$/;
/** Answers must never be cached: a cached pixel or redirect is a hit nobody records. */
const NO_STORE = { 'cache-control': 'no-store, no-cache, must-revalidate, private', pragma: 'no-cache', 'x-content-type-options': 'nosniff' };

const NOT_FOUND: TrackResponse = { status: 404, headers: { ...NO_STORE, 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' };

/** `/t/o/<token>` -> ['o', token]; anything else -> null. */
export function parseTrackPath(pathname: string): { kind: 'o' | 'c'; token: string } | null {
  if (pathname.length < 6 || !pathname.startsWith('/t/') || pathname[4] !== '/') return null;
  const kind = pathname[3];
  if (kind !== 'o' && kind !== 'c') return null;
  const token = pathname.slice(5);
  return TOKEN.test(token) ? { kind, token } : null;
}

/** `/u/<token>` (the one-click target; not its /preferences page) -> token; else null. */
export function parseUnsubscribePath(pathname: string): string | null {
  if (!pathname.startsWith('/u/')) return null;
  const token = pathname.slice(3);
  return TOKEN.test(token) ? token : null;
}

/**
 * A pixel fetch or a link follow. An unknown or tampered token answers 404 and stores nothing;
 * a click goes only to the destination stored for that link of that message.
 */
export async function serveTrackHit(app: App, kind: 'o' | 'c', token: string, meta: HitMeta): Promise<TrackResponse> {
  if (kind === 'o') {
    if (!(await app.services.tracking.recordOpen(token, meta))) return NOT_FOUND;
    return { status: 200, headers: { ...NO_STORE, 'content-type': 'image/gif' }, body: PIXEL_GIF };
  }
  const url = await app.services.tracking.recordClick(token, meta);
  if (!url) return NOT_FOUND;
  // no-referrer: the destination need not learn the tracking URL the reader came through.
  return { status: 302, headers: { ...NO_STORE, location: url, 'referrer-policy': 'no-referrer', 'content-type': 'text/plain; charset=utf-8' }, body: '' };
}

/** RFC 8058 asks for this exact field in a form body (urlencoded or multipart). */
export function isOneClickBody(contentType: string | undefined, body: string): boolean {
  const type = contentType?.split(';')[0].trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click';
  if (type === 'multipart/form-data') return /name="?List-Unsubscribe"?\s*\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click\r?\n/.test(body);
  return false;
}

/**
 * `POST /u/<token>`: unsubscribes at once. A mail client's one-click gets a plain 200; the
 * confirmation page's button (which adds `via=page`) goes back to the page, which now says so.
 */
export async function serveOneClickUnsubscribe(app: App, token: string, contentType: string | undefined, body: string): Promise<TrackResponse> {
  if (!isOneClickBody(contentType, body)) {
    return { status: 400, headers: { ...NO_STORE, 'content-type': 'text/plain; charset=utf-8' }, body: 'Expected the form field List-Unsubscribe=One-Click (RFC 8058)' };
  }
  const fromPage = contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded') && new URLSearchParams(body).get('via') === 'page';
  const via: UnsubscribeVia = fromPage ? 'page' : 'one_click';
  if (!(await app.services.tracking.unsubscribe(token, via))) return NOT_FOUND;
  if (fromPage) return { status: 303, headers: { ...NO_STORE, location: `/u/${token}` }, body: '' };
  return { status: 200, headers: { ...NO_STORE, 'content-type': 'text/plain; charset=utf-8' }, body: 'Unsubscribed. Вы отписаны от рассылки.' };
}

/** The same answer as a Fetch API Response, for the SvelteKit routes. */
export function toWebResponse(r: TrackResponse): Response {
  return new Response(r.status === 302 || r.status === 303 ? null : typeof r.body === 'string' ? r.body : new Uint8Array(r.body), { status: r.status, headers: r.headers });
}
