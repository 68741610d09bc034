import { z } from 'zod';
import { STAGES } from './lead';

/**
 * The workflow format: one zod schema for the engine, the API, the designer and the files in
 * `workflows/<slug>/workflow.json`. A workflow is a graph of nodes by id; edges are the `next`
 * fields of the nodes. Everything here is data: the compiler turns it into an XState machine.
 */

export const durationSchema = z.object({
  amount: z.number().int().min(0).max(100_000),
  unit: z.enum(['minutes', 'hours', 'days', 'weeks'])
});
export type Duration = z.infer<typeof durationSchema>;

const UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000, weeks: 7 * 86_400_000 } as const;
export const durationMs = (d: Duration) => d.amount * UNIT_MS[d.unit];

const nodeId = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'node ids are letters, digits, _ and -');
const eventType = z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/, 'event types are lower-case');
const scalar = z.union([z.string().max(500), z.number(), z.boolean()]);
const propertyFilter = z.record(z.string().max(100), scalar);

/** A lead field: a column (`company`, `city`...) or a custom attribute (`attr:demo_at`). */
const fieldRef = z.string().regex(/^(attr:)?[a-z][a-z0-9_]{0,63}$/, 'a lead field or attr:<name>');

export type Condition =
  | { kind: 'field'; field: string; op: 'eq' | 'neq' | 'contains' | 'exists' | 'not_exists' | 'gt' | 'gte' | 'lt' | 'lte' | 'in'; value?: string | number | boolean | (string | number)[] }
  | { kind: 'stage'; op: 'is' | 'is_not' | 'in'; value: string | string[] }
  | { kind: 'score'; score: 'fit' | 'engagement'; op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq'; value: number }
  | { kind: 'event'; eventType: string; within: Duration; minCount?: number; filter?: Record<string, string | number | boolean>; negate?: boolean }
  | { kind: 'all'; conditions: Condition[] }
  | { kind: 'any'; conditions: Condition[] };

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('field'),
      field: fieldRef,
      op: z.enum(['eq', 'neq', 'contains', 'exists', 'not_exists', 'gt', 'gte', 'lt', 'lte', 'in']),
      value: z.union([scalar, z.array(z.union([z.string().max(500), z.number()])).max(100)]).optional()
    }),
    z.object({ kind: z.literal('stage'), op: z.enum(['is', 'is_not', 'in']), value: z.union([z.enum(STAGES), z.array(z.enum(STAGES))]) }),
    z.object({ kind: z.literal('score'), score: z.enum(['fit', 'engagement']), op: z.enum(['gt', 'gte', 'lt', 'lte', 'eq']), value: z.number() }),
    z.object({
      kind: z.literal('event'),
      eventType,
      within: durationSchema,
      minCount: z.number().int().min(1).max(1000).optional(),
      filter: propertyFilter.optional(),
      negate: z.boolean().optional()
    }),
    z.object({ kind: z.literal('all'), conditions: z.array(conditionSchema).min(1).max(20) }),
    z.object({ kind: z.literal('any'), conditions: z.array(conditionSchema).min(1).max(20) })
  ])
) as z.ZodType<Condition>;

const position = z.object({ x: z.number(), y: z.number() }).optional();
const base = { label: z.string().max(200).optional(), position };

const waitSpec = z.discriminatedUnion('type', [
  z.object({ type: z.literal('duration'), duration: durationSchema }),
  z.object({ type: z.literal('until_date'), date: z.iso.datetime({ offset: true }) }),
  z.object({
    type: z.literal('until_field'),
    field: fieldRef,
    /** Negative offsets wait until before the date, e.g. one day before `demo_at`. */
    offset: z.object({ amount: z.number().int().min(-100_000).max(100_000), unit: durationSchema.shape.unit }).optional()
  })
]);
export type WaitSpec = z.infer<typeof waitSpec>;

export const nodeSchema = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.literal('send_email'),
    template: z.string().min(1).max(100),
    subject: z.string().max(300).optional(),
    transactional: z.boolean().optional(),
    /** When the frequency cap is reached: wait for room (default) or skip this email. */
    onCap: z.enum(['wait', 'skip']).optional(),
    /** This step's own send window, e.g. "mon-fri 10:00-16:00"; "" turns the workspace's off. */
    window: z.string().max(100).optional(),
    /** UTM parameters appended to every link of this email. */
    utm: z.record(z.enum(['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content']), z.string().max(200)).optional(),
    next: nodeId
  }),
  z.object({ ...base, kind: z.literal('wait'), wait: waitSpec, next: nodeId }),
  z.object({ ...base, kind: z.literal('wait_until'), eventType, filter: propertyFilter.optional(), timeout: durationSchema, next: nodeId, timeoutNext: nodeId }),
  z.object({
    ...base,
    kind: z.literal('branch'),
    cases: z.array(z.object({ label: z.string().max(100).optional(), condition: conditionSchema, next: nodeId })).min(1).max(20),
    elseNext: nodeId
  }),
  z.object({
    ...base,
    kind: z.literal('ab_split'),
    variants: z.array(z.object({ name: z.string().min(1).max(50), weight: z.number().int().min(1).max(1000), next: nodeId })).min(2).max(10)
  }),
  z.object({ ...base, kind: z.literal('update_field'), field: fieldRef, value: z.union([scalar, z.null()]), next: nodeId }),
  z.object({ ...base, kind: z.literal('adjust_score'), score: z.enum(['fit', 'engagement']), points: z.number().int().min(-1000).max(1000), reason: z.string().max(200).optional(), next: nodeId }),
  z.object({ ...base, kind: z.literal('set_stage'), stage: z.enum(STAGES), next: nodeId }),
  z.object({ ...base, kind: z.literal('assign_owner'), strategy: z.enum(['round_robin', 'specific']), userEmail: z.email().optional(), next: nodeId }),
  z.object({ ...base, kind: z.literal('notify'), to: z.union([z.literal('owner'), z.object({ role: z.enum(['admin', 'marketer', 'sales']) })]), message: z.string().min(1).max(1000), next: nodeId }),
  z.object({
    ...base,
    kind: z.literal('webhook'),
    url: z.url().refine((u) => /^https:\/\//.test(u) || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//.test(u), 'webhooks must use https'),
    next: nodeId
  }),
  z.object({ ...base, kind: z.literal('handoff'), next: nodeId }),
  z.object({ ...base, kind: z.literal('goal'), goal: z.string().max(100).optional() }),
  z.object({ ...base, kind: z.literal('exit') })
]);
export type WorkflowNode = z.infer<typeof nodeSchema>;
export type NodeKind = WorkflowNode['kind'];

export const triggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('form_submitted'), formSlug: z.string().max(100).optional() }),
  z.object({ type: z.literal('event'), eventType, filter: propertyFilter.optional() }),
  z.object({ type: z.literal('lead_created') }),
  z.object({ type: z.literal('lifecycle_changed'), stage: z.enum(STAGES) }),
  z.object({ type: z.literal('segment_entered'), segmentId: z.string().max(64) }),
  z.object({ type: z.literal('manual') })
]);
export type Trigger = z.infer<typeof triggerSchema>;

export const reentrySchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('never') }),
  z.object({ mode: z.literal('after_exit') }),
  z.object({ mode: z.literal('cooldown'), cooldown: durationSchema })
]);

export const workflowSchema = z
  .object({
    slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'use 2–63 lower-case letters, digits and dashes'),
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    trigger: triggerSchema,
    reentry: reentrySchema.default({ mode: 'never' }),
    goals: z.array(z.object({ id: nodeId, name: z.string().min(1).max(200), condition: conditionSchema })).max(10).default([]),
    start: nodeId,
    nodes: z.record(nodeId, nodeSchema)
  })
  .strict();
export type Workflow = z.output<typeof workflowSchema>;
export type WorkflowInput = z.input<typeof workflowSchema>;

/** The ids a node leads to, in order. */
export function nextOf(n: WorkflowNode): string[] {
  switch (n.kind) {
    case 'wait_until':
      return [n.next, n.timeoutNext];
    case 'branch':
      return [...n.cases.map((c) => c.next), n.elseNext];
    case 'ab_split':
      return n.variants.map((v) => v.next);
    case 'goal':
    case 'exit':
      return [];
    default:
      return [n.next];
  }
}

/** Nodes that let time pass: a loop must hold one, or it would spin forever in one step. */
export const isWaiting = (n: WorkflowNode) => n.kind === 'wait' || n.kind === 'wait_until';
