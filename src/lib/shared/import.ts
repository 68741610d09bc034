import { z } from 'zod';
import { CAPTURE_FIELDS, type CaptureField } from './lead';

/**
 * CSV import vocabulary shared by the server, the CLI and the mapping screen.
 * A mapping sends each CSV column (by its header) to a lead field, to a custom attribute
 * (`attr:<name>`) or to nowhere (`skip`).
 */
export const SKIP = 'skip' as const;
export const ATTR_PREFIX = 'attr:';

export type ImportTarget = CaptureField | typeof SKIP | `attr:${string}`;

const attrTarget = z
  .string()
  .regex(/^attr:[\p{L}\p{N}_ .-]{1,64}$/u, 'must be attr:<name> with a name of letters, digits, _ . - or spaces (up to 64)');

export const importTargetSchema = z.union([z.enum(CAPTURE_FIELDS), z.literal(SKIP), attrTarget]);

/** Column header -> target. Two columns may not feed the same field: which one wins would be a guess. */
export const importMappingSchema = z
  .record(z.string().max(200), importTargetSchema)
  .superRefine((mapping, ctx) => {
    const seen = new Map<string, string>();
    for (const [column, target] of Object.entries(mapping)) {
      if (target === SKIP) continue;
      const prev = seen.get(target);
      if (prev !== undefined)
        ctx.addIssue({ code: 'custom', path: [column], message: `"${column}" and "${prev}" both map to ${target}` });
      else seen.set(target, column);
    }
    const targets = [...seen.keys()];
    if (!targets.includes('email') && !targets.includes('phone'))
      ctx.addIssue({ code: 'custom', path: [], message: 'map a column to email or to phone: a lead needs one of them' });
  });

export type ImportMapping = Record<string, ImportTarget>;

export const IMPORT_STATUSES = ['running', 'done', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** What the UI, the CLI and the tRPC status procedure see of an import. */
export interface ImportSummary {
  id: string;
  filename: string;
  channelId: string | null;
  status: ImportStatus;
  total: number;
  created: number;
  updated: number;
  rejected: number;
  /** Share of the file's bytes read, 0..1. */
  progress: number;
  stoppedAtRow: number | null;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface ImportReject {
  row: number;
  field: string;
  reason: string;
  raw: string[];
}

/**
 * Header words (lower-case, punctuation dropped) in English and Russian for each target.
 * Kept as data so the mapping screen and the CLI suggest the same thing.
 */
const HEADER_WORDS: Record<CaptureField, string[]> = {
  email: ['email', 'e-mail', 'e mail', 'mail', 'email address', 'почта', 'эл почта', 'электронная почта', 'емейл', 'имейл', 'емэйл', 'адрес почты'],
  phone: ['phone', 'phone number', 'telephone', 'tel', 'mobile', 'cell', 'телефон', 'тел', 'мобильный', 'моб телефон', 'номер телефона', 'сотовый'],
  name: ['name', 'full name', 'fullname', 'contact', 'contact name', 'имя', 'фио', 'ф и о', 'имя фамилия', 'контакт', 'контактное лицо'],
  company: ['company', 'company name', 'organization', 'organisation', 'account', 'компания', 'организация', 'название компании', 'фирма'],
  job_title: ['job title', 'title', 'position', 'role', 'job', 'должность', 'позиция'],
  company_size: ['company size', 'size', 'employees', 'headcount', 'размер компании', 'сотрудников', 'численность', 'количество сотрудников'],
  industry: ['industry', 'sector', 'отрасль', 'индустрия', 'сфера'],
  city: ['city', 'town', 'город', 'населенный пункт'],
  region: ['region', 'state', 'province', 'регион', 'область', 'край'],
  country: ['country', 'страна'],
  timezone: ['timezone', 'time zone', 'tz', 'часовой пояс'],
  consent_marketing: ['consent', 'marketing consent', 'opt in', 'optin', 'subscribed', 'согласие', 'согласие на рассылку', 'подписка'],
  consent_tracking: ['tracking consent', 'согласие на отслеживание'],
  utm_source: ['utm source', 'utm_source', 'source'],
  utm_medium: ['utm medium', 'utm_medium', 'medium'],
  utm_campaign: ['utm campaign', 'utm_campaign', 'campaign', 'кампания'],
  utm_term: ['utm term', 'utm_term'],
  utm_content: ['utm content', 'utm_content']
};

function headerKey(h: string): string {
  return h
    .replace(/^\uFEFF/, '')
    .toLowerCase()
    .replace(/ё/g, 'е')
    .replace(/[_.:;,()[\]*"'/\\-]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const WORD_TO_TARGET = new Map<string, CaptureField>();
for (const [target, words] of Object.entries(HEADER_WORDS) as [CaptureField, string[]][])
  for (const w of words) if (!WORD_TO_TARGET.has(headerKey(w))) WORD_TO_TARGET.set(headerKey(w), target);

/**
 * Suggests a target per header: a remembered choice for the same header first, then a known
 * word (English or Russian), else `skip`. A field is given to the first column that claims it.
 */
export function suggestMapping(headers: string[], remembered: ImportMapping = {}): ImportMapping {
  const out: ImportMapping = {};
  const taken = new Set<string>();
  const claim = (h: string, t: ImportTarget | undefined) => {
    if (!t || (t !== SKIP && taken.has(t))) return false;
    out[h] = t;
    if (t !== SKIP) taken.add(t);
    return true;
  };
  for (const h of headers) if (h in remembered) claim(h, remembered[h]);
  for (const h of headers) {
    if (h in out) continue;
    if (!claim(h, WORD_TO_TARGET.get(headerKey(h)))) out[h] = SKIP;
  }
  return out;
}

/** True for a custom-attribute target (`attr:<name>`). */
export function isAttrTarget(t: string): t is `attr:${string}` {
  return t.startsWith(ATTR_PREFIX);
}
