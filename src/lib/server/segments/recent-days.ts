import { sql, type RawBuilder } from 'kysely';

/**
 * lead_event_stats.recent (migration 20261125T1700_segment_recent_days): for each lead and event
 * type, the UTC days of its latest RECENT_DAYS counted events, newest first. "At least n in the
 * last D days" is then "the n-th latest day is inside the window", one row per lead for any
 * n <= RECENT_DAYS. The migration's triggers keep the same number of days: never raise this one
 * above theirs.
 */
export const RECENT_DAYS = 16;
export const DAY_MS = 86_400_000;

/** The UTC day of the n-th latest event (n from 1), read from a lead_event_stats row alias. */
export function nthRecentDay(alias: string, n: number): RawBuilder<number | null> {
  return sql<number | null>`json_extract(${sql.ref(`${alias}.recent`)}, ${`$[${n - 1}]`})`;
}

/**
 * Upsert's SET for `recent`: the new event's day (excluded.recent, a one-day array, or NULL for
 * rows that keep no days) merged in order, the oldest beyond RECENT_DAYS dropped.
 */
export const mergeRecentSql = `CASE WHEN excluded.recent IS NULL THEN recent ELSE (
  SELECT json_group_array(d ORDER BY d DESC) FROM (
    SELECT value AS d FROM json_each(coalesce(lead_event_stats.recent, '[]'))
    UNION ALL SELECT json_extract(excluded.recent, '$[0]')
    ORDER BY d DESC LIMIT ${RECENT_DAYS})) END`;
