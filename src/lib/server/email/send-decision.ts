import type { Db } from '../db/database';
import { sendHistoryRepo } from '../repositories/send-history.repo';
import { handoffsRepo } from '../repositories/handoffs.repo';
import { frequencyDecision, leadTimeZone, nextWindowOpen, parseFrequencyCap, parseSendWindow, type FrequencyCap, type SendWindow } from './send-rules';

/** Stages in which a rep works the lead; marketing email waits (the hand-off's nurture pause). */
export const REP_WORKED_STAGES = ['sql', 'opportunity'] as const;
const REP_WORKING_RECHECK_MS = 3_600_000;

/** The workspace's send rules, parsed once from config. */
export interface SendRules {
  window: SendWindow | null;
  windowSpec: string | null;
  cap: FrequencyCap | null;
  capSpec: string | null;
  workspaceTimeZone: string;
}

export function sendRulesFromConfig(c: { SEND_WINDOW: string; FREQUENCY_CAP: string; WORKSPACE_TIMEZONE: string }): SendRules {
  const windowSpec = c.SEND_WINDOW.trim() || null;
  const capSpec = c.FREQUENCY_CAP.trim() || null;
  return {
    window: windowSpec ? parseSendWindow(windowSpec) : null,
    windowSpec,
    cap: capSpec ? parseFrequencyCap(capSpec) : null,
    capSpec,
    workspaceTimeZone: c.WORKSPACE_TIMEZONE
  };
}

export interface SendQuestion {
  leadId: string | null;
  kind: 'marketing' | 'transactional' | 'test';
  now: number;
  /** What a capped send does, as its flow step says. */
  onCap?: 'wait' | 'skip';
  /** A flow's own window ("mon-fri 10:00-16:00") instead of the workspace's; null turns it off. */
  window?: string | null;
}

export type SendDecision =
  | { action: 'send' }
  | { action: 'defer'; until: number; reason: 'send_window' | 'frequency_cap' | 'rep_working'; detail: string }
  | { action: 'skip'; reason: 'frequency_cap' | 'lead_gone'; detail: string };

/**
 * Whether a send may go now. Transactional and test sends skip windows and caps (suppression of
 * hard bounces and complaints is the pipeline's gate, not this). The cap comes first, so a send the
 * step would skip is skipped now rather than after waiting for the window.
 */
export async function decideSend(db: Db, q: SendQuestion, rules: SendRules): Promise<SendDecision> {
  if (q.kind !== 'marketing' || !q.leadId) return { action: 'send' };
  const lead = await sendHistoryRepo.leadZoneFacts(db, q.leadId);
  if (!lead) return { action: 'skip', reason: 'lead_gone', detail: 'the lead no longer exists' };

  // Nurture waits while a rep works the lead (open hand-off, SQL, opportunity): deferred, not
  // dropped; a reject or recycle moves the held sends to now (handoff.service resumeNurture).
  if (await handoffsRepo.repWorkingLead(db, lead.id, REP_WORKED_STAGES))
    return { action: 'defer', until: q.now + REP_WORKING_RECHECK_MS, reason: 'rep_working', detail: 'a sales rep is working this lead' };

  if (rules.cap) {
    const times = await sendHistoryRepo.marketingSendTimes(db, lead.id, q.now - rules.cap.periodMs);
    const d = frequencyDecision(times, rules.cap, q.now, q.onCap ?? 'wait');
    const detail = `frequency cap ${rules.capSpec}: ${times.length} sent in the period`;
    if ('skip' in d) return { action: 'skip', reason: 'frequency_cap', detail };
    if ('waitUntil' in d) return { action: 'defer', until: d.waitUntil, reason: 'frequency_cap', detail };
  }

  const windowSpec = q.window === undefined ? rules.windowSpec : q.window;
  const window = q.window === undefined ? rules.window : q.window ? parseSendWindow(q.window) : null;
  if (window) {
    const zone = leadTimeZone(lead, rules.workspaceTimeZone);
    const open = nextWindowOpen(q.now, window, zone);
    if (open > q.now) return { action: 'defer', until: open, reason: 'send_window', detail: `send window ${windowSpec} in ${zone}` };
  }
  return { action: 'send' };
}
