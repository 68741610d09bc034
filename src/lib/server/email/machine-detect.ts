/**
 * Tells machine opens and scanner clicks from people, so they are recorded but never count as
 * engagement. Pure: the caller passes what it knows about the hit and the message.
 *
 * Opens
 * - Apple Mail Privacy Protection fetches every image on delivery through Apple's proxies
 *   (17.0.0.0/8), whether or not anybody reads the email: always a machine.
 * - Gmail's and Yahoo's image proxies fetch when the reader opens the email (Gmail then caches),
 *   so only a proxy fetch within a minute of sending is taken for a prefetch.
 * - Anything within a few seconds of sending: no person opens an email that fast.
 * Clicks
 * - Security gateways (Microsoft Safe Links, Proofpoint, Mimecast, Barracuda, ...) and HTTP
 *   libraries announce themselves in the User-Agent, or send none at all.
 * - A click within two seconds of sending, or a sweep: another link of the same message was
 *   clicked less than two seconds before (scanners follow every link at once).
 */
export type MachineReason = 'too_soon' | 'apple_privacy' | 'image_proxy_prefetch' | 'scanner_agent' | 'no_agent' | 'link_sweep';

export interface Classification {
  machine: boolean;
  reason: MachineReason | null;
}

export interface HitContext {
  now: number;
  /** When the message went out (`sent_at`, else `created_at`). */
  sentAt: number;
  userAgent: string | null | undefined;
  ip: string | null | undefined;
}

export interface RecentClick {
  linkId: string;
  at: number;
}

export const OPEN_TOO_SOON_MS = 3_000;
export const PROXY_PREFETCH_MS = 60_000;
export const CLICK_TOO_SOON_MS = 2_000;
export const SWEEP_WINDOW_MS = 2_000;

const HUMAN: Classification = { machine: false, reason: null };
const machine = (reason: MachineReason): Classification => ({ machine: true, reason });

/** Link checkers and HTTP clients; none of these is a person reading mail. */
const SCANNER_AGENT =
  /safe ?links|existence discovery|proofpoint|ppops|mimecast|barracuda|forcepoint|messagelabs|symantec|trend ?micro|sophos|zscaler|ironport|fireeye|trellix|cisco|urldefense|appriver|checkpoint|cloudmark|spamtitan|libredtail|\bcurl\/|wget\/|python-requests|python-urllib|aiohttp|go-http-client|java\/|okhttp|apache-httpclient|node-fetch|undici|axios\/|libwww-perl|headlesschrome|phantomjs|bingpreview|\bbot\b|bot\/|crawler|spider|slackbot|facebookexternalhit|skypeuripreview|whatsapp|telegrambot/i;
const IMAGE_PROXY_AGENT = /googleimageproxy|ggpht\.com|yahoomailproxy/i;

/** Apple's own network carries Mail Privacy Protection's prefetches. */
function isAppleProxyIp(ip: string | null | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return /^17\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

function agentOf(ctx: HitContext): Classification | null {
  const ua = ctx.userAgent?.trim() ?? '';
  if (!ua) return machine('no_agent');
  if (SCANNER_AGENT.test(ua)) return machine('scanner_agent');
  return null;
}

export function classifyOpen(ctx: HitContext): Classification {
  if (isAppleProxyIp(ctx.ip)) return machine('apple_privacy');
  // MPP's prefetcher sends a bare "Mozilla/5.0"; no mail client or browser does.
  if (ctx.userAgent?.trim() === 'Mozilla/5.0') return machine('apple_privacy');
  const age = ctx.now - ctx.sentAt;
  if (ctx.userAgent && IMAGE_PROXY_AGENT.test(ctx.userAgent)) return age < PROXY_PREFETCH_MS ? machine('image_proxy_prefetch') : HUMAN;
  if (age < OPEN_TOO_SOON_MS) return machine('too_soon');
  return agentOf(ctx) ?? HUMAN;
}

/**
 * `recent`: this message's clicks in the last SWEEP_WINDOW_MS (any order). `sweepOf` lists the
 * ones that turned out to be part of the same sweep, so the caller can flag them after the fact.
 */
export function classifyClick<C extends RecentClick>(ctx: HitContext & { linkId: string; recent: C[] }): Classification & { sweepOf: C[] } {
  const byAgent = agentOf(ctx);
  if (byAgent) return { ...byAgent, sweepOf: [] };
  if (ctx.now - ctx.sentAt < CLICK_TOO_SOON_MS) return { ...machine('too_soon'), sweepOf: [] };
  const sweepOf = ctx.recent.filter((c) => c.linkId !== ctx.linkId && ctx.now - c.at < SWEEP_WINDOW_MS);
  return sweepOf.length ? { ...machine('link_sweep'), sweepOf } : { ...HUMAN, sweepOf };
}
