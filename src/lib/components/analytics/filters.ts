/**
 * The filters every analytics view takes, as they travel in the URL (?from=&to=&channel=&owner=&segment=&grain=)
 * and into the tRPC procedures. Days are calendar days in the workspace zone, the end day inclusive.
 */
import { z } from 'zod';
import { formatDay, parseDay, preset, rangeMs } from '../channels/date-range';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD').refine((s) => parseDay(s) !== null, 'is not a real date');
const id = z.string().min(1).max(64).optional();

export const analyticsInputSchema = z
  .object({
    from: day,
    to: day,
    channelId: id,
    ownerId: id,
    segmentId: id,
    grain: z.enum(['day', 'week', 'month']).optional()
  })
  .refine((v) => v.to >= v.from, { path: ['to'], message: 'the end is before the start' });
export type AnalyticsInput = z.infer<typeof analyticsInputSchema>;

/** [from, to) in ms for a validated input. */
export function inputRange(input: Pick<AnalyticsInput, 'from' | 'to'>): { from: number; to: number } {
  return rangeMs(parseDay(input.from)!, parseDay(input.to)!)!;
}

/** The last 90 days up to today: enough history for every view to show something. */
export function defaultDays(now: number): { from: string; to: string } {
  const p = preset('last_90_days', now);
  return { from: formatDay(p.from), to: formatDay(p.to) };
}

export type RangeProblem = 'invalid' | 'end_before_start' | null;

/** Reads the URL's filters; a bad or reversed range is reported rather than guessed at. */
export function readFilters(params: URLSearchParams, now: number): { input: AnalyticsInput; problem: RangeProblem } {
  const fallback = defaultDays(now);
  const raw = {
    from: params.get('from') || fallback.from,
    to: params.get('to') || fallback.to,
    channelId: params.get('channel') || undefined,
    ownerId: params.get('owner') || undefined,
    segmentId: params.get('segment') || undefined,
    grain: (params.get('grain') || undefined) as AnalyticsInput['grain']
  };
  const parsed = analyticsInputSchema.safeParse(raw);
  if (parsed.success) return { input: parsed.data, problem: null };
  const reversed = parseDay(raw.from) && parseDay(raw.to) && raw.to < raw.from;
  return { input: { ...raw, grain: undefined }, problem: reversed ? 'end_before_start' : 'invalid' };
}

/** The query string for the same filters (for tab links and CSV exports). */
export function filterQuery(input: Partial<AnalyticsInput>): string {
  const p = new URLSearchParams();
  if (input.from) p.set('from', input.from);
  if (input.to) p.set('to', input.to);
  if (input.channelId) p.set('channel', input.channelId);
  if (input.ownerId) p.set('owner', input.ownerId);
  if (input.segmentId) p.set('segment', input.segmentId);
  if (input.grain) p.set('grain', input.grain);
  return p.toString();
}
