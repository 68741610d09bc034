import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed tracking tokens: the only thing an open pixel, a click link or an unsubscribe link
 * carries. A token names a message (and, for a click, one of its stored links), never an email
 * address, and is signed with HMAC-SHA256 so nobody can make one up or point it elsewhere.
 *
 * Layout (then base64url):
 *   version (1 byte) | kind (1 byte: o, c, u) | issued at (uint32 seconds) | message id | [link id] | MAC (12 bytes)
 * An id is `0x00` + 16 bytes when it is a lower-case UUID (ours are UUIDv7), else its length
 * (1..255) + UTF-8 bytes. The MAC covers every byte before it; 96 bits is plenty for a token
 * that is checked online, one guess per request.
 */
export type TokenKind = 'o' | 'c' | 'u';

export interface TokenPayload {
  kind: TokenKind;
  messageId: string;
  /** Only for clicks (`c`). */
  linkId?: string;
}

export interface VerifiedToken extends TokenPayload {
  issuedAt: number;
}

const VERSION = 1;
const MAC_BYTES = 12;
const HEADER_BYTES = 6;
/** Tokens older than this answer null: a link in a year-old email stops tracking. */
export const TOKEN_MAX_AGE_MS = 366 * 86_400_000;
/** A token from a little in the future is accepted (clocks of several servers differ a bit). */
const FUTURE_SKEW_MS = 5 * 60_000;
/** Longer input is not even decoded. */
const MAX_TOKEN_CHARS = 700;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KINDS = new Set<string>(['o', 'c', 'u']);

function encodeId(id: string): Buffer {
  if (UUID.test(id)) return Buffer.concat([Buffer.of(0), Buffer.from(id.replaceAll('-', ''), 'hex')]);
  const bytes = Buffer.from(id, 'utf8');
  if (bytes.length < 1 || bytes.length > 255) throw new Error('a token id must be 1..255 bytes');
  return Buffer.concat([Buffer.of(bytes.length), bytes]);
}

/** The id at `offset` and where the next field starts, or null when the bytes run out. */
function decodeId(buf: Buffer, offset: number, end: number): { id: string; next: number } | null {
  if (offset >= end) return null;
  const len = buf[offset];
  if (len === 0) {
    if (offset + 17 > end) return null;
    const h = buf.toString('hex', offset + 1, offset + 17);
    return { id: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`, next: offset + 17 };
  }
  if (offset + 1 + len > end) return null;
  return { id: buf.toString('utf8', offset + 1, offset + 1 + len), next: offset + 1 + len };
}

function mac(secret: string, data: Buffer): Buffer {
  return createHmac('sha256', secret).update(data).digest().subarray(0, MAC_BYTES);
}

export function signToken(secret: string, payload: TokenPayload, now = Date.now()): string {
  if (!KINDS.has(payload.kind)) throw new Error(`unknown token kind ${payload.kind}`);
  if ((payload.kind === 'c') !== (payload.linkId !== undefined)) throw new Error('a click token, and only a click token, names a link');
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = VERSION;
  header[1] = payload.kind.charCodeAt(0);
  header.writeUInt32BE(Math.floor(now / 1000), 2);
  const parts = [header, encodeId(payload.messageId)];
  if (payload.linkId !== undefined) parts.push(encodeId(payload.linkId));
  const body = Buffer.concat(parts);
  return Buffer.concat([body, mac(secret, body)]).toString('base64url');
}

/**
 * The payload of a genuine, unexpired token, or null for anything else (tampered, truncated,
 * signed with another secret, too old, garbage). Never throws on input.
 */
export function verifyToken(secret: string, token: string, now = Date.now(), maxAgeMs = TOKEN_MAX_AGE_MS): VerifiedToken | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || !BASE64URL.test(token)) return null;
  const buf = Buffer.from(token, 'base64url');
  if (buf.length < HEADER_BYTES + 2 + MAC_BYTES) return null;
  // The last character may carry unused bits that decoding ignores: only the canonical spelling counts.
  if (buf.toString('base64url') !== token) return null;
  const end = buf.length - MAC_BYTES;
  // Compared in constant time, before any field is trusted.
  if (!timingSafeEqual(mac(secret, buf.subarray(0, end)), buf.subarray(end))) return null;
  if (buf[0] !== VERSION) return null;
  const kind = String.fromCharCode(buf[1]);
  if (!KINDS.has(kind)) return null;
  const issuedAt = buf.readUInt32BE(2) * 1000;
  if (issuedAt > now + FUTURE_SKEW_MS || now - issuedAt > maxAgeMs) return null;
  const message = decodeId(buf, HEADER_BYTES, end);
  if (!message) return null;
  let linkId: string | undefined;
  let next = message.next;
  if (kind === 'c') {
    const link = decodeId(buf, next, end);
    if (!link) return null;
    linkId = link.id;
    next = link.next;
  }
  if (next !== end) return null;
  return { kind: kind as TokenKind, messageId: message.id, ...(linkId !== undefined ? { linkId } : {}), issuedAt };
}
