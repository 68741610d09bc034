import type { LeadInput, Touch } from '../../shared/lead';
import { TEXT_FIELDS } from '../../shared/lead';
import type { LeadsTable } from '../db/schema';

/**
 * Pure rules for folding a capture into a lead. Kept apart from SQL so the single-capture path
 * and the batch import path can never disagree about what a duplicate does to a lead.
 */

export type LeadRow = LeadsTable;

/** One field changed by a capture, edit or merge; becomes part of a timeline event. */
export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export function searchTextOf(l: Pick<LeadRow, 'name' | 'email' | 'phone' | 'company'>): string {
  const phoneDigits = l.phone ? l.phone.replace(/\D/g, '') : '';
  return [l.name, l.email, l.phone, phoneDigits, l.company]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

export function touchOf(t: Touch | undefined, at: number): string {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t ?? {})) if (v !== undefined && v !== '') clean[k] = v;
  clean.at = at;
  return JSON.stringify(clean);
}

export function newLeadRow(args: {
  id: string;
  input: LeadInput;
  source: string;
  channelId: string | null;
  touch: Touch | undefined;
  now: number;
  ownerId?: string | null;
}): LeadRow {
  const { input, now } = args;
  const row: LeadRow = {
    id: args.id,
    email: input.email ?? null,
    phone: input.phone ?? null,
    name: input.name ?? null,
    company: input.company ?? null,
    job_title: input.job_title ?? null,
    company_size: input.company_size ?? null,
    industry: input.industry ?? null,
    city: input.city ?? null,
    region: input.region ?? null,
    country: input.country ?? null,
    timezone: input.timezone ?? null,
    attributes: JSON.stringify(input.attributes ?? {}),
    stage: 'subscriber',
    owner_id: args.ownerId ?? null,
    consent_marketing: input.consent_marketing ? 1 : 0,
    consent_tracking: input.consent_tracking ? 1 : 0,
    source: args.source,
    channel_id: args.channelId,
    first_touch: touchOf(args.touch, now),
    last_touch: touchOf(args.touch, now),
    fit_score: 0,
    engagement_score: 0,
    merged_into_id: null,
    search_text: '',
    created_at: now,
    updated_at: now
  };
  row.search_text = searchTextOf(row);
  return row;
}

/**
 * A capture of a known lead fills what it brings and never blanks what we had: an empty form
 * field is "not given", not "erase". Consent is only ever granted here, never withdrawn, because
 * withdrawing goes through unsubscribe, which leaves its own record.
 */
export function applyCapture(
  existing: LeadRow,
  input: LeadInput,
  touch: Touch | undefined,
  now: number
): { patch: Partial<LeadRow>; changes: FieldChange[] } {
  const patch: Partial<LeadRow> = {};
  const changes: FieldChange[] = [];
  const set = <K extends keyof LeadRow>(field: K, value: LeadRow[K]) => {
    if (existing[field] === value) return;
    patch[field] = value;
    changes.push({ field, from: existing[field], to: value });
  };
  if (input.email && !existing.email) set('email', input.email);
  if (input.phone && !existing.phone) set('phone', input.phone);
  for (const f of TEXT_FIELDS) {
    const v = input[f];
    if (v !== undefined) set(f, v);
  }
  if (input.consent_marketing) set('consent_marketing', 1);
  if (input.consent_tracking) set('consent_tracking', 1);
  if (input.attributes && Object.keys(input.attributes).length) {
    const attrs = { ...JSON.parse(existing.attributes), ...input.attributes };
    const next = JSON.stringify(attrs);
    if (next !== existing.attributes) {
      patch.attributes = next;
      changes.push({ field: 'attributes', from: JSON.parse(existing.attributes), to: attrs });
    }
  }
  if (touch && Object.values(touch).some((v) => v)) patch.last_touch = touchOf(touch, now);
  patch.updated_at = now;
  const merged = { ...existing, ...patch };
  const search = searchTextOf(merged);
  if (search !== existing.search_text) patch.search_text = search;
  return { patch, changes };
}

/**
 * Manual merge: the primary keeps its values and takes the secondary's where it has none.
 * The earlier first touch wins, so channel attribution stays with the channel that found the lead.
 */
export function mergeRows(primary: LeadRow, secondary: LeadRow, now: number): { patch: Partial<LeadRow>; changes: FieldChange[] } {
  const patch: Partial<LeadRow> = {};
  const changes: FieldChange[] = [];
  const fields = ['email', 'phone', ...TEXT_FIELDS, 'owner_id'] as const;
  for (const f of fields) {
    if ((primary[f] === null || primary[f] === '') && secondary[f] !== null && secondary[f] !== '') {
      patch[f] = secondary[f];
      changes.push({ field: f, from: primary[f], to: secondary[f] });
    }
  }
  const attrs = { ...JSON.parse(secondary.attributes), ...JSON.parse(primary.attributes) };
  if (JSON.stringify(attrs) !== primary.attributes) patch.attributes = JSON.stringify(attrs);
  if (secondary.consent_marketing && !primary.consent_marketing) patch.consent_marketing = 1;
  if (secondary.consent_tracking && !primary.consent_tracking) patch.consent_tracking = 1;
  if (secondary.created_at < primary.created_at) {
    patch.created_at = secondary.created_at;
    patch.first_touch = secondary.first_touch;
    patch.source = secondary.source;
    patch.channel_id = secondary.channel_id;
  }
  patch.fit_score = Math.max(primary.fit_score, secondary.fit_score);
  patch.engagement_score = primary.engagement_score + secondary.engagement_score;
  patch.updated_at = now;
  patch.search_text = searchTextOf({ ...primary, ...patch });
  return { patch, changes };
}
