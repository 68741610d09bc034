import { z } from 'zod';

/** Scoring vocabulary shared by the server, the rules editor and the lead card. */
export const SCORE_MAX = 100;
export const FIT_FIELDS = ['job_title', 'company_size', 'industry', 'region', 'country', 'city', 'company', 'email_domain'] as const;
export const FIT_OPS = ['contains_any', 'equals_any', 'not_equals_any', 'ends_with_any', 'range'] as const;
export const CAP_PERIODS = ['day', 'week', 'month'] as const;
export type CapPeriod = (typeof CAP_PERIODS)[number];

const ruleBase = {
  id: z.string().trim().min(1).max(64).regex(/^[a-z0-9_-]+$/i, 'letters, digits, - and _ only'),
  name: z.string().trim().min(1).max(120),
  points: z.number().int().min(-SCORE_MAX).max(SCORE_MAX).refine((n) => n !== 0, 'must not be 0'),
  active: z.boolean().default(true)
};

export const fitRuleSchema = z
  .object({
    ...ruleBase,
    kind: z.literal('fit'),
    field: z.enum(FIT_FIELDS),
    op: z.enum(FIT_OPS),
    values: z.array(z.string().trim().min(1).max(200)).max(200).optional(),
    min: z.number().int().min(0).optional(),
    max: z.number().int().min(0).optional()
  })
  .superRefine((r, ctx) => {
    if (r.op === 'range') {
      if (r.min === undefined && r.max === undefined) ctx.addIssue({ code: 'custom', path: ['min'], message: 'a range needs min or max' });
      if (r.min !== undefined && r.max !== undefined && r.min > r.max) ctx.addIssue({ code: 'custom', path: ['max'], message: 'max is below min' });
    } else if (!r.values?.length) ctx.addIssue({ code: 'custom', path: ['values'], message: 'needs at least one value' });
  });

export const engagementRuleSchema = z.object({
  ...ruleBase,
  kind: z.literal('engagement'),
  eventType: z.string().trim().min(1).max(64).regex(/^[a-z0-9_.:-]+$/i, 'an event type such as email_opened'),
  /** Matches when the event's url (or path) contains this text, e.g. /pricing. */
  urlContains: z.string().trim().min(1).max(300).optional(),
  /** At most this many points (in absolute value) from this rule per lead per period. */
  cap: z.object({ points: z.number().int().min(1).max(1000), period: z.enum(CAP_PERIODS) }).optional()
});

export const scoringRuleSchema = z.discriminatedUnion('kind', [fitRuleSchema, engagementRuleSchema]);
export type FitRule = z.infer<typeof fitRuleSchema>;
export type EngagementRule = z.infer<typeof engagementRuleSchema>;
export type ScoringRule = z.infer<typeof scoringRuleSchema>;

export const scoringSettingsSchema = z.object({
  /** MQL when fit and engagement both reach these. */
  fitThreshold: z.number().int().min(0).max(SCORE_MAX),
  engagementThreshold: z.number().int().min(0).max(SCORE_MAX),
  /** Engagement halves after this many days without activity. */
  halfLifeDays: z.number().min(1).max(365)
});
export type ScoringSettings = z.infer<typeof scoringSettingsSchema>;
export const DEFAULT_SCORING_SETTINGS: ScoringSettings = { fitThreshold: 40, engagementThreshold: 30, halfLifeDays: 30 };

export const scoringRulesInputSchema = z
  .object({ rules: z.array(scoringRuleSchema).max(500), settings: scoringSettingsSchema })
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.rules.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: 'is used twice' });
      seen.add(r.id);
    });
  });
export type ScoringRulesInput = z.infer<typeof scoringRulesInputSchema>;

export type Grade = 'A' | 'B' | 'C' | 'D';
/** Grade from fit: A from 60, B from 40, C from 20, else D. */
export function gradeOf(fit: number): Grade {
  return fit >= 60 ? 'A' : fit >= 40 ? 'B' : fit >= 20 ? 'C' : 'D';
}
