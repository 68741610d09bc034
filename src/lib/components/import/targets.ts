import { m } from '$lib/paraglide/messages';
import { CAPTURE_FIELDS, UTM_KEYS, type CaptureField } from '$lib/shared/lead';
import { ATTR_PREFIX, SKIP, type ImportMapping } from '$lib/shared/import';

/** What the mapping select offers, in the UI's language. Field labels are the lead card's words. */
const FIELD_LABELS: Partial<Record<CaptureField, () => string>> = {
  email: m.imports_field_email,
  phone: m.imports_field_phone,
  name: m.imports_field_name,
  company: m.imports_field_company,
  job_title: m.imports_field_job_title,
  company_size: m.imports_field_company_size,
  industry: m.imports_field_industry,
  city: m.imports_field_city,
  region: m.imports_field_region,
  country: m.imports_field_country,
  timezone: m.imports_field_timezone,
  consent_marketing: m.imports_field_consent_marketing,
  consent_tracking: m.imports_field_consent_tracking
};

const utm = new Set<string>(UTM_KEYS);
export const LEAD_FIELDS = CAPTURE_FIELDS.filter((f) => !utm.has(f));
export const UTM_FIELDS = UTM_KEYS;

export function targetLabel(target: string): string {
  if (target === SKIP) return m.imports_target_skip();
  if (target.startsWith(ATTR_PREFIX)) return m.imports_target_attr({ name: target.slice(ATTR_PREFIX.length) });
  return FIELD_LABELS[target as CaptureField]?.() ?? target;
}

/** A custom attribute named after its column, in the characters an attribute name allows. */
export function attrTargetFor(header: string): string {
  const name = header.replace(/[^\p{L}\p{N}_ .-]+/gu, '_').trim().slice(0, 64) || 'column';
  return `${ATTR_PREFIX}${name}`;
}

/** The problems that would make the server refuse the mapping, said before it is sent. */
export function mappingProblems(mapping: ImportMapping): string[] {
  const problems: string[] = [];
  const targets = Object.values(mapping).filter((t) => t !== SKIP);
  if (!targets.includes('email') && !targets.includes('phone')) problems.push(m.imports_need_identity());
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t)) problems.push(m.imports_duplicate_target({ field: targetLabel(t) }));
    seen.add(t);
  }
  return [...new Set(problems)];
}

export function formatBytes(n: number, locale: string): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: i ? 1 : 0 }).format(v)} ${units[i]}`;
}

/** What the upload endpoint answers. */
export interface Uploaded {
  uploadId: string;
  filename: string;
  size: number;
}
