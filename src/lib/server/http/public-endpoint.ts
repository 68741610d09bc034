import { json } from '@sveltejs/kit';
import { RateLimiter } from './rate-limit';
import { normalizeOrigin } from '../../shared/forms';
import { readCapped } from './api-web';

/**
 * Guards for endpoints any website may call (the form snippet, the hosted form page):
 * CORS decided per form, a body size limit read from the stream, and per-IP rate limits.
 * Every refusal is JSON with a reason, so embed.js can show something sensible.
 */

/** Thrown while reading a body that is larger than allowed. */
export class BodyTooLargeError extends Error {}

let submitLimiter: RateLimiter | undefined;
let readLimiter: RateLimiter | undefined;

/** Submissions per IP per minute: PUBLIC_RATE_PER_MIN. Form definitions get ten times that. */
export function publicRateLimit(kind: 'submit' | 'read', ip: string, perMinute: number) {
  const limiter =
    kind === 'submit'
      ? (submitLimiter ??= new RateLimiter(perMinute, 60_000))
      : (readLimiter ??= new RateLimiter(perMinute * 10, 60_000));
  return limiter.hit(ip);
}

export function tooManyRequests(retryAfterMs: number, headers: Record<string, string> = {}) {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return json({ ok: false, error: 'too_many_requests', retryAfter: seconds }, { status: 429, headers: { ...headers, 'Retry-After': String(seconds) } });
}

export function payloadTooLarge(limit: number, headers: Record<string, string> = {}) {
  return json({ ok: false, error: 'payload_too_large', limit }, { status: 413, headers });
}

/**
 * Reads the body as text, refusing it as soon as it passes `limit` bytes: a declared
 * Content-Length is checked first, and a chunked body is counted as it streams in.
 */
export async function readLimitedText(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError();
  const text = await readCapped(request, limit);
  if (text === null) throw new BodyTooLargeError();
  return text;
}

export type CorsDecision = { allowed: true; headers: Record<string, string> } | { allowed: false };

/**
 * Whether a browser on `origin` may call this form's endpoints. No Origin header means a
 * same-origin or server-side call, which CORS does not concern. An empty allow-list lets
 * any site embed the form.
 */
export function corsFor(origin: string | null, allowedOrigins: string[]): CorsDecision {
  const vary = { Vary: 'Origin' };
  if (!origin) return { allowed: true, headers: vary };
  const o = normalizeOrigin(origin);
  const ok = allowedOrigins.length === 0 || allowedOrigins.some((a) => normalizeOrigin(a) === o);
  if (!ok) return { allowed: false };
  return { allowed: true, headers: { ...vary, 'Access-Control-Allow-Origin': origin } };
}

/** Headers that let any origin read a refusal that does not depend on a form (e.g. 404). */
export function openCorsHeaders(origin: string | null): Record<string, string> {
  const d = corsFor(origin, []);
  return d.allowed ? d.headers : {};
}

export const PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '600'
};

/** The answer to a CORS preflight for a form's endpoints. */
export function preflight(origin: string | null, allowedOrigins: string[]) {
  const cors = corsFor(origin, allowedOrigins);
  if (!cors.allowed) return originRefused();
  return new Response(null, { status: 204, headers: { ...cors.headers, ...PREFLIGHT_HEADERS } });
}

export function originRefused() {
  return json({ ok: false, error: 'origin_not_allowed' }, { status: 403, headers: { Vary: 'Origin' } });
}

export function formNotFound(headers: Record<string, string> = {}) {
  return json({ ok: false, error: 'not_found' }, { status: 404, headers });
}
