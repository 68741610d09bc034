import { z } from 'zod';

/**
 * The MQL→SQL hand-off vocabulary shared by the server and the sales UI: BANT, reject reasons,
 * routing and SLA settings, and which fields a stage change requires.
 */

export const HANDOFF_STATUSES = ['open', 'accepted', 'rejected', 'recycled', 'reassigned'] as const;
export type HandoffStatus = (typeof HANDOFF_STATUSES)[number];

export const REJECT_REASONS = ['bad_fit', 'no_budget', 'wrong_contact', 'duplicate', 'other'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const TASK_KINDS = ['call_back', 'follow_up'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** Routing modes; a chain tries them in order and the first that finds a rep wins. */
export const ROUTING_MODES = ['territory', 'specialization', 'capacity', 'round_robin'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

const bantField = z.string().trim().min(1, 'is required').max(500);
export const bantSchema = z.object({ budget: bantField, authority: bantField, need: bantField, timing: bantField });
export type Bant = z.infer<typeof bantSchema>;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use YYYY-MM-DD');

export function isTimeZone(tz: string) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const businessCalendarSchema = z
  .object({
    timeZone: z.string().min(1).max(64).refine(isTimeZone, 'is not a known IANA time zone'),
    /** ISO weekdays that are working days: 1 = Monday … 7 = Sunday. */
    days: z.array(z.number().int().min(1).max(7)).min(1).max(7),
    start: hhmm,
    end: hhmm,
    /** Public holidays (local dates) on which the SLA clock stops. */
    holidays: z.array(isoDate).max(400).default([])
  })
  .refine((c) => c.start < c.end, { message: 'the working day must end after it starts', path: ['end'] });
export type BusinessCalendar = z.infer<typeof businessCalendarSchema>;

export const STAGE_FIELDS = ['budget', 'authority', 'need', 'timing', 'amount', 'date', 'reason'] as const;
export type StageField = (typeof STAGE_FIELDS)[number];
/** Stages whose entry asks for fields; an admin edits the lists. */
export const GATED_STAGES = ['sql', 'opportunity', 'customer', 'disqualified'] as const;
export type GatedStage = (typeof GATED_STAGES)[number];

export const stageRequirementsSchema = z.object({
  sql: z.array(z.enum(STAGE_FIELDS)).max(7),
  opportunity: z.array(z.enum(STAGE_FIELDS)).max(7),
  customer: z.array(z.enum(STAGE_FIELDS)).max(7),
  disqualified: z.array(z.enum(STAGE_FIELDS)).max(7)
});
export type StageRequirements = z.infer<typeof stageRequirementsSchema>;

export const handoffSettingsSchema = z.object({
  routing: z.object({
    /** Tried in order; `round_robin` at the end is the usual fallback. */
    chain: z.array(z.enum(ROUTING_MODES)).min(1).max(4),
    /** At most this many open hand-offs per rep; null: no limit. */
    capacity: z.number().int().min(1).max(1000).nullable(),
    /** Reps on shift (user ids); null: every active sales rep. */
    onShift: z.array(z.string().min(1).max(64)).max(500).nullable(),
    /** The lead attribute that names the product of interest (matched to reps' specializations). */
    interestAttribute: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a lower-case attribute name')
  }),
  sla: z.object({
    /** Minutes of business time the rep has to act. */
    minutes: z.number().int().min(1).max(10_080),
    calendar: businessCalendarSchema,
    /** After the breach, business minutes until each step. */
    remindAfterMinutes: z.number().int().min(0).max(10_080),
    escalateAfterMinutes: z.number().int().min(0).max(10_080),
    reassignAfterMinutes: z.number().int().min(0).max(10_080),
    /** How many times a lead may be reassigned before it stays with the manager. */
    maxAttempts: z.number().int().min(1).max(10)
  }),
  stageRequirements: stageRequirementsSchema
});
export type HandoffSettings = z.infer<typeof handoffSettingsSchema>;

/** Where the hand-off settings are stored (settings table). */
export const HANDOFF_SETTINGS_KEY = 'handoff.settings';

export const DEFAULT_HANDOFF_SETTINGS: HandoffSettings = {
  routing: { chain: ['territory', 'specialization', 'round_robin'], capacity: 20, onShift: null, interestAttribute: 'product_interest' },
  sla: {
    minutes: 60,
    calendar: { timeZone: 'Europe/Moscow', days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00', holidays: [] },
    remindAfterMinutes: 0,
    escalateAfterMinutes: 30,
    reassignAfterMinutes: 60,
    maxAttempts: 3
  },
  stageRequirements: {
    sql: ['budget', 'authority', 'need', 'timing'],
    opportunity: ['amount'],
    customer: ['amount', 'date', 'reason'],
    disqualified: ['amount', 'date', 'reason']
  }
};

/** What a stage change may carry; which of these are required depends on the stage. */
export const stageFieldsSchema = z
  .object({
    budget: z.string().trim().max(500),
    authority: z.string().trim().max(500),
    need: z.string().trim().max(500),
    timing: z.string().trim().max(500),
    /** Deal amount in rubles. */
    amount: z.number().min(0).max(1e12),
    /** Close date, YYYY-MM-DD. */
    date: isoDate,
    reason: z.string().trim().max(1000)
  })
  .partial();
export type StageFields = z.infer<typeof stageFieldsSchema>;

const id = z.string().min(1).max(64);
export const acceptInputSchema = z.object({ handoffId: id, bant: bantSchema });
export const rejectInputSchema = z.object({ handoffId: id, reason: z.enum(REJECT_REASONS), note: z.string().trim().max(2000).optional() });
export const recycleInputSchema = z.object({ handoffId: id, followUpAt: z.number().int().min(0), note: z.string().trim().max(2000).optional() });
export const addTaskInputSchema = z.object({ leadId: id, kind: z.enum(TASK_KINDS), dueAt: z.number().int().min(0), note: z.string().trim().max(2000).optional() });
export const completeTaskInputSchema = z.object({ taskId: id });
export const changeStageInputSchema = z.object({
  leadId: id,
  to: z.enum(['subscriber', 'lead', 'mql', 'sql', 'opportunity', 'customer', 'disqualified', 'recycled']),
  fields: stageFieldsSchema.default({})
});
export const periodSchema = z.object({ from: z.number().int().min(0), to: z.number().int().min(0) });

/** Live inbox/board notices (server-sent to the UI). */
export interface HandoffNotice {
  type: 'assigned' | 'updated' | 'removed' | 'task';
  handoffId?: string;
  taskId?: string;
}
