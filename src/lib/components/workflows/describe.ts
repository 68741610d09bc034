import { m } from '$lib/paraglide/messages';
import { nextOf, type Condition, type Duration, type Trigger, type Workflow, type WorkflowNode } from '$lib/shared/workflow';
import { stageLabel } from '$lib/components/leads/labels';

/** Plain-text summaries of flows for people who do not read JSON. Never HTML: pages render them escaped. */

const UNITS = { minutes: m.workflows_unit_minutes, hours: m.workflows_unit_hours, days: m.workflows_unit_days, weeks: m.workflows_unit_weeks };
const unit = (u: Duration['unit']) => UNITS[u]();
const OPS: Record<string, string> = { eq: '=', neq: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤', contains: '∋', in: '∈', is: '=', is_not: '≠' };

const valueText = (v: unknown) => (Array.isArray(v) ? v.map(String).join(', ') : String(v));

export function triggerText(t: Trigger | null): string {
  if (!t) return '—';
  switch (t.type) {
    case 'lead_created':
      return m.workflows_trigger_lead_created();
    case 'form_submitted':
      return t.formSlug ? m.workflows_trigger_form({ form: t.formSlug }) : m.workflows_trigger_any_form();
    case 'event':
      return m.workflows_trigger_event({ event: t.eventType });
    case 'lifecycle_changed':
      return m.workflows_trigger_lifecycle({ stage: stageLabel(t.stage) });
    case 'segment_entered':
      return m.workflows_trigger_segment({ segment: t.segmentId });
    case 'manual':
      return m.workflows_trigger_manual();
  }
}

export function reentryText(r: Workflow['reentry']): string {
  if (r.mode === 'never') return m.workflows_reentry_never();
  if (r.mode === 'after_exit') return m.workflows_reentry_after_exit();
  return m.workflows_reentry_cooldown({ amount: r.cooldown.amount, unit: unit(r.cooldown.unit) });
}

export function conditionText(c: Condition): string {
  switch (c.kind) {
    case 'all':
      return c.conditions.map(conditionText).join(m.workflows_and());
    case 'any':
      return c.conditions.map(conditionText).join(m.workflows_or());
    case 'stage':
      return m.workflows_cond_stage({ op: OPS[c.op], value: (Array.isArray(c.value) ? c.value : [c.value]).map(stageLabel).join(', ') });
    case 'score':
      return `${c.score === 'fit' ? m.workflows_score_fit() : m.workflows_score_engagement()} ${OPS[c.op]} ${c.value}`;
    case 'field':
      if (c.op === 'exists') return m.workflows_cond_exists({ field: c.field });
      if (c.op === 'not_exists') return m.workflows_cond_not_exists({ field: c.field });
      return `${c.field} ${OPS[c.op]} ${valueText(c.value)}`;
    case 'event': {
      const args = { event: c.eventType, amount: c.within.amount, unit: unit(c.within.unit) };
      return c.negate ? m.workflows_cond_no_event(args) : m.workflows_cond_event(args);
    }
  }
}

/** One line that says what a step does, e.g. "Wait 3 days", "Send: welcome-1-ru", "If Engagement ≥ 40". */
export function nodeSummary(n: WorkflowNode): string {
  switch (n.kind) {
    case 'send_email':
      return m.workflows_node_send_email({ template: n.template });
    case 'wait': {
      const w = n.wait;
      if (w.type === 'duration') return m.workflows_node_wait_duration({ amount: w.duration.amount, unit: unit(w.duration.unit) });
      if (w.type === 'until_date') return m.workflows_node_wait_until_date({ date: w.date });
      if (!w.offset || w.offset.amount === 0) return m.workflows_node_wait_until_field({ field: w.field });
      return m.workflows_node_wait_until_field_offset({
        amount: Math.abs(w.offset.amount),
        unit: unit(w.offset.unit),
        direction: w.offset.amount < 0 ? m.workflows_before() : m.workflows_after(),
        field: w.field
      });
    }
    case 'wait_until':
      return m.workflows_node_wait_until({ event: n.eventType, amount: n.timeout.amount, unit: unit(n.timeout.unit) });
    case 'branch':
      return m.workflows_node_branch({ condition: n.cases.map((c) => c.label ?? conditionText(c.condition)).join(' / ') });
    case 'ab_split':
      return m.workflows_node_ab_split({ variants: n.variants.map((v) => `${v.name} ${v.weight}`).join(' · ') });
    case 'update_field':
      return m.workflows_node_update_field({ field: n.field, value: n.value === null ? '∅' : String(n.value) });
    case 'adjust_score':
      return m.workflows_node_adjust_score({ score: n.score === 'fit' ? m.workflows_score_fit() : m.workflows_score_engagement(), points: n.points > 0 ? `+${n.points}` : String(n.points) });
    case 'set_stage':
      return m.workflows_node_set_stage({ stage: stageLabel(n.stage) });
    case 'assign_owner':
      return m.workflows_node_assign_owner({ strategy: n.userEmail ?? n.strategy });
    case 'notify':
      return m.workflows_node_notify({ to: n.to === 'owner' ? 'owner' : n.to.role, message: n.message });
    case 'webhook':
      return m.workflows_node_webhook({ url: n.url });
    case 'handoff':
      return m.workflows_node_handoff();
    case 'goal':
      return m.workflows_node_goal({ goal: n.goal ?? '' });
    case 'exit':
      return m.workflows_node_exit();
  }
}

/** Where a step goes next, in words: "then → x", "if … → y", "on timeout → z". */
export function nodeExits(n: WorkflowNode, name: (id: string) => string): string[] {
  switch (n.kind) {
    case 'branch':
      return [...n.cases.map((c) => `${c.label ?? conditionText(c.condition)} → ${name(c.next)}`), `${m.workflows_node_else()} → ${name(n.elseNext)}`];
    case 'wait_until':
      return [`${n.eventType} → ${name(n.next)}`, m.workflows_on_timeout({ next: name(n.timeoutNext) })];
    case 'ab_split':
      return n.variants.map((v) => `${v.name} → ${name(v.next)}`);
    default:
      return nextOf(n).map((next) => m.workflows_then({ next: name(next) }));
  }
}

/**
 * The nodes in the order a reader follows them: depth-first from the start, one arm of a branch
 * to its end before the next arm (so a language track reads as one story); nodes no path
 * reaches come last, flagged.
 */
export function pathOrder(wf: Workflow): { id: string; node: WorkflowNode; reachable: boolean }[] {
  const seen = new Set<string>();
  const order: string[] = [];
  const stack = [wf.start];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || !wf.nodes[id]) continue;
    seen.add(id);
    order.push(id);
    stack.push(...nextOf(wf.nodes[id]).reverse());
  }
  const rest = Object.keys(wf.nodes).filter((id) => !seen.has(id));
  return [...order.map((id) => ({ id, node: wf.nodes[id], reachable: true })), ...rest.map((id) => ({ id, node: wf.nodes[id], reachable: false }))];
}
