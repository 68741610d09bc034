import { m } from '$lib/paraglide/messages';

/** Translated names for the hand-off vocabulary; unknown values fall back to the raw value. */
const reasons: Record<string, () => string> = {
  bad_fit: m.inbox_reason_bad_fit,
  no_budget: m.inbox_reason_no_budget,
  wrong_contact: m.inbox_reason_wrong_contact,
  duplicate: m.inbox_reason_duplicate,
  other: m.inbox_reason_other
};
const bant: Record<string, () => string> = {
  budget: m.inbox_bant_budget,
  authority: m.inbox_bant_authority,
  need: m.inbox_bant_need,
  timing: m.inbox_bant_timing
};
const taskKinds: Record<string, () => string> = {
  call_back: m.inbox_task_call_back,
  follow_up: m.inbox_task_follow_up
};
const statuses: Record<string, () => string> = {
  open: m.inbox_status_open,
  accepted: m.inbox_status_accepted,
  rejected: m.inbox_status_rejected,
  recycled: m.inbox_status_recycled,
  reassigned: m.inbox_status_reassigned
};
const routingModes: Record<string, () => string> = {
  round_robin: m.inbox_mode_round_robin,
  territory: m.inbox_mode_territory,
  specialization: m.inbox_mode_specialization,
  capacity: m.inbox_mode_capacity
};

const pick = (table: Record<string, () => string>) => (value: string) => table[value]?.() ?? value;
export const reasonLabel = pick(reasons);
export const bantLabel = pick(bant);
export const taskKindLabel = pick(taskKinds);
export const statusLabel = pick(statuses);
/**
 * The routing rule stored on a hand-off: a mode (`territory`), a fallback (`round_robin (fallback)`)
 * or why nobody was found; anything else is shown as stored.
 */
export function ruleLabel(rule: string): string {
  const fallback = rule.endsWith(' (fallback)');
  const mode = fallback ? rule.slice(0, -' (fallback)'.length) : rule;
  const name = routingModes[mode]?.();
  if (name) return fallback ? m.inbox_rule_fallback({ mode: name }) : name;
  if (rule === 'all reps at capacity') return m.inbox_rule_all_full();
  if (rule === 'no reps on shift') return m.inbox_rule_no_reps();
  if (rule.startsWith('no rep matched')) return m.inbox_rule_no_match();
  return rule;
}

const stageFields: Record<string, () => string> = {
  budget: m.inbox_bant_budget,
  authority: m.inbox_bant_authority,
  need: m.inbox_bant_need,
  timing: m.inbox_bant_timing,
  amount: m.inbox_field_amount,
  date: m.inbox_field_date,
  reason: m.inbox_field_reason
};
export const stageFieldLabel = pick(stageFields);
