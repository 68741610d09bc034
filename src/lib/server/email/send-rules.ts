import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Send windows and the frequency cap, as pure functions of time and data. Time zones come from
 * the platform's Intl, so daylight-saving changes follow the tz database rather than our arithmetic.
 */

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface SendWindow {
  /** Weekdays the window is open, 0 = Sunday. */
  days: ReadonlySet<number>;
  /** Minutes after local midnight: open from `start` (inclusive) to `end` (exclusive). */
  start: number;
  end: number;
}

export interface FrequencyCap {
  max: number;
  periodMs: number;
}

/** "mon-fri 09:00-18:00", "sat,sun 10:00-14:00", "daily 08:00-20:00". */
export function parseSendWindow(spec: string): SendWindow {
  const m = /^\s*([a-z,\- ]+?)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/i.exec(spec);
  if (!m) throw new Error(`send window "${spec}": expected e.g. "mon-fri 09:00-18:00"`);
  const start = Number(m[2]) * 60 + Number(m[3]);
  const end = Number(m[4]) * 60 + Number(m[5]);
  if (Number(m[3]) > 59 || Number(m[5]) > 59 || start >= end || end > 24 * 60)
    throw new Error(`send window "${spec}": the times must be HH:MM with the start before the end`);
  return { days: parseDays(m[1].toLowerCase().replace(/\s+/g, '')), start, end };
}

function parseDays(spec: string): Set<number> {
  if (spec === 'daily' || spec === 'all' || spec === '*') return new Set([0, 1, 2, 3, 4, 5, 6]);
  if (spec === 'weekdays') return new Set([1, 2, 3, 4, 5]);
  const days = new Set<number>();
  for (const part of spec.split(',')) {
    const [from, to] = part.split('-').map(dayIndex);
    if (to === undefined) days.add(from);
    // A range may wrap past Sunday: "fri-mon".
    else for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return days;
}

function dayIndex(name: string): number {
  const i = DAY_NAMES.indexOf(name.slice(0, 3) as (typeof DAY_NAMES)[number]);
  if (i < 0) throw new Error(`unknown weekday "${name}"`);
  return i;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(zone: string) {
  let f = partsFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    partsFormatters.set(zone, f);
  }
  return f;
}

/** The wall-clock reading of `t` in `zone`, as if that reading were UTC (so date maths is plain). */
function wallClock(t: number, zone: string): number {
  const p = Object.fromEntries(formatterFor(zone).formatToParts(t).map((x) => [x.type, x.value]));
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
}

/**
 * The instant whose wall clock in `zone` reads `wall`. Offsets are taken half a day either side, so
 * one DST change in between gives two candidates: on a fall-back the earlier reading wins, and in a
 * spring-forward gap (no such reading) the time moves on by the gap, as a clock-watcher would.
 */
function instantOf(wall: number, zone: string): number {
  const before = wall - (wallClock(wall - DAY / 2, zone) - (wall - DAY / 2));
  const after = wall - (wallClock(wall + DAY / 2, zone) - (wall + DAY / 2));
  const exact = [before, after].filter((t) => wallClock(t, zone) === wall);
  return exact.length ? Math.min(...exact) : before;
}

/**
 * When a send at `now` may go: `now` itself inside the window, else the next opening in `timeZone`.
 * Openings are computed on the local calendar, so "09:00" stays 09:00 across a DST change.
 */
export function nextWindowOpen(now: number, window: SendWindow, timeZone: string): number {
  const wallNow = wallClock(now, timeZone);
  const midnight = Math.floor(wallNow / DAY) * DAY;
  for (let d = 0; d <= 7; d++) {
    const day = midnight + d * DAY;
    if (!window.days.has(new Date(day).getUTCDay())) continue;
    const open = instantOf(day + window.start * MINUTE, timeZone);
    const close = instantOf(day + window.end * MINUTE, timeZone);
    if (now >= open && now < close) return now;
    if (open > now) return open;
  }
  throw new Error('a send window with no open day');
}

/** A representative zone per country: the one most of its people live in. */
const COUNTRY_ZONES: Record<string, string> = {
  RU: 'Europe/Moscow', KZ: 'Asia/Almaty', BY: 'Europe/Minsk', UA: 'Europe/Kyiv', UZ: 'Asia/Tashkent', KG: 'Asia/Bishkek',
  AM: 'Asia/Yerevan', GE: 'Asia/Tbilisi', AZ: 'Asia/Baku', TJ: 'Asia/Dushanbe', MD: 'Europe/Chisinau', LV: 'Europe/Riga',
  LT: 'Europe/Vilnius', EE: 'Europe/Tallinn', FI: 'Europe/Helsinki', PL: 'Europe/Warsaw', DE: 'Europe/Berlin',
  FR: 'Europe/Paris', GB: 'Europe/London', IE: 'Europe/Dublin', NL: 'Europe/Amsterdam', ES: 'Europe/Madrid',
  IT: 'Europe/Rome', TR: 'Europe/Istanbul', AE: 'Asia/Dubai', IL: 'Asia/Jerusalem', CN: 'Asia/Shanghai', IN: 'Asia/Kolkata',
  JP: 'Asia/Tokyo', US: 'America/New_York', CA: 'America/Toronto', BR: 'America/Sao_Paulo', MX: 'America/Mexico_City',
  AU: 'Australia/Sydney', RS: 'Europe/Belgrade', CY: 'Asia/Nicosia', TH: 'Asia/Bangkok', VN: 'Asia/Ho_Chi_Minh'
};

/** Country names as people type them in forms, in Russian and English. */
const COUNTRY_NAMES: Record<string, string> = {
  россия: 'RU', рф: 'RU', russia: 'RU', 'russian federation': 'RU', казахстан: 'KZ', kazakhstan: 'KZ', беларусь: 'BY',
  belarus: 'BY', украина: 'UA', ukraine: 'UA', узбекистан: 'UZ', uzbekistan: 'UZ', армения: 'AM', armenia: 'AM',
  грузия: 'GE', georgia: 'GE', 'united kingdom': 'GB', uk: 'GB', великобритания: 'GB', germany: 'DE', германия: 'DE',
  'united states': 'US', usa: 'US', сша: 'US', турция: 'TR', turkey: 'TR', оаэ: 'AE', uae: 'AE', сербия: 'RS', serbia: 'RS'
};

/** Russian cities far from Moscow time; the rest of Russia is close enough to Moscow for a send window. */
const CITY_ZONES: Record<string, string> = {
  екатеринбург: 'Asia/Yekaterinburg', yekaterinburg: 'Asia/Yekaterinburg', челябинск: 'Asia/Yekaterinburg', пермь: 'Asia/Yekaterinburg',
  тюмень: 'Asia/Yekaterinburg', уфа: 'Asia/Yekaterinburg', омск: 'Asia/Omsk', новосибирск: 'Asia/Novosibirsk', novosibirsk: 'Asia/Novosibirsk',
  томск: 'Asia/Tomsk', красноярск: 'Asia/Krasnoyarsk', krasnoyarsk: 'Asia/Krasnoyarsk', иркутск: 'Asia/Irkutsk', irkutsk: 'Asia/Irkutsk',
  хабаровск: 'Asia/Vladivostok', владивосток: 'Asia/Vladivostok', vladivostok: 'Asia/Vladivostok', калининград: 'Europe/Kaliningrad',
  kaliningrad: 'Europe/Kaliningrad', самара: 'Europe/Samara', samara: 'Europe/Samara', ижевск: 'Europe/Samara', якутск: 'Asia/Yakutsk'
};

export interface LeadZoneFacts {
  timezone?: string | null;
  phone?: string | null;
  city?: string | null;
  country?: string | null;
}

/** The lead's own zone, else from the city, the phone's country or the country field, else the workspace's. */
export function leadTimeZone(lead: LeadZoneFacts, workspaceZone = 'Europe/Moscow'): string {
  if (lead.timezone && isTimeZone(lead.timezone)) return lead.timezone;
  const city = CITY_ZONES[(lead.city ?? '').trim().toLowerCase()];
  if (city) return city;
  const phoneCountry = lead.phone ? parsePhoneNumberFromString(lead.phone)?.country : undefined;
  if (phoneCountry && COUNTRY_ZONES[phoneCountry]) return COUNTRY_ZONES[phoneCountry];
  const country = (lead.country ?? '').trim();
  const code = COUNTRY_NAMES[country.toLowerCase()] ?? country.toUpperCase();
  return COUNTRY_ZONES[code] ?? workspaceZone;
}

/** "3/7d": at most 3 per 7 days. Units: h (hours), d (days), w (weeks). */
export function parseFrequencyCap(spec: string): FrequencyCap {
  const m = /^\s*(\d{1,4})\s*\/\s*(\d{1,4})\s*([hdw])\s*$/i.exec(spec);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new Error(`frequency cap "${spec}": expected e.g. "3/7d"`);
  const unit = { h: 3_600_000, d: DAY, w: 7 * DAY }[m[3].toLowerCase() as 'h' | 'd' | 'w'];
  return { max: Number(m[1]), periodMs: Number(m[2]) * unit };
}

export type CapDecision = { ok: true } | { waitUntil: number } | { skip: true };

/**
 * Whether one more marketing email fits the cap given the earlier sends. When it does not, it can
 * wait until the oldest counted send leaves the period, or be skipped, as the flow step asks.
 */
export function frequencyDecision(sentTimes: readonly number[], cap: FrequencyCap, now: number, onCap: 'wait' | 'skip' = 'wait'): CapDecision {
  const recent = sentTimes.filter((t) => t > now - cap.periodMs && t <= now).sort((a, b) => a - b);
  if (recent.length < cap.max) return { ok: true };
  if (onCap === 'skip') return { skip: true };
  // Once the send at this index ages out, fewer than `max` remain in the period.
  return { waitUntil: recent[recent.length - cap.max] + cap.periodMs };
}
