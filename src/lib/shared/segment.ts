import { z } from 'zod';
import { STAGES } from './lead';

/**
 * A segment definition: AND/OR groups of conditions on a lead's fields and behaviour. One schema
 * for the builder, the tRPC input and the stored JSON; the server compiles it to SQL
 * (lib/server/segments/compile.ts).
 */

/** What a field holds decides which operators it takes. */
export type FieldKind = 'text' | 'number' | 'bool' | 'date' | 'stage' | 'ref';

/** Lead fields a condition may name; `attributes.<key>` names a custom attribute (text). */
export const SEGMENT_FIELDS = {
  email: 'text',
  email_domain: 'text',
  phone: 'text',
  name: 'text',
  company: 'text',
  job_title: 'text',
  company_size: 'text',
  industry: 'text',
  city: 'text',
  region: 'text',
  country: 'text',
  timezone: 'text',
  source: 'text',
  stage: 'stage',
  owner_id: 'ref',
  channel_id: 'ref',
  utm_source: 'text',
  utm_medium: 'text',
  utm_campaign: 'text',
  utm_term: 'text',
  utm_content: 'text',
  fit_score: 'number',
  engagement_score: 'number',
  consent_marketing: 'bool',
  consent_tracking: 'bool',
  created_at: 'date'
} as const satisfies Record<string, FieldKind>;
export type SegmentField = keyof typeof SEGMENT_FIELDS;

export const ATTRIBUTE_FIELD = /^attributes\.[A-Za-z0-9_]{1,64}$/;

export const OPS_BY_KIND = {
  text: ['eq', 'neq', 'contains', 'not_contains', 'starts_with', 'in', 'not_in', 'is_set', 'is_empty'],
  number: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between'],
  bool: ['is_true', 'is_false'],
  date: ['within_days', 'older_than_days'],
  stage: ['in', 'not_in'],
  ref: ['in', 'not_in', 'is_set', 'is_empty']
} as const satisfies Record<FieldKind, readonly string[]>;
export const ALL_OPS = ['eq', 'neq', 'contains', 'not_contains', 'starts_with', 'in', 'not_in', 'is_set', 'is_empty', 'gt', 'gte', 'lt', 'lte', 'between', 'is_true', 'is_false', 'within_days', 'older_than_days'] as const;
export type FieldOp = (typeof ALL_OPS)[number];

/** Events a person makes: what "no activity for N days" looks for. */
export const ACTIVITY_TYPES = ['email_opened', 'email_clicked', 'page_viewed', 'form_submitted', 'webinar_attended', 'demo_requested'] as const;

export function fieldKind(field: string): FieldKind | undefined {
  if (ATTRIBUTE_FIELD.test(field)) return 'text';
  return (SEGMENT_FIELDS as Record<string, FieldKind>)[field];
}

const scalar = z.union([z.string().max(500), z.number().finite()]);

export const fieldConditionSchema = z
  .object({
    kind: z.literal('field'),
    field: z.string().max(80),
    op: z.enum(ALL_OPS),
    value: scalar.optional(),
    values: z.array(scalar).max(200).optional(),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    days: z.number().int().min(0).max(3650).optional()
  })
  .superRefine((c, ctx) => {
    const kind = fieldKind(c.field);
    if (!kind) {
      ctx.addIssue({ code: 'custom', path: ['field'], message: `unknown field "${c.field}"` });
      return;
    }
    if (!(OPS_BY_KIND[kind] as readonly string[]).includes(c.op)) ctx.addIssue({ code: 'custom', path: ['op'], message: `"${c.op}" does not apply to ${c.field}` });
    const need = (ok: boolean, path: string, message: string) => ok || ctx.addIssue({ code: 'custom', path: [path], message });
    if (['eq', 'neq', 'contains', 'not_contains', 'starts_with', 'gt', 'gte', 'lt', 'lte'].includes(c.op)) need(c.value !== undefined && c.value !== '', 'value', 'is required');
    if (['gt', 'gte', 'lt', 'lte'].includes(c.op) || (kind === 'number' && ['eq', 'neq'].includes(c.op))) need(typeof c.value === 'number', 'value', 'must be a number');
    if (c.op === 'in' || c.op === 'not_in') need(!!c.values?.length, 'values', 'pick at least one');
    if (kind === 'stage' && c.values) for (const v of c.values) need((STAGES as readonly unknown[]).includes(v), 'values', `unknown stage "${v}"`);
    if (c.op === 'between') need(c.min !== undefined && c.max !== undefined, 'min', 'needs both bounds');
    if (c.op === 'within_days' || c.op === 'older_than_days') need(c.days !== undefined, 'days', 'is required');
  });

const EVENT_TYPE = /^[a-z][a-z0-9_.:-]{0,63}$/;

/** "did (not) do <type> [on a page under <path>] at least <min> times [in the last <withinDays> days]". */
export const eventConditionSchema = z.object({
  kind: z.literal('event'),
  eventType: z.string().regex(EVENT_TYPE, 'is not an event type'),
  /** Page views only: the page path starts with this, e.g. /pricing. */
  path: z.string().max(300).regex(/^\//, 'starts with /').optional(),
  min: z.number().int().min(1).max(100_000).default(1),
  withinDays: z.number().int().min(1).max(3650).optional(),
  negate: z.boolean().default(false)
});

/** No person-made event (ACTIVITY_TYPES) for this many days, and known for at least as long. */
export const inactiveConditionSchema = z.object({ kind: z.literal('inactive'), days: z.number().int().min(1).max(3650) });

/** Is running in a flow (by slug), optionally resting at one node. */
export const flowConditionSchema = z.object({
  kind: z.literal('in_flow'),
  flow: z.string().min(1).max(100),
  node: z.string().max(100).optional(),
  negate: z.boolean().default(false)
});

export type FieldCondition = z.output<typeof fieldConditionSchema>;
export type EventCondition = z.output<typeof eventConditionSchema>;
export type InactiveCondition = z.output<typeof inactiveConditionSchema>;
export type FlowCondition = z.output<typeof flowConditionSchema>;
export type SegmentCondition = FieldCondition | EventCondition | InactiveCondition | FlowCondition;
export interface SegmentGroup {
  kind: 'group';
  match: 'all' | 'any';
  conditions: (SegmentCondition | SegmentGroup)[];
}

export const conditionSchema = z.discriminatedUnion('kind', [fieldConditionSchema, eventConditionSchema, inactiveConditionSchema, flowConditionSchema]);

export const segmentGroupSchema: z.ZodType<SegmentGroup> = z.lazy(() =>
  z.object({
    kind: z.literal('group'),
    match: z.enum(['all', 'any']),
    conditions: z.array(z.union([conditionSchema, segmentGroupSchema])).max(50)
  })
) as unknown as z.ZodType<SegmentGroup>;

/** A definition is its root group. An empty group matches every lead. */
export const segmentDefinitionSchema = segmentGroupSchema;
export type SegmentDefinition = SegmentGroup;

export const segmentInputSchema = z.object({
  name: z.string().trim().min(1).max(120),
  description: z.string().trim().max(500).optional(),
  definition: segmentDefinitionSchema
});

export const emptyDefinition = (): SegmentDefinition => ({ kind: 'group', match: 'all', conditions: [] });
