import { firstMqlAt, meetsThresholds, stageMove, type Thresholds } from './replay';

/**
 * Scores of every lead under the current and the draft rules, gathered by one scan. Thresholds do
 * not enter the scan, so moving a threshold line re-reads these arrays and never the database.
 */
export interface WhatIfScan {
  count: number;
  fitNow: Int32Array;
  engagementNow: Int32Array;
  fitDraft: Int32Array;
  engagementDraft: Int32Array;
  stages: string[];
  /** 1 where a person holds the lead at MQL: an open hand-off, or marked MQL by hand. */
  held: Uint8Array;
  backtest: BacktestLead[];
  /** False until the hand-off table exists: rejected leads cannot be counted yet. */
  rejectedKnown: boolean;
  scannedAt: number;
  scanMs: number;
}

export interface BacktestLead {
  kind: 'customer' | 'rejected';
  /** When the lead became a customer, or when sales rejected it. */
  at: number;
  createdAt: number;
  fitNow: number;
  fitDraft: number;
  stepsNow: { at: number; engagement: number }[];
  stepsDraft: { at: number; engagement: number }[];
}

export const BIN = 5;
const DAY_MS = 86_400_000;

export interface HistogramBin {
  x0: number;
  x1: number;
  now: number;
  draft: number;
}

/** Bins of 5 points from 0 (or the lowest score) to 100 (or the highest). */
export function histogram(now: Int32Array, draft: Int32Array, count: number): HistogramBin[] {
  let lo = 0;
  let hi = 100;
  for (let i = 0; i < count; i++) {
    lo = Math.min(lo, now[i], draft[i]);
    hi = Math.max(hi, now[i], draft[i]);
  }
  const start = Math.floor(lo / BIN) * BIN;
  const bins: HistogramBin[] = [];
  for (let x = start; x <= hi; x += BIN) bins.push({ x0: x, x1: x + BIN, now: 0, draft: 0 });
  for (let i = 0; i < count; i++) {
    bins[Math.floor((now[i] - start) / BIN)].now++;
    bins[Math.floor((draft[i] - start) / BIN)].draft++;
  }
  return bins;
}


export interface BacktestSide {
  marked: number;
  /** Median days between the first moment the rules would have made the lead MQL and the outcome. */
  medianDaysEarly: number | null;
}

function backtestSide(leads: BacktestLead[], side: 'now' | 'draft', t: Thresholds): BacktestSide {
  const early: number[] = [];
  for (const l of leads) {
    const at =
      side === 'now'
        ? firstMqlAt(l.stepsNow, l.fitNow, l.createdAt, l.at, t)
        : firstMqlAt(l.stepsDraft, l.fitDraft, l.createdAt, l.at, t);
    if (at !== null) early.push((l.at - at) / DAY_MS);
  }
  early.sort((a, b) => a - b);
  const mid = early.length >> 1;
  const median = !early.length ? null : early.length % 2 ? early[mid] : (early[mid - 1] + early[mid]) / 2;
  return { marked: early.length, medianDaysEarly: median === null ? null : Math.round(median * 10) / 10 };
}

export interface WhatIfSummary {
  leads: number;
  fit: HistogramBin[];
  engagement: HistogramBin[];
  mql: {
    /** At stage MQL now. */
    now: number;
    /** Would move to MQL on save. */
    become: number;
    /** MQL now, meeting the live thresholds and missing the draft's: back to `lead` on save. */
    dropOut: number;
    /** Would drop out as well, but a person holds them: a rep works the hand-off, or marked by hand. */
    kept: number;
    /** Meeting both thresholds: now (current rules and thresholds) and with the draft. */
    qualifyNow: number;
    qualifyDraft: number;
  };
  backtest: {
    customers: { total: number; now: BacktestSide; draft: BacktestSide };
    rejected: { known: boolean; total: number; now: BacktestSide; draft: BacktestSide };
  };
  scannedAt: number;
  scanMs: number;
}

/** The what-if as the lab shows it, for the draft's thresholds against the current ones. */
export function summarize(scan: WhatIfScan, current: Thresholds, draft: Thresholds): WhatIfSummary {
  let now = 0;
  let become = 0;
  let dropOut = 0;
  let kept = 0;
  let qualifyNow = 0;
  let qualifyDraft = 0;
  for (let i = 0; i < scan.count; i++) {
    const stage = scan.stages[i];
    if (stage === 'mql') now++;
    const metBefore = meetsThresholds(scan.fitNow[i], scan.engagementNow[i], current);
    const meetsDraft = meetsThresholds(scan.fitDraft[i], scan.engagementDraft[i], draft);
    if (metBefore) qualifyNow++;
    if (meetsDraft) qualifyDraft++;
    const move = stageMove({ stage, metBefore, meetsDraft, held: scan.held[i] === 1 });
    if (move === 'promote') become++;
    else if (move === 'demote') dropOut++;
    else if (stage === 'mql' && metBefore && !meetsDraft) kept++;
  }
  const customers = scan.backtest.filter((b) => b.kind === 'customer');
  const rejected = scan.backtest.filter((b) => b.kind === 'rejected');
  return {
    leads: scan.count,
    fit: histogram(scan.fitNow, scan.fitDraft, scan.count),
    engagement: histogram(scan.engagementNow, scan.engagementDraft, scan.count),
    mql: { now, become, dropOut, kept, qualifyNow, qualifyDraft },
    backtest: {
      customers: {
        total: customers.length,
        now: backtestSide(customers, 'now', current),
        draft: backtestSide(customers, 'draft', draft)
      },
      rejected: {
        known: scan.rejectedKnown,
        total: rejected.length,
        now: backtestSide(rejected, 'now', current),
        draft: backtestSide(rejected, 'draft', draft)
      }
    },
    scannedAt: scan.scannedAt,
    scanMs: scan.scanMs
  };
}
