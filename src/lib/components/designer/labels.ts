import { m } from '$lib/paraglide/messages';
import type { NodeKind, WorkflowNode } from '$lib/shared/workflow';
import type { CheckProblem, ProblemCode } from '$lib/shared/workflow-check';
import { nodeSummary } from '$lib/components/workflows/describe';
import type { Exit, StepNode } from './model';

/** Words for the designer: node kinds, exits and problems, in the reader's language. */

const KINDS: Record<NodeKind, () => string> = {
  send_email: m.designer_kind_send_email,
  wait: m.designer_kind_wait,
  wait_until: m.designer_kind_wait_until,
  branch: m.designer_kind_branch,
  ab_split: m.designer_kind_ab_split,
  update_field: m.designer_kind_update_field,
  adjust_score: m.designer_kind_adjust_score,
  set_stage: m.designer_kind_set_stage,
  assign_owner: m.designer_kind_assign_owner,
  notify: m.designer_kind_notify,
  webhook: m.designer_kind_webhook,
  handoff: m.designer_kind_handoff,
  goal: m.designer_kind_goal,
  exit: m.designer_kind_exit
};
export const kindLabel = (k: NodeKind) => KINDS[k]?.() ?? k;

const KIND_HELP: Record<NodeKind, () => string> = {
  send_email: m.designer_help_send_email,
  wait: m.designer_help_wait,
  wait_until: m.designer_help_wait_until,
  branch: m.designer_help_branch,
  ab_split: m.designer_help_ab_split,
  update_field: m.designer_help_update_field,
  adjust_score: m.designer_help_adjust_score,
  set_stage: m.designer_help_set_stage,
  assign_owner: m.designer_help_assign_owner,
  notify: m.designer_help_notify,
  webhook: m.designer_help_webhook,
  handoff: m.designer_help_handoff,
  goal: m.designer_help_goal,
  exit: m.designer_help_exit
};
export const kindHelp = (k: NodeKind) => KIND_HELP[k]?.() ?? '';

export function exitLabel(e: Exit): string {
  switch (e.kind) {
    case 'event':
      return m.designer_exit_event({ event: e.label ?? '' });
    case 'timeout':
      return m.designer_exit_timeout();
    case 'case':
      return e.label || m.designer_exit_case({ n: (e.index ?? 0) + 1 });
    case 'else':
      return m.designer_exit_else();
    case 'variant':
      return m.designer_exit_variant({ name: e.label ?? '' });
    default:
      return m.designer_exit_next();
  }
}

/** The node's one-line summary; a half-built node (a field still empty) reads as its kind. */
export function safeSummary(n: StepNode): string {
  try {
    if (n.kind === 'send_email' && !n.template) return m.designer_summary_no_template();
    return nodeSummary(n as WorkflowNode);
  } catch {
    return kindLabel(n.kind);
  }
}

const PROBLEMS: Record<ProblemCode, (p: Record<string, string | number>) => string> = {
  schema: (p) => m.designer_problem_schema({ message: String(p.message ?? '') }),
  no_nodes: () => m.designer_problem_no_nodes(),
  missing_start: () => m.designer_problem_missing_start(),
  unconnected: () => m.designer_problem_unconnected(),
  dangling_edge: (p) => m.designer_problem_dangling_edge({ target: String(p.target) }),
  unreachable: () => m.designer_problem_unreachable(),
  no_end: () => m.designer_problem_no_end(),
  loop_without_wait: (p) => m.designer_problem_loop_without_wait({ loop: String(p.loop) }),
  wait_until_no_timeout: () => m.designer_problem_wait_until_no_timeout(),
  missing_template: (p) => m.designer_problem_missing_template({ template: String(p.template) }),
  broken_template: (p) => m.designer_problem_broken_template({ template: String(p.template), error: String(p.error) }),
  email_after_goal: (p) => m.designer_problem_email_after_goal({ goal: String(p.goal) })
};
export const problemText = (p: CheckProblem) => PROBLEMS[p.code]?.(p.params) ?? p.code;
