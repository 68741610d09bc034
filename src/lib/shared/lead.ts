import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { z } from 'zod';

/** Lead vocabulary shared by the server, the forms and the UI: one schema per boundary. */
export const STAGES = [
  'subscriber',
  'lead',
  'mql',
  'sql',
  'opportunity',
  'customer',
  'disqualified',
  'recycled'
] as const;
export type Stage = (typeof STAGES)[number];

export const SOURCES = ['form', 'api', 'import', 'manual'] as const;
export type LeadSource = (typeof SOURCES)[number];

/** Plain text fields a lead has, with their limits; the order is the card's order. */
export const TEXT_FIELDS = [
  'name',
  'company',
  'job_title',
  'company_size',
  'industry',
  'city',
  'region',
  'country',
  'timezone'
] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

export const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;
export type UtmKey = (typeof UTM_KEYS)[number];
export type Touch = Partial<Record<UtmKey, string>> & { channel?: string; referrer?: string; page?: string; at?: number };

/** Fields a form, an import column or the API may set. `attr:<name>` sets a custom attribute. */
export const CAPTURE_FIELDS = [
  'email',
  'phone',
  ...TEXT_FIELDS,
  'consent_marketing',
  'consent_tracking',
  ...UTM_KEYS
] as const;
export type CaptureField = (typeof CAPTURE_FIELDS)[number];

export type Normalized = { ok: true; value: string } | { ok: false; reason: string };

const emailShape = z.email();

export function normalizeEmail(raw: string): Normalized {
  const value = raw.trim().toLowerCase();
  if (!value) return { ok: false, reason: 'is empty' };
  if (value.length > 254) return { ok: false, reason: 'is longer than 254 characters' };
  if (!emailShape.safeParse(value).success) return { ok: false, reason: `"${clip(raw)}" is not a valid email address` };
  return { ok: true, value };
}

export function normalizePhone(raw: string, defaultRegion: CountryCode = 'RU'): Normalized {
  const trimmed = raw.trim();
  if (!trimmed) return { ok: false, reason: 'is empty' };
  if (trimmed.length > 32) return { ok: false, reason: 'is longer than 32 characters' };
  const parsed = parsePhoneNumberFromString(trimmed, defaultRegion);
  if (!parsed || !parsed.isValid()) return { ok: false, reason: `"${clip(raw)}" is not a valid phone number` };
  return { ok: true, value: parsed.number };
}

function clip(s: string) {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

const text = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .transform((s) => s.trim())
    .transform((s) => (s === '' ? undefined : s))
    .optional();

const boolish = z
  .union([z.boolean(), z.enum(['true', 'false', 'on', 'off', '1', '0', 'yes', 'no', 'да', 'нет', ''])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', 'on', '1', 'yes', 'да'].includes(v)))
  .optional();

/**
 * What any channel may hand us about a lead. Email and phone are normalized here, so
 * every entry point (form, API, import, manual) stores them the same way.
 */
export const leadInputSchema = z
  .object({
    email: z
      .string()
      .max(254)
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === '') return undefined;
        const n = normalizeEmail(v);
        if (!n.ok) {
          ctx.addIssue({ code: 'custom', message: n.reason });
          return z.NEVER;
        }
        return n.value;
      }),
    phone: z
      .string()
      .max(32)
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === '') return undefined;
        const n = normalizePhone(v);
        if (!n.ok) {
          ctx.addIssue({ code: 'custom', message: n.reason });
          return z.NEVER;
        }
        return n.value;
      }),
    name: text(200),
    company: text(200),
    job_title: text(200),
    company_size: text(50),
    industry: text(100),
    city: text(100),
    region: text(100),
    country: text(100),
    timezone: text(64).refine((tz) => tz === undefined || isTimeZone(tz), 'is not a known IANA time zone'),
    consent_marketing: boolish,
    consent_tracking: boolish,
    attributes: z.record(z.string().max(64), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])).optional()
  })
  .refine((l) => l.email !== undefined || l.phone !== undefined, {
    message: 'an email or a phone is required',
    path: ['email']
  });

export type LeadInput = z.output<typeof leadInputSchema>;
export type LeadInputRaw = z.input<typeof leadInputSchema>;

export const touchSchema = z
  .object({
    utm_source: z.string().max(200).optional(),
    utm_medium: z.string().max(200).optional(),
    utm_campaign: z.string().max(200).optional(),
    utm_term: z.string().max(200).optional(),
    utm_content: z.string().max(200).optional(),
    channel: z.string().max(100).optional(),
    referrer: z.string().max(2000).optional(),
    page: z.string().max(2000).optional()
  })
  .partial();

export function isTimeZone(tz: string) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Turns a zod error into `field: reason` lines, the shape every boundary reports. */
export function describeIssues(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((i) => ({ field: i.path.join('.') || '(root)', message: i.message }));
}
