import { z } from 'zod';
import { leadInputSchema, touchSchema, type LeadInput } from './lead';

/** Public REST payloads (`/api/v1`), one schema per boundary. */
export const apiLeadSchema = z
  .object({
    email: z.string().max(254).optional(),
    phone: z.string().max(32).optional(),
    name: z.string().max(200).optional(),
    company: z.string().max(200).optional(),
    job_title: z.string().max(200).optional(),
    company_size: z.string().max(50).optional(),
    industry: z.string().max(100).optional(),
    city: z.string().max(100).optional(),
    region: z.string().max(100).optional(),
    country: z.string().max(100).optional(),
    timezone: z.string().max(64).optional(),
    consent_marketing: z.boolean().optional(),
    consent_tracking: z.boolean().optional(),
    attributes: z.record(z.string().max(64), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])).optional(),
    channel: z.string().max(100).optional(),
    utm: touchSchema.optional()
  })
  .strict();

const EVENT_TYPE = /^[a-z][a-z0-9_.:-]{0,63}$/;

export const apiEventSchema = z
  .object({
    email: z.string().max(254).optional(),
    leadId: z.string().max(64).optional(),
    type: z.string().regex(EVENT_TYPE, 'must be lower-case letters, digits and _ . : - (at most 64)'),
    properties: z.record(z.string().max(100), z.unknown()).default({}),
    occurredAt: z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]).optional(),
    idempotencyKey: z.string().min(1).max(200).optional()
  })
  .strict()
  // `when` lets this run even if another field already failed, so one answer lists every issue.
  .refine((e) => e.email || e.leadId, {
    message: 'email or leadId is required',
    path: ['email'],
    when: (p) => typeof p.value === 'object' && p.value !== null && !Array.isArray(p.value)
  });
export type ApiEvent = z.output<typeof apiEventSchema>;

export type ApiLead = z.output<typeof apiLeadSchema>;
export interface ApiIssue {
  field: string;
  message: string;
}

/**
 * Zod issues as `field: reason` pairs. An unknown key is reported under its own name rather than
 * at the root, so the caller sees which key to drop.
 */
export function apiIssues(error: z.ZodError): ApiIssue[] {
  return error.issues.flatMap((i) => {
    const at = i.path.map(String);
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ field: [...at, k].join('.'), message: 'is not a known field' }));
    return [{ field: at.join('.') || '(root)', message: i.message }];
  });
}

/**
 * Checks a `POST /api/v1/leads` body in one pass: the shape (apiLeadSchema) and the lead rules
 * (valid email and phone, a known time zone, one of email or phone). Both sets of issues are
 * reported together so a caller fixes everything in one round trip.
 */
export function parseApiLead(body: unknown): { ok: true; lead: ApiLead; input: LeadInput } | { ok: false; issues: ApiIssue[] } {
  const shape = apiLeadSchema.safeParse(body);
  const fields = body && typeof body === 'object' && !Array.isArray(body) ? leadFieldsOf(body as Record<string, unknown>) : undefined;
  const rules = fields ? leadInputSchema.safeParse(fields) : undefined;
  if (shape.success && rules?.success) return { ok: true, lead: shape.data, input: rules.data };
  const issues = shape.success ? [] : apiIssues(shape.error);
  const seen = new Set(issues.map((i) => i.field));
  if (rules && !rules.success) for (const i of apiIssues(rules.error)) if (!seen.has(i.field)) issues.push(i);
  if (!fields && !issues.length) issues.push({ field: '(root)', message: 'must be a JSON object' });
  // Zod skips the lead's email-or-phone rule once another field failed; say it anyway.
  if (fields && fields.email === undefined && fields.phone === undefined && !issues.some((i) => i.field === 'email'))
    issues.push({ field: 'email', message: 'an email or a phone is required' });
  return { ok: false, issues };
}

/** The body minus the API-only keys (channel, utm), i.e. what the lead rules look at. */
function leadFieldsOf(body: Record<string, unknown>) {
  const { channel: _channel, utm: _utm, ...rest } = body;
  const known = new Set(Object.keys(leadInputSchema.shape));
  return Object.fromEntries(Object.entries(rest).filter(([k]) => known.has(k)));
}
