/** Display helpers for the analytics views: durations, shares and bucket labels in the UI's locale. */
import { m } from '$lib/paraglide/messages';

const HOUR = 3_600_000;
const DAY = 86_400_000;

function unit(n: number, u: 'minute' | 'hour' | 'day', locale: string) {
  return new Intl.NumberFormat(locale, { style: 'unit', unit: u, unitDisplay: 'short', maximumFractionDigits: 1 }).format(n);
}

/** 25 min, 3.5 h, 2.1 days: the unit a person would say. */
export function formatDuration(ms: number | null | undefined, locale: string): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < HOUR) return unit(Math.round(ms / 60_000), 'minute', locale);
  if (ms < 2 * DAY) return unit(ms / HOUR, 'hour', locale);
  return unit(ms / DAY, 'day', locale);
}

export function formatPercent(r: number | null | undefined, locale: string): string {
  if (r === null || r === undefined) return '—';
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(r);
}

export function formatRatio(r: number | null | undefined, locale: string): string {
  if (r === null || r === undefined) return '—';
  return `×${new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(r)}`;
}

/** "12 Jan", "week of 12 Jan", "Jan 2026" for a bucket key (YYYY-MM-DD of its first day). */
export function bucketLabel(key: string, grain: 'day' | 'week' | 'month', locale: string): string {
  const [y, mo, d] = key.split('-').map(Number);
  const at = Date.UTC(y, mo - 1, d);
  if (grain === 'month') return new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(at);
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(at);
}

export function stageLabel(stage: string): string {
  const labels: Record<string, () => string> = {
    lead: m.analytics_stage_lead,
    mql: m.analytics_stage_mql,
    sql: m.analytics_stage_sql,
    opportunity: m.analytics_stage_opportunity,
    customer: m.analytics_stage_customer
  };
  return labels[stage]?.() ?? stage;
}

export function reasonLabel(reason: string): string {
  const labels: Record<string, () => string> = {
    bad_fit: m.analytics_reason_bad_fit,
    no_budget: m.analytics_reason_no_budget,
    wrong_contact: m.analytics_reason_wrong_contact,
    duplicate: m.analytics_reason_duplicate,
    other: m.analytics_reason_other
  };
  return labels[reason]?.() ?? reason;
}

export function statusLabel(status: string): string {
  const labels: Record<string, () => string> = {
    active: m.analytics_status_active,
    finished: m.analytics_status_finished,
    goal: m.analytics_status_goal,
    exited: m.analytics_status_exited,
    failed: m.analytics_status_failed
  };
  return labels[status]?.() ?? status;
}

/** A palette readable on white, in a fixed order so a channel keeps its colour across charts. */
export const PALETTE = ['#2f7d5b', '#d08a2e', '#3d6fb6', '#b5487a', '#6f5bb5', '#5b8f2f', '#8a6d3b', '#4aa3a3'];

/** "250 тыс. ₽", "1,5 млн ₽": money on a chart axis, where full kopecks do not fit. */
export function formatMoneyShort(v: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency: 'RUB', notation: 'compact', maximumFractionDigits: 1 }).format(v);
}
