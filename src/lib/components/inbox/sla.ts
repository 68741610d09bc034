/** Countdown arithmetic for the SLA clock; pure so it is tested without a browser. */

export interface SlaState {
  /** Milliseconds until the deadline; negative once breached. */
  left: number;
  breached: boolean;
  /** Less than a quarter of the total window left (or 15 minutes, whichever is larger). */
  urgent: boolean;
}

export function slaState(now: number, assignedAt: number, dueAt: number, breachedFlag = false): SlaState {
  const left = dueAt - now;
  const warnAt = Math.max((dueAt - assignedAt) / 4, 15 * 60_000);
  return { left, breached: breachedFlag || left <= 0, urgent: left > 0 && left <= warnAt };
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * `h:mm:ss` (with whole days in front when the deadline is past a weekend or a night: a business
 * hour deadline can be days away), always of the absolute distance; the caller says which side.
 */
export function formatCountdown(ms: number, dayUnit = 'd'): string {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const mm = Math.floor((total % 3600) / 60);
  const ss = total % 60;
  const clock = `${h}:${pad(mm)}:${pad(ss)}`;
  return days > 0 ? `${days} ${dayUnit} ${clock}` : clock;
}

/** Waiting time for the board: whole minutes, hours and days, no seconds. */
export function formatWaiting(ms: number, units: { d: string; h: string; min: string }): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const min = minutes % 60;
  if (d > 0) return `${d} ${units.d} ${h} ${units.h}`;
  if (h > 0) return `${h} ${units.h} ${min} ${units.min}`;
  return `${min} ${units.min}`;
}

/** Highest score first, then the one waiting longest: what a rep should pick up next. */
export function byPriority<T extends { fit: number; engagement: number; assignedAt: number }>(a: T, b: T): number {
  return b.fit + b.engagement - (a.fit + a.engagement) || a.assignedAt - b.assignedAt;
}
