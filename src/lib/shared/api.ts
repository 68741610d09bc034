import { z } from 'zod';
import { touchSchema } from './lead';

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
  .refine((e) => e.email || e.leadId, { message: 'email or leadId is required', path: ['email'] });
export type ApiEvent = z.output<typeof apiEventSchema>;
