/**
 * Calendar days as the user picks them (YYYY-MM-DD in the team's zone, Moscow by default) and
 * the millisecond ranges the server stores. A range's end day is inclusive in the UI and
 * exclusive (the next midnight) in data, so "1-30 Nov" covers all of 30 November.
 */
import { DEFAULT_TIMEZONE } from '../../shared/format';

export const DAY_MS = 86_400_000;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface Day {
  y: number;
  m: number;
  d: number;
}

export function parseDay(s: string | null | undefined): Day | null {
  const hit = DAY_RE.exec(s ?? '');
  if (!hit) return null;
  const [y, m, d] = [Number(hit[1]), Number(hit[2]), Number(hit[3])];
  const probe = new Date(Date.UTC(y, m - 1, d));
  // Rejects 2025-02-31 and the like, which Date would roll over silently.
  return probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d ? { y, m, d } : null;
}

export function formatDay({ y, m, d }: Day): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** Calendar arithmetic on the day itself, free of time zones. */
export function addDays(day: Day, n: number): Day {
  const t = new Date(Date.UTC(day.y, day.m - 1, day.d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

function offsetAt(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric'
  }).formatToParts(ms);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** Midnight at the start of the day in the zone, as UTC milliseconds. */
export function dayStartMs(day: Day, timeZone = DEFAULT_TIMEZONE): number {
  const wall = Date.UTC(day.y, day.m - 1, day.d);
  const first = wall - offsetAt(wall, timeZone);
  // A second pass settles days where the offset changes (daylight saving) near midnight.
  return wall - offsetAt(first, timeZone);
}

/** The calendar day an instant falls on in the zone. */
export function dayOf(ms: number, timeZone = DEFAULT_TIMEZONE): Day {
  const t = new Date(ms + offsetAt(ms, timeZone));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** [from, to) in milliseconds for inclusive days, or null when either is missing or end is before start. */
export function rangeMs(from: Day, to: Day, timeZone = DEFAULT_TIMEZONE): { from: number; to: number } | null {
  const start = dayStartMs(from, timeZone);
  const end = dayStartMs(addDays(to, 1), timeZone);
  return end > start ? { from: start, to: end } : null;
}

export type PresetName = 'this_month' | 'last_month' | 'last_90_days';

export function preset(name: PresetName, now: number, timeZone = DEFAULT_TIMEZONE): { from: Day; to: Day } {
  const today = dayOf(now, timeZone);
  const firstOfMonth = { y: today.y, m: today.m, d: 1 };
  if (name === 'this_month') return { from: firstOfMonth, to: addDays({ y: today.m === 12 ? today.y + 1 : today.y, m: (today.m % 12) + 1, d: 1 }, -1) };
  if (name === 'last_month') {
    const lastDay = addDays(firstOfMonth, -1);
    return { from: { ...lastDay, d: 1 }, to: lastDay };
  }
  return { from: addDays(today, -89), to: today };
}
