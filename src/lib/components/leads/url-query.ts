import { SOURCES, STAGES } from '../../shared/lead';
import { leadListQuerySchema, type LeadListQuery, type LeadListQueryInput } from '../../shared/lead-query';

/**
 * The lead list's state lives in the URL, so a filtered view can be reloaded, shared and
 * exported as it is. Short names keep the links readable; dates are calendar days in Moscow
 * time (the team's zone), turned into a half-open [from, to + 1 day) range of UTC ms.
 */
export const PAGE_SIZES = [25, 50, 100, 200] as const;
export const SORTS = leadListQuerySchema.shape.sort.unwrap().options;
export type SortKey = (typeof SORTS)[number];

const MOSCOW_OFFSET = '+03:00';
const DAY = 86_400_000;
const isDay = (s: string | null): s is string => !!s && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s));

export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00${MOSCOW_OFFSET}`);
}

/** The filter values as the form shows them (strings), read from the URL leniently. */
export interface ListParams {
  q: string;
  stage: string[];
  owner: string;
  channel: string;
  /** A segment or static list id (segments area). */
  segment: string;
  source: string;
  from: string;
  to: string;
  sort: SortKey;
  dir: 'asc' | 'desc';
  page: number;
  size: number;
}

/** Bad or unknown values are dropped rather than refused: a stale shared link still opens. */
export function readParams(sp: URLSearchParams): ListParams {
  const int = (v: string | null, dflt: number) => {
    const n = Number(v);
    return Number.isInteger(n) && n >= 1 ? n : dflt;
  };
  const sort = sp.get('sort') as SortKey | null;
  const size = int(sp.get('size'), 50);
  const source = sp.get('source') ?? '';
  return {
    q: (sp.get('q') ?? '').slice(0, 200),
    stage: sp.getAll('stage').filter((s) => (STAGES as readonly string[]).includes(s)),
    owner: (sp.get('owner') ?? '').slice(0, 64),
    channel: (sp.get('channel') ?? '').slice(0, 64),
    segment: (sp.get('segment') ?? '').slice(0, 64),
    source: (SOURCES as readonly string[]).includes(source) ? source : '',
    from: isDay(sp.get('from')) ? sp.get('from')! : '',
    to: isDay(sp.get('to')) ? sp.get('to')! : '',
    sort: sort && SORTS.includes(sort) ? sort : 'created',
    dir: sp.get('dir') === 'asc' ? 'asc' : 'desc',
    page: Math.min(int(sp.get('page'), 1), 100_000),
    size: (PAGE_SIZES as readonly number[]).includes(size) ? size : 50
  };
}

export function toListQuery(p: ListParams): LeadListQuery {
  const input: LeadListQueryInput = {
    search: p.q.trim() || undefined,
    stage: p.stage.length ? (p.stage as LeadListQueryInput['stage']) : undefined,
    ownerId: p.owner || undefined,
    channelId: p.channel || undefined,
    segmentId: p.segment || undefined,
    source: (p.source || undefined) as LeadListQueryInput['source'],
    createdFrom: p.from ? dayStart(p.from) : undefined,
    createdTo: p.to ? dayStart(p.to) + DAY : undefined,
    sort: p.sort,
    dir: p.dir,
    page: p.page,
    pageSize: p.size
  };
  return leadListQuerySchema.parse(input);
}

/** Writes params back as a query string, leaving defaults out so links stay short. */
export function toSearch(p: ListParams, change: Partial<ListParams> = {}): string {
  const v = { ...p, ...change };
  const sp = new URLSearchParams();
  if (v.q) sp.set('q', v.q);
  for (const s of v.stage) sp.append('stage', s);
  if (v.owner) sp.set('owner', v.owner);
  if (v.channel) sp.set('channel', v.channel);
  if (v.segment) sp.set('segment', v.segment);
  if (v.source) sp.set('source', v.source);
  if (v.from) sp.set('from', v.from);
  if (v.to) sp.set('to', v.to);
  if (v.sort !== 'created') sp.set('sort', v.sort);
  if (v.dir !== 'desc') sp.set('dir', v.dir);
  if (v.page !== 1) sp.set('page', String(v.page));
  if (v.size !== 50) sp.set('size', String(v.size));
  const s = sp.toString();
  return s ? `?${s}` : '';
}

export function hasFilters(p: ListParams): boolean {
  return !!(p.q || p.stage.length || p.owner || p.channel || p.segment || p.source || p.from || p.to);
}
