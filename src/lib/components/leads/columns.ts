import { m } from '$lib/paraglide/messages';
import type { SortKey } from './url-query';

/** The list's optional columns. Name always shows: it is the link to the card. */
export const COLUMNS = [
  { key: 'email', label: m.leads_col_email, sort: 'email' },
  { key: 'phone', label: m.leads_col_phone },
  { key: 'company', label: m.leads_col_company, sort: 'company' },
  { key: 'job_title', label: m.leads_col_job_title },
  { key: 'city', label: m.leads_col_city },
  { key: 'stage', label: m.leads_col_stage, sort: 'stage' },
  { key: 'owner', label: m.leads_col_owner },
  { key: 'channel', label: m.leads_col_channel },
  { key: 'source', label: m.leads_col_source },
  { key: 'created', label: m.leads_col_created, sort: 'created' },
  { key: 'updated', label: m.leads_col_updated, sort: 'updated' },
  { key: 'fit', label: m.leads_col_fit, sort: 'fit' },
  { key: 'engagement', label: m.leads_col_engagement, sort: 'engagement' }
] as const satisfies readonly { key: string; label: () => string; sort?: SortKey }[];

export type ColumnKey = (typeof COLUMNS)[number]['key'];

export const DEFAULT_COLUMNS: ColumnKey[] = ['email', 'phone', 'company', 'stage', 'owner', 'channel', 'created', 'fit', 'engagement'];

const STORAGE_KEY = 'nurture.leads.columns';

/** The user's column choice from this browser; anything unreadable falls back to the defaults. */
export function loadColumns(): ColumnKey[] {
  try {
    const raw = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (Array.isArray(raw)) {
      const known = COLUMNS.map((c) => c.key as string);
      return raw.filter((k): k is ColumnKey => typeof k === 'string' && known.includes(k));
    }
  } catch {
    // Private mode or a hand-edited value: the defaults will do.
  }
  return DEFAULT_COLUMNS;
}

export function saveColumns(cols: ColumnKey[]) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(cols));
  } catch {
    // Storage full or blocked: the choice lasts for this page view only.
  }
}
