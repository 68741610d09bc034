import type { BusinessCalendar } from '../../shared/handoff';

/**
 * SLA time in business hours: pure calendar arithmetic over a time zone's wall clock, so a
 * deadline set on Friday at 17:30 in Moscow lands on Monday at 09:30, and holidays are skipped.
 */

const MINUTE = 60_000;
const MAX_DAYS = 3660;

interface LocalDate {
  y: number;
  m: number;
  d: number;
  /** ISO weekday, 1 = Monday. */
  weekday: number;
}

const partsCache = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string) {
  let f = partsCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    partsCache.set(timeZone, f);
  }
  return f;
}
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

function wallClock(t: number, timeZone: string) {
  const p = Object.fromEntries(formatter(timeZone).formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return { y: +p.year, m: +p.month, d: +p.day, h: +p.hour, min: +p.minute, s: +p.second, weekday: WEEKDAYS[p.weekday] };
}

/** The zone's offset from UTC at instant t, in ms. */
function offsetAt(t: number, timeZone: string) {
  const w = wallClock(t, timeZone);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - Math.floor(t / 1000) * 1000;
}

/** The instant a local wall time happens in the zone (twice-corrected around offset changes). */
export function zonedTime(y: number, m: number, d: number, minutesOfDay: number, timeZone: string) {
  const guess = Date.UTC(y, m - 1, d) + minutesOfDay * MINUTE;
  const first = guess - offsetAt(guess, timeZone);
  return guess - offsetAt(first, timeZone);
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const isoOf = (d: LocalDate) => `${d.y}-${String(d.m).padStart(2, '0')}-${String(d.d).padStart(2, '0')}`;

function nextDay(d: LocalDate): LocalDate {
  const t = new Date(Date.UTC(d.y, d.m - 1, d.d + 1));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), weekday: (d.weekday % 7) + 1 };
}

export function isBusinessDay(d: LocalDate, cal: BusinessCalendar) {
  return cal.days.includes(d.weekday) && !cal.holidays.includes(isoOf(d));
}

/** Each working interval [open, close) from the local day holding `from` onwards. */
function* workingIntervals(from: number, cal: BusinessCalendar) {
  const w = wallClock(from, cal.timeZone);
  let day: LocalDate = { y: w.y, m: w.m, d: w.d, weekday: w.weekday };
  const open = minutesOf(cal.start);
  const close = minutesOf(cal.end);
  for (let i = 0; i < MAX_DAYS; i++, day = nextDay(day)) {
    if (!isBusinessDay(day, cal)) continue;
    yield [zonedTime(day.y, day.m, day.d, open, cal.timeZone), zonedTime(day.y, day.m, day.d, close, cal.timeZone)] as const;
  }
}

/** The instant `minutes` of business time after `start`. */
export function addBusinessMinutes(start: number, minutes: number, cal: BusinessCalendar): number {
  let left = minutes * MINUTE;
  for (const [open, close] of workingIntervals(start, cal)) {
    if (close <= start) continue;
    const from = Math.max(start, open);
    if (left <= close - from) return from + left;
    left -= close - from;
  }
  throw new Error('the business calendar has no working time in the next ten years');
}

/** Business time between two instants, in ms (0 when `to` is not after `from`). */
export function businessMsBetween(from: number, to: number, cal: BusinessCalendar): number {
  if (to <= from) return 0;
  let total = 0;
  for (const [open, close] of workingIntervals(from, cal)) {
    if (open >= to) break;
    if (close <= from) continue;
    total += Math.min(close, to) - Math.max(open, from);
  }
  return total;
}

/** Whether `t` falls in working time (reps "on the clock"). */
export function isWorkingTime(t: number, cal: BusinessCalendar) {
  const w = wallClock(t, cal.timeZone);
  if (!isBusinessDay(w, cal)) return false;
  const m = w.h * 60 + w.min;
  return m >= minutesOf(cal.start) && m < minutesOf(cal.end);
}
