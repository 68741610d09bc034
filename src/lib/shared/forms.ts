import { z } from 'zod';
import { CAPTURE_FIELDS } from './lead';

/** Hosted form definitions: edited in the builder, rendered by the hosted page and embed.js. */
export const FIELD_TYPES = ['text', 'email', 'tel', 'textarea', 'select', 'checkbox'] as const;

const fieldKey = z.union([
  z.enum(CAPTURE_FIELDS),
  z.string().regex(/^attr:[a-z][a-z0-9_]{0,40}$/, 'custom fields look like attr:product_interest')
]);

export const formFieldSchema = z.object({
  key: fieldKey,
  label: z.string().trim().min(1, 'is required').max(200),
  type: z.enum(FIELD_TYPES).default('text'),
  required: z.boolean().default(false),
  placeholder: z.string().max(200).optional(),
  options: z.array(z.string().trim().min(1).max(200)).max(50).optional()
});
export type FormField = z.output<typeof formFieldSchema>;

/** A site allowed to embed the form, compared with the browser's `Origin` header. */
export const originSchema = z
  .string()
  .trim()
  .max(200)
  .transform((s) => normalizeOrigin(s))
  .refine((s) => /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/.test(s), 'use an origin like https://example.com (no path)');

/** Lower-cased, without a trailing slash: how browsers send `Origin`. */
export function normalizeOrigin(s: string): string {
  return s.trim().toLowerCase().replace(/\/+$/, '');
}

export const formDefinitionSchema = z
  .object({
    name: z.string().trim().min(1, 'is required').max(200),
    slug: z
      .string()
      .trim()
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'use 2–63 lower-case letters, digits and dashes')
      .optional(),
    title: z.string().trim().min(1, 'is required').max(200),
    fields: z.array(formFieldSchema).min(1, 'a form needs at least one field').max(40),
    consentText: z.string().trim().max(2000).optional(),
    submitLabel: z.string().trim().max(100).optional(),
    thankYouText: z.string().trim().max(2000).optional(),
    redirectUrl: z
      .url()
      .max(2000)
      .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) address')
      .optional(),
    channelId: z.string().max(64).nullable().optional(),
    allowedOrigins: z.array(originSchema).max(50).default([]),
    active: z.boolean().default(true)
  })
  .superRefine((f, ctx) => {
    const keys = f.fields.map((x) => x.key);
    if (!keys.includes('email') && !keys.includes('phone'))
      ctx.addIssue({ code: 'custom', path: ['fields'], message: 'a form needs an email or a phone field' });
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['fields'], message: `field ${dup} appears twice` });
    // The consent checkbox posts as consent_marketing; a field of the same key would shadow it.
    if (f.consentText && keys.includes('consent_marketing'))
      ctx.addIssue({ code: 'custom', path: ['consentText'], message: 'remove the consent_marketing field: the consent checkbox sets it' });
    f.fields.forEach((x, i) => {
      if (x.type === 'select' && !x.options?.length)
        ctx.addIssue({ code: 'custom', path: ['fields', i, 'options'], message: 'a choice field needs at least one option' });
    });
  });
export type FormDefinition = z.output<typeof formDefinitionSchema>;
export type FormDefinitionInput = z.input<typeof formDefinitionSchema>;

/** The name of the hidden trap field; people never see it, bots fill it. */
export const HONEYPOT_FIELD = 'website_url';

/** Why a visitor's value was refused; the UI turns a code into text in the visitor's language. */
export type SubmitErrorCode = 'required' | 'invalid_email' | 'invalid_phone' | 'contact_required' | 'consent' | 'too_long' | 'invalid_choice' | 'invalid';

/** What a visitor's browser needs to draw a form: no ids, no owner data, no allowed origins. */
export interface VisitorForm {
  slug: string;
  title: string;
  fields: FormField[];
  consentText: string | null;
  submitLabel: string | null;
  honeypot: string;
}
