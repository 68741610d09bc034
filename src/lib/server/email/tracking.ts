import type { Db } from '../db/database';
import { uuidIds, type Ids } from '../ports';
import { trackingRepo } from '../repositories/tracking.repo';
import { decodeEntities } from './html-to-text';
import { signToken } from './tokens';

/**
 * The tracking stage of a send (see contract.ts): with the lead's consent, every http(s) link
 * becomes `${PUBLIC_URL}/t/c/<token>` pointing at a stored `message_links` row and a 1×1 open
 * pixel is added; without it, links stay as they are and no pixel goes in. Marketing mail always
 * gets RFC 8058 one-click unsubscribe headers.
 */
export interface TrackingKeys {
  /** The app's public base URL, without a trailing slash (PUBLIC_URL). */
  publicUrl: string;
  /** The HMAC key (TRACKING_SECRET or the generated one in settings). */
  secret: string;
}

export interface ApplyTrackingInput extends TrackingKeys {
  messageId: string;
  html: string;
  text: string;
  /** `leads.consent_tracking`: false leaves links alone and adds no pixel. */
  trackingAllowed: boolean;
  /** UTM parameters a flow appends to every link (kept when the link already has the key). */
  utm?: Record<string, string> | null;
  /** Transactional mail is not a subscription: no List-Unsubscribe. Defaults to marketing. */
  kind?: 'marketing' | 'transactional' | 'test';
  /** Where mailto unsubscribes go; defaults to `unsubscribe@<PUBLIC_URL host>`. */
  unsubscribeMailbox?: string;
  ids?: Ids;
  now?: number;
}

export interface TrackedEmail {
  html: string;
  text: string;
  headers: Record<string, string>;
}

export interface UnsubscribeUrls {
  /** `{{ unsubscribe_url }}`: the confirmation page (GET changes nothing) and the one-click POST target. */
  unsubscribeUrl: string;
  /** `{{ preferences_url }}`: topics or unsubscribe from all. */
  preferencesUrl: string;
  token: string;
}

const base = (publicUrl: string) => publicUrl.replace(/\/+$/, '');

/** The unsubscribe and preference links of a message, for the layout and the headers. */
export function unsubscribeUrls(keys: TrackingKeys, messageId: string, now = Date.now()): UnsubscribeUrls {
  const token = signToken(keys.secret, { kind: 'u', messageId }, now);
  const b = base(keys.publicUrl);
  return { unsubscribeUrl: `${b}/u/${token}`, preferencesUrl: `${b}/u/${token}/preferences`, token };
}

/** Appends the flow's UTM parameters; a parameter the link already sets wins. */
export function withUtm(url: string, utm: Record<string, string> | null | undefined): string {
  if (!utm || Object.keys(utm).length === 0) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  let changed = false;
  for (const [k, v] of Object.entries(utm)) {
    if (!v || u.searchParams.has(k)) continue;
    u.searchParams.set(k, v);
    changed = true;
  }
  return changed ? u.toString() : url;
}

/** `href="…"` of links (a, area) whose value is an absolute http(s) URL. */
const HTML_LINK = /(<(?:a|area)\b[^>]*?\bhref\s*=\s*)(["'])(\s*https?:\/\/[^"']*)\2/gi;
/** Bare URLs in the text part; trailing punctuation is trimmed off below. */
const TEXT_URL = /https?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}>»]+$/;

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function applyTracking(db: Db, input: ApplyTrackingInput): Promise<TrackedEmail> {
  const now = input.now ?? Date.now();
  const ids = input.ids ?? uuidIds;
  const b = base(input.publicUrl);
  // Our own unsubscribe and tracking links are never wrapped: an unsubscribe is not a click.
  const own = (url: string) => url.startsWith(`${b}/u/`) || url.startsWith(`${b}/t/`);

  const links = new Map<string, string>(); // destination -> link id, one row per distinct URL
  const rows: { id: string; message_id: string; position: number; url: string }[] = [];
  const destination = (raw: string): string => {
    const url = withUtm(raw, input.utm);
    if (!input.trackingAllowed) return url;
    let id = links.get(url);
    if (!id) {
      id = ids.newId();
      links.set(url, id);
      rows.push({ id, message_id: input.messageId, position: rows.length, url });
    }
    return `${b}/t/c/${signToken(input.secret, { kind: 'c', messageId: input.messageId, linkId: id }, now)}`;
  };

  let html = input.html.replace(HTML_LINK, (whole, head: string, quote: string, value: string) => {
    const url = decodeEntities(value.trim());
    return own(url) ? whole : `${head}${quote}${escapeAttr(destination(url))}${quote}`;
  });
  const text = input.text.replace(TEXT_URL, (match: string) => {
    const trail = TRAILING.exec(match)?.[0] ?? '';
    const url = match.slice(0, match.length - trail.length);
    return own(url) ? match : destination(url) + trail;
  });

  if (input.trackingAllowed) {
    const pixel = `<img src="${b}/t/o/${signToken(input.secret, { kind: 'o', messageId: input.messageId }, now)}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px;overflow:hidden" />`;
    const close = html.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i);
    html = close >= 0 ? html.slice(0, close) + pixel + html.slice(close) : html + pixel;
    if (rows.length) await trackingRepo.insertLinks(db, rows);
  }

  const headers: Record<string, string> = {};
  if ((input.kind ?? 'marketing') !== 'transactional') {
    const { unsubscribeUrl, token } = unsubscribeUrls(input, input.messageId, now);
    const mailbox = input.unsubscribeMailbox ?? `unsubscribe@${new URL(b).hostname}`;
    headers['List-Unsubscribe'] = `<${unsubscribeUrl}>, <mailto:${mailbox}?subject=unsubscribe-${token}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return { html, text, headers };
}
