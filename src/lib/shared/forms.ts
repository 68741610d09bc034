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
    allowedOrigins: z.array(z.string().trim().max(200)).max(50).default([]),
    active: z.boolean().default(true)
  })
  .superRefine((f, ctx) => {
    const keys = f.fields.map((x) => x.key);
    if (!keys.includes('email') && !keys.includes('phone'))
      ctx.addIssue({ code: 'custom', path: ['fields'], message: 'a form needs an email or a phone field' });
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['fields'], message: `field ${dup} appears twice` });
  });
export type FormDefinition = z.output<typeof formDefinitionSchema>;
export type FormDefinitionInput = z.input<typeof formDefinitionSchema>;

/** The name of the hidden trap field; people never see it, bots fill it. */
export const HONEYPOT_FIELD = 'website_url';
