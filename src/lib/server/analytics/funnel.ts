/**
 * Funnel vocabulary and conversion math. Stages are ranked; a lead "reached" a stage when it
 * ever got there or further, so a lead a rep moved straight to customer still counts as an SQL.
 */
import { ratio } from './stats';

export const FUNNEL_STAGES = ['lead', 'mql', 'sql', 'opportunity', 'customer'] as const;
export type FunnelStage = (typeof FUNNEL_STAGES)[number];

/** Rank of a stage in the funnel; stages outside it (disqualified, recycled) rank as a plain lead. */
export const STAGE_RANK: Record<string, number> = { subscriber: 1, lead: 1, mql: 2, sql: 3, opportunity: 4, customer: 5 };

export interface FunnelStep {
  stage: FunnelStage;
  count: number;
  /** Share of the previous step that reached this one (null for the first). */
  conversion: number | null;
  /** 1 - conversion: the share lost between the previous step and this one. */
  dropOff: number | null;
  /** Share of the whole cohort. */
  ofTotal: number | null;
}

/** counts[i] = leads that reached FUNNEL_STAGES[i] or further. */
export function funnelSteps(counts: readonly number[]): FunnelStep[] {
  return FUNNEL_STAGES.map((stage, i) => {
    const conversion = i === 0 ? null : ratio(counts[i], counts[i - 1]);
    return { stage, count: counts[i], conversion, dropOff: conversion === null ? null : 1 - conversion, ofTotal: ratio(counts[i], counts[0]) };
  });
}
